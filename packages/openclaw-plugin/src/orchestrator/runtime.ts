/**
 * Orchestrator delegation in a process: the state the policy reads (in memory, loaded from the plugin's
 * SQLite at the first hook), the hook handlers that apply the policy's decisions, and the write-through
 * to SQLite of every change. One per process (on globalThis, like the spend guard), because the host
 * loads this module once per registry and fires hooks from another registry than the one that has the
 * service. before_tool_call reads memory only; it writes only when it blocks, bypasses or spawns.
 *
 * A failure here never reaches the agent run: a store that cannot be opened turns delegation off (and
 * says why in status); a failed write is logged.
 */
import { resolveStateDir } from "../cli/commands.ts";
import { loadOrchestratorConfig, type LoadedOrchestrator } from "../config/load-orchestrator.ts";
import { describeIssues } from "../config/load.ts";
import type { OrchestratorConfig } from "../config/orchestrator-schema.ts";
import { ensureDir, statePaths } from "../state/files.ts";
import {
  afterSpawn,
  afterSubagentEnded,
  allowedTools,
  decideToolCall,
  evictedWorkers,
  expiredBindings,
  frontPrompt,
  lastUserMessage,
  pendingKey,
  roleOf,
  type Binding,
  type PendingSpawn,
  type StateView,
  type ToolDecision,
  type Worker,
} from "./policy.ts";
import { OrchestratorStore, type OrchEvent } from "./store.ts";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

type Logger = { info(m: string): void; warn(m: string): void; error(m: string): void };
type SystemRuntime = {
  enqueueSystemEvent(text: string, opts: { sessionKey: string }): boolean;
  requestHeartbeatNow(opts?: { reason?: string; sessionKey?: string }): void;
};
export type OrchestratorApi = { pluginConfig?: Record<string, unknown> | undefined; config?: unknown; runtime?: unknown; logger?: Logger };

export type OrchestratorState = "off" | "invalid" | "ready" | "error";

/** A spawn not answered within this long is dropped from the pending map (bounded). */
const PENDING_TTL_MS = 10 * 60_000;
const MAX_PENDING = 1000;
/** last_active_at is written at most this often per binding (memory is exact). */
const TOUCH_EVERY_MS = 60_000;
/** Session ends that do not end the conversation: a restart must keep its binding. */
const KEEP_ON_END = new Set(["shutdown", "restart", "compaction", "unknown"]);

export class Orchestrator implements StateView {
  state: OrchestratorState = "off";
  problem: string | null = null;
  loaded: LoadedOrchestrator | null = null;
  config: OrchestratorConfig | null = null;
  store: OrchestratorStore | null = null;
  #api: OrchestratorApi | null = null;
  #rawKey = "";
  #ready = false;
  #logger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
  #allowed: ReturnType<typeof allowedTools> | null = null;
  #bindings = new Map<string, Binding>();
  #fronts = new Map<string, string>();
  #workers = new Map<string, Worker>();
  #workersByOrch = new Map<string, Set<string>>();
  #retries = new Map<string, number>();
  #blocks = new Map<string, number>();
  #pending = new Map<string, PendingSpawn>();
  #lastUser = new Map<string, string>();
  #lastDelegated = new Map<string, string>();
  #touched = new Map<string, number>();

  /** Every registration calls this; the config is re-read only when `orchestrator` changed (a reload). */
  configure(api: OrchestratorApi): void {
    if (api.logger) this.#logger = api.logger;
    const key = JSON.stringify(obj(api.pluginConfig)["orchestrator"] ?? null);
    if (this.#api && key === this.#rawKey) return;
    this.close();
    this.#api = api;
    this.#rawKey = key;
    this.loaded = loadOrchestratorConfig(api.pluginConfig);
    if (this.loaded.status === "invalid") {
      this.state = "invalid";
      this.problem = describeIssues(this.loaded.issues);
      this.#logger.error(`clawtower: invalid orchestrator config, delegation is off: ${this.problem}`);
      return;
    }
    this.config = this.loaded.config;
    this.#allowed = allowedTools(this.loaded.config);
    this.state = this.loaded.status === "ok" ? "ready" : "off";
  }

  get enabled(): boolean {
    return this.state === "ready";
  }

  /** Opens the store and loads the state once per process (at the first hook, or by a test with its dir). */
  ensure(now: number, stateDir?: string): boolean {
    if (this.state !== "ready") return false;
    if (this.#ready) return true;
    this.#ready = true;
    try {
      const dir = stateDir ?? resolveStateDir(this.#api as never);
      const paths = statePaths(dir);
      ensureDir(paths.dir);
      this.store = new OrchestratorStore(paths.ledger);
      const s = this.store.load();
      for (const b of s.bindings) this.#putBinding(b);
      for (const w of s.workers) this.#putWorker(w);
      this.#retries = s.retries;
      this.#retryOwner = s.retryOwners;
      this.#blocks = s.blocks;
      this.expire(now);
      return true;
    } catch (e) {
      this.state = "error";
      this.problem = `orchestrator state cannot be opened: ${(e as Error).message}`;
      this.#logger.error(`clawtower: ${this.problem}; delegation is off`);
      this.store = null;
      return false;
    }
  }

  // StateView
  bindingOf(frontKey: string): Binding | undefined {
    return this.#bindings.get(frontKey);
  }
  frontOf(orchestratorKey: string): string | undefined {
    return this.#fronts.get(orchestratorKey);
  }
  workersOf(orchestratorKey: string): Worker[] {
    const keys = this.#workersByOrch.get(orchestratorKey);
    return keys ? [...keys].map((k) => this.#workers.get(k)!).filter(Boolean) : [];
  }
  worker(childKey: string): Worker | undefined {
    return this.#workers.get(childKey);
  }
  retries(taskKey: string): number {
    return this.#retries.get(taskKey) ?? 0;
  }
  blockedAttempts(blockKey: string): number {
    return this.#blocks.get(blockKey) ?? 0;
  }
  lastUserMessage(sessionKey: string): string | undefined {
    return this.#lastUser.get(sessionKey);
  }
  lastDelegatedTask(orchestratorKey: string): string | undefined {
    return this.#lastDelegated.get(orchestratorKey);
  }
  get bindings(): Binding[] {
    return [...this.#bindings.values()];
  }

  #putBinding(b: Binding): void {
    const old = this.#bindings.get(b.frontKey);
    if (old) this.#fronts.delete(old.orchestratorKey);
    this.#bindings.set(b.frontKey, b);
    this.#fronts.set(b.orchestratorKey, b.frontKey);
  }

  #putWorker(w: Worker): void {
    this.#workers.set(w.childKey, w);
    let set = this.#workersByOrch.get(w.orchestratorKey);
    if (!set) this.#workersByOrch.set(w.orchestratorKey, (set = new Set()));
    set.add(w.childKey);
  }

  #dropSession(key: string): void {
    for (const k of this.#workersByOrch.get(key) ?? []) this.#workers.delete(k);
    this.#workersByOrch.delete(key);
    for (const t of [...this.#retries.keys()]) if (this.#retryOwner.get(t) === key) this.#retries.delete(t);
    for (const k of [...this.#blocks.keys()]) if (k.split("|")[1] === key) this.#blocks.delete(k);
    this.#lastDelegated.delete(key);
    this.#lastUser.delete(key);
  }
  /** Which orchestrator a task key's budget belongs to (for cleanup). */
  #retryOwner = new Map<string, string>();

  #write(what: string, fn: (s: OrchestratorStore) => void): void {
    if (!this.store) return;
    // Queued writes go first, so a later change (a session's end) is never overwritten by an earlier one.
    if (this.#later.length > 0 && !this.#flushing) this.flush();
    try {
      fn(this.store);
    } catch (e) {
      this.#logger.warn(`clawtower: writing orchestrator state (${what}) failed: ${(e as Error).message}`);
    }
  }

  /**
   * before_tool_call's writes (block and bypass counters with their audit events, last-active times) wait
   * for the next tick: memory already holds the decision, and a synchronous SQLite commit on that path
   * costs milliseconds on a busy disk. Flushed at process exit too (a local turn's process).
   */
  #later: [string, (s: OrchestratorStore) => void][] = [];
  #flushScheduled = false;
  #exitHooked = false;
  #writeLater(what: string, fn: (s: OrchestratorStore) => void): void {
    if (!this.store) return;
    this.#later.push([what, fn]);
    if (!this.#exitHooked) {
      this.#exitHooked = true;
      process.once("exit", () => this.flush());
    }
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setTimeout(() => this.flush(), 0).unref();
  }

  /** Writes what before_tool_call queued (also called before every read by status and at close). */
  flush(): void {
    this.#flushScheduled = false;
    const batch = this.#later;
    this.#later = [];
    this.#flushing = true;
    try {
      for (const [what, fn] of batch) this.#write(what, fn);
    } finally {
      this.#flushing = false;
    }
  }
  #flushing = false;

  /** Forgets idle and surplus bindings with their orchestrators' workers and budgets. */
  expire(now: number): void {
    const cfg = this.config;
    if (!cfg) return;
    const gone = expiredBindings(this.#bindings.values(), now, cfg.idleExpiryMinutes * 60_000, cfg.maxBindings);
    if (gone.length === 0) return;
    const dropped = gone.map((k) => this.#bindings.get(k)!);
    for (const b of dropped) this.#forgetBinding(b);
    this.#write("expire", (s) => s.forget(dropped, [], dropped.map((b) => ({ at: now, kind: "expire", sessionKey: b.frontKey, tool: null, detail: `orchestrator ${b.orchestratorKey}` }))));
  }

  #forgetBinding(b: Binding): void {
    this.#bindings.delete(b.frontKey);
    this.#fronts.delete(b.orchestratorKey);
    this.#dropSession(b.orchestratorKey);
    this.#lastUser.delete(b.frontKey);
  }

  #touch(frontKey: string | undefined, now: number): void {
    if (!frontKey) return;
    const b = this.#bindings.get(frontKey);
    if (!b) return;
    b.lastActiveAt = now;
    if (now - (this.#touched.get(frontKey) ?? 0) >= TOUCH_EVERY_MS) {
      this.#touched.set(frontKey, now);
      this.#writeLater("touch", (s) => s.touch(frontKey, now));
    }
  }

  // Hooks
  beforePromptBuild(eIn: unknown, ctxIn: unknown): { prependContext: string } | undefined {
    const now = Date.now();
    if (!this.ensure(now)) return undefined;
    const e = obj(eIn);
    const sessionKey = str(obj(ctxIn)["sessionKey"]);
    if (sessionKey && Array.isArray(e["messages"])) {
      const last = lastUserMessage(e["messages"] as unknown[]);
      if (last) this.#lastUser.set(sessionKey, last);
    }
    const text = frontPrompt(this.config!, sessionKey, this);
    return text ? { prependContext: text } : undefined;
  }

  beforeToolCall(eIn: unknown, ctxIn: unknown): { params?: Obj; block?: true; blockReason?: string } | undefined {
    if (this.state !== "ready") return undefined;
    const now = Date.now();
    if (!this.ensure(now)) return undefined;
    const e = obj(eIn);
    const ctx = obj(ctxIn);
    const call = { toolName: String(e["toolName"] ?? ""), params: obj(e["params"]), sessionKey: str(ctx["sessionKey"]), runId: str(e["runId"]) ?? str(ctx["runId"]), toolCallId: str(e["toolCallId"]) ?? str(ctx["toolCallId"]) };
    const d = decideToolCall(this.config!, this.#allowed!, this, call, now);
    if (d.action === "allow") return undefined;
    return this.#apply(d, call, now);
  }

  #apply(d: Exclude<ToolDecision, { action: "allow" }>, call: { toolName: string; sessionKey?: string | undefined; runId?: string | undefined; toolCallId?: string | undefined }, now: number) {
    const role = roleOf(call.sessionKey, this);
    this.#touch(role === "orchestrator" ? this.frontOf(call.sessionKey!) : call.sessionKey, now);
    if ("delegated" in d && d.delegated) this.#lastDelegated.set(d.delegated.orchestratorKey, d.delegated.task);
    if (d.action === "bypass") {
      this.#blocks.set(d.blockKey, d.attempts);
      this.#logger.warn(`clawtower: orchestrator bypass: '${call.toolName}' let through for ${call.sessionKey} after ${d.attempts} blocked attempts (bypassAfterBlockedAttempts)`);
      this.#writeLater("bypass", (s) => s.block(d.blockKey, call.sessionKey!, d.attempts, { at: now, kind: "bypass", sessionKey: call.sessionKey ?? null, tool: call.toolName, detail: `attempt ${d.attempts}` }));
      return undefined;
    }
    if (d.action === "block") {
      if (d.blockKey) {
        const attempts = this.blockedAttempts(d.blockKey) + 1;
        this.#blocks.set(d.blockKey, attempts);
        this.#writeLater("block", (s) => s.block(d.blockKey!, call.sessionKey!, attempts, { at: now, kind: "block", sessionKey: call.sessionKey ?? null, tool: call.toolName, detail: `attempt ${attempts}` }));
      } else {
        this.#writeLater("block", (s) => s.record({ at: now, kind: "block", sessionKey: call.sessionKey ?? null, tool: call.toolName, detail: d.reason.slice(0, 300) }));
      }
      return { block: true as const, blockReason: d.reason };
    }
    if ((d.action === "rewrite" || d.action === "track") && d.pending) {
      if (this.#pending.size >= MAX_PENDING) this.#prunePending(now);
      this.#pending.set(pendingKey(call.runId, call.toolCallId, call.sessionKey), d.pending);
    }
    return d.action === "rewrite" ? { params: d.params } : undefined;
  }

  #prunePending(now: number): void {
    for (const [k, p] of this.#pending) if (now - p.at > PENDING_TTL_MS) this.#pending.delete(k);
    while (this.#pending.size >= MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value!);
  }

  afterToolCall(eIn: unknown, ctxIn: unknown): void {
    if (this.state !== "ready" || this.#pending.size === 0) return;
    const e = obj(eIn);
    const ctx = obj(ctxIn);
    const key = pendingKey(str(e["runId"]) ?? str(ctx["runId"]), str(e["toolCallId"]) ?? str(ctx["toolCallId"]), str(ctx["sessionKey"]));
    const pending = this.#pending.get(key);
    if (!pending) return;
    this.#pending.delete(key);
    const now = Date.now();
    const out = afterSpawn(this.config!, this, pending, e["result"], str(e["error"]), now);
    if (out.kind === "rejected") {
      this.#logger.warn(`clawtower: orchestrator: ${out.why}; nothing bound`);
      return;
    }
    if (out.kind === "bind") {
      this.#putBinding(out.binding);
      this.#logger.info(`clawtower: orchestrator ${out.binding.orchestratorKey} bound to ${out.binding.frontKey}`);
      this.#write("bind", (s) => s.bind(out.binding, { at: now, kind: "bind", sessionKey: out.binding.frontKey, tool: "sessions_spawn", detail: out.binding.orchestratorKey }));
      this.expire(now);
      return;
    }
    const w = out.worker;
    this.#putWorker(w);
    this.#retryOwner.set(w.taskKey, w.orchestratorKey);
    this.#touch(this.frontOf(w.orchestratorKey), now);
    const evicted = evictedWorkers(this.workersOf(w.orchestratorKey), this.config!.maxWorkersPerOrchestrator);
    for (const k of evicted) {
      this.#workers.delete(k);
      this.#workersByOrch.get(w.orchestratorKey)?.delete(k);
    }
    this.#write("worker", (s) => s.putWorker(w, evicted));
  }

  subagentEnded(eIn: unknown): void {
    if (this.state !== "ready") return;
    const now = Date.now();
    if (!this.ensure(now)) return;
    const out = afterSubagentEnded(this.config!, this, obj(eIn));
    const events: OrchEvent[] = [];
    if (out.worker) {
      const w = this.#workers.get(out.worker.childKey)!;
      w.status = out.worker.status;
      w.updatedAt = now;
      events.push({ at: now, kind: "worker-end", sessionKey: w.childKey, tool: null, detail: `${out.worker.status} (attempt ${w.attempt})` });
      let retryRow: { taskKey: string; orchestratorKey: string; used: number } | null = null;
      if (out.retry?.kind === "retry") {
        const r = out.retry;
        this.#retries.set(r.taskKey, r.attempt);
        this.#retryOwner.set(r.taskKey, r.requesterKey);
        retryRow = { taskKey: r.taskKey, orchestratorKey: r.requesterKey, used: r.attempt };
        events.push({ at: now, kind: "retry", sessionKey: r.requesterKey, tool: "sessions_spawn", detail: `retry ${r.attempt}/${this.config!.maxRetriesPerTask} of ${w.childKey}` });
        this.#requestRetry(r.requesterKey, r.text);
      } else if (out.retry?.kind === "exhausted") {
        this.#logger.warn(`clawtower: orchestrator retry budget exhausted (${out.retry.used}/${this.config!.maxRetriesPerTask}) for ${w.childKey}`);
        events.push({ at: now, kind: "retry-exhausted", sessionKey: out.retry.requesterKey, tool: null, detail: `${w.childKey} after ${out.retry.used} retries` });
      }
      this.#write("worker end", (s) => s.endWorker(w.childKey, w.status, now, retryRow, events));
    }
    if (out.orchestratorEnded) this.#endSessions([this.#bindings.get(out.orchestratorEnded.frontKey)!], [], "orchestrator-end", now);
  }

  #requestRetry(sessionKey: string, text: string): void {
    try {
      const system = (this.#api?.runtime as { system?: SystemRuntime } | undefined)?.system;
      if (!system?.enqueueSystemEvent(text, { sessionKey })) {
        this.#logger.warn(`clawtower: orchestrator could not queue the retry event for ${sessionKey}`);
        return;
      }
      system.requestHeartbeatNow({ reason: "clawtower-orchestrator-retry", sessionKey });
    } catch (e) {
      this.#logger.warn(`clawtower: orchestrator retry request failed: ${(e as Error).message}`);
    }
  }

  /** session_end of a front session or an orchestrator cleans what belongs to it — except on a shutdown or restart. */
  sessionEnd(eIn: unknown, ctxIn: unknown): void {
    if (this.state !== "ready") return;
    const e = obj(eIn);
    const key = str(e["sessionKey"]) ?? str(obj(ctxIn)["sessionKey"]);
    if (!key || KEEP_ON_END.has(String(e["reason"] ?? "unknown"))) return;
    const now = Date.now();
    if (!this.ensure(now)) return;
    const asFront = this.#bindings.get(key);
    const front = this.#fronts.get(key);
    const asOrch = front ? this.#bindings.get(front) : undefined;
    const b = asFront ?? asOrch;
    if (b) this.#endSessions([b], [], "session-end", now);
    else if (this.#workersByOrch.has(key) || this.#lastUser.has(key)) this.#endSessions([], [key], "session-end", now);
  }

  #endSessions(bindings: Binding[], orphans: string[], kind: "session-end" | "orchestrator-end", now: number): void {
    for (const b of bindings) this.#forgetBinding(b);
    for (const o of orphans) this.#dropSession(o);
    const events: OrchEvent[] = bindings.map((b) => ({ at: now, kind, sessionKey: b.frontKey, tool: null, detail: `orchestrator ${b.orchestratorKey}` }));
    this.#write(kind, (s) => s.forget(bindings, orphans, events));
  }

  close(): void {
    this.flush();
    try {
      this.store?.close();
    } catch {
      // already closed
    }
    this.store = null;
    this.#ready = false;
    this.#bindings.clear();
    this.#fronts.clear();
    this.#workers.clear();
    this.#workersByOrch.clear();
    this.#retries = new Map();
    this.#blocks = new Map();
    this.#pending.clear();
    this.#lastUser.clear();
    this.#lastDelegated.clear();
    this.#retryOwner.clear();
    this.#api = null;
    this.#rawKey = "";
    this.state = "off";
  }
}

const KEY = Symbol.for("clawtower.openclaw-plugin.orchestrator");

export function processOrchestrator(): Orchestrator {
  const g = globalThis as { [KEY]?: Orchestrator };
  return (g[KEY] ??= new Orchestrator());
}
