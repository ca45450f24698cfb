/**
 * `node bench/orchestrator-hooks.ts [--calls 50000] [--bindings 1000]`
 *
 * Orchestrator delegation's before_tool_call, with --bindings front sessions bound (each with 5 workers)
 * in a real SQLite state file: the common paths (a front session's tool, another session's tool, the
 * bridge's outer tool_call, a default-target rewrite) touch memory only; the block paths (an orchestrator's
 * exec, a front session's second spawn) also write their audit event. No network on any path.
 * Each call timed alone → p50 / p99 / max. Target: p99 ≤ 0.2 ms.
 */
import { tmpDir } from "@clawtower/testkit";
import { Orchestrator } from "../packages/openclaw-plugin/src/orchestrator/runtime.ts";

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const CALLS = Number(arg("calls", "50000"));
const BINDINGS = Number(arg("bindings", "1000"));

const silent = { info() {}, warn() {}, error() {} };
const orch = new Orchestrator();
orch.configure({ pluginConfig: { orchestrator: { enabled: true, enforceMainDelegation: true, allowedMainTools: ["read"], maxBindings: BINDINGS } }, config: {}, logger: silent });
if (!orch.ensure(Date.now(), tmpDir("ct-bench-orch-"))) throw new Error(`orchestrator ${orch.state}: ${orch.problem}`);

const front = (i: number) => `agent:main:telegram:direct:${i}`;
const orchKey = (i: number) => `agent:main:subagent:orch-${i}`;
for (let i = 0; i < BINDINGS; i++) {
  orch.beforeToolCall({ toolName: "sessions_spawn", params: { task: "t" }, runId: "r", toolCallId: `b${i}` }, { sessionKey: front(i) });
  orch.afterToolCall({ runId: "r", toolCallId: `b${i}`, result: { status: "accepted", childSessionKey: orchKey(i) } }, { sessionKey: front(i) });
  for (let w = 0; w < 5; w++) {
    orch.beforeToolCall({ toolName: "sessions_spawn", params: { task: `w${w}`, label: `w${w}` }, runId: "r", toolCallId: `w${i}-${w}` }, { sessionKey: orchKey(i) });
    orch.afterToolCall({ runId: "r", toolCallId: `w${i}-${w}`, result: { status: "accepted", childSessionKey: `${orchKey(i)}:w${w}` } }, { sessionKey: orchKey(i) });
  }
}
if (orch.bindings.length !== BINDINGS) throw new Error(`expected ${BINDINGS} bindings, got ${orch.bindings.length}`);

let n = 0;
const pick = () => n++ % BINDINGS;
const targets: [string, () => unknown][] = [
  ["front: allowed tool", () => orch.beforeToolCall({ toolName: "read", params: { path: "a" }, runId: "r" }, { sessionKey: front(pick()) })],
  ["front: status rewrite", () => orch.beforeToolCall({ toolName: "session_status", params: {}, runId: "r" }, { sessionKey: front(pick()) })],
  ["other session", () => orch.beforeToolCall({ toolName: "exec", params: { command: "ls" }, runId: "r" }, { sessionKey: "cron:nightly" })],
  ["bridge tool_call", () => orch.beforeToolCall({ toolName: "tool_call", params: { id: "exec", args: {} }, runId: "r" }, { sessionKey: orchKey(pick()) })],
  ["orch: blocked exec", () => orch.beforeToolCall({ toolName: "exec", params: { command: "ls" }, runId: `r${n}` }, { sessionKey: orchKey(pick()) })],
  ["front: 2nd spawn", () => orch.beforeToolCall({ toolName: "sessions_spawn", params: { task: "x" }, runId: "r" }, { sessionKey: front(pick()) })],
];
const rows: [string, number, number, number][] = [];
for (const [name, call] of targets) {
  for (let i = 0; i < 1000; i++) call();
  const samples = new Float64Array(CALLS);
  for (let i = 0; i < CALLS; i++) {
    const t0 = process.hrtime.bigint();
    call();
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  samples.sort();
  rows.push([name, samples[Math.floor(CALLS * 0.5)]!, samples[Math.floor(CALLS * 0.99)]!, samples[CALLS - 1]!]);
}
process.stdout.write(`\norchestrator before_tool_call with ${BINDINGS} bindings × 5 workers: ${CALLS.toLocaleString()} calls per path, each timed alone (ns)\n`);
process.stdout.write(`${"path".padEnd(22)} ${"p50".padStart(8)} ${"p99".padStart(8)} ${"max".padStart(10)}\n`);
for (const [name, p50, p99, max] of rows) process.stdout.write(`${name.padEnd(22)} ${String(p50).padStart(8)} ${String(p99).padStart(8)} ${String(max).padStart(10)}\n`);
const worst = Math.max(...rows.map((r) => r[2]));
process.stdout.write(`worst p99 ${(worst / 1e6).toFixed(4)} ms (target 0.2 ms): ${worst <= 200_000 ? "OK" : "OVER"}\n`);
orch.close();
