/**
 * The spend guard in a process: one per process (kept on globalThis, like the hook queue — the host loads
 * this module once per registry and fires hooks from another registry than the one whose service runs).
 *
 *   before_model_resolve  downgrade budgets at their limit → providerOverride / modelOverride
 *   before_agent_run      block budgets at their limit (spend + reservations) → block, cost_limit; else reserve
 *   before_tool_call      a block budget whose recorded spend reached its limit mid-run → block the tool call
 *   transcript updates    each assistant message with usage is counted at once (recorded cost, else the
 *                         price book; unpriced calls count their tokens), so the next tool call sees it
 *   agent_end             releases the run's reservation
 *
 * Handlers touch memory only (O(budgets)). The period's spend is loaded from the plugin's SQLite once per
 * process: by the service at Gateway start, or — in a process without the service (`openclaw agent
 * --local`, a new process per turn) — at the first hook. What changed is written by the service's drain
 * timer, or, without a service, at the run's end and at exit.
 */
import os from "node:os";
import { classifyAssistant, costOfCall, createPriceBook, loadBundledPrices, pricesFromConfig, resolveOpenClawHome, type MessageFacts, type PriceBook } from "@clawtower/core";
import { loadBudgetConfig, type LoadedBudgets } from "../config/load-budgets.ts";
import { describeIssues, loadConfig } from "../config/load.ts";
import { BUDGET_KEYS } from "../config/budgets-schema.ts";
import { UsageLedger } from "../live/usage-ledger.ts";
import { conversationAccessAllowed } from "../live/hooks.ts";
import { ensureDir, statePaths } from "../state/files.ts";
import { AlertSender } from "./alerts.ts";
import { BudgetBook, type BudgetEvent, type FinishedRun, type BudgetAlert } from "./book.ts";
import { LOCAL_ONLY, type FleetBudgetSnapshot, type FleetBudgetSource } from "./fleet.ts";
import { HubFleetSource } from "./fleet-hub.ts";
import { BudgetEventShipper } from "./event-shipper.ts";
import { runScopeOf, callScopeOf } from "./run-scope.ts";
import { BudgetStore, type CountedCall } from "./store.ts";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" ? (v as Obj) : {});
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const tok = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

export type GuardApi = { pluginConfig?: Record<string, unknown> | undefined; config?: unknown; runtime?: unknown };
type Logger = { info(m: string): void; warn(m: string): void; error(m: string): void };

export type GuardState = "off" | "invalid" | "no-access" | "ready" | "unknown-spend";

/** `agent --local` (no service): the one fetch of fleet budgets at load may hold the first hook this long. */
export const LOCAL_FLEET_TIMEOUT_MS = 2_000;

/** The hub the uploads go to (apiUrl + apiKey + deploymentId) also serves the fleet budgets; null when not configured. */
export function hubOf(pluginConfig: unknown): { hubUrl: string; apiKey: string; deployment: string } | null {
  const loaded = loadConfig(pluginConfig);
  return loaded.status === "ok" && loaded.config.target === "clawtower" ? { hubUrl: loaded.config.apiUrl, apiKey: loaded.config.apiKey, deployment: loaded.config.deploymentId } : null;
}

/** How long a run's end waits for alerts in flight when no service will send them later. */
const LOCAL_ALERT_WAIT_MS = 5_000;

export type ModelOverride = { providerOverride: string; modelOverride: string };
export type BlockResult = { outcome: "block"; reason: string; message: string; category: "cost_limit"; metadata: { budgetId: string } };

export class BudgetGuard {
  #api: GuardApi | null = null;
  #rawKey = "";
  #loaded = false;
  state: GuardState = "off";
  budgets: LoadedBudgets | null = null;
  book: BudgetBook | null = null;
  store: BudgetStore | null = null;
  sender: AlertSender | null = null;
  stateDir: string | null = null;
  problem: string | null = null;
  fleet: FleetBudgetSource = LOCAL_ONLY;
  #hub: HubFleetSource | null = null;
  #shipper: BudgetEventShipper | null = null;
  /** Without a service: the one fetch at load, awaited (bounded) by the first gate hook. */
  #fleetFirst: Promise<void> | null = null;
  /** The fleet budget definitions the book was built with (a change rebuilds it). */
  #fleetKey = "[]";
  #prices: PriceBook | null = null;
  #logger: Logger = { info: () => {}, warn: (m) => process.stderr.write(`${m}\n`), error: (m) => process.stderr.write(`${m}\n`) };
  #serviceActive = false;
  #sessionRuns = new Map<string, string>();
  #pendingCalls: CountedCall[] = [];
  #exitHooked = false;
  /** Writes that failed (kept for the next flush) and the last error, for status. */
  lastWriteError: string | null = null;

  /** Called by every registration: the first one's config wins until the budget keys change (a reload). */
  configure(api: GuardApi, logger?: Logger): void {
    const raw = obj(api.pluginConfig);
    const picked: Obj = {};
    for (const k of [...BUDGET_KEYS, "deploymentId", "apiKey", "apiUrl", "target"]) if (raw[k] !== undefined) picked[k] = raw[k];
    const key = JSON.stringify([picked, conversationAccessAllowed(api.config)]);
    if (logger) this.#logger = logger;
    if (this.#api && key === this.#rawKey) {
      if (!this.#hasRuntime(this.#api) && this.#hasRuntime(api)) this.#api = api;
      return;
    }
    if (this.#loaded) this.close();
    this.#api = api;
    this.#rawKey = key;
    this.#loaded = false;
  }

  #hasRuntime(api: GuardApi): boolean {
    try {
      return typeof (api.runtime as { state?: { resolveStateDir?: unknown } } | undefined)?.state?.resolveStateDir === "function";
    } catch {
      return false;
    }
  }

  #resolveStateDir(): string {
    try {
      const dir = (this.#api?.runtime as { state: { resolveStateDir(): string } }).state.resolveStateDir();
      if (typeof dir === "string" && dir !== "") return dir;
    } catch {
      // no runtime in this registration
    }
    return resolveOpenClawHome({ env: process.env, userHome: os.homedir() }).home;
  }

  /** The service starts: load now (not at the first hook), and let its drain timer do the writing. */
  attachService(stateDir: string, logger: Logger): void {
    this.#logger = logger;
    this.stateDir = stateDir;
    this.#serviceActive = true;
    this.ensure(Date.now(), stateDir);
    if (this.active) this.#connectFleet();
    this.#hub?.start();
  }

  detachService(): Promise<void> {
    this.flush();
    this.#serviceActive = false;
    const hub = this.#hub;
    this.#hub = null;
    this.fleet = LOCAL_ONLY;
    return hub?.stop() ?? Promise.resolve();
  }

  /** The service's drain: recorded budget events to the hub (background; resolves when this pass is done). */
  shipEvents(): Promise<void> {
    const store = this.store;
    if (!store || !this.#api) return Promise.resolve();
    if (!this.#shipper) {
      const hub = hubOf(this.#api.pluginConfig);
      if (!hub) return Promise.resolve();
      this.#shipper = new BudgetEventShipper({ hubUrl: hub.hubUrl, apiKey: hub.apiKey, log: (m) => this.#logger.warn(m) });
    }
    return this.#shipper.ship(store);
  }

  /** Creates the hub source (started by the service; without one, a single bounded fetch now). */
  #connectFleet(): void {
    if (this.#hub || !this.#api) return;
    const hub = hubOf(this.#api.pluginConfig);
    if (!hub) return;
    const local = !this.#serviceActive;
    this.#hub = new HubFleetSource({
      ...hub,
      timeoutMs: local ? LOCAL_FLEET_TIMEOUT_MS : undefined,
      log: (m) => this.#logger.warn(m),
      onSnapshot: (snap, answer) => {
        this.#applyFleet(snap);
        try {
          this.store?.saveFleetAnswer(answer, snap.fetchedAt);
        } catch (e) {
          this.#logger.warn(`clawtower: keeping the fleet budgets failed: ${(e as Error).message}`);
        }
      },
    });
    this.fleet = this.#hub;
    try {
      const kept = this.store?.lastFleetAnswer();
      if (kept) {
        this.#hub.seed(kept.answer, kept.fetchedAt);
        const snap = this.#hub.current();
        if (snap) this.#applyFleet(snap);
      }
    } catch {
      // nothing kept: the first answer brings the figures
    }
    if (local) this.#fleetFirst = this.#hub.refresh().finally(() => (this.#fleetFirst = null));
  }

  /**
   * A hub answer (background, never a hook): new fleet budget definitions rebuild the book from the plugin's
   * SQLite (own spend of their period; runs in flight keep their reservations); then the fleet's figures.
   */
  #applyFleet(snap: FleetBudgetSnapshot): void {
    const now = Date.now();
    const key = JSON.stringify(snap.budgets);
    if (key !== this.#fleetKey && this.book && this.store && this.budgets?.config) {
      this.flush();
      const old = this.book;
      this.#fleetKey = key;
      const book = this.#buildBook(now, snap.budgets);
      for (const [id, run] of old.runsInFlightEntries()) book.adoptRun(id, run);
      this.book = book;
    }
    this.#fleetKey = key;
    this.book?.applyFleet(snap, now);
  }

  #buildBook(now: number, fleetBudgets: FleetBudgetSnapshot["budgets"]): BudgetBook {
    const cfg = this.budgets!.config!;
    const store = this.store!;
    const book = new BudgetBook({ config: { ...cfg, budgets: [...cfg.budgets, ...fleetBudgets] }, now, spend: { known: true, failMode: cfg.budgetFailMode } });
    for (const k of store.alertKeys(book.earliestStart)) book.markAlerted(k.budgetId, k.periodStart, k.threshold);
    for (const r of store.recentRuns(1000)) book.addRecentRun(r.scope, r.nanos, r.tokens);
    for (const c of store.callsSince(book.earliestStart, this.#prices!)) book.addCall(c, now);
    return book;
  }



  get active(): boolean {
    return this.state === "ready" || this.state === "unknown-spend";
  }

  /** Loads config and the period's spend once (synchronous: one indexed read of the plugin's SQLite). */
  ensure(now: number, stateDir?: string, opts: { sendAlerts?: boolean; connectFleet?: boolean } = {}): void {
    if (this.#loaded || !this.#api) return;
    this.#loaded = true;
    const loaded = loadBudgetConfig(this.#api.pluginConfig);
    this.budgets = loaded;
    if (loaded.status === "off" && !hubOf(this.#api.pluginConfig)) {
      this.state = "off";
      return;
    }
    if (loaded.status === "invalid") {
      this.state = "invalid";
      this.problem = describeIssues(loaded.issues);
      this.#logger.error(`clawtower: invalid budget config, the spend guard is off (uploads are not affected): ${this.problem}`);
      return;
    }
    if (!conversationAccessAllowed(this.#api.config)) {
      // Only a hub (fleet budgets) and no local budgets: nothing asked for the guard on this gateway.
      if (loaded.status === "off") {
        this.state = "off";
        return;
      }
      this.state = "no-access";
      this.problem = "before_agent_run, before_model_resolve and agent_end need plugins.entries.clawtower.hooks.allowConversationAccess=true";
      this.#logger.error(`clawtower: budgets are configured but the spend guard cannot run: ${this.problem}`);
      return;
    }
    const cfg = loaded.config;
    this.#prices = createPriceBook(pricesFromConfig(this.#api.config), loadBundledPrices().prices);
    this.book = new BudgetBook({ config: cfg, now, spend: { known: true, failMode: cfg.budgetFailMode } });
    this.stateDir = stateDir ?? this.stateDir ?? this.#resolveStateDir();
    try {
      const paths = statePaths(this.stateDir);
      ensureDir(paths.dir);
      // The ledger's tables first: the rebuild reads llm_calls too.
      new UsageLedger(paths.ledger).close();
      const store = new BudgetStore(paths.ledger);
      this.store = store;
      // Fleet budgets already known (a reload) count from the start; new ones rebuild the book when they arrive.
      const held = this.#hub?.current() ?? null;
      this.#fleetKey = JSON.stringify(held?.budgets ?? []);
      this.book = this.#buildBook(now, held?.budgets ?? []);
      this.book.applyFleet(held, now);
      this.state = "ready";
      this.sender = new AlertSender({ store, webhook: cfg.budgetAlerts.webhook, deploymentId: str(obj(this.#api.pluginConfig)["deploymentId"]), log: (m) => this.#logger.warn(m) });
      // Alerts of an earlier process that were never delivered (not from a CLI command that only reads).
      if (opts.sendAlerts !== false) this.sender.kick();
    } catch (e) {
      this.book.spend = { known: false, failMode: cfg.budgetFailMode };
      this.state = "unknown-spend";
      this.problem = `the period's spend cannot be read (${(e as Error).message}); budgetFailMode ${cfg.budgetFailMode}: ${cfg.budgetFailMode === "closed" ? "runs in budget scopes are blocked" : "runs are allowed"}`;
      this.#logger.error(`clawtower: ${this.problem}`);
    }
    if (opts.connectFleet !== false && this.active) this.#connectFleet();
    if (!this.#exitHooked) {
      this.#exitHooked = true;
      process.once("exit", () => this.flush());
    }
  }

  /** A transcript update: an assistant message with usage is one LLM call, counted at once. */
  onTranscript(u: unknown): void {
    if (!this.#loaded) this.ensure(Date.now());
    const book = this.book;
    if (!book || !this.#prices) return;
    const upd = obj(u);
    const m = obj(upd["message"]);
    if (m["role"] !== "assistant" || !m["usage"] || typeof m["usage"] !== "object") return;
    const target = obj(upd["target"]);
    const agentId = str(target["agentId"]) ?? str(upd["agentId"]);
    const sessionId = str(target["sessionId"]) ?? str(upd["sessionId"]);
    const sessionKey = str(target["sessionKey"]) ?? str(upd["sessionKey"]);
    const eventId = str(upd["messageId"]);
    if (!agentId || !eventId) return;
    const usage = obj(m["usage"]);
    const tokens = { input: tok(usage["input"]), output: tok(usage["output"]), cacheRead: tok(usage["cacheRead"]), cacheWrite: tok(usage["cacheWrite"]) };
    const cost = obj(usage["cost"])["total"];
    const recorded = typeof cost === "number" && Number.isFinite(cost) && cost >= 0 ? cost : undefined;
    const provider = str(m["provider"]);
    const model = str(m["model"]);
    // The ledger's rule for what is a call (OpenClaw's own artifacts and zero-usage rows are not).
    const facts = { role: "assistant", provider: provider ?? undefined, model: model ?? undefined, usage: { tokens, recordedCost: recorded, invalidFields: [] } } as unknown as MessageFacts;
    if (classifyAssistant(facts) !== "call") return;
    const priced = costOfCall({ provider: provider ?? "", model: model ?? "", tokens, recordedCostUsd: recorded ?? null }, this.#prices);
    const now = Date.now();
    const ts = typeof m["timestamp"] === "number" && Number.isFinite(m["timestamp"]) ? (m["timestamp"] as number) : now;
    const runId = str(upd["runId"]) ?? (sessionId ? (this.#sessionRuns.get(sessionId) ?? null) : null);
    const call = {
      agentId,
      eventId,
      key: `${agentId}\u0000${eventId}`,
      ts,
      runId,
      scope: callScopeOf(agentId, sessionKey, provider, model),
      nanos: priced.source === "unknown" ? null : priced.nanos,
      tokens: tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite,
    };
    book.roll(now);
    const scope = book.addCall(call, now);
    if (scope) this.#pendingCalls.push({ ...call, scope });
  }

  #ready(now: number): BudgetBook | null {
    if (!this.#loaded) this.ensure(now);
    return this.book;
  }

  beforeModelResolve(e: unknown, ctxIn: unknown): ModelOverride | undefined | Promise<ModelOverride | undefined> {
    const now = Date.now();
    const book = this.#ready(now);
    if (!book) return undefined;
    if (this.#fleetFirst) return this.#fleetFirst.then(() => this.beforeModelResolve(e, ctxIn));
    const ctx = obj(ctxIn);
    const runId = str(ctx["runId"]);
    const sessionId = str(ctx["sessionId"]);
    if (runId && sessionId) this.#sessionRuns.set(sessionId, runId);
    const d = book.decideModel(runScopeOf(ctx), now, runId, str(ctx["sessionKey"]));
    return d.kind === "downgrade" ? { providerOverride: d.provider, modelOverride: d.model } : undefined;
  }

  beforeAgentRun(e: unknown, ctxIn: unknown): BlockResult | undefined | Promise<BlockResult | undefined> {
    const now = Date.now();
    const book = this.#ready(now);
    if (!book) return undefined;
    if (this.#fleetFirst) return this.#fleetFirst.then(() => this.beforeAgentRun(e, ctxIn));
    const ctx = obj(ctxIn);
    const runId = str(ctx["runId"]);
    const sessionId = str(ctx["sessionId"]);
    if (runId && sessionId) this.#sessionRuns.set(sessionId, runId);
    const d = book.startRun(runId, runScopeOf(ctx), now, str(ctx["sessionKey"]));
    if (d.kind !== "block") return undefined;
    // `reason` stays inside OpenClaw (never shown); `message` replaces the user's text and is shown to them.
    return { outcome: "block", reason: `clawtower budget ${d.counter.budget.id}: ${d.cause}`, message: d.message, category: "cost_limit", metadata: { budgetId: d.counter.budget.id } };
  }

  beforeToolCall(eIn: unknown, ctxIn: unknown): { block: true; blockReason: string } | undefined {
    const now = Date.now();
    const book = this.#ready(now);
    if (!book) return undefined;
    const e = obj(eIn);
    const ctx = obj(ctxIn);
    const runId = str(e["runId"]) ?? str(ctx["runId"]);
    const d = book.decideToolCall(runId, runScopeOf(ctx), now, str(ctx["sessionKey"]));
    return d.kind === "block" ? { block: true, blockReason: d.message } : undefined;
  }

  /** The run ended: release its reservation; without a service, write now and give alerts a moment to go out. */
  async agentEnd(eIn: unknown, ctxIn: unknown): Promise<void> {
    const book = this.book;
    if (!book) return;
    const e = obj(eIn);
    const ctx = obj(ctxIn);
    const runId = str(e["runId"]) ?? str(ctx["runId"]);
    const sessionId = str(ctx["sessionId"]);
    if (runId) book.endRun(runId, Date.now());
    if (sessionId && this.#sessionRuns.get(sessionId) === runId) this.#sessionRuns.delete(sessionId);
    if (!this.#serviceActive) {
      this.flush();
      await this.sender?.idle(LOCAL_ALERT_WAIT_MS);
    }
  }

  /** Persists what changed (calls, finished runs, events, alerts) and hands new alerts to the sender. */
  flush(): void {
    const book = this.book;
    const store = this.store;
    if (!book || !store) return;
    if (!book.hasEffects && this.#pendingCalls.length === 0 && this.#unwritten === null) return;
    const effects = book.takeEffects();
    const batch = {
      calls: [...(this.#unwritten?.calls ?? []), ...this.#pendingCalls],
      runs: [...(this.#unwritten?.runs ?? []), ...effects.runs],
      events: [...(this.#unwritten?.events ?? []), ...effects.events],
      alerts: [...(this.#unwritten?.alerts ?? []), ...effects.alerts],
    };
    this.#pendingCalls = [];
    this.#unwritten = null;
    let fresh: BudgetAlert[];
    try {
      fresh = store.write(batch);
      this.lastWriteError = null;
    } catch (e) {
      // Kept for the next flush: the counters are already right in memory; only the record waits.
      this.#unwritten = batch;
      this.lastWriteError = (e as Error).message;
      this.#logger.warn(`clawtower: writing budget state failed: ${this.lastWriteError}`);
      return;
    }
    for (const ev of batch.events) if (ev.kind === "block") this.#logger.warn(`clawtower: budget ${ev.budgetId} blocked ${ev.runId ? `run ${ev.runId}` : "a run"} (${ev.detail ?? ""})`);
    if (fresh.length > 0) this.sender?.kick();
  }

  #unwritten: { calls: CountedCall[]; runs: FinishedRun[]; events: BudgetEvent[]; alerts: BudgetAlert[] } | null = null;

  close(opts: { flush?: boolean } = {}): void {
    if (opts.flush !== false) this.flush();
    void this.#hub?.stop();
    this.#hub = null;
    this.#fleetFirst = null;
    this.fleet = LOCAL_ONLY;
    this.sender?.stop();
    try {
      this.store?.close();
    } catch {
      // already closed
    }
    this.store = null;
    this.#shipper = null;
    this.sender = null;
    this.book = null;
    this.#loaded = false;
    this.state = "off";
  }
}

const GUARD_KEY = Symbol.for("clawtower.openclaw-plugin.budget-guard");

export function processGuard(): BudgetGuard {
  const g = globalThis as { [GUARD_KEY]?: BudgetGuard };
  return (g[GUARD_KEY] ??= new BudgetGuard());
}
