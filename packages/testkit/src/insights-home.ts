/**
 * A home whose insights are computed by hand (below, from the bundled prices per 1M tokens:
 * anthropic/claude-opus-5 input 5, output 25, cacheRead 0.5, cacheWrite 6.25; claude-opus-5-5 4 / 20 / 0.2 / 5;
 * claude-sonnet-5 2 / 10 / 0.2 / 2.5). n tokens at p USD per 1M tokens cost n × p × 1000 nano-dollars.
 *
 *   A  main, cron "nightly" run 1   opus-5, estimated   (i, o, cr, cw) = (1000,100,0,2000) (200,50,2000,500) (300,80,0,400)
 *        costs 20,000,000 + 6,375,000 + 6,000,000 = 32,375,000; the last cache read is call 2, so the writes of
 *        calls 2 and 3 (900 tokens) were never read back
 *   B  main, cron "nightly" run 2   opus-5, estimated   (500,20,0,0) aborted: 3,000,000
 *   C  main, main                    opus-5, recorded $0.01 each: (100,10,0,0) (50,10,100,0) (100,10,150,0) (250,10,50,0)
 *        prompts 100, 150, 250, 300 — no compaction: excess over the first 50 + 150 + 200 = 400 tokens, taken from the
 *        cache reads first: cache read 50 + 150 + 50 = 250, input 0 + 0 + 150 = 150
 *   D  ops, main                     opus-5, estimated   4 × (100,10,0,0); calls 1-3 run `exec {"cmd":"ls"}`, the
 *        first two fail: a loop of 3; 750,000 per call
 *   E  ops, subagent                 opus-5, estimated   (100,0,0,0) stop error, then (100,10,0,0): one retry
 *   F  main, main                    sonnet-5 (no cheaper anthropic model): grows, but compacts — no context insight
 */
import { FixtureHome } from "./fixture-builder.ts";

export const INSIGHTS_T0 = Date.UTC(2026, 10, 20, 9, 0, 0);

export function buildInsightsHome() {
  const home = new FixtureHome();
  const main = home.agent("main");
  const ops = home.agent("ops");
  const opus = { provider: "anthropic", model: "claude-opus-5" };
  const a = main.session({ store: "legacy", sessionId: "sess-a", sessionKey: "agent:main:cron:nightly", start: INSIGHTS_T0 });
  a.user("run");
  a.assistant({ ...opus, input: 1000, output: 100, cacheRead: 0, cacheWrite: 2000 });
  a.assistant({ ...opus, input: 200, output: 50, cacheRead: 2000, cacheWrite: 500 });
  a.assistant({ ...opus, input: 300, output: 80, cacheRead: 0, cacheWrite: 400 });
  const b = main.session({ store: "legacy", sessionId: "sess-b", sessionKey: "agent:main:cron:nightly:run:2", start: INSIGHTS_T0 + 3_600_000 });
  b.user("run");
  b.assistant({ ...opus, input: 500, output: 20, stopReason: "aborted" });
  const c = main.session({ store: "legacy", sessionId: "sess-c", sessionKey: "agent:main:main", start: INSIGHTS_T0 + 7_200_000 });
  for (const [i, cr] of [[100, 0], [50, 100], [100, 150], [250, 50]] as const) {
    c.user("more");
    c.assistant({ ...opus, input: i, output: 10, cacheRead: cr, cost: 0.01 });
  }
  const d = ops.session({ store: "legacy", sessionId: "sess-d", sessionKey: "agent:ops:main", start: INSIGHTS_T0 });
  d.user("list");
  for (const fails of [true, true, false]) {
    const [id] = d.assistant({ ...opus, input: 100, output: 10, toolCalls: [{ name: "exec", args: { cmd: "ls" } }] });
    d.toolResult(id!, "exec", { isError: fails });
  }
  d.assistant({ ...opus, input: 100, output: 10 });
  const e = ops.session({ store: "legacy", sessionId: "sess-e", sessionKey: "agent:ops:subagent:e1", start: INSIGHTS_T0 });
  e.user("go");
  e.assistant({ ...opus, input: 100, output: 0, stopReason: "error" });
  e.assistant({ ...opus, input: 100, output: 10 });
  const f = main.session({ store: "legacy", sessionId: "sess-f", sessionKey: "agent:main:explicit:f", start: INSIGHTS_T0 });
  const sonnet = { provider: "anthropic", model: "claude-sonnet-5" };
  f.user("x");
  f.assistant({ ...sonnet, input: 100, output: 10 });
  f.custom("compaction", { summary: "s", firstKeptEntryId: "x", tokensBefore: 100 });
  for (const i of [300, 300, 300]) {
    f.user("y");
    f.assistant({ ...sonnet, input: i, output: 10 });
  }
  return home;
}
