/**
 * The spend guard's decisions, pure: counters + budgets + a run's scope in, allow / block / downgrade /
 * warn out. No clock, no I/O; the caller has rolled the periods to `now` first.
 *
 * Zero false blocks: a run is blocked only when a block budget covering it has spend + the reservations of
 * runs in flight ≥ its limit (or, with budgetFailMode "closed", when spend could not be known). A running
 * run is stopped at a tool call only on recorded spend ≥ limit (reservations are estimates).
 */
import { budgetScopeCovers as scopeCovers, formatBudgetInstant, nanosToUsd, usdToNanos } from "@clawtower/core";
import type { ResolvedBudget } from "../config/load-budgets.ts";
import type { RunScope } from "./run-scope.ts";

export type BudgetCounter = {
  budget: ResolvedBudget;
  periodStart: number;
  periodEnd: number;
  spentNanos: number;
  spentTokens: number;
  /** Calls without any price: their tokens count, their cost cannot. */
  unpricedCalls: number;
  unpricedTokens: number;
  calls: number;
  reservedNanos: number;
  reservedTokens: number;
  /** Fleet budgets (`fleet:…`): the rest of the fleet's spend this period, from the hub's last answer. */
  fleetNanos: number;
  fleetTokens: number;
};

/** Spend that counts against the limit: this gateway's own (live) + the rest of the fleet's (fleet budgets). */
export const totalNanos = (c: BudgetCounter): number => c.spentNanos + c.fleetNanos;
export const totalTokens = (c: BudgetCounter): number => c.spentTokens + c.fleetTokens;

export type Decision =
  | { kind: "allow"; warn: BudgetCounter[] }
  | { kind: "block"; counter: BudgetCounter; cause: "limit" | "reserved" | "unknown-spend"; message: string }
  | { kind: "downgrade"; counter: BudgetCounter; provider: string; model: string };

export type SpendKnowledge = { known: boolean; failMode: "closed" | "open" };

/** How far the counter is towards its limit (the larger of the USD and token fractions). */
export function usedFraction(c: BudgetCounter, withReservations: boolean): number {
  const b = c.budget;
  let f = 0;
  if (b.limitUsd !== undefined) f = Math.max(f, (totalNanos(c) + (withReservations ? c.reservedNanos : 0)) / usdToNanos(b.limitUsd));
  if (b.limitTokens !== undefined) f = Math.max(f, (totalTokens(c) + (withReservations ? c.reservedTokens : 0)) / b.limitTokens);
  return f;
}

/** Spend (+ reservations) at or over a limit. Integer nano-dollars and tokens: no rounding at the edge. */
export function atLimit(c: BudgetCounter, withReservations: boolean): boolean {
  const b = c.budget;
  if (b.limitUsd !== undefined && totalNanos(c) + (withReservations ? c.reservedNanos : 0) >= usdToNanos(b.limitUsd)) return true;
  if (b.limitTokens !== undefined && totalTokens(c) + (withReservations ? c.reservedTokens : 0) >= b.limitTokens) return true;
  return false;
}

function formatLimit(b: ResolvedBudget): string {
  const parts: string[] = [];
  if (b.limitUsd !== undefined) parts.push(`$${b.limitUsd}`);
  if (b.limitTokens !== undefined) parts.push(`${b.limitTokens} tokens`);
  return parts.join(" / ");
}

function formatSpent(c: BudgetCounter): string {
  const parts: string[] = [];
  if (c.budget.limitUsd !== undefined) parts.push(`$${nanosToUsd(totalNanos(c)).toFixed(4)}`);
  if (c.budget.limitTokens !== undefined) parts.push(`${totalTokens(c)} tokens`);
  return parts.join(" / ");
}

/** The user-facing text of a block: the budget's message with {budget} {limit} {spent} {resetsAt} filled in. */
export function blockMessage(c: BudgetCounter): string {
  const b = c.budget;
  const template = b.message ?? "Budget {budget} reached ({spent} of {limit}); resets {resetsAt}.";
  const values: Record<string, string> = { budget: b.id, limit: formatLimit(b), spent: formatSpent(c), resetsAt: formatBudgetInstant(c.periodEnd, b.timeZone) };
  return template.replace(/\{(budget|limit|spent|resetsAt)\}/g, (_, k: string) => values[k]!);
}

/** `before_agent_run`: the first block budget covering the run that is at its limit blocks it. */
export function decideRunStart(counters: readonly BudgetCounter[], run: RunScope, spend: SpendKnowledge): Decision {
  const warn: BudgetCounter[] = [];
  for (const c of counters) {
    if (!scopeCovers(c.budget.scope, run)) continue;
    const action = c.budget.action;
    if (!spend.known) {
      if (action === "block" && spend.failMode === "closed") return { kind: "block", counter: c, cause: "unknown-spend", message: blockMessage(c) };
      continue;
    }
    if (action === "block" && atLimit(c, true)) return { kind: "block", counter: c, cause: atLimit(c, false) ? "limit" : "reserved", message: blockMessage(c) };
    if (action === "warn" && atLimit(c, true)) warn.push(c);
  }
  return { kind: "allow", warn };
}

/** `before_model_resolve`: the first downgrade budget covering the run that is at its limit picks the model. */
export function decideModel(counters: readonly BudgetCounter[], run: RunScope, spend: SpendKnowledge): Decision {
  for (const c of counters) {
    const b = c.budget;
    if (b.action !== "downgrade" || !b.downgradeTo || !scopeCovers(b.scope, run)) continue;
    // Spend unknown: closed means the cheaper model (the safe side), open means as configured.
    if (spend.known ? atLimit(c, true) : spend.failMode === "closed") {
      const slash = b.downgradeTo.indexOf("/");
      return { kind: "downgrade", counter: c, provider: b.downgradeTo.slice(0, slash), model: b.downgradeTo.slice(slash + 1) };
    }
  }
  return { kind: "allow", warn: [] };
}

/** `before_tool_call`: a run whose block budget's recorded spend reached the limit mid-way stops here. */
export function decideToolCall(counters: readonly BudgetCounter[], run: RunScope, spend: SpendKnowledge): Decision {
  if (!spend.known) return { kind: "allow", warn: [] };
  for (const c of counters) {
    if (c.budget.action === "block" && scopeCovers(c.budget.scope, run) && atLimit(c, false)) return { kind: "block", counter: c, cause: "limit", message: blockMessage(c) };
  }
  return { kind: "allow", warn: [] };
}

/** A budget's alert thresholds, ascending: its warnAt fractions and 1 (the limit). */
export function alertThresholds(b: ResolvedBudget): number[] {
  return [...new Set([...b.warnAt, 1])].sort((x, y) => x - y);
}

/** The thresholds a change from `before` to `after` (fractions of the limit) crossed. */
export function crossedThresholds(thresholds: readonly number[], before: number, after: number): number[] {
  return thresholds.filter((t) => before < t && after >= t);
}

/** p95 of a list (nearest rank); null for none. */
export function p95(values: readonly number[]): number | null {
  return p95Sorted([...values].sort((a, b) => a - b));
}

/** p95 (nearest rank) of an ascending list. */
export function p95Sorted(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil((sorted.length * 95) / 100) - 1)]!;
}
