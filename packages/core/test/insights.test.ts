/** Pure insight arithmetic, checked against answers worked out by hand. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildInsightsReport, createPriceBook, cronJobOf, formatUsd, sessionHealth, sessionLink, whatIfTargets, type InsightSessionModelRow, type InsightsInput, type PriceEntry } from "../src/index.ts";

const catalog: PriceEntry[] = [
  { provider: "acme", model: "big", input: 10, output: 40, cacheRead: 1, cacheWrite: 12.5 },
  { provider: "acme", model: "mid", input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  { provider: "acme", model: "mid-b", input: 3, output: 15, cacheRead: 0.3 },
  { provider: "acme", model: "small", input: 1, output: 5, cacheRead: 0.1 },
  { provider: "acme", model: "free", input: 0, output: 0 },
  { provider: "acme", model: "odd", input: 0.5, output: 50 },
  { provider: "other", model: "tiny", input: 0.1, output: 0.2 },
];

describe("what-if targets", () => {
  it("next cheaper (ties by model id) and cheapest, same provider, cheaper on input and output, no placeholders", () => {
    assert.deepEqual(whatIfTargets(catalog[0]!, catalog).map((t) => t.model), ["mid", "small"]);
    assert.deepEqual(whatIfTargets(catalog[3]!, catalog).map((t) => t.model), []);
    // only one cheaper model: one target
    assert.deepEqual(whatIfTargets(catalog[1]!, catalog).map((t) => t.model), ["small"]);
  });
});

describe("session health", () => {
  it("a loop needs the same tool and the same argument size in a row", () => {
    const t = (name: string, argsBytes: number, isError = false) => ({ name, argsBytes, isError });
    const h = sessionHealth([], [t("exec", 10), t("exec", 10), t("exec", 11), t("exec", 11), t("exec", 11), t("read", 11)], 0);
    assert.deepEqual(h.toolLoop, { tool: "exec", length: 3 });
    assert.deepEqual(h.flags, ["tool-loop"]);
    assert.equal(h.status, "bad");
  });
  it("retries follow errors; tool error share needs 4 calls; bloat needs no compaction", () => {
    const c = (promptTokens: number, stopReason: string | null = "stop") => ({ promptTokens, stopReason });
    const calls = [c(100, "error"), c(100, "error"), c(150), c(250)];
    const tools = [{ name: "a", argsBytes: 1, isError: true }, { name: "b", argsBytes: 1, isError: false }, { name: "c", argsBytes: 1, isError: false }, { name: "d", argsBytes: 1, isError: false }];
    const h = sessionHealth(calls, tools, 0);
    assert.deepEqual([h.errored, h.retries, h.toolErrorRatio, h.context], [2, 2, 0.25, { firstPromptTokens: 100, maxPromptTokens: 250, growth: 2.5 }]);
    assert.deepEqual(h.flags, ["errored", "tool-errors", "retries", "context-bloat"]);
    assert.deepEqual(sessionHealth(calls, tools.slice(0, 3), 1).flags, ["errored", "retries"]);
    assert.equal(sessionHealth([c(100)], [], 0).status, "ok");
  });
});

describe("insights report", () => {
  const row = (over: Partial<InsightSessionModelRow>): InsightSessionModelRow => ({
    deploymentId: "d", agentId: "a", sessionId: "s1", sessionKey: "cron:backup:run:1", kind: "cron", status: null, compactions: 0, provider: "acme", model: "big",
    calls: 1, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, pricedInput: 0, pricedOutput: 0, pricedCacheRead: 0, pricedCacheWrite: 0,
    recordedNanos: 0, estimatedNanos: 0, unpricedCalls: 0, unreadCacheWrite: 0, inputAfterFirst: 0, excessCacheRead: 0, excessInput: 0, maxPrompt: 0, firstPrompt: 0, errored: 0, aborted: 0,
    ...over,
  });
  const prices = createPriceBook([], catalog);
  type Parts = Omit<InsightsInput, "prices" | "catalog" | "filters" | "generatedAt">;
  const empty: Parts = { totals: [], costSessions: [], unreadSessions: [], idealSessions: [], cronSessions: [], contextSessions: [], toolTotals: [], toolSessions: [], errorTurnTotals: [], errorTurnSessions: [] };
  const report = (parts: Partial<Parts>) => buildInsightsReport({ ...empty, ...parts, prices, catalog, filters: { since: null, until: null, tz: "UTC", agent: null, deployment: null }, generatedAt: 0 });

  it("re-prices the priced tokens: 1M input + 100k output at mid = $3 + $1.50", () => {
    const total = row({ deploymentId: "", sessionId: "", pricedInput: 1_000_000, pricedOutput: 100_000, input: 1_200_000, output: 100_000, unpricedCalls: 1, recordedNanos: 14_000_000_000 });
    // A session of another group is not listed under this one.
    const r = report({ totals: [total], costSessions: [row({ recordedNanos: 14_000_000_000 }), row({ sessionId: "x", kind: "main", recordedNanos: 1 })] });
    const mid = r.modelWhatIfs.find((w) => w.target.model === "mid")!;
    assert.equal(mid.whatIfNanos, 4_500_000_000);
    assert.equal(mid.savingNanos, 9_500_000_000);
    assert.deepEqual(mid.sessions.map((x) => x.sessionId), ["s1"]);
    // small: $1 + $0.50
    assert.equal(r.modelWhatIfs.find((w) => w.target.model === "small")!.whatIfNanos, 1_500_000_000);
  });

  it("cron runs group by job; a run that ended failed is failing; per-run cost rounds to the nano-dollar", () => {
    const r = report({
      cronSessions: [
        row({ sessionId: "s1", recordedNanos: 1 }),
        row({ sessionId: "s2", sessionKey: "agent:a:cron:backup", recordedNanos: 2, status: "timeout" }),
        row({ sessionId: "s3", sessionKey: "agent:a:cron:other", recordedNanos: 5 }),
      ],
    });
    assert.deepEqual(r.cron.map((j) => [j.job, j.runs, j.costNanos, j.costPerRunNanos, j.failingRuns, j.failingCostNanos]), [["other", 1, 5, 5, 0, 0], ["backup", 2, 3, 2, 1, 2]]);
  });

  it("unread cache writes at the cache-write price; ideal saving at input − cache-read price", () => {
    const r = report({ totals: [row({ kind: "main", input: 2_000_000, cacheWrite: 1000, unreadCacheWrite: 1000, inputAfterFirst: 1_000_000 })] });
    assert.equal(r.cache.unreadWrites[0]!.costNanos, 12_500_000); // 1000 × $12.5 / 1M
    assert.equal(r.cache.hitRates[0]!.idealSavingNanos, 9_000_000_000); // 1M × ($10 − $1) / 1M
  });

  it("dollar texts round half up on the integer nano-dollars", () => {
    assert.deepEqual([formatUsd(14_150_000), formatUsd(4_050_000), formatUsd(1_234_567_890), formatUsd(-5_000), formatUsd(null)], ["$0.0142", "$0.0041", "$1.23", "$0.0000", "unpriced"]);
  });

  it("cron job ids and session links", () => {
    assert.equal(cronJobOf("agent:main:cron:nightly:run:7"), "nightly");
    assert.equal(cronJobOf("agent:main:main"), null);
    assert.equal(sessionLink("dep 1", "a/b", "s"), "/sessions/dep%201/a%2Fb/s");
  });
});
