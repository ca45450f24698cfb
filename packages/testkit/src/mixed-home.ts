/**
 * The standard mixed fixture: every store format and every bad-input kind in one OpenClaw home, with the
 * totals a correct reader must report. Used by store, CLI and hub tests.
 *
 *   agent main   (SQLite store, 2026.9 layout)
 *     s-chat     live rows, json + zstd rows (a 200 KB tool result), tool calls with error, a bridge tool_call
 *     s-sub      subagent session, with a legacy JSONL copy of the same events (migration leftover: counted once)
 *     s-deleted  only in session_transcript_archives (+ the derived .zst export file next to it)
 *     s-cold     only in a cold archive file (+ a stale, unreferenced cold file that must not count)
 *     s-mirror   delivery-mirror and zero-usage artifacts, an estimated-cost call (config price), an unpriced call
 *     s-fork     an operator fork of s-chat: verbatim copies of its events (counted once, in s-chat) + one new call
 *   agent legacy (OpenClaw ≤ 2026.7 JSONL layout)
 *     l-live     sessions/<sid>.jsonl with every bad-input kind
 *     l-reset    <sid>.jsonl.reset.<ts>
 *     l-deleted  <sid>.jsonl.deleted.<ts>
 *     + a .trajectory.jsonl sidecar (not a session), a dangling .jsonl symlink (unreadable file)
 *   agent broken  a corrupt openclaw-agent.sqlite (unreadable database; other agents still read)
 */
import { FixtureHome } from "./fixture-builder.ts";

export const CONFIG_PRICE = { provider: "openrouter", model: "moonshotai/kimi-k2", input: 0.6, output: 2.5, cacheRead: 0.15, cacheWrite: 0.6 };

export type MixedHome = { home: FixtureHome; estimatedUsd: number; unpricedCalls: number; unpricedTokens: number; hugeLineBytes: number };

const DAY = 86_400_000;

export function buildMixedHome(): MixedHome {
  const home = new FixtureHome();
  home.providers = {
    openrouter: {
      baseUrl: "https://openrouter.ai/api/v1",
      api: "openai-completions",
      models: [{ id: CONFIG_PRICE.model, cost: { input: CONFIG_PRICE.input, output: CONFIG_PRICE.output, cacheRead: CONFIG_PRICE.cacheRead, cacheWrite: CONFIG_PRICE.cacheWrite } }],
    },
  };
  const t0 = Date.UTC(2026, 10, 18, 22, 30, 0);

  const main = home.agent("main");
  const chat = main.session({ store: "sqlite", sessionKey: "agent:main:main", start: t0, skills: ["weather", "github"] });
  chat.modelChange("anthropic", "claude-sonnet-4-5");
  chat.user("what's in the repo?");
  let [call] = chat.assistant({ input: 1200, output: 80, cacheRead: 9000, cacheWrite: 400, cost: 0.012345, toolCalls: [{ name: "read", args: { path: "README.md" } }] });
  chat.toolResult(call!, "read", { bytes: 200_000 });
  [call] = chat.assistant({ input: 300, output: 45, cacheRead: 10_400, cacheWrite: 0, cost: 0.004501, toolCalls: [{ name: "exec", args: { cmd: "ls" } }] });
  chat.toolResult(call!, "exec", { isError: true, text: "permission denied" });
  chat.at(t0 + DAY); // next day (UTC) — exercises byDay
  chat.user("spawn a helper");
  [call] = chat.assistant({ input: 500, output: 60, cost: 0.0021, toolCalls: [{ name: "tool_call", args: { id: "sessions_spawn", args: { task: "x" } } }] });
  chat.toolResult(call!, "tool_call");
  chat.assistant({ input: 700, output: 120, cacheRead: 11_000, cost: 0.0071, text: "x".repeat(3000) }); // ≥ 1 KiB → zstd row
  chat.custom("compaction", { summary: "…", firstKeptEntryId: "x", tokensBefore: 20000 });

  // An operator fork of the chat: verbatim copies of its events, then one new call of its own.
  const fork = main.session({ store: "sqlite", sessionKey: "agent:main:dashboard:fork-1", forkOf: chat, createdVia: "operator", start: t0 + 2 * DAY });
  fork.at(t0 + 2 * DAY + 60_000);
  fork.user("continue from here");
  fork.assistant({ input: 900, output: 30, cacheRead: 20_000, cost: 0.0052 });

  const sub = main.session({ store: "sqlite", copies: ["legacy"], sessionKey: "agent:main:subagent:abc", createdVia: "spawn", spawnedBy: "agent:main:main", start: t0 + 3_600_000 });
  sub.user("task x");
  sub.assistant({ provider: "openai", model: "gpt-5.2", input: 2000, output: 300, cacheRead: 0, cost: 0.0055 });

  const deleted = main.session({ store: "sqlite-archive", sessionKey: "agent:main:explicit:old", start: t0 - 2 * DAY });
  deleted.user("old question");
  deleted.assistant({ input: 100, output: 10, cost: 0.0004 });

  const cold = main.session({ store: "cold", sessionKey: "agent:main:telegram:group:42", chatType: "group", channel: "telegram", start: t0 - 40 * DAY });
  cold.user("group hello");
  [call] = cold.assistant({ input: 800, output: 90, cacheRead: 1000, cost: 0.0033, toolCalls: [{ name: "web_search", args: { q: "x" } }] });
  cold.toolResult(call!, "web_search", { bytes: 12_000 });
  cold.assistant({ input: 900, output: 40, cost: 0.0029 });
  // A stale cold file no table row references (left behind by a restore): must not be read.
  main.extraFiles.set("sessions/cold/" + "0".repeat(64) + ".jsonl.zst", Buffer.from("not even zstd"));

  const mirror = main.session({ store: "sqlite", sessionKey: "cron:nightly", createdVia: "cron", start: t0 + 2 * 3_600_000 });
  mirror.user("cron tick");
  mirror.assistant({ deliveryMirror: true, text: "mirrored text" }); // artifact: not a call
  mirror.assistant({ provider: CONFIG_PRICE.provider, model: CONFIG_PRICE.model, input: 10_000, output: 2_000, cacheRead: 40_000, cacheWrite: 1_000 }); // estimated
  mirror.assistant({ provider: "local", model: "mystery-llm-7b", input: 5000, output: 700, cost: 0 }); // recorded 0 with tokens → unpriced
  mirror.assistant({ provider: "anthropic", model: "claude-sonnet-4-5", stopReason: "error", input: 0, output: 0 }); // failed call, zero usage

  // Two calls are priced from the operator's config: the cron call below, and the legacy call whose usage
  // has NaN/negative/infinite fields (only its 25 output tokens count).
  const estimatedUsd =
    (10_000 * CONFIG_PRICE.input + 2_000 * CONFIG_PRICE.output + 40_000 * CONFIG_PRICE.cacheRead + 1_000 * CONFIG_PRICE.cacheWrite) / 1e6 +
    (25 * CONFIG_PRICE.output) / 1e6;

  const legacy = home.agent("legacy");
  const live = legacy.session({ store: "legacy", sessionKey: "agent:legacy:main", start: t0 + 5 * 3_600_000, channel: "whatsapp" });
  live.user("hi");
  live.assistant({ provider: "google", model: "gemini-2.5-pro", input: 4000, output: 500, cacheRead: 0, cost: 0.01 });
  live.raw("", "blank-line");
  live.raw('{"type":"message","message":{"role":"user","content":"broken', "invalid-json");
  live.assistantRawUsage('{"input":NaN,"output":25,"cacheRead":-4,"cacheWrite":Infinity}', { provider: CONFIG_PRICE.provider, model: CONFIG_PRICE.model, tokens: [0, 25, 0, 0], invalidFields: 3 });
  live.custom("quantum_event", { note: "from the future" });
  live.assistant({ noUsage: true });
  const hugeLineBytes = 3 * 1024 * 1024;
  live.user("y".repeat(hugeLineBytes)); // a 3 MB line is read, not skipped
  live.assistant({ provider: "google", model: "gemini-2.5-pro", input: 6000, output: 100, cost: 0.0081 });
  live.raw('{"type":"message","message":{"role":"assistant","usage":{"input":', "truncated-line"); // last line, no newline

  const reset = legacy.session({ store: "legacy-reset", start: t0 - 3 * DAY });
  reset.user("before reset");
  reset.assistant({ provider: "google", model: "gemini-2.5-pro", input: 1500, output: 150, cost: 0.0025 });
  const del = legacy.session({ store: "legacy-deleted", start: t0 - 4 * DAY });
  del.user("soon deleted");
  del.assistant({ provider: "google", model: "gemini-2.5-pro", input: 1100, output: 110, cost: 0.0018 });
  legacy.extraFiles.set("sessions/ffff.trajectory.jsonl", '{"traceSchema":"openclaw-trajectory","type":"tool.call"}\n');
  legacy.extraFiles.set("sessions/dangling.jsonl", { symlinkTo: "/nonexistent/clawtower/target.jsonl" });
  home.fileProblems["unreadable-file"] = 1;

  home.agent("broken").corruptDatabase = true;
  home.fileProblems["unreadable-database"] = 1;

  return { home, estimatedUsd, unpricedCalls: 1, unpricedTokens: 5700, hugeLineBytes };
}
