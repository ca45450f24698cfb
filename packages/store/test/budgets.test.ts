import assert from "node:assert/strict";
import path from "node:path";
import { after, it } from "node:test";
import { budgetPeriodOf, createPriceBook, loadBundledPrices } from "@clawtower/core";
import { FixtureHome, describeStore, storeTargets, tmpDir, type FixtureSession } from "@clawtower/testkit";
import {
  BudgetEventError,
  BudgetValidationError,
  budgetsForDeployment,
  effectiveBudgets,
  listBudgetEvents,
  listBudgets,
  openStore,
  recordBudgetEvents,
  removeBudget,
  setBudget,
  syncHome,
  type StoreConnection,
} from "../src/index.ts";

const H = 3_600_000;
const NOW = Date.parse("2026-11-21T12:00:00Z");
const T0 = Date.parse("2026-11-20T10:00:00Z");

type Tagged = { s: FixtureSession; deployment: string; agent: string; channel: string | null; kind: string; cronJob: string | null };

/**
 * Two gateways' homes with sessions of known kind, channel and cron job; calls every 3 hours from T0 (some before
 * the Berlin day of NOW, some in it), recorded costs exact in nanos, and unpriced calls on a model no price book knows.
 */
function buildFleet(dir: string) {
  const tagged: Tagged[] = [];
  const homes: { deployment: string; home: string }[] = [];
  for (const deployment of ["gw-a", "gw-b"]) {
    const fx = new FixtureHome();
    const sessions: Omit<Tagged, "s" | "deployment">[] = [
      { agent: "main", channel: "telegram", kind: "direct", cronJob: null },
      { agent: "main", channel: null, kind: "cron", cronJob: "nightly" },
      { agent: "ops", channel: "discord", kind: "group", cronJob: null },
    ];
    sessions.forEach((t, i) => {
      const key = t.kind === "cron" ? `agent:${t.agent}:cron:${t.cronJob}:run:r${i}` : `agent:${t.agent}:${t.channel}:${t.kind}:peer${i}`;
      const s = fx.agent(t.agent).session({ store: "sqlite", sessionKey: key, start: T0 + i * 60_000, ...(t.channel ? { channel: t.channel } : {}) });
      for (let k = 0; k < 9; k++) {
        s.at(T0 + i * 60_000 + k * 3 * H);
        s.user(`q${k}`);
        if (k % 4 === 3) s.assistant({ provider: "nowhere", model: "mystery-model", input: 100 + k, output: 10 + i });
        else s.assistant({ provider: "anthropic", model: k % 2 ? "claude-haiku-4-5" : "claude-sonnet-4-5", input: 1000 + k, output: 200 + i, cacheRead: 50, cost: 0.000123 * (k + 1) + 0.000001 * i });
      }
      tagged.push({ s, deployment, ...t });
    });
    const home = path.join(dir, deployment);
    fx.write(home);
    homes.push({ deployment, home });
  }
  return { tagged, homes };
}

/** The expected spend from the fixture's inputs (not from the store). */
function expectedSpend(tagged: Tagged[], from: number, to: number, pick: (t: Tagged, call: { provider: string; model: string }) => boolean) {
  const by = new Map<string, { nanos: number; tokens: number; unpricedTokens: number; calls: number }>();
  for (const t of tagged)
    for (const c of t.s.calls) {
      if (c.ts < from || c.ts >= to || !pick(t, c)) continue;
      const tokens = c.tokens.reduce((a, b) => a + b, 0);
      const d = by.get(t.deployment) ?? { nanos: 0, tokens: 0, unpricedTokens: 0, calls: 0 };
      d.calls++;
      d.tokens += tokens;
      if (c.cost === undefined) d.unpricedTokens += tokens;
      else d.nanos += Math.round(c.cost * 1e9);
      by.set(t.deployment, d);
    }
  return by;
}

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

for (const target of targets) {
  describeStore(target, `fleet budgets (${target.name})`, () => {
    let conn: StoreConnection;
    let tagged: Tagged[];
    it("loads two gateways", async () => {
      conn = await openStore(target.options());
      const fleet = buildFleet(tmpDir());
      tagged = fleet.tagged;
      const prices = createPriceBook([], loadBundledPrices().prices);
      for (const h of fleet.homes) await syncHome(conn, { home: h.home, deploymentId: h.deployment, deploymentName: h.deployment, prices, workers: 0 });
    });

    const cases: { name: string; scope: Record<string, string>; deployment?: string; period: "day" | "week"; tz: string; pick: (t: Tagged, c: { provider: string; model: string }) => boolean }[] = [
      { name: "whole fleet, Berlin day (rollups)", scope: {}, period: "day", tz: "Europe/Berlin", pick: () => true },
      { name: "agent main, Kolkata day (half-hour offset: slot pieces)", scope: { agent: "main" }, period: "day", tz: "Asia/Kolkata", pick: (t) => t.agent === "main" },
      { name: "provider/model on gw-b only, week", scope: { model: "anthropic/claude-haiku-4-5" }, deployment: "gw-b", period: "week", tz: "UTC", pick: (t, c) => t.deployment === "gw-b" && c.provider === "anthropic" && c.model === "claude-haiku-4-5" },
      { name: "bare model id", scope: { model: "mystery-model" }, period: "day", tz: "UTC", pick: (_t, c) => c.model === "mystery-model" },
      { name: "channel telegram (sessions)", scope: { channel: "telegram" }, period: "day", tz: "Europe/Berlin", pick: (t) => t.channel === "telegram" },
      { name: "kind group + agent ops", scope: { kind: "group", agent: "ops" }, period: "day", tz: "America/New_York", pick: (t) => t.kind === "group" && t.agent === "ops" },
      { name: "cron job nightly with provider", scope: { cronJob: "nightly", provider: "anthropic" }, period: "week", tz: "Europe/Berlin", pick: (t, c) => t.cronJob === "nightly" && c.provider === "anthropic" },
      { name: "cron job that does not exist", scope: { cronJob: "weekly" }, period: "day", tz: "UTC", pick: () => false },
    ];
    for (const [i, c] of cases.entries()) {
      it(`spend in scope: ${c.name}`, async () => {
        const id = `b-${i}`;
        await setBudget(conn, { id, scope: c.scope, period: c.period, timeZone: c.tz, limitUsd: 0.002, ...(c.deployment ? { deployment: c.deployment } : {}) }, NOW);
        const answer = await effectiveBudgets(conn, c.deployment ?? "gw-a", NOW);
        const eff = answer.budgets.find((b) => b.budget.id === id);
        assert.ok(eff, "budget applies");
        const p = budgetPeriodOf(NOW, c.period, c.tz);
        assert.deepEqual([eff.periodStart, eff.periodEnd, eff.resetsAt], [p.start, p.end, p.end]);
        const want = expectedSpend(tagged, p.start, p.end, c.pick);
        const sum = (k: "nanos" | "tokens" | "unpricedTokens" | "calls") => [...want.values()].reduce((a, d) => a + d[k], 0);
        assert.deepEqual(
          { nanos: eff.spend.nanos, tokens: eff.spend.tokens, unpricedTokens: eff.spend.unpricedTokens, calls: eff.spend.calls },
          { nanos: sum("nanos"), tokens: sum("tokens"), unpricedTokens: sum("unpricedTokens"), calls: sum("calls") },
        );
        assert.deepEqual(eff.byDeployment.map((d) => [d.deployment, d.nanos, d.tokens]), [...want.entries()].sort().map(([d, v]) => [d, v.nanos, v.tokens]));
        assert.ok(sum("calls") === 0 || eff.spend.calls < tagged.reduce((a, t) => a + t.s.calls.length, 0), "the period cuts calls off");
        assert.equal(eff.state, sum("nanos") >= 2_000_000 ? "exceeded" : sum("nanos") >= 1_600_000 ? "warn" : "ok");
        await removeBudget(conn, id);
      });
    }

    it("set upserts by id, lists, applies by deployment, removes; bad input names its field and stores nothing", async () => {
      await setBudget(conn, { id: "x", period: "day", limitUsd: 1 }, NOW);
      await setBudget(conn, { id: "x", period: "month", limitTokens: 5, deployment: "gw-b" }, NOW + 1);
      await setBudget(conn, { id: "y", period: "day", limitUsd: 2 }, NOW);
      const all = await listBudgets(conn);
      assert.deepEqual(all.map((b) => [b.id, b.period, b.deployment]), [["x", "month", "gw-b"], ["y", "day", "*"]]);
      assert.deepEqual((await budgetsForDeployment(conn, "gw-a")).map((b) => b.id), ["y"]);
      assert.deepEqual((await budgetsForDeployment(conn, "gw-b")).map((b) => b.id), ["x", "y"]);
      await assert.rejects(setBudget(conn, { id: "x", period: "day", limitUsd: -1, scope: { agent: "" } }, NOW), (e: Error) => e instanceof BudgetValidationError && /limitUsd/.test(e.message) && /scope\.agent/.test(e.message));
      assert.equal((await listBudgets(conn)).find((b) => b.id === "x")?.period, "month");
      assert.equal(await removeBudget(conn, "x"), true);
      assert.equal(await removeBudget(conn, "x"), false);
      await removeBudget(conn, "y");
    });

    it("budget events: idempotent per (deployment, event id), session id from the session key, bad events refused whole", async () => {
      const main = tagged.find((t) => t.deployment === "gw-a" && t.kind === "direct")!;
      const ev = (id: string, kind: string, at: number) => ({ eventId: id, kind, budgetId: "fleet:daily", periodStart: NOW - H, at, runId: "run-1", sessionKey: main.s.options.sessionKey!, agentId: "main", spentUsd: 1.5, spentTokens: 1200, limitUsd: 1 });
      assert.deepEqual(await recordBudgetEvents(conn, "gw-a", [ev("e1", "block", NOW), ev("e2", "downgrade", NOW + 1)], NOW), { accepted: 2, duplicates: 0 });
      assert.deepEqual(await recordBudgetEvents(conn, "gw-a", [ev("e2", "downgrade", NOW + 1), ev("e3", "warn", NOW + 2)], NOW), { accepted: 1, duplicates: 1 });
      assert.deepEqual(await recordBudgetEvents(conn, "gw-b", [ev("e1", "block", NOW)], NOW), { accepted: 1, duplicates: 0 });
      await assert.rejects(recordBudgetEvents(conn, "gw-a", [ev("e9", "warn", NOW), { ...ev("e10", "explode", NOW) }], NOW), (e: Error) => e instanceof BudgetEventError && /events\[1\]\.kind/.test(e.message));
      const list = await listBudgetEvents(conn, { deployment: "gw-a" });
      assert.deepEqual(list.map((e) => e.eventId), ["e3", "e2", "e1"]);
      assert.equal(list[0]!.sessionId, main.s.sessionId);
      assert.deepEqual((await listBudgetEvents(conn, { kinds: ["block"] })).map((e) => e.deployment).sort(), ["gw-a", "gw-b"]);
      await conn.close();
    });
  });
}
