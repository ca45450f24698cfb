/**
 * `node bench/plugin-hooks.ts [--calls 100000] [--sessions 6000] [--size 1024] [--only sqlite|legacy] [--skip-cycles]`
 *
 * The OpenClaw plugin's costs:
 *   hooks   added latency per hook call: every handler the plugin registers (and the transcript-update
 *           listener) called --calls times with realistic events, each call timed alone → p50 / p99 / max
 *   cycles  over a --sessions-session home (the large-events profile of packages/cli/src/demo/corpus.ts, cached in bench/.corpus):
 *           first upload to a hub process (`clawtower serve`, end to end with the hub's ingest), then a
 *           no-change cycle (nothing to send: time to find that out), then the shipper's own read rate per
 *           privacy mode against a stub hub process that accepts every line. Both run in processes of their
 *           own, as a hub does: in the bench's process they took the shipper's CPU.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fork } from "node:child_process";
import { createApiKey, openStore } from "@clawtower/store";
import { killHubProcess, startHubProcess } from "@clawtower/testkit/hub-process";
import type { CorpusFormat } from "../packages/cli/src/demo/corpus.ts";
import { ensureCorpus } from "./corpus-cache.ts";
import { loadConfig } from "../packages/openclaw-plugin/src/config/load.ts";
import { HookQueue } from "../packages/openclaw-plugin/src/live/hook-queue.ts";
import { registerClawtower } from "../packages/openclaw-plugin/src/plugin.ts";
import { runCycle } from "../packages/openclaw-plugin/src/ship/cycle.ts";

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const CALLS = Number(arg("calls", "100000"));
const SESSIONS = Number(arg("sessions", "6000"));
const SIZE_MIB = Number(arg("size", "1024"));
const only = arg("only", "");
const root = path.resolve(import.meta.dirname, "..");
const MiB = 2 ** 20;

// ---- hooks ------------------------------------------------------------------------------------------------

type Handler = (e: unknown, ctx: unknown) => unknown;

function hookBench(): void {
  const handlers = new Map<string, Handler>();
  let transcript: ((u: unknown) => void) | null = null;
  const shared = { queue: new HookQueue(), hooks: { active: true } };
  const api = {
    id: "clawtower",
    registrationMode: "full",
    pluginConfig: {},
    config: { plugins: { entries: { clawtower: { hooks: { allowConversationAccess: true } } } } },
    logger: { info() {}, warn() {}, error() {} },
    on: (name: string, h: Handler) => handlers.set(name, h),
    registerService: (s: { start(ctx: unknown): void }) => void s,
    registerCli: () => {},
    runtime: { events: { onSessionTranscriptUpdate: (cb: (u: unknown) => void) => ((transcript = cb), () => {}) } },
  };
  registerClawtower(api as never, shared);
  // The transcript listener is subscribed by the service; subscribe it the same way.
  (api.runtime.events.onSessionTranscriptUpdate as (cb: (u: unknown) => void) => void)((u) => {
    if (shared.hooks.active) shared.queue.push({ k: "transcript", t: Date.now(), u });
  });
  const ctx = { agentId: "main", sessionKey: "agent:main:main", sessionId: "s-1", runId: "run-1", channelId: "webchat" };
  const history = Array.from({ length: 40 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: "x".repeat(2000) }));
  const events: Record<string, unknown> = {
    model_call_ended: { runId: "run-1", callId: "run-1:model:1", provider: "fake", model: "fake-model", durationMs: 1234, outcome: "completed" },
    after_tool_call: { toolName: "read", params: { path: "README.md" }, toolCallId: "call_1", result: { content: [] }, durationMs: 12 },
    session_start: { sessionId: "s-1", sessionKey: "agent:main:main" },
    session_end: { sessionId: "s-1", messageCount: 0, reason: "idle" },
    message_received: { from: "cli", content: "hello", messageId: "m-1" },
    message_sending: { to: "agent:main:main", content: "Hello" },
    llm_input: { runId: "run-1", sessionId: "s-1", provider: "fake", model: "fake-model", systemPrompt: "s".repeat(20_000), prompt: "hello", historyMessages: history, imagesCount: 0 },
    llm_output: { runId: "run-1", sessionId: "s-1", provider: "fake", model: "fake-model", assistantTexts: ["hi"], usage: { input: 100, output: 10, cacheRead: 0, cacheWrite: 0, total: 110 } },
  };
  const update = {
    target: { agentId: "main", sessionId: "s-1", sessionKey: "agent:main:main" },
    agentId: "main",
    sessionId: "s-1",
    sessionKey: "agent:main:main",
    messageId: "ev-1",
    messageSeq: 4,
    message: { role: "assistant", content: [{ type: "text", text: "Hello" }], usage: { input: 10, output: 2, cacheRead: 0, cacheWrite: 0, totalTokens: 12, cost: { total: 0.0001 } } },
  };
  const rows: [string, number, number, number][] = [];
  const targets: [string, () => void][] = [...handlers.entries()].map(([name, h]) => [name, () => h(events[name], ctx)]);
  targets.push(["transcript update", () => transcript?.(update)]);
  for (const [name, call] of targets) {
    const samples = new Float64Array(CALLS);
    for (let i = 0; i < 2000; i++) call(); // warm-up
    shared.queue.take();
    for (let i = 0; i < CALLS; i++) {
      const t0 = process.hrtime.bigint();
      call();
      samples[i] = Number(process.hrtime.bigint() - t0);
      // The service drains every second; empty the queue off the clock at a similar pace.
      if ((i & 8191) === 8191) shared.queue.take();
    }
    shared.queue.take();
    samples.sort();
    rows.push([name, samples[Math.floor(CALLS * 0.5)]!, samples[Math.floor(CALLS * 0.99)]!, samples[CALLS - 1]!]);
  }
  process.stdout.write(`\nhook handlers: ${CALLS.toLocaleString()} calls each, each call timed alone (ns; includes ~30-60 ns of timer overhead)\n`);
  process.stdout.write(`${"handler".padEnd(20)} ${"p50".padStart(8)} ${"p99".padStart(8)} ${"max".padStart(10)}\n`);
  for (const [name, p50, p99, max] of rows) process.stdout.write(`${name.padEnd(20)} ${String(p50).padStart(8)} ${String(p99).padStart(8)} ${String(max).padStart(10)}\n`);
  const worst = Math.max(...rows.map((r) => r[2]));
  process.stdout.write(`worst p99 ${(worst / 1e6).toFixed(4)} ms (budget 0.1 ms): ${worst <= 100_000 ? "OK" : "OVER BUDGET"}\n`);
}

// ---- cycles -----------------------------------------------------------------------------------------------

function corpus(format: CorpusFormat): string {
  return ensureCorpus({ profile: "large-events", format, sizeMiB: SIZE_MIB, sessions: SESSIONS }).dir;
}

async function cycleBench(format: CorpusFormat): Promise<void> {
  const home = corpus(format);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "ct-plugin-bench-"));
  try {
    const dbPath = path.join(work, "hub.db");
    const conn = await openStore({ kind: "sqlite", path: dbPath });
    const key = (await createApiKey(conn, { deploymentId: "bench" }, Date.now())).token;
    await conn.close();
    const hub = await startHubProcess({ db: dbPath });
    const loaded = loadConfig({
      apiKey: key,
      deploymentId: "bench",
      apiUrl: hub.url,
      privacy: "full",
      upload: { maxFilesPerRun: 1_000_000, maxBytesPerRun: 2 ** 40, timeoutMs: 600_000 },
      filter: { minMessages: 0, minBytes: 0, includeSkills: false },
    });
    if (loaded.status !== "ok") throw new Error(JSON.stringify(loaded.issues));
    const run = (filesDir: string) =>
      runCycle({ stateDir: home, filesDir, config: loaded.config, openclawRedactPatterns: [], logger: { info() {}, warn() {}, error() {} }, signal: new AbortController().signal, trigger: "test" });

    const t0 = performance.now();
    const first = await run(path.join(work, "files"));
    const firstS = (performance.now() - t0) / 1000;
    const noChange: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const r = await run(path.join(work, "files"));
      noChange.push(performance.now() - t);
      if (r.requests !== 0) throw new Error(`no-change cycle sent ${r.requests} requests`);
    }
    noChange.sort((a, b) => a - b);
    await killHubProcess(hub.child);
    const mib = first.bytesRead / MiB;
    process.stdout.write(
      `\n${format} home, ${SESSIONS} sessions, ${mib.toFixed(0)} MiB of events (${first.lines.sent.toLocaleString()} lines, ${first.requests} requests):\n` +
        `  first upload, end to end with a hub process (SQLite): ${firstS.toFixed(1)} s = ${(mib / firstS).toFixed(1)} MiB/s (outcome ${first.outcome})\n` +
        `  no-change cycle: median ${noChange[2]!.toFixed(0)} ms (min ${noChange[0]!.toFixed(0)}, max ${noChange[4]!.toFixed(0)})\n`,
    );
    await shipperOnly(home, work);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The shipper's own read rate: a stub hub (its own process) that answers every line accepted without storing anything. */
async function shipperOnly(home: string, work: string): Promise<void> {
  const stub = fork(import.meta.filename, ["--stub-hub"], { execArgv: [], stdio: "inherit" });
  const port = await new Promise<number>((resolve) => stub.once("message", (m) => resolve(m as number)));
  const url = `http://127.0.0.1:${port}`;
  const loaded = loadConfig({ apiKey: "bench-key-000000", deploymentId: "bench", apiUrl: url, privacy: "full", upload: { maxFilesPerRun: 1_000_000, maxBytesPerRun: 2 ** 40 }, filter: { minMessages: 0, minBytes: 0, includeSkills: false } });
  if (loaded.status !== "ok") throw new Error("config");
  for (const privacy of ["full", "redacted", "metadata"] as const) {
    const t = performance.now();
    const r = await runCycle({ stateDir: home, filesDir: path.join(work, `stub-${privacy}`), config: { ...loaded.config, privacy }, openclawRedactPatterns: [], logger: { info() {}, warn() {}, error() {} }, signal: new AbortController().signal, trigger: "test" });
    const s = (performance.now() - t) / 1000;
    if (r.outcome !== "ok") throw new Error(`stub cycle: ${r.outcome}`);
    process.stdout.write(`  shipper read + ${privacy.padEnd(8)} + send (stub hub process): ${(r.bytesRead / MiB / s).toFixed(1)} MiB/s (${s.toFixed(1)} s)\n`);
  }
  stub.kill();
}

async function serveStubHub(): Promise<void> {
  const http = await import("node:http");
  const server = http.createServer((req, res) => {
    let lines = 0;
    req.on("data", (c: Buffer) => {
      for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) lines++;
    });
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ results: Array.from({ length: lines }, (_, line) => ({ line, status: "accepted" })) }));
    });
  });
  server.listen(0, "127.0.0.1", () => process.send!((server.address() as import("node:net").AddressInfo).port));
}

if (args.includes("--stub-hub")) {
  await serveStubHub();
} else {
  hookBench();
  if (!args.includes("--skip-cycles")) {
    for (const format of ["sqlite", "legacy"] as const) if (!only || only === format) await cycleBench(format);
  }
}
