/**
 * Orchestrator delegation's policy, as pure functions over a read-only view of the state: which tool call
 * is rewritten, blocked, bypassed or allowed; what an accepted spawn binds; what a worker's end retries;
 * what expires. No I/O and no clock: the caller passes `now` and applies the returned effects
 * (runtime.ts), so every acceptance behaviour is testable on its own.
 */
import { createHash } from "node:crypto";
import type { OrchestratorConfig } from "../config/orchestrator-schema.ts";
import { BRIDGE_TOOLS, ROUTER_TOOLS } from "./host-tools.ts";

export type SpawnSpec = { task: string; label?: string; agentId?: string; model?: string; thinking?: string; mode?: string; thread?: boolean };

export type Binding = { frontKey: string; orchestratorKey: string; label: string; createdAt: number; lastActiveAt: number };

export type WorkerStatus = "running" | "ok" | "error" | "timeout" | "killed" | "reset" | "deleted" | "unknown";
export type Worker = {
  childKey: string;
  orchestratorKey: string;
  label: string | null;
  taskKey: string;
  taskPreview: string;
  spec: SpawnSpec;
  status: WorkerStatus;
  /** 0 for the first spawn of a task, n for its nth retry. */
  attempt: number;
  startedAt: number;
  updatedAt: number;
};

/** A spawn seen in before_tool_call, waiting for its after_tool_call. */
export type PendingSpawn = { requesterKey: string; kind: "orchestrator" | "worker"; spec: SpawnSpec; at: number };

/** What the policy reads. */
export type StateView = {
  bindingOf(frontKey: string): Binding | undefined;
  frontOf(orchestratorKey: string): string | undefined;
  workersOf(orchestratorKey: string): Worker[];
  worker(childKey: string): Worker | undefined;
  retries(taskKey: string): number;
  blockedAttempts(blockKey: string): number;
  lastUserMessage(sessionKey: string): string | undefined;
  lastDelegatedTask(orchestratorKey: string): string | undefined;
};

export type SessionRole = "front" | "orchestrator" | "other";

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const asStr = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);

/** A front session: an `agent:` key that is not a subagent's and not a known orchestrator. */
export function roleOf(sessionKey: string | undefined, view: Pick<StateView, "frontOf">): SessionRole {
  if (!sessionKey) return "other";
  if (view.frontOf(sessionKey) !== undefined) return "orchestrator";
  if (sessionKey.includes(":subagent:")) return "other";
  return /^agent:/i.test(sessionKey) ? "front" : "other";
}

export function shortHash(s: string): string {
  return createHash("sha256").update(s).digest("hex").slice(0, 10);
}

export function sanitizeLabel(input: string | undefined): string | undefined {
  const safe = (input ?? "").trim().replace(/\s+/g, "-").toLowerCase().replace(/[^a-z0-9._-]/g, "");
  return safe.slice(0, 64) || undefined;
}

export function orchestratorLabel(prefix: string, frontKey: string): string {
  return sanitizeLabel(`${prefix}-${shortHash(frontKey)}`)!;
}

export function taskPreview(input: string | undefined, max = 180): string {
  const compact = (input ?? "").trim().replace(/\s+/g, " ");
  if (!compact) return "(no task)";
  return compact.length <= max ? compact : `${compact.slice(0, max - 1)}…`;
}

/** Same requester, agent, label and task text = the same task, whose retries share one budget. */
export function stableTaskKey(requesterKey: string, spec: SpawnSpec): string {
  return createHash("sha256").update([requesterKey, spec.agentId ?? "", spec.label ?? "", spec.task.trim()].join("\n")).digest("hex");
}

const PROMPT_MARKER = "[Orchestrator mode is active]";

/** Our own prompt block echoed back as a user message is not what the user asked. */
export function isOrchestratorEcho(text: string): boolean {
  return text.includes(PROMPT_MARKER);
}

function textOf(content: unknown): string | undefined {
  if (typeof content === "string") return asStr(content);
  if (!Array.isArray(content)) return undefined;
  const parts = content.map((p) => asObj(p)).filter((p) => p["type"] === "text").map((p) => asStr(p["text"])).filter((t): t is string => Boolean(t));
  return parts.length > 0 ? parts.join("\n") : undefined;
}

/** The newest user message that is neither our prompt echo nor OpenClaw's appended internal context. */
export function lastUserMessage(messages: readonly unknown[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = asObj(messages[i]);
    if (m["role"] !== "user") continue;
    const text = textOf(m["content"]);
    if (text && !isOrchestratorEcho(text) && !text.includes("<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>")) return text;
  }
  return undefined;
}

export function workerSnapshot(orchestratorKey: string, workers: readonly Worker[]): string {
  const items = [...workers].sort((a, b) => b.updatedAt - a.updatedAt).slice(0, 12);
  if (items.length === 0) return `- Hidden orchestrator ${orchestratorKey} has no tracked worker sessions.`;
  return [
    `- Hidden orchestrator ${orchestratorKey}`,
    `- Workers tracked: ${items.length}`,
    ...items.map((w) => `- [${w.status}] ${w.childKey} (${w.label ?? "no-label"})${w.attempt > 0 ? ` retry ${w.attempt}` : ""} :: ${w.taskPreview}`),
  ].join("\n");
}

/** before_prompt_build's block for a front session (undefined for every other session or when off). */
export function frontPrompt(cfg: OrchestratorConfig, sessionKey: string | undefined, view: StateView): string | undefined {
  if (!cfg.injectOrchestratorPrompt || roleOf(sessionKey, view) !== "front") return undefined;
  const binding = view.bindingOf(sessionKey!);
  const lines = [
    PROMPT_MARKER,
    "- You are the fast front-controller. Keep the first user-facing response short.",
    "- Spawn exactly one hidden orchestrator session for this thread via sessions_spawn.",
    "- Delegate all real work to that orchestrator via sessions_send.",
    "- For live progress, query the hidden orchestrator via session_status/sessions_history.",
    `- If a system event contains <orchestrator-retry>, respawn the failed task. Retry limit: ${cfg.maxRetriesPerTask}.`,
  ];
  if (binding) {
    lines.push(`- Active hidden orchestrator session: ${binding.orchestratorKey}`);
    lines.push(`- Use sessions_send with sessionKey=${binding.orchestratorKey} for new delegated work in this thread.`);
    const workers = view.workersOf(binding.orchestratorKey);
    if (workers.length > 0) lines.push("", "[Orchestrator status snapshot]", workerSnapshot(binding.orchestratorKey, workers));
  }
  return lines.join("\n");
}

export function orchestratorTask(frontKey: string, userTask: string): string {
  return [
    "[Hidden Thread Orchestrator]",
    `requesterSessionKey: ${frontKey}`,
    "You are a hidden orchestrator for one front-controller thread.",
    "Execution contract:",
    "1) Break the task into concrete worker subtasks.",
    "2) Spawn worker subagents (sessions_spawn) for tool/file/shell/web work.",
    "3) Track worker status and retry failed workers when an <orchestrator-retry> event asks for it.",
    "4) Send progress updates and a final summary back to the requester via sessions_send.",
    "5) Do not run read/write/edit/exec/process yourself: such calls are blocked by policy.",
    "",
    "Primary task from front-controller:",
    userTask,
  ].join("\n");
}

export function delegationHint(toolName: string, params: unknown): string {
  const preview = taskPreview(JSON.stringify(params ?? {}), 260);
  return `Hidden orchestrator policy blocked '${toolName}'. Delegate this to a worker using sessions_spawn with a concrete task, e.g. sessions_spawn({"label":"worker-${toolName}","task":"Use tool ${toolName} with params ${preview}. Return concise findings."})`;
}

export type ToolCall = { toolName: string; params: Obj; sessionKey?: string | undefined; runId?: string | undefined; toolCallId?: string | undefined };

export type ToolDecision =
  | { action: "allow" }
  /** New params; with `pending`, a spawn to track in after_tool_call; with `delegated`, the task to remember for the orchestrator. */
  | { action: "rewrite"; params: Obj; pending?: PendingSpawn; delegated?: { orchestratorKey: string; task: string } }
  /** A spawn whose params pass unchanged but which is tracked. */
  | { action: "track"; pending: PendingSpawn; delegated?: undefined }
  | { action: "block"; reason: string; blockKey?: string; delegated?: { orchestratorKey: string; task: string } }
  | { action: "bypass"; blockKey: string; attempts: number };

const ALLOW: ToolDecision = { action: "allow" };

/** The key of the pending-spawn map: the same call in before_ and after_tool_call. */
export function pendingKey(runId: string | undefined, toolCallId: string | undefined, sessionKey: string | undefined): string {
  return `${runId ?? ""}|${toolCallId ?? ""}|${sessionKey ?? ""}`;
}

export function blockKeyOf(call: ToolCall): string {
  return `${call.runId ?? "run"}|${call.sessionKey ?? "session"}|${call.toolName}`;
}

/** Tools a front session may use under enforceMainDelegation, and an orchestrator always. */
export function allowedTools(cfg: OrchestratorConfig): { front: ReadonlySet<string>; orchestrator: ReadonlySet<string> } {
  return { front: new Set([...ROUTER_TOOLS, ...cfg.allowedMainTools]), orchestrator: new Set([...ROUTER_TOOLS, ...cfg.allowedOrchestratorTools]) };
}

/**
 * before_tool_call. The tool-search bridge fires this for the outer `tool_call` and again for the inner
 * tool, so bridge tools pass and the inner call (carrying the real name and args) is the one decided.
 */
export function decideToolCall(cfg: OrchestratorConfig, allowed: ReturnType<typeof allowedTools>, view: StateView, call: ToolCall, now: number): ToolDecision {
  const { toolName, sessionKey } = call;
  if (BRIDGE_TOOLS.has(toolName)) return ALLOW;
  const role = roleOf(sessionKey, view);
  if (role === "other") return ALLOW;
  const key = sessionKey!;
  const params = call.params;

  if (role === "front" && cfg.enforceMainDelegation && !allowed.front.has(toolName)) {
    const b = view.bindingOf(key);
    const hint = b ? ` Use sessions_send with sessionKey='${b.orchestratorKey}' to delegate work.` : " Use sessions_spawn to start a hidden orchestrator first.";
    return { action: "block", reason: `Front-controller session tool '${toolName}' blocked by orchestrator policy.${hint}` };
  }
  if (role === "orchestrator" && !allowed.orchestrator.has(toolName)) {
    const blockKey = blockKeyOf(call);
    const attempts = view.blockedAttempts(blockKey) + 1;
    if (cfg.bypassAfterBlockedAttempts !== undefined && attempts >= cfg.bypassAfterBlockedAttempts) return { action: "bypass", blockKey, attempts };
    return { action: "block", reason: delegationHint(toolName, params), blockKey, delegated: { orchestratorKey: key, task: delegationHint(toolName, params) } };
  }

  const noTarget = !asStr(params["sessionKey"]) && !asStr(params["label"]);
  if (role === "orchestrator" && toolName === "sessions_send") {
    const front = view.frontOf(key)!;
    const msg = asStr(params["message"]);
    if (noTarget) return { action: "rewrite", params: { ...params, sessionKey: front }, ...(msg ? { delegated: { orchestratorKey: key, task: msg } } : {}) };
    return ALLOW;
  }
  if (role === "front") {
    const b = view.bindingOf(key);
    if (toolName === "sessions_send" && b) {
      const target = asStr(params["sessionKey"]);
      const msg = asStr(params["message"]);
      // Remembered as the fallback task of the orchestrator's next spawn.
      if (msg && (!target || target === b.orchestratorKey)) return { action: "rewrite", params, delegated: { orchestratorKey: b.orchestratorKey, task: msg } };
      return ALLOW;
    }
    if ((toolName === "session_status" || toolName === "sessions_history") && b && noTarget) return { action: "rewrite", params: { ...params, sessionKey: b.orchestratorKey } };
  }
  if (toolName !== "sessions_spawn") return ALLOW;

  const rawTask = asStr(params["task"]);
  if (role === "front") {
    const b = view.bindingOf(key);
    if (b) {
      return {
        action: "block",
        reason: `Hidden orchestrator already active (${b.orchestratorKey}). Use sessions_send to delegate additional work and session_status/sessions_history to poll progress.`,
      };
    }
    const task = rawTask ?? view.lastUserMessage(key) ?? "Initialize hidden thread orchestrator and continue the current user objective.";
    const next: Obj = { ...params, label: sanitizeLabel(asStr(params["label"])) ?? orchestratorLabel(cfg.orchestratorLabelPrefix, key), task: orchestratorTask(key, task), thread: cfg.threadBound };
    return { action: "rewrite", params: next, pending: { requesterKey: key, kind: "orchestrator", spec: specOf(next), at: now } };
  }
  // An orchestrator spawning a worker: tracked; a missing task falls back to what was delegated last.
  const task = rawTask ?? view.lastDelegatedTask(key) ?? view.lastUserMessage(key) ?? "Delegate the current thread objective to a worker and report results.";
  const next: Obj = { ...params, task };
  const pending: PendingSpawn = { requesterKey: key, kind: "worker", spec: specOf(next), at: now };
  return rawTask ? { action: "track", pending } : { action: "rewrite", params: next, pending };
}

export function specOf(p: Obj): SpawnSpec {
  const spec: SpawnSpec = { task: asStr(p["task"]) ?? "" };
  for (const k of ["label", "agentId", "model", "thinking", "mode"] as const) {
    const v = asStr(p[k]);
    if (v !== undefined) spec[k] = v;
  }
  if (typeof p["thread"] === "boolean") spec.thread = p["thread"];
  return spec;
}

/** A spawn result counts as accepted unless it says otherwise. */
export function spawnAccepted(result: unknown, error?: string): boolean {
  if (error) return false;
  const o = asObj(result);
  const d = asObj(o["details"]);
  const status = (asStr(o["status"]) ?? asStr(d["status"]))?.toLowerCase();
  if (status) return status === "accepted" || status === "ok" || status === "success";
  if (o["isError"] === true || d["isError"] === true) return false;
  return !(asStr(o["error"]) || asStr(d["error"]));
}

/** The child session key of a spawn result: `childSessionKey` anywhere up to 4 levels deep, or in a JSON text part. */
export function childSessionKeyOf(value: unknown, depth = 0): string | undefined {
  if (depth > 4) return undefined;
  if (typeof value === "string") {
    if (!value.includes("childSessionKey")) return undefined;
    try {
      return childSessionKeyOf(JSON.parse(value), depth + 1);
    } catch {
      return /"childSessionKey"\s*:\s*"([^"]+)"/.exec(value)?.[1];
    }
  }
  if (Array.isArray(value)) {
    for (const v of value) {
      const found = childSessionKeyOf(v, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  const o = asObj(value);
  const direct = asStr(o["childSessionKey"]);
  if (direct) return direct;
  for (const nested of Object.values(o)) {
    if (nested && (typeof nested === "object" || typeof nested === "string")) {
      const found = childSessionKeyOf(nested, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

export type SpawnOutcome =
  | { kind: "rejected"; why: string }
  | { kind: "bind"; binding: Binding }
  | { kind: "worker"; worker: Worker };

/** after_tool_call of a tracked spawn: binding happens only here, and only for an accepted spawn with a child key. */
export function afterSpawn(cfg: OrchestratorConfig, view: StateView, pending: PendingSpawn, result: unknown, error: string | undefined, now: number): SpawnOutcome {
  if (!spawnAccepted(result, error)) return { kind: "rejected", why: `sessions_spawn was not accepted for ${pending.requesterKey}` };
  const childKey = childSessionKeyOf(result);
  if (!childKey) return { kind: "rejected", why: `sessions_spawn accepted without a childSessionKey for ${pending.requesterKey}` };
  if (pending.kind === "orchestrator") {
    return { kind: "bind", binding: { frontKey: pending.requesterKey, orchestratorKey: childKey, label: pending.spec.label ?? orchestratorLabel(cfg.orchestratorLabelPrefix, pending.requesterKey), createdAt: now, lastActiveAt: now } };
  }
  const taskKey = stableTaskKey(pending.requesterKey, pending.spec);
  return {
    kind: "worker",
    worker: { childKey, orchestratorKey: pending.requesterKey, label: pending.spec.label ?? null, taskKey, taskPreview: taskPreview(pending.spec.task), spec: pending.spec, status: "running", attempt: view.retries(taskKey), startedAt: now, updatedAt: now },
  };
}

const STATUSES: ReadonlySet<string> = new Set(["ok", "error", "timeout", "killed", "reset", "deleted"]);

export type EndOutcome = {
  /** The worker's new status (when the ended session is a tracked worker). */
  worker?: { childKey: string; status: WorkerStatus };
  /** The ended session was an orchestrator: its binding and workers go. */
  orchestratorEnded?: { orchestratorKey: string; frontKey: string };
  retry?: { kind: "retry"; taskKey: string; attempt: number; requesterKey: string; text: string } | { kind: "exhausted"; taskKey: string; used: number; requesterKey: string };
};

export function retryEventText(spec: SpawnSpec, failedKey: string, outcome: string, attempt: number, max: number): string {
  return [
    "<orchestrator-retry>",
    `failedChildSession: ${failedKey}`,
    `outcome: ${outcome}`,
    `attempt: ${attempt}/${max}`,
    "action: Respawn this subagent task immediately via sessions_spawn with the same task and label.",
    `task: ${spec.task}`,
    `label: ${spec.label ?? ""}`,
    `agentId: ${spec.agentId ?? ""}`,
    `model: ${spec.model ?? ""}`,
    "</orchestrator-retry>",
  ].join("\n");
}

/** subagent_ended: the worker's outcome, an orchestrator's end, and the retry (or the exhausted budget). */
export function afterSubagentEnded(cfg: OrchestratorConfig, view: StateView, event: { targetSessionKey?: unknown; targetKind?: unknown; outcome?: unknown; reason?: unknown }): EndOutcome {
  const childKey = asStr(event.targetSessionKey);
  if (!childKey || event.targetKind !== "subagent") return {};
  const raw = asStr(event.outcome)?.toLowerCase() ?? "unknown";
  const status = (STATUSES.has(raw) ? raw : "unknown") as WorkerStatus;
  const out: EndOutcome = {};
  const front = view.frontOf(childKey);
  // A finished run (ok / error / timeout) leaves the session, which the front keeps delegating to with
  // sessions_send; only a killed, reset or deleted orchestrator is gone.
  const gone = status === "killed" || status === "reset" || status === "deleted" || /reset|delete|kill/i.test(asStr(event.reason) ?? "");
  if (front !== undefined && gone) out.orchestratorEnded = { orchestratorKey: childKey, frontKey: front };
  const w = view.worker(childKey);
  if (!w) return out;
  out.worker = { childKey, status };
  if (!cfg.autoRetryFailedSubagents || !(cfg.retryOutcomes as readonly string[]).includes(status)) return out;
  const used = view.retries(w.taskKey);
  if (used >= cfg.maxRetriesPerTask) {
    out.retry = { kind: "exhausted", taskKey: w.taskKey, used, requesterKey: w.orchestratorKey };
    return out;
  }
  const attempt = used + 1;
  out.retry = { kind: "retry", taskKey: w.taskKey, attempt, requesterKey: w.orchestratorKey, text: retryEventText(w.spec, childKey, status, attempt, cfg.maxRetriesPerTask) };
  return out;
}

/** Bindings not used for `idleMs`, then the least recently used beyond `max`: the front keys to forget. */
export function expiredBindings(bindings: Iterable<Binding>, now: number, idleMs: number, max: number): string[] {
  const live: Binding[] = [];
  const gone: string[] = [];
  for (const b of bindings) {
    if (now - b.lastActiveAt >= idleMs) gone.push(b.frontKey);
    else live.push(b);
  }
  if (live.length > max) {
    live.sort((a, b) => a.lastActiveAt - b.lastActiveAt || a.frontKey.localeCompare(b.frontKey));
    for (const b of live.slice(0, live.length - max)) gone.push(b.frontKey);
  }
  return gone;
}

/** Workers beyond `max` for one orchestrator: oldest finished first, then oldest running. */
export function evictedWorkers(workers: readonly Worker[], max: number): string[] {
  if (workers.length <= max) return [];
  const order = [...workers].sort((a, b) => Number(a.status === "running") - Number(b.status === "running") || a.updatedAt - b.updatedAt);
  return order.slice(0, workers.length - max).map((w) => w.childKey);
}
