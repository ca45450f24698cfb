/**
 * The guard's in-memory state, no I/O: one counter per budget for its current period (spend, tokens,
 * unpriced calls, reservations), the runs in flight with what they reserved, the recent run costs per
 * budget (for the p95 reservation), and which alerts were already sent. Every method is O(budgets) and
 * takes `now`, so periods, reservations and alerts are tested without a clock.
 *
 * What changes and must be persisted (events, alerts, finished runs) is returned as `BookEffects` for the
 * caller to write off the hook's path.
 */
import { budgetPeriodOf, budgetScopeCovers, nanosToUsd } from "@clawtower/core";
import type { ResolvedBudget, ResolvedBudgetConfig } from "../config/load-budgets.ts";
import type { FleetBudgetSnapshot } from "./fleet.ts";
import { alertThresholds, totalNanos, totalTokens, crossedThresholds, decideModel, decideRunStart, decideToolCall, p95Sorted, usedFraction, type BudgetCounter, type Decision, type SpendKnowledge } from "./decide.ts";
import type { RunScope } from "./run-scope.ts";

/** One LLM call as the guard counts it. `nanos` null = no price anywhere (its tokens still count). */
export type SpendCall = { key: string; ts: number; runId: string | null; scope: RunScope; nanos: number | null; tokens: number };

export type BudgetEventKind = "warn" | "block" | "downgrade" | "reset";
export type BudgetEvent = {
  kind: BudgetEventKind;
  budgetId: string;
  periodStart: number;
  at: number;
  runId: string | null;
  sessionKey: string | null;
  agentId: string | null;
  spentUsd: number;
  spentTokens: number;
  detail: string | null;
};

/** `threshold`: a warnAt fraction, 1 (the limit), or "blocked" (the period's first blocked run). */
export type BudgetAlert = {
  budgetId: string;
  periodStart: number;
  periodEnd: number;
  threshold: number | "blocked";
  at: number;
  spentUsd: number;
  spentTokens: number;
  limitUsd: number | null;
  limitTokens: number | null;
  timeZone: string;
};

export type FinishedRun = { runId: string; at: number; scope: RunScope; nanos: number; tokens: number };

export type BookEffects = { events: BudgetEvent[]; alerts: BudgetAlert[]; runs: FinishedRun[] };

export type RunEntry = {
  scope: RunScope;
  startedAt: number;
  sessionKey: string | null;
  /** Budget index → what this run reserved there (nanos, tokens). */
  holds: Map<number, { nanos: number; tokens: number }>;
  spentNanos: number;
  spentTokens: number;
};

export type BookOptions = { config: ResolvedBudgetConfig; now: number; spend: SpendKnowledge };

/** The last `max` finished runs of a scope, kept in arrival order and sorted, so the p95 is a lookup. */
class RecentRuns {
  readonly #max: number;
  readonly #order: [number, number][] = [];
  readonly #nanos: number[] = [];
  readonly #tokens: number[] = [];
  p95Nanos = 0;
  p95Tokens = 0;

  constructor(max: number) {
    this.#max = max;
  }

  push(nanos: number, tokens: number): void {
    this.#order.push([nanos, tokens]);
    insertSorted(this.#nanos, nanos);
    insertSorted(this.#tokens, tokens);
    if (this.#order.length > this.#max) {
      const [n, t] = this.#order.shift()!;
      removeSorted(this.#nanos, n);
      removeSorted(this.#tokens, t);
    }
    this.p95Nanos = p95Sorted(this.#nanos) ?? 0;
    this.p95Tokens = p95Sorted(this.#tokens) ?? 0;
  }
}

function lowerBound(a: number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(a: number[], v: number): void {
  a.splice(lowerBound(a, v), 0, v);
}

function removeSorted(a: number[], v: number): void {
  const i = lowerBound(a, v);
  if (a[i] === v) a.splice(i, 1);
}

export class BudgetBook {
  readonly counters: BudgetCounter[];
  readonly config: ResolvedBudgetConfig;
  spend: SpendKnowledge;
  readonly #runs = new Map<string, RunEntry>();
  /** Per budget: costs of recent finished runs in its scope (oldest first) and their p95 (cached). */
  readonly #recent: RecentRuns[];
  readonly #thresholds: number[][];
  readonly #counted = new Map<string, number>();
  readonly #alerted = new Set<string>();
  /** Blocked and downgraded runs per budget in the current period (for status). */
  readonly blocked: number[];
  readonly downgraded: number[];
  readonly lastAlert: (BudgetAlert | null)[];
  #pending: BookEffects = { events: [], alerts: [], runs: [] };

  constructor(o: BookOptions) {
    this.config = o.config;
    this.spend = o.spend;
    this.counters = o.config.budgets.map((budget) => {
      const p = budgetPeriodOf(o.now, budget.period, budget.timeZone);
      return { budget, periodStart: p.start, periodEnd: p.end, spentNanos: 0, spentTokens: 0, unpricedCalls: 0, unpricedTokens: 0, calls: 0, reservedNanos: 0, reservedTokens: 0, fleetNanos: 0, fleetTokens: 0 };
    });
    this.#recent = this.counters.map(() => new RecentRuns(o.config.budgetReserve.recentRuns));
    this.#thresholds = this.counters.map((c) => alertThresholds(c.budget));
    this.blocked = this.counters.map(() => 0);
    this.downgraded = this.counters.map(() => 0);
    this.lastAlert = this.counters.map(() => null);
  }

  /** The earliest period start of any budget (what a rebuild must read from). */
  get earliestStart(): number {
    return Math.min(...this.counters.map((c) => c.periodStart));
  }

  /** Effects produced since the last take (to persist and send). */
  takeEffects(): BookEffects {
    const e = this.#pending;
    this.#pending = { events: [], alerts: [], runs: [] };
    return e;
  }

  get hasEffects(): boolean {
    return this.#pending.events.length + this.#pending.alerts.length + this.#pending.runs.length > 0;
  }

  /** Alerts already sent for this period (loaded from the plugin's SQLite). */
  markAlerted(budgetId: string, periodStart: number, threshold: number | "blocked"): void {
    this.#alerted.add(`${budgetId}|${periodStart}|${threshold}`);
  }

  /** A finished run loaded from SQLite: feeds the p95 of the budgets whose scope it is in. */
  addRecentRun(scope: RunScope, nanos: number, tokens: number): void {
    this.counters.forEach((c, i) => {
      if (budgetScopeCovers(c.budget.scope, scope)) this.#pushRecent(i, nanos, tokens);
    });
  }

  #pushRecent(i: number, nanos: number, tokens: number): void {
    this.#recent[i]!.push(nanos, tokens);
  }

  /** Starts new periods for budgets whose period ended (counters to zero, a reset event). */
  roll(now: number): void {
    let rolled = false;
    for (const c of this.counters) {
      if (now < c.periodEnd && now >= c.periodStart) continue;
      const old = c.periodStart;
      const p = budgetPeriodOf(now, c.budget.period, c.budget.timeZone);
      if (p.start === old) continue;
      const i = this.counters.indexOf(c);
      this.#event("reset", c, now, null, null, null, `period ${new Date(old).toISOString()} ended`);
      c.periodStart = p.start;
      c.periodEnd = p.end;
      c.spentNanos = c.spentTokens = c.unpricedCalls = c.unpricedTokens = c.calls = 0;
      // The hub's figure was for the period that ended; the next answer brings the new one's.
      c.fleetNanos = c.fleetTokens = 0;
      // Reservations of runs in flight carry over into the new period.
      this.blocked[i] = this.downgraded[i] = 0;
      rolled = true;
    }
    // Calls counted in periods that are over can no longer be counted again.
    if (rolled) {
      const earliest = this.earliestStart;
      for (const [k, ts] of this.#counted) if (ts < earliest) this.#counted.delete(k);
    }
  }

  /** The rest of the fleet's spend from the hub's last answer, for fleet budgets whose period it is. */
  applyFleet(snapshot: FleetBudgetSnapshot | null, now: number): void {
    this.roll(now);
    for (const c of this.counters) {
      const f = snapshot?.fleetSpend.get(c.budget.id);
      const current = f !== undefined && f.periodStart === c.periodStart;
      c.fleetNanos = current ? Math.max(0, f.nanos) : 0;
      c.fleetTokens = current ? Math.max(0, f.tokens) : 0;
    }
  }

  /** Runs in flight, to carry into a book rebuilt for new fleet budget definitions. */
  runsInFlightEntries(): [string, RunEntry][] {
    return [...this.#runs];
  }

  /** A run in flight of an earlier book: reserves again in this book's budgets covering it. */
  adoptRun(runId: string, from: RunEntry): void {
    if (this.#runs.has(runId)) return;
    const run: RunEntry = { ...from, holds: new Map() };
    this.counters.forEach((c, i) => {
      if (!budgetScopeCovers(c.budget.scope, run.scope)) return;
      run.holds.set(i, { nanos: 0, tokens: 0 });
      this.#rehold(run, i, c);
    });
    this.#runs.set(runId, run);
  }

  /** Counts a call once (by key) in every budget covering it whose period contains it; reports crossings. */
  /** Returns the scope the call was counted in (its run's, with the call's model), or null for a repeat. */
  addCall(call: SpendCall, now: number): RunScope | null {
    if (this.#counted.has(call.key)) return null;
    this.#counted.set(call.key, call.ts);
    const run = call.runId ? this.#runs.get(call.runId) : undefined;
    const scope = run ? { ...run.scope, provider: call.scope.provider ?? run.scope.provider, model: call.scope.model ?? run.scope.model } : call.scope;
    if (run) {
      run.spentNanos += call.nanos ?? 0;
      run.spentTokens += call.tokens;
    }
    this.counters.forEach((c, i) => {
      if (run) this.#rehold(run, i, c);
      if (!budgetScopeCovers(c.budget.scope, scope)) return;
      if (call.ts < c.periodStart || call.ts >= c.periodEnd) return;
      const before = usedFraction(c, false);
      c.calls++;
      c.spentTokens += call.tokens;
      if (call.nanos === null) {
        c.unpricedCalls++;
        c.unpricedTokens += call.tokens;
      } else {
        c.spentNanos += call.nanos;
      }
      const after = usedFraction(c, false);
      if (after >= this.#thresholds[i]![0]! && before < 1) for (const t of crossedThresholds(this.#thresholds[i]!, before, after)) this.#alert(c, i, t, now);
    });
    return scope;
  }

  /** A run's reservation is its estimate less what it has spent so far (never below zero). */
  #rehold(run: RunEntry, i: number, c: BudgetCounter): void {
    const h = run.holds.get(i);
    if (!h) return;
    const est = this.#estimate(i);
    const nanos = Math.max(0, est.nanos - run.spentNanos);
    const tokens = Math.max(0, est.tokens - run.spentTokens);
    c.reservedNanos += nanos - h.nanos;
    c.reservedTokens += tokens - h.tokens;
    h.nanos = nanos;
    h.tokens = tokens;
  }

  #estimate(i: number): { nanos: number; tokens: number } {
    const r = this.#recent[i]!;
    const floor = this.config.budgetReserve;
    return { nanos: Math.max(Math.round(floor.floorUsd * 1e9), r.p95Nanos), tokens: Math.max(floor.floorTokens, r.p95Tokens) };
  }

  /** `before_model_resolve`. */
  decideModel(scope: RunScope, now: number, runId: string | null, sessionKey: string | null): Decision {
    this.roll(now);
    const d = decideModel(this.counters, scope, this.spend);
    if (d.kind === "downgrade") {
      const i = this.counters.indexOf(d.counter);
      this.downgraded[i]!++;
      this.#event("downgrade", d.counter, now, runId, sessionKey, scope.agent, `${scope.provider ?? "?"}/${scope.model ?? "?"} → ${d.provider}/${d.model}`);
    }
    return d;
  }

  /** `before_agent_run`: blocks, or lets the run in and reserves its estimate in every budget covering it. */
  startRun(runId: string | null, scope: RunScope, now: number, sessionKey: string | null): Decision {
    this.roll(now);
    this.expireRuns(now);
    const d = decideRunStart(this.counters, scope, this.spend);
    if (d.kind === "block") {
      const i = this.counters.indexOf(d.counter);
      this.blocked[i]!++;
      this.#event("block", d.counter, now, runId, sessionKey, scope.agent, d.cause);
      if (this.blocked[i] === 1) this.#alert(d.counter, i, "blocked", now);
      return d;
    }
    if (d.kind === "allow") for (const c of d.warn) this.#event("warn", c, now, runId, sessionKey, scope.agent, "at limit (action warn)");
    if (runId && !this.#runs.has(runId)) {
      const run: RunEntry = { scope, startedAt: now, sessionKey, holds: new Map(), spentNanos: 0, spentTokens: 0 };
      this.counters.forEach((c, i) => {
        if (!budgetScopeCovers(c.budget.scope, scope)) return;
        run.holds.set(i, { nanos: 0, tokens: 0 });
        this.#rehold(run, i, c);
      });
      this.#runs.set(runId, run);
    }
    return d;
  }

  /** `before_tool_call`. */
  decideToolCall(runId: string | null, fallback: RunScope, now: number, sessionKey: string | null): Decision {
    this.roll(now);
    const run = runId ? this.#runs.get(runId) : undefined;
    const d = decideToolCall(this.counters, run?.scope ?? fallback, this.spend);
    if (d.kind === "block") {
      const i = this.counters.indexOf(d.counter);
      this.blocked[i]!++;
      this.#event("block", d.counter, now, runId, sessionKey ?? run?.sessionKey ?? null, (run?.scope ?? fallback).agent, "tool call after the limit was reached");
      if (this.blocked[i] === 1) this.#alert(d.counter, i, "blocked", now);
    }
    return d;
  }

  /** The run ended: its reservations are released and its cost joins the recent runs of its budgets. */
  endRun(runId: string, now: number): void {
    const run = this.#runs.get(runId);
    if (!run) return;
    this.#runs.delete(runId);
    for (const [i, h] of run.holds) {
      const c = this.counters[i]!;
      c.reservedNanos -= h.nanos;
      c.reservedTokens -= h.tokens;
    }
    this.addRecentRun(run.scope, run.spentNanos, run.spentTokens);
    this.#pending.runs.push({ runId, at: now, scope: run.scope, nanos: run.spentNanos, tokens: run.spentTokens });
  }

  /** Runs whose end was never seen stop reserving after budgetReserve.maxRunMinutes. */
  expireRuns(now: number): void {
    const maxAge = this.config.budgetReserve.maxRunMinutes * 60_000;
    // The map is in start order: stop at the first run still young enough.
    for (const [id, run] of this.#runs) {
      if (now - run.startedAt <= maxAge) break;
      this.endRun(id, now);
    }
  }

  get runsInFlight(): number {
    return this.#runs.size;
  }

  activeRunOf(runId: string): RunScope | null {
    return this.#runs.get(runId)?.scope ?? null;
  }

  #event(kind: BudgetEventKind, c: BudgetCounter, at: number, runId: string | null, sessionKey: string | null, agentId: string | null, detail: string | null): void {
    this.#pending.events.push({ kind, budgetId: c.budget.id, periodStart: c.periodStart, at, runId, sessionKey, agentId, spentUsd: nanosToUsd(totalNanos(c)), spentTokens: totalTokens(c), detail });
  }

  #alert(c: BudgetCounter, i: number, threshold: number | "blocked", at: number): void {
    const key = `${c.budget.id}|${c.periodStart}|${threshold}`;
    if (this.#alerted.has(key)) return;
    this.#alerted.add(key);
    const b = c.budget;
    const alert: BudgetAlert = {
      budgetId: b.id,
      periodStart: c.periodStart,
      periodEnd: c.periodEnd,
      threshold,
      at,
      spentUsd: nanosToUsd(totalNanos(c)),
      spentTokens: totalTokens(c),
      limitUsd: b.limitUsd ?? null,
      limitTokens: b.limitTokens ?? null,
      timeZone: b.timeZone,
    };
    this.lastAlert[i] = alert;
    this.#pending.alerts.push(alert);
  }
}

export type { BudgetCounter, ResolvedBudget };
