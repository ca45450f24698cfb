/**
 * Insights and session health on a home whose figures are computed by hand (testkit's insights-home.ts has the
 * derivations), on SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, it } from "node:test";
import { createPriceBook, loadBundledPrices, type ReportFilters } from "@clawtower/core";
import { buildInsightsHome, describeStore, storeTargets, tmpDir } from "@clawtower/testkit";
import { insightsReport, openStore, sessionReplay, sessionsReport, syncHome, type StoreConnection } from "../src/index.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));
const ALL: ReportFilters = { since: null, until: null, tz: "UTC", agent: null, deployment: null };
const prices = createPriceBook([], loadBundledPrices().prices);
const catalog = loadBundledPrices().prices;

for (const target of targets) {
  describeStore(target, `[${target.name}] insights`, () => {
    let conn: StoreConnection;
    before(async () => {
      const home = path.join(tmpDir(), "home");
      buildInsightsHome().write(home);
      conn = await openStore(target.options());
      await syncHome(conn, { home, deploymentId: "dep", deploymentName: "t", prices, workers: 0 });
    });
    after(() => conn.close());

    it("model what-ifs: the same tokens at the next cheaper and the cheapest model of the provider", async () => {
      const r = await insightsReport(conn, ALL, prices, catalog, 0);
      const got = r.modelWhatIfs.map((w) => [w.agentId, w.kind, w.model, w.target.model, w.actualNanos, w.basis.recordedNanos, w.basis.estimatedNanos, w.whatIfNanos, w.savingNanos]);
      assert.deepEqual(got, [
        ["main", "main", "claude-opus-5", "claude-sonnet-5", 40_000_000, 40_000_000, 0, 1_460_000, 38_540_000],
        ["main", "main", "claude-opus-5", "claude-opus-5-5", 40_000_000, 40_000_000, 0, 2_860_000, 37_140_000],
        ["main", "cron", "claude-opus-5", "claude-sonnet-5", 35_375_000, 0, 35_375_000, 14_150_000, 21_225_000],
        ["main", "cron", "claude-opus-5", "claude-opus-5-5", 35_375_000, 0, 35_375_000, 27_900_000, 7_475_000],
        ["ops", "main", "claude-opus-5", "claude-sonnet-5", 3_000_000, 0, 3_000_000, 1_200_000, 1_800_000],
        ["ops", "subagent", "claude-opus-5", "claude-sonnet-5", 1_250_000, 0, 1_250_000, 500_000, 750_000],
        ["ops", "main", "claude-opus-5", "claude-opus-5-5", 3_000_000, 0, 3_000_000, 2_400_000, 600_000],
        ["ops", "subagent", "claude-opus-5", "claude-opus-5-5", 1_250_000, 0, 1_250_000, 1_000_000, 250_000],
      ]);
      const cron = r.modelWhatIfs[2]!;
      assert.deepEqual(cron.sessions.map((s) => [s.sessionId, s.costNanos, s.link]), [["sess-a", 32_375_000, "/sessions/dep/main/sess-a"], ["sess-b", 3_000_000, "/sessions/dep/main/sess-b"]]);
    });

    it("cache: hit rates, ideal savings and writes never read back", async () => {
      const r = await insightsReport(conn, ALL, prices, catalog, 0);
      assert.deepEqual(
        r.cache.hitRates.map((h) => [h.agentId, h.model, h.tokens.input, h.tokens.cacheRead, h.tokens.cacheWrite, h.hitRate, h.inputAfterFirstCall, h.idealSavingNanos]),
        [
          ["main", "claude-opus-5", 2500, 2300, 2900, 2300 / 7700, 900, 4_050_000],
          ["ops", "claude-opus-5", 600, 0, 0, 0, 400, 1_800_000],
          ["main", "claude-sonnet-5", 1000, 0, 0, 0, 900, 1_620_000],
        ],
      );
      assert.deepEqual(r.cache.unreadWrites.map((u) => [u.agentId, u.model, u.tokens, u.costNanos, u.sessions.map((s) => [s.sessionId, s.costNanos])]), [["main", "claude-opus-5", 900, 5_625_000, [["sess-a", 5_625_000]]]]);
    });

    it("cron: cost per run and failing runs per job", async () => {
      const r = await insightsReport(conn, ALL, prices, catalog, 0);
      assert.deepEqual(
        r.cron.map((j) => [j.agentId, j.job, j.runs, j.costNanos, j.costPerRunNanos, j.failingRuns, j.failingCostNanos, j.failingSessions.map((s) => s.sessionId)]),
        [["main", "nightly", 2, 35_375_000, 17_687_500, 1, 3_000_000, ["sess-b"]]],
      );
    });

    it("context: sessions that grow without compaction and the cost of the growth", async () => {
      const r = await insightsReport(conn, ALL, prices, catalog, 0);
      assert.deepEqual(
        r.context.map((c) => [c.sessionId, c.calls, c.firstPromptTokens, c.maxPromptTokens, c.excessTokens, c.excessNanos, c.costNanos]),
        [["sess-c", 4, 100, 300, 400, 875_000, 40_000_000]],
      );
    });

    it("tools: error hot spots and the spend of turns whose tools failed", async () => {
      const r = await insightsReport(conn, ALL, prices, catalog, 0);
      assert.deepEqual(r.tools.hotSpots.map((h) => [h.agentId, h.tool, h.calls, h.errors, h.errorRate, h.sessions.map((s) => [s.sessionId, s.errors])]), [["ops", "exec", 3, 2, 2 / 3, [["sess-d", 2]]]]);
      assert.deepEqual(r.tools.errorTurnSpend.map((t) => [t.agentId, t.calls, t.costNanos]), [["ops", 2, 1_500_000]]);
      assert.equal(r.largePrompts.available, false);
    });

    it("filters: an agent and a time range narrow every insight", async () => {
      const r = await insightsReport(conn, { ...ALL, agent: "main", since: Date.UTC(2026, 10, 20, 9, 30) }, prices, catalog, 0);
      // Only B (10:00) and C (11:00) of agent main start after 09:30 (A and F ran at 09:00).
      assert.deepEqual(r.cron.map((j) => [j.job, j.runs, j.costNanos]), [["nightly", 1, 3_000_000]]);
      assert.deepEqual(r.tools.hotSpots, []);
      assert.deepEqual(r.context.map((c) => c.sessionId), ["sess-c"]);
    });

    it("the same store gives the same report", async () => {
      assert.deepEqual(await insightsReport(conn, ALL, prices, catalog, 0), await insightsReport(conn, ALL, prices, catalog, 0));
    });

    it("session health on the sessions list and the replay", async () => {
      const list = await sessionsReport(conn, ALL, { sort: "last" }, 0);
      const health = Object.fromEntries(list.sessions.map((s) => [s.sessionId, [s.health.status, s.health.flags]]));
      assert.deepEqual(health, {
        "sess-a": ["ok", []],
        "sess-b": ["bad", ["aborted"]],
        "sess-c": ["warn", ["context-bloat"]],
        "sess-d": ["bad", ["tool-loop"]],
        "sess-e": ["bad", ["errored", "retries"]],
        "sess-f": ["ok", []],
      });
      const d = list.sessions.find((s) => s.sessionId === "sess-d")!.health;
      assert.deepEqual([d.toolCalls, d.toolErrors, d.toolLoop], [3, 2, { tool: "exec", length: 3 }]);
      const replay = await sessionReplay(conn, { deploymentId: "dep", agentId: "ops", sessionId: "sess-e" }, { offset: 0, limit: 10 });
      assert.deepEqual([replay!.session.health.errored, replay!.session.health.retries], [1, 1]);
    });
  });
}
