/**
 * Produces the checked-in REAL OpenClaw fixture homes under `packages/testkit/fixtures/` by driving the real
 * host (installed with `ensureOpenClaw`) against the deterministic fake LLM.
 *
 *   node scripts/make-real-fixtures.ts                 # both fixtures (current 2026.9.6 + legacy 2026.7.35)
 *   node scripts/make-real-fixtures.ts --only current  # or: --only legacy
 *   node scripts/make-real-fixtures.ts --keep          # keep the scratch homes (path is printed)
 *   node scripts/make-real-fixtures.ts --verify-only   # only re-run the store cross-check on the fixtures
 *
 * Run it with the repository's Node 24 (`node_modules/.bin/node`). It needs the npm registry the first time
 * (to install OpenClaw into `.cache/`), nothing else. Takes ~6–8 minutes.
 *
 * `expected.json` is computed ONLY from the fake LLM's request log, the configured prices, and what the
 * script itself did (which turns, which session keys, what was reset/deleted/archived). The store is read
 * afterwards only to print a cross-check; nothing read from it flows into `expected.json`.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import zlib from "node:zlib";
import { type FakeLlmRequestLog, type FakeLlmServer, startFakeLlm } from "../packages/testkit/src/fake-llm.ts";
import {
  type Gateway,
  type ModelCost,
  type OpenClawHome,
  type OpenClawInstall,
  createOpenClawHome,
  DEFAULT_MODEL_COST,
  ensureOpenClaw,
  parseJsonOutput,
  REPO_ROOT,
  runAgentTurn,
  startGateway,
} from "../packages/testkit/src/openclaw-host.ts";

const CURRENT_VERSION = "2026.9.6";
const LEGACY_VERSION = "2026.7.35";
const FIXTURES_DIR = path.join(REPO_ROOT, "packages", "testkit", "fixtures");
const CLOCK_SHIFT = path.join(REPO_ROOT, "packages", "testkit", "src", "clock-shift.mjs");
const DAY_MS = 86_400_000;
const PAST = { NODE_OPTIONS: `--import ${CLOCK_SHIFT}`, CLAWTOWER_CLOCK_OFFSET_MS: String(-3 * DAY_MS) };
/** Trajectory sidecars are big (~180 KB per session); capture them for one turn only. */
const NO_TRAJECTORY = { OPENCLAW_TRAJECTORY: "0" };
const FAKE_LLM_OPTIONS = { cachedTokens: 1000, cacheWriteTokens: 500 };
const PRICES: ModelCost = DEFAULT_MODEL_COST;

const argv = process.argv.slice(2);
const only = argv.includes("--only") ? argv[argv.indexOf("--only") + 1] : undefined;
const keep = argv.includes("--keep");
const verifyOnly = argv.includes("--verify-only");

function log(line: string): void {
  process.stdout.write(`[fixtures ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

// ---------------------------------------------------------------------------------------------------------
// Turn bookkeeping: which fake-LLM requests belong to which turn of the scenario.

type Via = "agent --local" | "gateway chat.send" | "gateway sessions.compact" | "background";

type TurnRecord = {
  label: string;
  via: Via;
  agentId: string;
  sessionKey: string;
  /** Session id the host reported for the turn (runtime line, agent.wait receipt, or `--json` output). */
  sessionId: string | null;
  clock: "now" | "now-3d";
  message: string;
  exitCode: number | null;
  /** Fake-LLM request numbers (`n`) made during the turn. */
  calls: number[];
  note?: string;
};

type Scenario = {
  llm: FakeLlmServer;
  turns: TurnRecord[];
  /** Session lifecycle facts the script caused (reset, delete, fork, cold archive, …). */
  lifecycle: Record<string, unknown>[];
  /** Subagent children as the Gateway's `sessions.list` reported them after a spawn. */
  subagents: { parentKey: string; sessionKey: string; sessionId: string | null }[];
};

async function settle(llm: FakeLlmServer, quietMs = 4000, maxMs = 90_000): Promise<void> {
  const started = Date.now();
  let last = llm.requests.length;
  let quietSince = Date.now();
  while (Date.now() - started < maxMs) {
    await sleep(500);
    if (llm.requests.length !== last) {
      last = llm.requests.length;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) return;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const RUNTIME_LINE = /Runtime: agent=([^\s|]+) \| session=([^\s|]+) \| sessionId=([^\s|]+)/;

function runtimeOf(r: FakeLlmRequestLog): { agentId: string; sessionKey: string; sessionId: string } | null {
  for (const text of [r.lastUserText, r.firstUserText]) {
    const m = RUNTIME_LINE.exec(text ?? "");
    if (m) return { agentId: m[1]!, sessionKey: m[2]!, sessionId: m[3]! };
  }
  return null;
}

async function localTurn(
  sc: Scenario,
  home: OpenClawHome,
  label: string,
  message: string,
  options: { agent?: string; sessionKey?: string; past?: boolean; trajectory?: boolean; timeoutMs?: number; note?: string } = {},
): Promise<TurnRecord> {
  const agentId = options.agent ?? "main";
  const before = sc.llm.requests.length;
  const env = { ...(options.trajectory ? {} : NO_TRAJECTORY), ...(options.past ? PAST : {}) };
  log(`turn ${label}: agent --local ${agentId} ${options.sessionKey ?? "(default key)"}${options.past ? " [clock -3d]" : ""}`);
  const result = await runAgentTurn(home, message, {
    agent: agentId,
    sessionKey: options.sessionKey,
    timeoutMs: options.timeoutMs ?? 150_000,
    json: true,
    env,
  });
  await settle(sc.llm, 1500, 20_000);
  const calls = sc.llm.requests.slice(before).map((r) => r.n);
  let sessionId: string | null = null;
  let sessionKey = options.sessionKey ?? `agent:${agentId}:main`;
  const rt = sc.llm.requests.slice(before).map(runtimeOf).find((x) => x !== null);
  if (rt) {
    sessionId = rt.sessionId;
    sessionKey = rt.sessionKey;
  } else {
    try {
      const out = JSON.stringify(parseJsonOutput(result.stdout));
      sessionId = /"sessionId":"([0-9a-f-]{36})"/.exec(out)?.[1] ?? null;
    } catch {
      // no JSON (failed turn)
    }
  }
  log(`  exit ${result.code} in ${result.durationMs} ms, calls ${calls.join(",") || "none"}, session ${sessionId ?? "?"}`);
  if (result.timedOut) throw new Error(`turn ${label} timed out:\n${result.stderr.slice(-2000)}`);
  const rec: TurnRecord = {
    label,
    via: "agent --local",
    agentId,
    sessionKey,
    sessionId,
    clock: options.past ? "now-3d" : "now",
    message,
    exitCode: result.code,
    calls,
    ...(options.note ? { note: options.note } : {}),
  };
  sc.turns.push(rec);
  return rec;
}

async function gatewayTurn(
  sc: Scenario,
  gw: Gateway,
  label: string,
  sessionKey: string,
  message: string,
  options: { note?: string; waitForBackground?: boolean } = {},
): Promise<TurnRecord> {
  const before = sc.llm.requests.length;
  const idempotencyKey = `fx-${label}`;
  log(`turn ${label}: chat.send ${sessionKey}`);
  const sent = await gw.call<{ runId: string }>("chat.send", { sessionKey, message, idempotencyKey });
  const waited = await gw.call<{ status?: string; terminalReceipt?: { sessionId?: string } }>(
    "agent.wait",
    { runId: sent.runId, timeoutMs: 120_000 },
    { timeoutMs: 130_000 },
  );
  if (options.waitForBackground) await waitIdle(gw, sc.llm);
  else await settle(sc.llm, 1500, 20_000);
  const calls = sc.llm.requests.slice(before).map((r) => r.n);
  let sessionId = waited.terminalReceipt?.sessionId ?? sc.llm.requests.slice(before).map(runtimeOf).find((x) => x)?.sessionId ?? null;
  if (!sessionId) {
    // 2026.7.x receipts carry no session id; ask the Gateway (chat.history reports the current one).
    const hist = await gw.call<{ sessionId?: string }>("chat.history", { sessionKey, limit: 1 });
    sessionId = hist.sessionId ?? null;
  }
  if (options.waitForBackground) {
    const list = await gw.call<{ sessions: { key: string; sessionId?: string; spawnedBy?: string }[] }>("sessions.list", { limit: 200 });
    for (const s of list.sessions) {
      if (s.key.includes(":subagent:") && (s.spawnedBy === undefined || s.spawnedBy === sessionKey)) {
        sc.subagents.push({ parentKey: sessionKey, sessionKey: s.key, sessionId: s.sessionId ?? null });
      }
    }
  }
  log(`  ${waited.status}, calls ${calls.join(",") || "none"}, session ${sessionId ?? "?"}`);
  const rec: TurnRecord = {
    label,
    via: "gateway chat.send",
    agentId: /^agent:([^:]+):/.exec(sessionKey)?.[1] ?? "main",
    sessionKey,
    sessionId,
    clock: "now",
    message,
    exitCode: waited.status === "ok" ? 0 : 1,
    calls,
    ...(options.note ? { note: options.note } : {}),
  };
  sc.turns.push(rec);
  return rec;
}

/** Waits until no session has an active run and the fake LLM has been quiet for a while (subagent + announce). */
async function waitIdle(gw: Gateway, llm: FakeLlmServer): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await settle(llm, 5000, 60_000);
    const list = await gw.call<{ sessions: { hasActiveRun?: boolean }[] }>("sessions.list", { limit: 200 });
    if (!list.sessions.some((s) => s.hasActiveRun)) return;
  }
  throw new Error("gateway did not become idle");
}

// ---------------------------------------------------------------------------------------------------------
// Expected figures, from the request log and the prices only.

type CallFigures = {
  n: number;
  status: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  totalTokens: number;
  costUsd: number;
  costOrigin: "catalog" | "provider-billed";
  toolCall: string | null;
  agentId: string;
  sessionKey: string;
  sessionId: string | null;
  turn: string;
  /** False for calls OpenClaw makes without writing an assistant message (failed calls, compaction summaries). */
  inTranscript: boolean;
};

/**
 * How a version turns an OpenAI-completions `usage` block into its stored usage:
 * - "2026.9": `@openclaw/ai` `parseOpenAICompletionsUsage` — input = prompt − cached − cache_write.
 * - "2026.7-transport": 2026.7.x `parseTransportChunkUsage` — input = prompt − cached; cache_write_tokens is
 *   ignored (cacheWrite always 0, those tokens are billed as input); cost = rate / 1e6 × tokens.
 */
type UsageRule = "2026.9" | "2026.7-transport";

/** OpenClaw's usage parsing + `calculateUsageCost` (no pricing tiers), replicated. */
function figuresOf(r: FakeLlmRequestLog, prices: ModelCost, rule: UsageRule): Omit<CallFigures, "agentId" | "sessionKey" | "sessionId" | "turn" | "inTranscript"> {
  const u = r.usage;
  if (!u) {
    return { n: r.n, status: r.status, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, totalTokens: 0, costUsd: 0, costOrigin: "catalog", toolCall: null };
  }
  const cacheRead = u.prompt_tokens_details.cached_tokens ?? 0;
  const cacheWrite = rule === "2026.9" ? (u.prompt_tokens_details.cache_write_tokens ?? 0) : 0;
  const input = Math.max(0, u.prompt_tokens - cacheRead - cacheWrite);
  const output = u.completion_tokens;
  // 2026.9 `calculateUsageCost`: tokens × rate / 1e6; 2026.7 `calculateCost`: rate / 1e6 × tokens (the float
  // results differ in the last bits, so follow the version).
  const price = (tokens: number, rate: number) => (rule === "2026.9" ? (tokens * rate) / 1e6 : (rate / 1e6) * tokens);
  const cost = {
    input: price(input, prices.input),
    output: price(output, prices.output),
    cacheRead: price(cacheRead, prices.cacheRead),
    cacheWrite: price(cacheWrite, prices.cacheWrite),
  };
  let total = cost.input + cost.output + cost.cacheRead + cost.cacheWrite;
  let costOrigin: CallFigures["costOrigin"] = "catalog";
  if (typeof u.cost === "number") {
    total = u.cost;
    costOrigin = "provider-billed";
  }
  return {
    n: r.n,
    status: r.status,
    input,
    output,
    cacheRead,
    cacheWrite,
    totalTokens: input + output + cacheRead + cacheWrite,
    costUsd: total,
    costOrigin,
    toolCall: typeof r.reply === "string" ? null : r.reply.tool,
  };
}

type Totals = {
  llmRequests: number;
  llmCallsWithUsage: number;
  failedLlmCalls: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  totalTokens: number;
  costUsd: number;
  toolCalls: number;
};

function sumCalls(calls: CallFigures[]): Totals {
  const ok = calls.filter((c) => c.status === 200);
  const sum = (f: (c: CallFigures) => number) => ok.reduce((a, c) => a + f(c), 0);
  return {
    llmRequests: calls.length,
    llmCallsWithUsage: ok.length,
    failedLlmCalls: calls.length - ok.length,
    input: sum((c) => c.input),
    output: sum((c) => c.output),
    cacheRead: sum((c) => c.cacheRead),
    cacheWrite: sum((c) => c.cacheWrite),
    totalTokens: sum((c) => c.totalTokens),
    costUsd: round12(sum((c) => c.costUsd)),
    toolCalls: ok.filter((c) => c.toolCall !== null).length,
  };
}

function round12(x: number): number {
  return Math.round(x * 1e12) / 1e12;
}

type SessionFate = { storage: string; note?: string };

function buildExpected(
  version: string,
  sc: Scenario,
  fates: Map<string, SessionFate>,
  extra: { rule: UsageRule; derivation: Record<string, string>; recordedDifferences: string[]; extraSessions?: Record<string, unknown>[] },
): Record<string, unknown> {
  const byN = new Map(sc.llm.requests.map((r) => [r.n, r]));
  const calls: CallFigures[] = [];
  for (const t of sc.turns) {
    for (const n of t.calls) {
      const r = byN.get(n)!;
      const rt = runtimeOf(r);
      let sessionKey = rt?.sessionKey ?? t.sessionKey;
      let agentId = rt?.agentId ?? t.agentId;
      let sessionId = rt?.sessionId ?? t.sessionId;
      if (!rt && /\[Subagent Context\]/.test(r.firstUserText)) {
        // Legacy hosts print no runtime line; the subagent child is recognisable by its context block, and
        // its key and id come from the Gateway's `sessions.list` after the spawn.
        const child = sc.subagents.find((c) => c.parentKey === t.sessionKey);
        sessionKey = child?.sessionKey ?? `${t.sessionKey} (subagent child)`;
        agentId = t.agentId;
        sessionId = child?.sessionId ?? null;
      }
      calls.push({
        ...figuresOf(r, PRICES, extra.rule),
        agentId,
        sessionKey,
        sessionId,
        turn: t.label,
        inTranscript: r.status === 200 && t.via !== "gateway sessions.compact",
      });
    }
  }
  const sessionsMap = new Map<string, CallFigures[]>();
  for (const c of calls) {
    const key = `${c.agentId}\u0000${c.sessionKey}\u0000${c.sessionId ?? ""}`;
    sessionsMap.set(key, [...(sessionsMap.get(key) ?? []), c]);
  }
  const sessions = [...sessionsMap.entries()].map(([key, cs]) => {
    const [agentId, sessionKey, sessionId] = key.split("\u0000");
    const fate = fates.get(sessionId ?? "") ?? fates.get(sessionKey ?? "") ?? { storage: "hot" };
    const { llmRequests: _r, ...totals } = sumCalls(cs);
    const hidden = cs.filter((c) => c.status === 200 && !c.inTranscript).map((c) => c.n);
    return {
      agentId,
      sessionKey,
      sessionId: sessionId || null,
      ...fate,
      calls: cs.map((c) => c.n),
      ...totals,
      ...(hidden.length ? { callsWithUsageNotInTranscript: hidden } : {}),
    };
  });
  const totals = sumCalls(calls);
  const { llmRequests: _t, failedLlmCalls: _f, ...inTranscripts } = sumCalls(calls.filter((c) => c.inTranscript));
  const withUsage = sessions.filter((s) => s.llmCallsWithUsage > 0).length;
  return {
    openclawVersion: version,
    generatedBy: "scripts/make-real-fixtures.ts",
    generatedAt: new Date().toISOString(),
    prices: { ...PRICES, unit: "USD per 1M tokens", model: "fake/fake-model" },
    fakeLlm: FAKE_LLM_OPTIONS,
    totals: {
      ...totals,
      sessionsWithUsage: withUsage,
      agents: [...new Set(sessions.map((s) => s.agentId))].sort(),
    },
    transcriptTotals: {
      ...inTranscripts,
      note: "What a transcript reader can find: the calls with usage that OpenClaw recorded as assistant messages (each once, fork copies deduplicated). Differs from `totals` by the calls in `sessions[].callsWithUsageNotInTranscript` (compaction summaries).",
    },
    derivation: extra.derivation,
    recordedDifferences: extra.recordedDifferences,
    sessions,
    extraSessions: extra.extraSessions ?? [],
    lifecycle: sc.lifecycle,
    turns: sc.turns,
    calls,
  };
}

const COMMON_DERIVATION: Record<string, string> = {
  llmRequests: "Every HTTP request the fake LLM received (fake-llm `requests[]`), successful or not.",
  llmCallsWithUsage: "Requests answered 200 with a `usage` block (real spend). Each agent-run call is recorded by OpenClaw as exactly one assistant message with `usage` in the transcript of the session it ran in (plus verbatim fork copies, see recordedDifferences); compaction-summary calls are not recorded at all (`inTranscript: false`). `transcriptTotals` holds the recorded subset.",
  failedLlmCalls: "Requests answered with an HTTP error (`[[error:N]]` / `[[fail:N]]` directives). They carry no usage.",
  input: "Σ max(0, prompt_tokens − prompt_tokens_details.cached_tokens − prompt_tokens_details.cache_write_tokens) over calls with usage — OpenClaw's `parseOpenAICompletionsUsage` (verified: stored `usage.input` equals this, e.g. prompt 12377, cached 1000, cache_write 500 → input 10877).",
  output: "Σ completion_tokens.",
  cacheRead: "Σ prompt_tokens_details.cached_tokens (fake LLM: 1000 whenever the prompt is larger).",
  cacheWrite: "Σ prompt_tokens_details.cache_write_tokens (fake LLM: 500 whenever the uncached rest is larger).",
  totalTokens: "Σ (input + output + cacheRead + cacheWrite) = Σ (prompt_tokens + completion_tokens); equals the stored `usage.totalTokens` per call.",
  costUsd: "Σ per-call cost, each computed like OpenClaw's `calculateUsageCost`: input×3/1e6 + output×15/1e6 + cacheRead×0.3/1e6 + cacheWrite×3.75/1e6 (float arithmetic in that order; stored `usage.cost.total` is the unrounded float). When the response's usage carried a provider-billed `cost` (`[[billed:USD]]`), OpenClaw stores that number as `usage.cost.total` (with `totalOrigin: \"provider-billed\"`) while keeping the catalog-priced components — so that call contributes the billed amount. The sum is rounded to 12 decimals.",
  toolCalls: "Calls with usage whose answer was a tool call (one `toolCall` content block each).",
  sessionsWithUsage: "Distinct (agent, session key, session id) that received at least one call with usage. The session id comes from the `Runtime: … sessionId=…` line OpenClaw puts in the prompt (current versions), from the Gateway's `agent.wait` receipt, or from `agent --json` output (legacy).",
  sessions: "Per-session breakdown of the same figures; `storage` says where the session's events end up as a consequence of what the script did (hot rows, cold archive, deleted archive, …).",
};

// ---------------------------------------------------------------------------------------------------------
// Fixture copying.

function vacuumInto(src: string, dst: string): void {
  rmSync(dst, { force: true });
  mkdirSync(path.dirname(dst), { recursive: true });
  const db = new DatabaseSync(src);
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.prepare("VACUUM INTO ?").run(dst);
  } finally {
    db.close();
  }
  const out = new DatabaseSync(dst);
  try {
    out.exec("PRAGMA journal_mode = DELETE");
  } finally {
    out.close();
  }
}

function copyCurrentState(stateDir: string, outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  cpSync(path.join(stateDir, "openclaw.json"), path.join(outDir, "openclaw.json"));
  for (const agent of readdirSync(path.join(stateDir, "agents"))) {
    const db = path.join(stateDir, "agents", agent, "agent", "openclaw-agent.sqlite");
    if (existsSync(db)) vacuumInto(db, path.join(outDir, "agents", agent, "agent", "openclaw-agent.sqlite"));
    const sessions = path.join(stateDir, "agents", agent, "sessions");
    if (existsSync(sessions)) cpSync(sessions, path.join(outDir, "agents", agent, "sessions"), { recursive: true });
  }
}

function copyLegacyState(stateDir: string, outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  cpSync(path.join(stateDir, "openclaw.json"), path.join(outDir, "openclaw.json"));
  for (const agent of readdirSync(path.join(stateDir, "agents"))) {
    const sessions = path.join(stateDir, "agents", agent, "sessions");
    if (existsSync(sessions)) cpSync(sessions, path.join(outDir, "agents", agent, "sessions"), { recursive: true });
  }
}

function duSize(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((a, f) => a + duSize(path.join(p, f)), 0);
}

// ---------------------------------------------------------------------------------------------------------
// Scenarios.

function bigWorkspaceFile(): string {
  // ~9 KB of plain ASCII (no `\u` escapes), so the tool-result event is zstd-compressed (≥ 1 KiB, ≥ 10 % saving).
  const lines: string[] = [];
  for (let i = 0; i < 120; i++) lines.push(`Line ${i}: the quick brown fox jumps over the lazy dog; ledger entry ${i * 7}.`);
  return `${lines.join("\n")}\n`;
}

async function makeCurrent(install: OpenClawInstall, work: string): Promise<void> {
  const version = install.version;
  const llm = await startFakeLlm(FAKE_LLM_OPTIONS);
  const sc: Scenario = { llm, turns: [], lifecycle: [], subagents: [] };
  const fates = new Map<string, SessionFate>();
  const extraSessions: Record<string, unknown>[] = [];
  let gw: Gateway | undefined;
  try {
    const home = await createOpenClawHome({
      dir: path.join(work, "home"),
      fakeLlmBaseUrl: llm.baseUrl,
      install,
      extraConfig: {
        agents: {
          ownership: "explicit",
          entries: { main: { name: "Main", workspace: "~/.openclaw/workspace" }, ops: { name: "Ops", workspace: "~/.openclaw/workspace-ops" } },
        },
        session: {
          // Idle expiry gives a second transcript window (new session id) under one key after the "-3d" turn.
          reset: { mode: "idle", idleMinutes: 120 },
          maintenance: { coldStorage: { enabled: true, afterDays: 1 } },
        },
      },
    });
    mkdirSync(path.join(home.stateDir, "workspace"), { recursive: true });
    writeFileSync(path.join(home.stateDir, "workspace", "big-notes.md"), bigWorkspaceFile());

    // 1. Turns "3 days ago" (clock-shift preload), so cold storage (afterDays: 1) takes them.
    const coldA = await localTurn(sc, home, "cold-a", '[[tool:read {"path":"big-notes.md"}]] old conversation A, with a big read', {
      sessionKey: "agent:main:cold-a",
      past: true,
    });
    const coldB = await localTurn(sc, home, "cold-b", "old conversation B", { sessionKey: "agent:main:cold-b", past: true });
    const roll1 = await localTurn(sc, home, "rollover-1", "before the idle gap", { sessionKey: "agent:main:rollover", past: true });

    // 2. Turns now.
    await localTurn(sc, home, "plain", "hello there", { trajectory: true, note: "default key agent:main:main; the only turn with runtime trajectory capture on" });
    const roll2 = await localTurn(sc, home, "rollover-2", "after the idle gap [[billed:0.25]]", {
      sessionKey: "agent:main:rollover",
      note: "idle expiry (idleMinutes 120) gives this key a new session id; the provider reports a billed cost of 0.25 USD",
    });
    await localTurn(sc, home, "tools", '[[tool:read {"path":"missing-file.md"}]] [[tool:read {"path":"big-notes.md"}]] please read both files', {
      sessionKey: "agent:main:tools",
      note: "first read fails (isError tool result), second returns ~9 KB (zstd-compressed row)",
    });
    await localTurn(sc, home, "flaky", "[[error:500]] this fails once, then works", {
      sessionKey: "agent:main:flaky",
      note: "HTTP 500 twice (OpenClaw retries with a rewritten prompt, which fails once more), then success",
    });
    await localTurn(sc, home, "broken", "[[fail:500]] this always fails", {
      sessionKey: "agent:main:broken",
      timeoutMs: 240_000,
      note: "every attempt answers HTTP 500; OpenClaw gives up after its retries and records one zero-usage error assistant message",
    });
    await localTurn(sc, home, "ops", "hello ops", { agent: "ops" });

    // 3. Gateway.
    gw = await startGateway(home, { env: NO_TRAJECTORY });
    log(`gateway ready on ${gw.port}`);

    // Cold storage: the worker runs at startup and once a minute; ask for a batch and wait for 3 cold windows.
    await gw.call("sessions.storage.run", {});
    let storage: { agents: { agentId: string; coldTranscripts: number }[]; maintenance: { running: boolean } } | undefined;
    for (let i = 0; i < 40; i++) {
      storage = await gw.call("sessions.storage.status", {});
      const cold = storage!.agents.find((a) => a.agentId === "main")?.coldTranscripts ?? 0;
      if (cold >= 3 && !storage!.maintenance.running) break;
      if (i % 5 === 4) await gw.call("sessions.storage.run", {});
      await sleep(2000);
    }
    sc.lifecycle.push({ action: "sessions.storage.run (cold storage, afterDays 1)", result: storage });
    for (const t of [coldA, coldB, roll1]) if (t.sessionId) fates.set(t.sessionId, { storage: "cold" });

    await gatewayTurn(sc, gw, "web-reset-1", "agent:main:web-reset", "hello via gateway");
    const reset = await gw.call("sessions.reset", { key: "agent:main:web-reset" });
    sc.lifecycle.push({ action: "sessions.reset", key: "agent:main:web-reset", result: reset });
    await gatewayTurn(sc, gw, "web-reset-2", "agent:main:web-reset", "after the reset");
    const inject = await gw.call("chat.inject", { sessionKey: "agent:main:web-reset", message: "operator note (no LLM call)", label: "note" });
    sc.lifecycle.push({ action: "chat.inject", key: "agent:main:web-reset", result: inject });

    await gatewayTurn(sc, gw, "web-new-1", "agent:main:web-new", "hello before /new");
    const resetNew = await gw.call("sessions.reset", { key: "agent:main:web-new", reason: "new" });
    sc.lifecycle.push({ action: "sessions.reset {reason:new}", key: "agent:main:web-new", result: resetNew });
    await gatewayTurn(sc, gw, "web-new-2", "agent:main:web-new", "hello after /new");

    const del = await gatewayTurn(sc, gw, "web-delete", "agent:main:web-delete", "this session will be deleted");
    const deleted = await gw.call("sessions.delete", { key: "agent:main:web-delete" });
    sc.lifecycle.push({ action: "sessions.delete", key: "agent:main:web-delete", result: deleted });
    if (del.sessionId) fates.set(del.sessionId, { storage: "deleted-archive", note: "session_transcript_archives row (reason deleted) + derived sessions/<id>.jsonl.deleted.<ts>.<gen>.zst" });

    await gatewayTurn(
      sc,
      gw,
      "web-spawn",
      "agent:main:web-spawn",
      '[[tool:tool_call {"id":"sessions_spawn","args":{"task":"say hello from the child"}}]] spawn a helper please',
      { waitForBackground: true, note: "tool_call bridge → sessions_spawn; child run + parent announce run follow in the background" },
    );

    // Forks of a session with usage: do the children copy the parent's events?
    try {
      const fork = await gw.call<{ key?: string; sessionId?: string }>("sessions.create", {
        agentId: "main",
        parentSessionKey: "agent:main:web-reset",
        fork: true,
      });
      sc.lifecycle.push({ action: "sessions.create {fork:true}", parent: "agent:main:web-reset", result: fork });
      if (fork.sessionId) {
        fates.set(fork.sessionId, { storage: "hot", note: "operator fork: verbatim copy of the parent's events" });
        extraSessions.push({ sessionKey: fork.key, sessionId: fork.sessionId, kind: "operator fork (sessions.create fork:true) of agent:main:web-reset", llmCalls: 0 });
      }
    } catch (error) {
      sc.lifecycle.push({ action: "sessions.create {fork:true}", error: String(error) });
    }
    try {
      const hist = await gw.call<{ messages: { role: string; content: unknown; __openclaw?: { id?: string } }[] }>("chat.history", {
        sessionKey: "agent:main:web-reset",
        limit: 50,
      });
      const users = hist.messages.filter((m) => m.role === "user");
      const entryId = users.at(-1)?.__openclaw?.id;
      if (entryId) {
        const mfork = await gw.call<{ sessionKey?: string; sessionId?: string }>("sessions.fork", { sessionKey: "agent:main:web-reset", entryId });
        sc.lifecycle.push({ action: "sessions.fork {entryId: last user message}", parent: "agent:main:web-reset", entryId, result: mfork });
        let mforkId = mfork.sessionId ?? null;
        if (!mforkId && mfork.sessionKey) {
          mforkId = (await gw.call<{ sessionId?: string }>("chat.history", { sessionKey: mfork.sessionKey, limit: 1 })).sessionId ?? null;
        }
        extraSessions.push({ sessionKey: mfork.sessionKey, sessionId: mforkId, kind: "message fork (sessions.fork) of agent:main:web-reset before its last user message", llmCalls: 0 });
      }
    } catch (error) {
      sc.lifecycle.push({ action: "sessions.fork", error: String(error) });
    }

    // Manual compaction of the tool session: the summarizer is an LLM call of its own.
    const beforeCompact = llm.requests.length;
    try {
      log("compact agent:main:tools");
      const compact = await gw.call("sessions.compact", { key: "agent:main:tools" }, { timeoutMs: 120_000 });
      sc.lifecycle.push({ action: "sessions.compact", key: "agent:main:tools", result: compact });
    } catch (error) {
      sc.lifecycle.push({ action: "sessions.compact", key: "agent:main:tools", error: String(error) });
    }
    await settle(llm, 3000, 30_000);
    const toolsTurn = sc.turns.find((t) => t.label === "tools");
    sc.turns.push({
      label: "compact",
      via: "gateway sessions.compact",
      agentId: "main",
      sessionKey: "agent:main:tools",
      sessionId: toolsTurn?.sessionId ?? null,
      clock: "now",
      message: "(sessions.compact)",
      exitCode: null,
      calls: llm.requests.slice(beforeCompact).map((r) => r.n),
      note: "compaction summarizer calls (no tools offered, so the fake LLM answers with text)",
    });

    // Restore one cold window by reading its history: the cold row goes, the file stays behind (stale).
    const before = llm.requests.length;
    await gw.call("chat.history", { sessionKey: "agent:main:cold-b", limit: 50 });
    for (let i = 0; i < 15; i++) {
      storage = await gw.call("sessions.storage.status", {});
      if ((storage!.agents.find((a) => a.agentId === "main")?.coldTranscripts ?? 0) <= 2) break;
      await sleep(1000);
    }
    sc.lifecycle.push({ action: "chat.history on agent:main:cold-b (restores the cold window)", storageAfter: storage });
    if (coldB.sessionId) fates.set(coldB.sessionId, { storage: "hot (restored from cold; its cold file stays on disk, unreferenced)" });
    if (llm.requests.length !== before) throw new Error("restoring history unexpectedly called the LLM");
    const late = llm.requests.length;
    await settle(llm, 3000, 20_000);
    if (llm.requests.length !== late) log("warning: LLM calls arrived after the last turn");
    void roll2;

    const list = await gw.call("sessions.list", { limit: 200 });
    writeFileSync(path.join(work, "sessions.list.json"), JSON.stringify(list, null, 2));
  } finally {
    if (gw) {
      await gw.stop();
      log("gateway stopped");
    }
    await llm.close();
    writeFileSync(path.join(work, "requests.json"), JSON.stringify(llm.requests, null, 2));
  }
  // Calls made outside any turn (there should be none) are appended to a synthetic turn so totals stay complete.
  const seen = new Set(sc.turns.flatMap((t) => t.calls));
  const stray = llm.requests.filter((r) => !seen.has(r.n)).map((r) => r.n);
  if (stray.length) {
    sc.turns.push({ label: "background", via: "background", agentId: "main", sessionKey: "(background)", sessionId: null, clock: "now", message: "", exitCode: null, calls: stray });
  }

  const out = path.join(FIXTURES_DIR, `openclaw-${version}`);
  copyCurrentState(path.join(work, "home", ".openclaw"), path.join(out, "state"));
  const expected = buildExpected(version, sc, fates, {
    rule: "2026.9",
    derivation: COMMON_DERIVATION,
    recordedDifferences: [
      "Failed HTTP calls that OpenClaw retries successfully (turn `flaky`: 2 × HTTP 500, then 200) leave NO trace in the transcript: no assistant message, no usage, only one extra `custom` `openclaw:bootstrap-context:full` event per attempt.",
      "A turn whose every attempt fails (turn `broken`: 7 × HTTP 500) is recorded as ONE assistant message with `content: []`, all-zero `usage`, `stopReason: \"error\"`, `errorMessage`, `errorCode: \"500\"`, `errorType`, `errorBody` and `idempotencyKey: \"<runId>:terminal-error\"`. It adds 0 tokens and 0 USD; the 7 failed requests are in `failedLlmCalls`, not in `llmCallsWithUsage`.",
      "Call n of turn `rollover-2` reported a provider-billed cost (0.25 USD): stored `usage.cost.total` = 0.25 with `totalOrigin: \"provider-billed\"`, while `usage.cost.input/output/cacheRead/cacheWrite` keep the catalog prices (their sum is NOT the total). expected.json counts 0.25 for that call.",
      "Forks are not LLM calls: `sessions.create {fork:true}` and `sessions.fork` write the parent's events (same event ids, same `responseId`, same `usage`) into the child transcript. A reader that sums every transcript counts those calls twice; dedupe by event id (or skip events a fork copied — the child's `session` header carries `parentSession`). expected.json counts each call once, in the session it ran in.",
      "`chat.inject` appends an assistant message with `provider: \"openclaw\"`, `model: \"gateway-injected\"`, `api: \"openai-responses\"` and all-zero usage: no LLM call, not counted.",
      "Trajectory rows (`trajectory_runtime_events`, turn `plain` only) repeat the usage of that run; they are not transcript events and are not counted.",
      "The subagent run (child session `agent:main:subagent:<uuid>`) and the parent's announce run (runId `announce:v1:…`, recorded in the parent session) are real LLM calls and are counted in their sessions.",
      "Compaction summaries are LLM calls OpenClaw does NOT record as usage: `sessions.compact` on `agent:main:tools` made one summarizer call (turn `compact`, no tools offered, ~1.1k prompt tokens) and wrote only a `compaction` event (`summary`, `firstKeptEntryId`, `tokensBefore`, `tokensAfter`, `details`, `fromHook`) — no assistant message, no usage, no cost. It is in `totals` (real spend) but not in `transcriptTotals`; see `sessions[].callsWithUsageNotInTranscript`.",
    ],
    extraSessions,
  });
  writeFileSync(path.join(out, "expected.json"), `${JSON.stringify(expected, null, 2)}\n`);
  log(`wrote ${out} (${(duSize(out) / 1024).toFixed(0)} KiB)`);
}

async function makeLegacy(install: OpenClawInstall, work: string): Promise<void> {
  const version = install.version;
  const llm = await startFakeLlm(FAKE_LLM_OPTIONS);
  const sc: Scenario = { llm, turns: [], lifecycle: [], subagents: [] };
  const fates = new Map<string, SessionFate>();
  let gw: Gateway | undefined;
  try {
    const home = await createOpenClawHome({
      dir: path.join(work, "home"),
      fakeLlmBaseUrl: llm.baseUrl,
      install,
      extraConfig: {
        agents: {
          list: [
            { id: "main", default: true, name: "Main", workspace: "~/.openclaw/workspace" },
            { id: "ops", name: "Ops", workspace: "~/.openclaw/workspace-ops" },
          ],
        },
      },
    });
    mkdirSync(path.join(home.stateDir, "workspace"), { recursive: true });
    writeFileSync(path.join(home.stateDir, "workspace", "big-notes.md"), bigWorkspaceFile());

    await localTurn(sc, home, "plain", "hello legacy", { trajectory: true, note: "the only turn with a trajectory sidecar" });
    await localTurn(sc, home, "tools", '[[tool:read {"path":"missing-file.md"}]] [[tool:read {"path":"big-notes.md"}]] please read both files', {
      sessionKey: "agent:main:tools",
    });
    await localTurn(sc, home, "flaky", "[[error:500]] this fails once, then works", { sessionKey: "agent:main:flaky" });
    await localTurn(sc, home, "broken", "[[fail:500]] this always fails", { sessionKey: "agent:main:broken", timeoutMs: 240_000 });
    await localTurn(sc, home, "ops", "hello ops", { agent: "ops" });

    gw = await startGateway(home, { env: NO_TRAJECTORY });
    log(`gateway ready on ${gw.port}`);
    const r1 = await gatewayTurn(sc, gw, "web-reset-1", "agent:main:web-reset", "hello via gateway");
    const reset = await gw.call("sessions.reset", { key: "agent:main:web-reset" });
    sc.lifecycle.push({ action: "sessions.reset", key: "agent:main:web-reset", result: reset });
    if (r1.sessionId) fates.set(r1.sessionId, { storage: "reset-archive", note: "sessions/<id>.jsonl.reset.<ts>" });
    await gatewayTurn(sc, gw, "web-reset-2", "agent:main:web-reset", "after the reset");

    const del = await gatewayTurn(sc, gw, "web-delete", "agent:main:web-delete", "this session will be deleted");
    const deleted = await gw.call("sessions.delete", { key: "agent:main:web-delete" });
    sc.lifecycle.push({ action: "sessions.delete", key: "agent:main:web-delete", result: deleted });
    if (del.sessionId) fates.set(del.sessionId, { storage: "deleted-archive", note: "sessions/<id>.jsonl.deleted.<ts>" });

    const spawnTool = llm.requests.at(-1)?.toolNames.includes("sessions_spawn")
      ? '[[tool:sessions_spawn {"task":"say hello from the child"}]]'
      : '[[tool:tool_call {"id":"sessions_spawn","args":{"task":"say hello from the child"}}]]';
    await gatewayTurn(sc, gw, "web-spawn", "agent:main:web-spawn", `${spawnTool} spawn a helper please`, { waitForBackground: true });

    const list = await gw.call("sessions.list", { limit: 200 });
    writeFileSync(path.join(work, "sessions.list.json"), JSON.stringify(list, null, 2));
  } finally {
    if (gw) {
      await gw.stop();
      log("gateway stopped");
    }
    await llm.close();
    writeFileSync(path.join(work, "requests.json"), JSON.stringify(llm.requests, null, 2));
  }
  const seen = new Set(sc.turns.flatMap((t) => t.calls));
  const stray = llm.requests.filter((r) => !seen.has(r.n)).map((r) => r.n);
  if (stray.length) {
    sc.turns.push({ label: "background", via: "background", agentId: "main", sessionKey: "(background)", sessionId: null, clock: "now", message: "", exitCode: null, calls: stray });
  }
  const out = path.join(FIXTURES_DIR, `openclaw-legacy-${version}`);
  copyLegacyState(path.join(work, "home", ".openclaw"), path.join(out, "state"));
  const expected = buildExpected(version, sc, fates, {
    rule: "2026.7-transport",
    derivation: {
      ...COMMON_DERIVATION,
      input: "Σ max(0, prompt_tokens − prompt_tokens_details.cached_tokens) — 2026.7.35 parses OpenAI-completions usage with its own transport (`parseTransportChunkUsage`), which IGNORES `cache_write_tokens`: they stay in `input` (verified: prompt 8611, cached 1000, cache_write 500 → stored input 7611, cacheWrite 0).",
      cacheWrite: "Always 0 on 2026.7.35 (see input), although the fake LLM reported 500 cache-write tokens per call.",
      costUsd: "Σ per-call cost like 2026.7.35's `calculateCost`: 3/1e6×input + 15/1e6×output + 0.3/1e6×cacheRead + 3.75/1e6×cacheWrite (always 0 here) — note rate/1e6×tokens, not tokens×rate/1e6 as in 2026.9; the float results differ in the last bits. Stored unrounded; the sum is rounded to 12 decimals.",
      sessionsWithUsage: "Distinct (agent, session key, session id) with at least one call with usage. Legacy prompts carry no runtime line: the session id comes from `agent --json` output (local turns) or the Gateway's `agent.wait` receipt; subagent calls are recognised by their `[Subagent Context]` block.",
    },
    recordedDifferences: [
      "cache_write_tokens are not recognised by 2026.7.35's OpenAI-completions transport: every call's 500 cache-write tokens are stored (and priced) as `input`, `cacheWrite` is 0. expected.json follows what OpenClaw records.",
      "Failed HTTP calls that OpenClaw retries successfully (turn `flaky`: 1 × HTTP 500 with the same prompt, then 200) leave no assistant message and no usage in the transcript.",
      "A turn whose every attempt fails (turn `broken`: 3 × HTTP 500 on 2026.7.35) is recorded as ONE assistant message with `content: []`, all-zero usage, `stopReason: \"error\"`, `errorMessage`, `errorType`, `errorBody` (no `errorCode`, no `idempotencyKey`, no `__openclaw`). 0 tokens, 0 USD; its session id is not known to the script (`agent --json` printed nothing).",
      "`*.trajectory.jsonl` (turn `plain` only) repeats the run's usage in `model.completed` events; it is a sidecar, not a session, and is not counted.",
      "The reset session's first window survives as `<id>.jsonl.reset.<ts>`; the deleted session as `<id>.jsonl.deleted.<ts>`. Both count.",
    ],
  });
  writeFileSync(path.join(out, "expected.json"), `${JSON.stringify(expected, null, 2)}\n`);
  log(`wrote ${out} (${(duSize(out) / 1024).toFixed(0)} KiB)`);
}

// ---------------------------------------------------------------------------------------------------------
// Cross-check (informational): read the produced stores the way a reader would and compare with expected.json.

type Usage = { input?: number; output?: number; cacheRead?: number; cacheWrite?: number; totalTokens?: number; cost?: { total?: number } };
type Seen = { id: string; where: string; usage: Usage; provider: string; responseId: string | null };

function assistantUsages(events: unknown[], where: string, into: Seen[]): void {
  for (const e of events as { type?: string; id?: string; message?: { role?: string; usage?: Usage; provider?: string; responseId?: string } }[]) {
    if (e?.type === "message" && e.message?.role === "assistant" && e.message.usage) {
      into.push({ id: e.id ?? "?", where, usage: e.message.usage, provider: e.message.provider ?? "?", responseId: e.message.responseId ?? null });
    }
  }
}

function parseLines(text: string): unknown[] {
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown);
}

function crossCheck(fixture: string): void {
  const expected = JSON.parse(readFileSync(path.join(fixture, "expected.json"), "utf8")) as {
    transcriptTotals: Omit<Totals, "llmRequests" | "failedLlmCalls">;
    calls: CallFigures[];
  };
  const state = path.join(fixture, "state");
  const seen: Seen[] = [];
  for (const agent of readdirSync(path.join(state, "agents"))) {
    const dbPath = path.join(state, "agents", agent, "agent", "openclaw-agent.sqlite");
    const sessionsDir = path.join(state, "agents", agent, "sessions");
    if (existsSync(dbPath)) {
      const db = new DatabaseSync(dbPath, { readOnly: true });
      const rows = db.prepare("select session_id, seq, event_json, event_zstd from transcript_events order by session_id, seq").all() as {
        session_id: string;
        event_json: string | null;
        event_zstd: Uint8Array | null;
      }[];
      assistantUsages(
        rows.map((r) => JSON.parse(r.event_json ?? zlib.zstdDecompressSync(Buffer.from(r.event_zstd!)).toString("utf8")) as unknown),
        `${agent}:hot`,
        seen,
      );
      for (const a of db.prepare("select archive_name, encoding, archive_blob from session_transcript_archives").all() as {
        archive_name: string;
        encoding: string;
        archive_blob: Uint8Array;
      }[]) {
        const buf = Buffer.from(a.archive_blob);
        assistantUsages(parseLines((a.encoding === "zstd" ? zlib.zstdDecompressSync(buf) : buf).toString("utf8")), `${agent}:archive:${a.archive_name}`, seen);
      }
      for (const c of db.prepare("select archive_name, storage, archive_blob from session_transcript_cold_archives").all() as {
        archive_name: string;
        storage: string;
        archive_blob: Uint8Array | null;
      }[]) {
        const buf = c.storage === "file" ? readFileSync(path.join(sessionsDir, "cold", c.archive_name)) : Buffer.from(c.archive_blob!);
        const lines = parseLines(zlib.zstdDecompressSync(buf).toString("utf8")) as { kind?: string; row?: { event_json?: string; event_zstd?: string } }[];
        const events = lines
          .filter((l) => l.kind === "event")
          .map((l) => JSON.parse(l.row?.event_json ?? zlib.zstdDecompressSync(Buffer.from(l.row?.event_zstd ?? "", "base64")).toString("utf8")) as unknown);
        assistantUsages(events, `${agent}:cold:${c.archive_name}`, seen);
      }
      db.close();
    } else if (existsSync(sessionsDir)) {
      for (const f of readdirSync(sessionsDir)) {
        if (!/\.jsonl(\.(reset|deleted)\..+)?$/.test(f) || f.includes(".trajectory.")) continue;
        assistantUsages(parseLines(readFileSync(path.join(sessionsDir, f), "utf8")), `${agent}:file:${f}`, seen);
      }
    }
  }
  const real = seen.filter((s) => s.provider !== "openclaw");
  const byId = new Map<string, Seen>();
  for (const s of real) if (!byId.has(s.id)) byId.set(s.id, s);
  const sum = (xs: Seen[]) => ({
    messages: xs.length,
    withTokens: xs.filter((x) => (x.usage.totalTokens ?? 0) > 0).length,
    input: xs.reduce((a, x) => a + (x.usage.input ?? 0), 0),
    output: xs.reduce((a, x) => a + (x.usage.output ?? 0), 0),
    cacheRead: xs.reduce((a, x) => a + (x.usage.cacheRead ?? 0), 0),
    cacheWrite: xs.reduce((a, x) => a + (x.usage.cacheWrite ?? 0), 0),
    totalTokens: xs.reduce((a, x) => a + (x.usage.totalTokens ?? 0), 0),
    costUsd: round12(xs.reduce((a, x) => a + (x.usage.cost?.total ?? 0), 0)),
  });
  const deduped = sum([...byId.values()]);
  const e = expected.transcriptTotals;
  const ok =
    deduped.withTokens === e.llmCallsWithUsage &&
    deduped.input === e.input &&
    deduped.output === e.output &&
    deduped.cacheRead === e.cacheRead &&
    deduped.cacheWrite === e.cacheWrite &&
    deduped.totalTokens === e.totalTokens &&
    Math.abs(deduped.costUsd - e.costUsd) < 1e-9;
  log(`cross-check ${path.basename(fixture)}: ${ok ? "OK" : "MISMATCH"}`);
  log(`  expected in transcripts (request log): ${JSON.stringify({ calls: e.llmCallsWithUsage, input: e.input, output: e.output, cacheRead: e.cacheRead, cacheWrite: e.cacheWrite, totalTokens: e.totalTokens, costUsd: e.costUsd })}`);
  log(`  store, deduped by event id: ${JSON.stringify(deduped)}`);
  log(`  store, every copy counted:  ${JSON.stringify(sum(real))}`);
  log(`  transcript-only openclaw assistant messages (gateway-injected/delivery-mirror): ${seen.length - real.length}`);
  // Per call: the fake LLM answers with id `chatcmpl-<n>`, which OpenClaw stores as `responseId`.
  const stored = new Map<string, Seen[]>();
  for (const x of real) if (x.responseId) stored.set(x.responseId, [...(stored.get(x.responseId) ?? []), x]);
  for (const c of expected.calls.filter((c) => c.status === 200)) {
    if (!c.inTranscript) {
      log(`  call ${c.n} (${c.turn}): not expected in any transcript; ${stored.has(`chatcmpl-${c.n}`) ? "FOUND anyway" : "absent, as expected"}`);
      continue;
    }
    const copies = stored.get(`chatcmpl-${c.n}`) ?? [];
    const first = copies[0]?.usage;
    const same = first && first.input === c.input && first.output === c.output && first.cacheRead === c.cacheRead && first.cacheWrite === c.cacheWrite && first.cost?.total === c.costUsd;
    if (copies.length !== 1 || !same) {
      log(`  call ${c.n} (${c.turn}): ${copies.length} stored copies${copies.length ? ` [${copies.map((x) => x.where).join(" | ")}]` : ""}${first && !same ? `, usage differs: ${JSON.stringify(first)}` : ""}`);
    }
  }
  for (const x of real.filter((x) => !x.responseId || !expected.calls.some((c) => `chatcmpl-${c.n}` === x.responseId))) {
    log(`  stored assistant message without a matching call: ${x.where} ${x.id} ${JSON.stringify(x.usage)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const doCurrent = only === undefined || only === "current";
  const doLegacy = only === undefined || only === "legacy";
  if (!verifyOnly) {
    const work = mkdtempSync(path.join(os.tmpdir(), "clawtower-fixtures-"));
    log(`scratch dir ${work}`);
    try {
      if (doCurrent) {
        const install = await ensureOpenClaw(CURRENT_VERSION, { log });
        await makeCurrent(install, path.join(work, "current"));
      }
      if (doLegacy) {
        const install = await ensureOpenClaw(LEGACY_VERSION, { log });
        await makeLegacy(install, path.join(work, "legacy"));
      }
    } finally {
      if (!keep) rmSync(work, { recursive: true, force: true });
      else log(`kept ${work}`);
    }
  }
  if (doCurrent && existsSync(path.join(FIXTURES_DIR, `openclaw-${CURRENT_VERSION}`))) crossCheck(path.join(FIXTURES_DIR, `openclaw-${CURRENT_VERSION}`));
  if (doLegacy && existsSync(path.join(FIXTURES_DIR, `openclaw-legacy-${LEGACY_VERSION}`))) crossCheck(path.join(FIXTURES_DIR, `openclaw-legacy-${LEGACY_VERSION}`));
}

await main();
