/**
 * Orchestrator delegation without the host: config validation (every key declared, unknown tools
 * rejected), the pure policy for each acceptance behaviour of seed-systems.md §4 "Orchestrator", and the
 * process runtime on a real SQLite file (bindings, workers and retry budgets survive a new process,
 * expire when idle, are bounded; bypasses exist only when configured and are audited).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { tmpDir } from "@clawtower/testkit";
import { loadConfig } from "../src/config/load.ts";
import { loadOrchestratorConfig } from "../src/config/load-orchestrator.ts";
import type { OrchestratorConfig } from "../src/config/orchestrator-schema.ts";
import { buildOrchestratorReport, renderOrchestrator } from "../src/orchestrator/command.ts";
import {
  afterSpawn,
  afterSubagentEnded,
  allowedTools,
  childSessionKeyOf,
  decideToolCall,
  evictedWorkers,
  expiredBindings,
  frontPrompt,
  lastUserMessage,
  roleOf,
  shortHash,
  stableTaskKey,
  type Binding,
  type StateView,
  type Worker,
} from "../src/orchestrator/policy.ts";
import { Orchestrator } from "../src/orchestrator/runtime.ts";

const P = "plugins.entries.clawtower.config.orchestrator";
const FRONT = "agent:main:telegram:direct:42";
const ORCH = "agent:main:subagent:orch-1";

function cfgOf(o: Record<string, unknown> = {}): OrchestratorConfig {
  const r = loadOrchestratorConfig({ orchestrator: { enabled: true, ...o } });
  if (r.status === "invalid") throw new Error(JSON.stringify(r.issues));
  return r.config;
}

/** A state view over plain maps, for the pure functions. */
function view(s: { bindings?: Binding[]; workers?: Worker[]; retries?: Record<string, number>; blocks?: Record<string, number>; lastUser?: Record<string, string>; delegated?: Record<string, string> } = {}): StateView {
  const b = new Map((s.bindings ?? []).map((x) => [x.frontKey, x]));
  const f = new Map((s.bindings ?? []).map((x) => [x.orchestratorKey, x.frontKey]));
  const w = new Map((s.workers ?? []).map((x) => [x.childKey, x]));
  return {
    bindingOf: (k) => b.get(k),
    frontOf: (k) => f.get(k),
    workersOf: (k) => [...w.values()].filter((x) => x.orchestratorKey === k),
    worker: (k) => w.get(k),
    retries: (k) => s.retries?.[k] ?? 0,
    blockedAttempts: (k) => s.blocks?.[k] ?? 0,
    lastUserMessage: (k) => s.lastUser?.[k],
    lastDelegatedTask: (k) => s.delegated?.[k],
  };
}

const BOUND: Binding = { frontKey: FRONT, orchestratorKey: ORCH, label: "x", createdAt: 0, lastActiveAt: 0 };

function worker(n: number, o: Partial<Worker> = {}): Worker {
  const spec = { task: `task ${n}`, label: `w${n}` };
  return { childKey: `agent:main:subagent:w${n}`, orchestratorKey: ORCH, label: spec.label, taskKey: stableTaskKey(ORCH, spec), taskPreview: spec.task, spec, status: "running", attempt: 0, startedAt: n, updatedAt: n, ...o };
}

describe("orchestrator config", () => {
  it("is off by default and a full no-op when absent or disabled", () => {
    assert.equal(loadOrchestratorConfig({}).status, "off");
    assert.equal(loadOrchestratorConfig({ orchestrator: { enabled: false, maxRetriesPerTask: 3 } }).status, "off");
    assert.equal(loadOrchestratorConfig({ orchestrator: { enabled: true } }).status, "ok");
  });

  it("declares every key the code reads, with the documented defaults", () => {
    const c = cfgOf();
    assert.deepEqual(c, {
      enabled: true,
      injectOrchestratorPrompt: true,
      enforceMainDelegation: false,
      allowedMainTools: [],
      allowedOrchestratorTools: [],
      orchestratorLabelPrefix: "thread-orchestrator",
      threadBound: true,
      autoRetryFailedSubagents: true,
      retryOutcomes: ["error", "timeout"],
      maxRetriesPerTask: 2,
      idleExpiryMinutes: 1440,
      maxBindings: 1000,
      maxWorkersPerOrchestrator: 50,
    });
    // the seed's own keys, which its schema rejected, are accepted
    assert.equal(loadOrchestratorConfig({ orchestrator: { enabled: true, allowedOrchestratorTools: ["web_search"], orchestratorLabelPrefix: "orch" } }).status, "ok");
  });

  it("rejects unknown tools in the allow lists, unknown keys and out-of-range values, naming each path", () => {
    const r = loadOrchestratorConfig({ orchestrator: { enabled: true, allowedMainTools: ["read", "raed"], allowedOrchestratorTools: ["shell"], maxRetriesPerTask: 9, retryOutcomes: ["boom"], bypassAfterBlockedAttempts: 1, typo: 1 } });
    assert.equal(r.status, "invalid");
    const paths = r.issues.map((i) => i.path).sort();
    assert.deepEqual(paths, [`${P}.allowedMainTools.1`, `${P}.allowedOrchestratorTools.0`, `${P}.bypassAfterBlockedAttempts`, `${P}.maxRetriesPerTask`, `${P}.retryOutcomes.0`, `${P}.typo`].sort());
    assert.match(r.issues.find((i) => i.path.endsWith("allowedMainTools.1"))!.message, /"raed" is not a tool of OpenClaw 2026\.9\.6/);
  });

  it("an invalid orchestrator block does not turn uploads off", () => {
    const r = loadConfig({ apiKey: "k", deploymentId: "d", orchestrator: { enabled: true, allowedMainTools: ["nope"] } });
    assert.equal(r.status, "ok");
  });
});

describe("orchestrator policy (pure)", () => {
  const cfg = cfgOf();
  const allowed = allowedTools(cfg);

  it("1. front session = agent:* without :subagent: and not a known orchestrator", () => {
    const v = view({ bindings: [BOUND] });
    assert.equal(roleOf(FRONT, v), "front");
    assert.equal(roleOf(ORCH, v), "orchestrator");
    assert.equal(roleOf("agent:main:subagent:other", v), "other");
    assert.equal(roleOf("cron:job", v), "other");
    assert.equal(roleOf(undefined, v), "other");
  });

  it("1. the prompt block: marker, active orchestrator and ≤12 workers newest first; only for front sessions; off by config", () => {
    const workers = Array.from({ length: 15 }, (_, i) => worker(i + 1));
    const v = view({ bindings: [BOUND], workers });
    const text = frontPrompt(cfg, FRONT, v)!;
    assert.match(text, /^\[Orchestrator mode is active\]/);
    assert.match(text, new RegExp(`Active hidden orchestrator session: ${ORCH}`));
    assert.match(text, /Workers tracked: 12/);
    const shown = [...text.matchAll(/subagent:w(\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(shown, [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4]);
    assert.equal(frontPrompt(cfg, ORCH, v), undefined);
    assert.equal(frontPrompt(cfg, "agent:main:subagent:w1", v), undefined);
    assert.equal(frontPrompt(cfgOf({ injectOrchestratorPrompt: false }), FRONT, v), undefined);
    assert.doesNotMatch(frontPrompt(cfg, FRONT, view())!, /Active hidden orchestrator/);
  });

  it("2. the first spawn is rewritten: label <prefix>-<sha256[:10]>, thread:true, task wrapped in the contract", () => {
    const d = decideToolCall(cfg, allowed, view(), { toolName: "sessions_spawn", params: { task: "build the report" }, sessionKey: FRONT }, 0);
    assert.equal(d.action, "rewrite");
    if (d.action !== "rewrite") return;
    assert.equal(d.params["label"], `thread-orchestrator-${shortHash(FRONT)}`);
    assert.equal(shortHash(FRONT).length, 10);
    assert.equal(d.params["thread"], true);
    assert.match(String(d.params["task"]), /^\[Hidden Thread Orchestrator\]\nrequesterSessionKey: agent:main:telegram:direct:42\n[\s\S]*build the report$/);
    assert.equal(d.pending?.kind, "orchestrator");
    const unbound = decideToolCall(cfgOf({ threadBound: false }), allowed, view(), { toolName: "sessions_spawn", params: { task: "t" }, sessionKey: FRONT }, 0);
    assert.ok(unbound.action === "rewrite" && unbound.params["thread"] === false);
    // a label is sanitized and capped
    const d2 = decideToolCall(cfg, allowed, view(), { toolName: "sessions_spawn", params: { task: "t", label: `My Label!! ${"x".repeat(80)}` }, sessionKey: FRONT }, 0);
    assert.ok(d2.action === "rewrite" && /^my-label-x+$/.test(String(d2.params["label"])) && String(d2.params["label"]).length === 64);
  });

  it("2. a missing task falls back to the last user message (ignoring the echoed prompt), then generic text", () => {
    const withUser = decideToolCall(cfg, allowed, view({ lastUser: { [FRONT]: "summarise my inbox" } }), { toolName: "sessions_spawn", params: {}, sessionKey: FRONT }, 0);
    assert.ok(withUser.action === "rewrite" && String(withUser.params["task"]).endsWith("summarise my inbox"));
    const generic = decideToolCall(cfg, allowed, view(), { toolName: "sessions_spawn", params: {}, sessionKey: FRONT }, 0);
    assert.ok(generic.action === "rewrite" && String(generic.params["task"]).endsWith("continue the current user objective."));
    const msgs = [
      { role: "user", content: [{ type: "text", text: "real question" }] },
      { role: "assistant", content: "ok" },
      { role: "user", content: "[Orchestrator mode is active]\n- You are the fast front-controller." },
      { role: "user", content: "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>> stuff" },
    ];
    assert.equal(lastUserMessage(msgs), "real question");
  });

  it("3. a second spawn while bound is blocked, naming the orchestrator", () => {
    const d = decideToolCall(cfg, allowed, view({ bindings: [BOUND] }), { toolName: "sessions_spawn", params: { task: "again" }, sessionKey: FRONT }, 0);
    assert.equal(d.action, "block");
    assert.ok(d.action === "block" && d.reason.includes(ORCH));
  });

  it("4. binding only for an accepted spawn with a childSessionKey (found up to 4 levels deep, or in a JSON text part)", () => {
    const pending = { requesterKey: FRONT, kind: "orchestrator" as const, spec: { task: "t", label: "l" }, at: 0 };
    const ok = afterSpawn(cfg, view(), pending, { details: { status: "accepted", childSessionKey: ORCH } }, undefined, 5);
    assert.deepEqual(ok, { kind: "bind", binding: { frontKey: FRONT, orchestratorKey: ORCH, label: "l", createdAt: 5, lastActiveAt: 5 } });
    assert.equal(afterSpawn(cfg, view(), pending, { status: "error", childSessionKey: ORCH }, undefined, 5).kind, "rejected");
    assert.equal(afterSpawn(cfg, view(), pending, { details: { childSessionKey: ORCH } }, "spawn failed", 5).kind, "rejected");
    assert.equal(afterSpawn(cfg, view(), pending, { status: "accepted" }, undefined, 5).kind, "rejected");
    assert.equal(childSessionKeyOf({ a: { b: { c: { childSessionKey: "k" } } } }), "k");
    assert.equal(childSessionKeyOf({ a: { b: { c: { d: { e: { childSessionKey: "k" } } } } } }), undefined);
    assert.equal(childSessionKeyOf({ content: [{ type: "text", text: JSON.stringify({ status: "accepted", childSessionKey: "k2" }) }] }), "k2");
  });

  it("5. enforceMainDelegation blocks non-router tools in front sessions (allowedMainTools honoured); orchestrators get router tools only", () => {
    const strict = cfgOf({ enforceMainDelegation: true, allowedMainTools: ["web_search"] });
    const a = allowedTools(strict);
    const v = view({ bindings: [BOUND] });
    const exec = decideToolCall(strict, a, v, { toolName: "exec", params: { command: "ls" }, sessionKey: FRONT }, 0);
    assert.ok(exec.action === "block" && exec.reason.includes(`sessionKey='${ORCH}'`));
    assert.equal(decideToolCall(strict, a, v, { toolName: "web_search", params: {}, sessionKey: FRONT }, 0).action, "allow");
    assert.equal(decideToolCall(strict, a, v, { toolName: "sessions_list", params: {}, sessionKey: FRONT }, 0).action, "allow");
    // off by default: the front session may use anything
    assert.equal(decideToolCall(cfg, allowed, v, { toolName: "exec", params: {}, sessionKey: FRONT }, 0).action, "allow");
    const orchExec = decideToolCall(cfg, allowed, v, { toolName: "exec", params: { command: "ls" }, sessionKey: ORCH }, 0);
    assert.ok(orchExec.action === "block" && orchExec.reason.startsWith("Hidden orchestrator policy blocked 'exec'"));
    for (const t of ["sessions_yield", "subagents", "memory_get"]) assert.notEqual(decideToolCall(cfg, allowed, v, { toolName: t, params: {}, sessionKey: ORCH }, 0).action, "block");
    const extra = cfgOf({ allowedOrchestratorTools: ["web_fetch"] });
    assert.equal(decideToolCall(extra, allowedTools(extra), v, { toolName: "web_fetch", params: {}, sessionKey: ORCH }, 0).action, "allow");
  });

  it("5. the tool-search bridge: the outer tool_call passes, the inner tool is decided", () => {
    const v = view({ bindings: [BOUND] });
    assert.equal(decideToolCall(cfg, allowed, v, { toolName: "tool_call", params: { id: "exec", args: {} }, sessionKey: ORCH, toolCallId: "call_2" }, 0).action, "allow");
    assert.equal(decideToolCall(cfg, allowed, v, { toolName: "tool_search_code", params: { code: "openclaw.tools.call('exec')" }, sessionKey: ORCH }, 0).action, "allow");
    assert.equal(decideToolCall(cfg, allowed, v, { toolName: "exec", params: {}, sessionKey: ORCH, toolCallId: "tool_search_code:call_2:exec:1" }, 0).action, "block");
    assert.equal(decideToolCall(cfg, allowed, v, { toolName: "tool_call", params: { id: "sessions_spawn", args: { task: "x" } }, sessionKey: FRONT, toolCallId: "call_3" }, 0).action, "allow");
    assert.equal(decideToolCall(cfg, allowed, v, { toolName: "sessions_spawn", params: { task: "x" }, sessionKey: FRONT, toolCallId: "tool_search_code:call_3:sessions_spawn:1" }, 0).action, "block");
  });

  it("6. default targets: orchestrator sessions_send → its requester; front session_status/sessions_history → its orchestrator", () => {
    const v = view({ bindings: [BOUND] });
    const send = decideToolCall(cfg, allowed, v, { toolName: "sessions_send", params: { message: "done" }, sessionKey: ORCH }, 0);
    assert.ok(send.action === "rewrite" && send.params["sessionKey"] === FRONT);
    assert.equal(decideToolCall(cfg, allowed, v, { toolName: "sessions_send", params: { message: "x", sessionKey: "agent:other" }, sessionKey: ORCH }, 0).action, "allow");
    for (const t of ["session_status", "sessions_history"]) {
      const d = decideToolCall(cfg, allowed, v, { toolName: t, params: {}, sessionKey: FRONT }, 0);
      assert.ok(d.action === "rewrite" && d.params["sessionKey"] === ORCH, t);
      assert.equal(decideToolCall(cfg, allowed, v, { toolName: t, params: { label: "x" }, sessionKey: FRONT }, 0).action, "allow");
    }
    assert.equal(decideToolCall(cfg, allowed, view(), { toolName: "session_status", params: {}, sessionKey: FRONT }, 0).action, "allow");
  });

  it("7. workers are tracked per orchestrator; their status comes from subagent_ended.outcome", () => {
    const v = view({ bindings: [BOUND] });
    const d = decideToolCall(cfg, allowed, v, { toolName: "sessions_spawn", params: { task: "fetch", label: "w" }, sessionKey: ORCH }, 0);
    assert.equal(d.action, "track");
    const out = afterSpawn(cfg, v, { requesterKey: ORCH, kind: "worker", spec: { task: "fetch", label: "w" }, at: 0 }, { status: "accepted", childSessionKey: "agent:main:subagent:w9" }, undefined, 7);
    assert.ok(out.kind === "worker" && out.worker.orchestratorKey === ORCH && out.worker.status === "running" && out.worker.attempt === 0);
    const w = worker(1);
    for (const outcome of ["ok", "error", "timeout", "killed", "reset", "deleted", "weird"]) {
      const e = afterSubagentEnded(cfgOf({ autoRetryFailedSubagents: false }), view({ bindings: [BOUND], workers: [w] }), { targetSessionKey: w.childKey, targetKind: "subagent", outcome });
      assert.deepEqual(e.worker, { childKey: w.childKey, status: outcome === "weird" ? "unknown" : outcome });
    }
    assert.deepEqual(afterSubagentEnded(cfg, view({ workers: [w] }), { targetSessionKey: w.childKey, targetKind: "acp", outcome: "error" }), {});
  });

  it("8. retries for retryOutcomes up to maxRetriesPerTask per stable task key, then exhausted", () => {
    const w = worker(1);
    const e1 = afterSubagentEnded(cfg, view({ bindings: [BOUND], workers: [w] }), { targetSessionKey: w.childKey, targetKind: "subagent", outcome: "error" });
    assert.ok(e1.retry?.kind === "retry" && e1.retry.attempt === 1 && e1.retry.requesterKey === ORCH);
    assert.match(e1.retry.kind === "retry" ? e1.retry.text : "", /^<orchestrator-retry>\nfailedChildSession: agent:main:subagent:w1\noutcome: error\nattempt: 1\/2\n[\s\S]*task: task 1\nlabel: w1\n/);
    const e2 = afterSubagentEnded(cfg, view({ workers: [w], retries: { [w.taskKey]: 1 } }), { targetSessionKey: w.childKey, targetKind: "subagent", outcome: "timeout" });
    assert.ok(e2.retry?.kind === "retry" && e2.retry.attempt === 2);
    const e3 = afterSubagentEnded(cfg, view({ workers: [w], retries: { [w.taskKey]: 2 } }), { targetSessionKey: w.childKey, targetKind: "subagent", outcome: "error" });
    assert.deepEqual(e3.retry, { kind: "exhausted", taskKey: w.taskKey, used: 2, requesterKey: ORCH });
    assert.equal(afterSubagentEnded(cfg, view({ workers: [w] }), { targetSessionKey: w.childKey, targetKind: "subagent", outcome: "killed" }).retry, undefined);
    assert.ok(afterSubagentEnded(cfgOf({ retryOutcomes: ["killed"] }), view({ workers: [w] }), { targetSessionKey: w.childKey, targetKind: "subagent", outcome: "killed" }).retry);
    assert.equal(afterSubagentEnded(cfg, view({ workers: [w] }), { targetSessionKey: w.childKey, targetKind: "subagent", outcome: "ok" }).retry, undefined);
    // same requester, agent, label and task = one budget; another label = another
    assert.equal(stableTaskKey(ORCH, { task: " t " }), stableTaskKey(ORCH, { task: "t" }));
    assert.notEqual(stableTaskKey(ORCH, { task: "t", label: "a" }), stableTaskKey(ORCH, { task: "t", label: "b" }));
  });

  it("9. an orchestrator's end (killed, reset, deleted) is reported so its binding and workers go; a finished run keeps it", () => {
    for (const outcome of ["killed", "reset", "deleted"]) {
      const e = afterSubagentEnded(cfg, view({ bindings: [BOUND] }), { targetSessionKey: ORCH, targetKind: "subagent", outcome });
      assert.deepEqual(e.orchestratorEnded, { orchestratorKey: ORCH, frontKey: FRONT }, outcome);
    }
    assert.ok(afterSubagentEnded(cfg, view({ bindings: [BOUND] }), { targetSessionKey: ORCH, targetKind: "subagent", outcome: "ok", reason: "session-delete" }).orchestratorEnded);
    for (const outcome of ["ok", "error", "timeout"]) {
      assert.equal(afterSubagentEnded(cfg, view({ bindings: [BOUND] }), { targetSessionKey: ORCH, targetKind: "subagent", outcome, reason: "subagent-complete" }).orchestratorEnded, undefined, outcome);
    }
  });

  it("10. bypass exists only when configured: the Nth blocked attempt of one tool in one run", () => {
    const v = (n: number) => view({ bindings: [BOUND], blocks: { [`r1|${ORCH}|exec`]: n } });
    const call = { toolName: "exec", params: {}, sessionKey: ORCH, runId: "r1" };
    assert.equal(decideToolCall(cfg, allowed, v(50), call, 0).action, "block");
    const by = cfgOf({ bypassAfterBlockedAttempts: 3 });
    assert.equal(decideToolCall(by, allowedTools(by), v(1), call, 0).action, "block");
    assert.deepEqual(decideToolCall(by, allowedTools(by), v(2), call, 0), { action: "bypass", blockKey: `r1|${ORCH}|exec`, attempts: 3 });
  });

  it("10. expiry after idle time, then least recently used beyond the bound; workers bounded oldest finished first", () => {
    const b = (k: string, at: number): Binding => ({ frontKey: k, orchestratorKey: `o-${k}`, label: "l", createdAt: 0, lastActiveAt: at });
    assert.deepEqual(expiredBindings([b("a", 0), b("b", 50), b("c", 100)], 100, 60, 10), ["a"]);
    assert.deepEqual(expiredBindings([b("a", 60), b("b", 50), b("c", 100)], 100, 1000, 2), ["b"]);
    const ws = [worker(1, { status: "ok", updatedAt: 5 }), worker(2, { updatedAt: 1 }), worker(3, { status: "error", updatedAt: 2 })];
    assert.deepEqual(evictedWorkers(ws, 1), ["agent:main:subagent:w3", "agent:main:subagent:w1"]);
    assert.deepEqual(evictedWorkers(ws, 3), []);
  });
});

/** The process runtime on a real SQLite file: what the hooks do, what persists. */
function runtime(dir: string, o: Record<string, unknown> = {}, events: { text: string; sessionKey: string }[] = []) {
  const orch = new Orchestrator();
  const warnings: string[] = [];
  orch.configure({
    pluginConfig: { orchestrator: { enabled: true, ...o } },
    config: {},
    runtime: { system: { enqueueSystemEvent: (text: string, opts: { sessionKey: string }) => (events.push({ text, sessionKey: opts.sessionKey }), true), requestHeartbeatNow: () => {} } },
    logger: { info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
  });
  assert.equal(orch.ensure(Date.now(), dir), true);
  return { orch, warnings };
}

function bindFront(orch: Orchestrator) {
  const r = orch.beforeToolCall({ toolName: "sessions_spawn", params: { task: "do it" }, runId: "r1", toolCallId: "c1" }, { sessionKey: FRONT });
  assert.equal(r?.params?.["thread"], true);
  orch.afterToolCall({ toolName: "sessions_spawn", runId: "r1", toolCallId: "c1", result: { details: { status: "accepted", childSessionKey: ORCH } } }, { sessionKey: FRONT });
}

function spawnWorker(orch: Orchestrator, child: string, id: string) {
  assert.equal(orch.beforeToolCall({ toolName: "sessions_spawn", params: { task: "fetch the page", label: "fetcher" }, runId: "r2", toolCallId: id }, { sessionKey: ORCH }), undefined);
  orch.afterToolCall({ toolName: "sessions_spawn", runId: "r2", toolCallId: id, result: { status: "accepted", childSessionKey: child } }, { sessionKey: ORCH });
}

describe("orchestrator runtime (real SQLite)", () => {
  it("binds, blocks the second spawn, tracks and retries workers up to the budget; a new process sees all of it", () => {
    const dir = tmpDir();
    const events: { text: string; sessionKey: string }[] = [];
    const { orch } = runtime(dir, {}, events);
    bindFront(orch);
    assert.equal(orch.bindingOf(FRONT)?.orchestratorKey, ORCH);
    const second = orch.beforeToolCall({ toolName: "sessions_spawn", params: { task: "x" } }, { sessionKey: FRONT });
    assert.ok(second?.block && second.blockReason?.includes(ORCH));

    spawnWorker(orch, "agent:main:subagent:w1", "c2");
    orch.subagentEnded({ targetSessionKey: "agent:main:subagent:w1", targetKind: "subagent", outcome: "error" });
    assert.equal(events.length, 1);
    assert.equal(events[0]!.sessionKey, ORCH);
    orch.close();

    // a restart: a new runtime on the same file continues the budget
    const events2: { text: string; sessionKey: string }[] = [];
    const { orch: o2, warnings } = runtime(dir, {}, events2);
    assert.equal(o2.bindingOf(FRONT)?.orchestratorKey, ORCH);
    assert.equal(o2.beforeToolCall({ toolName: "sessions_spawn", params: { task: "x" } }, { sessionKey: FRONT })?.block, true);
    spawnWorker(o2, "agent:main:subagent:w2", "c3");
    assert.equal(o2.worker("agent:main:subagent:w2")?.attempt, 1);
    o2.subagentEnded({ targetSessionKey: "agent:main:subagent:w2", targetKind: "subagent", outcome: "timeout" });
    assert.match(events2[0]!.text, /attempt: 2\/2/);
    spawnWorker(o2, "agent:main:subagent:w3", "c4");
    o2.subagentEnded({ targetSessionKey: "agent:main:subagent:w3", targetKind: "subagent", outcome: "error" });
    assert.equal(events2.length, 1, "no third retry");
    assert.ok(warnings.some((w) => w.includes("retry budget exhausted (2/2)")));
    o2.close();

    const r = buildOrchestratorReport({ orchestrator: { enabled: true } }, dir);
    assert.equal(r.state, "ready");
    assert.equal(r.bindings.length, 1);
    assert.deepEqual(
      r.bindings[0]!.workers.map((w) => [w.sessionKey, w.status, w.attempt, w.retriesUsed]).sort(),
      [
        ["agent:main:subagent:w1", "error", 0, 2],
        ["agent:main:subagent:w2", "timeout", 1, 2],
        ["agent:main:subagent:w3", "error", 2, 2],
      ],
    );
    assert.deepEqual(r.recentEvents.filter((e) => e.kind === "retry" || e.kind === "retry-exhausted").map((e) => e.kind), ["retry-exhausted", "retry", "retry"]);
    assert.match(renderOrchestrator(r), /agent:main:telegram:direct:42 → agent:main:subagent:orch-1/);
  });

  it("a rejected spawn binds nothing; session_end cleans the binding except on shutdown", () => {
    const dir = tmpDir();
    const { orch } = runtime(dir);
    orch.beforeToolCall({ toolName: "sessions_spawn", params: { task: "t" }, runId: "r", toolCallId: "c" }, { sessionKey: FRONT });
    orch.afterToolCall({ toolName: "sessions_spawn", runId: "r", toolCallId: "c", error: "spawn refused" }, { sessionKey: FRONT });
    assert.equal(orch.bindingOf(FRONT), undefined);
    bindFront(orch);
    orch.sessionEnd({ sessionKey: FRONT, reason: "shutdown" }, {});
    assert.ok(orch.bindingOf(FRONT));
    orch.sessionEnd({ sessionKey: FRONT, reason: "reset" }, {});
    assert.equal(orch.bindingOf(FRONT), undefined);
    orch.close();
    assert.equal(buildOrchestratorReport({ orchestrator: { enabled: true } }, dir).bindings.length, 0);
  });

  it("an orchestrator's end drops its binding and workers", () => {
    const { orch } = runtime(tmpDir());
    bindFront(orch);
    spawnWorker(orch, "agent:main:subagent:w1", "c2");
    orch.subagentEnded({ targetSessionKey: ORCH, targetKind: "subagent", outcome: "ok", reason: "subagent-complete" });
    assert.ok(orch.bindingOf(FRONT), "a finished run keeps the orchestrator");
    orch.subagentEnded({ targetSessionKey: ORCH, targetKind: "subagent", outcome: "killed" });
    assert.equal(orch.bindingOf(FRONT), undefined);
    assert.equal(orch.worker("agent:main:subagent:w1"), undefined);
    orch.close();
  });

  it("an idle binding expires at load (idleExpiryMinutes)", () => {
    const dir = tmpDir();
    const { orch } = runtime(dir, { idleExpiryMinutes: 1 });
    bindFront(orch);
    orch.close();
    const later = new Orchestrator();
    later.configure({ pluginConfig: { orchestrator: { enabled: true, idleExpiryMinutes: 1 } } });
    later.ensure(Date.now() + 61_000, dir);
    assert.equal(later.bindingOf(FRONT), undefined);
    later.close();
    const r = buildOrchestratorReport({ orchestrator: { enabled: true } }, dir);
    assert.equal(r.bindings.length, 0);
    assert.equal(r.recentEvents[0]!.kind, "expire");
  });

  it("bindings are bounded by maxBindings (least recently used goes)", () => {
    const { orch } = runtime(tmpDir(), { maxBindings: 2 });
    for (const n of [1, 2, 3]) {
      const front = `agent:main:direct:${n}`;
      orch.beforeToolCall({ toolName: "sessions_spawn", params: { task: "t" }, runId: "r", toolCallId: `c${n}` }, { sessionKey: front });
      orch.afterToolCall({ runId: "r", toolCallId: `c${n}`, result: { status: "accepted", childSessionKey: `agent:main:subagent:o${n}` } }, { sessionKey: front });
    }
    assert.equal(orch.bindings.length, 2);
    orch.close();
  });

  it("a bypass happens only when configured, and each one is an audit event shown in status", () => {
    const dir = tmpDir();
    const { orch } = runtime(dir, { bypassAfterBlockedAttempts: 2 });
    bindFront(orch);
    const call = () => orch.beforeToolCall({ toolName: "exec", params: { command: "ls" }, runId: "r9" }, { sessionKey: ORCH });
    assert.equal(call()?.block, true);
    assert.equal(call(), undefined, "2nd attempt bypasses");
    orch.close();
    const r = buildOrchestratorReport({ orchestrator: { enabled: true, bypassAfterBlockedAttempts: 2 } }, dir);
    assert.equal(r.bypass.recorded, 1);
    assert.deepEqual(r.recentEvents.filter((e) => e.kind === "bypass").map((e) => [e.sessionKey, e.tool]), [[ORCH, "exec"]]);

    const { orch: strict } = runtime(tmpDir());
    bindFront(strict);
    for (let i = 0; i < 10; i++) assert.equal(strict.beforeToolCall({ toolName: "exec", params: {}, runId: "r9" }, { sessionKey: ORCH })?.block, true);
    strict.close();
  });

  it("an unopenable state dir turns delegation off without throwing", () => {
    const orch = new Orchestrator();
    orch.configure({ pluginConfig: { orchestrator: { enabled: true } } });
    const file = path.join(tmpDir(), "not-a-dir");
    fs.writeFileSync(file, "x");
    assert.equal(orch.ensure(Date.now(), file), false);
    assert.equal(orch.state, "error");
    assert.equal(orch.beforeToolCall({ toolName: "exec", params: {} }, { sessionKey: ORCH }), undefined);
  });
});
