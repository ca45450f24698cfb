/**
 * One OpenClaw home reached two ways — imported by the local importer (what `npm start` does) and shipped by
 * this plugin's shipper — into one hub counts once: every report over all deployments equals the fixture's
 * independently known totals, whichever path delivers first, and the dashboard's facets name both paths.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, it } from "node:test";
import { createPriceBook } from "@clawtower/core";
import { startHub } from "@clawtower/hub";
import { createApiKey, openStore, syncHome, type StoreConnection } from "@clawtower/store";
import { describeStore, storeTargets, type StoreTarget } from "@clawtower/testkit";
import { runCycle } from "../src/ship/cycle.ts";
import { statePaths } from "../src/state/files.ts";
import { configFor, copyFixture, expectedOf, quietLogger } from "./helpers.ts";

type TestHub = { url: string; key: string; conn: StoreConnection; close(): Promise<void> };
const hubs: TestHub[] = [];
const targets = storeTargets();
after(async () => {
  await Promise.all(hubs.map((h) => h.close()));
  for (const t of targets) await t.cleanup();
});

/** A hub process's parts in this process: a store, a key bound to the plugin's deployment, the HTTP server. */
async function hubOn(target: StoreTarget): Promise<TestHub> {
  const conn = await openStore(target.options());
  const key = (await createApiKey(conn, { deploymentId: "gw-test" }, Date.now())).token;
  const hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: null });
  const h = {
    url: hub.url,
    key,
    conn,
    async close() {
      await hub.close();
      await conn.close();
    },
  };
  hubs.push(h);
  return h;
}

type Totals = { llmCalls: number; toolCalls: number; sessions: number; tokens: Record<string, number>; cost: { total: number } };

async function get<T>(h: TestHub, path: string): Promise<T> {
  const r = await fetch(`${h.url}${path}`);
  assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
  return (await r.json()) as T;
}

function localImport(h: TestHub, home: string) {
  // The CLI's own id for this home (config.ts derives `local-…` from its path); the home id syncHome derives itself.
  return syncHome(h.conn, { home, deploymentId: "local-0123456789ab", deploymentName: `test:${home}`, via: "watch", prices: createPriceBook([], []), workers: 0 });
}

async function ship(h: TestHub, home: string) {
  const r = await runCycle({ stateDir: home, config: configFor(h), openclawRedactPatterns: [], logger: quietLogger, signal: new AbortController().signal, trigger: "test" });
  assert.equal(r.outcome, "ok", JSON.stringify(r));
  assert.equal(r.lines.rejected, 0);
  return r;
}

function assertFixtureTotals(t: Totals, fixture: string, what: string) {
  const want = expectedOf(fixture).transcriptTotals;
  assert.equal(t.llmCalls, want.llmCallsWithUsage, `${what}: LLM calls`);
  assert.deepEqual(t.tokens, { input: want.input, output: want.output, cacheRead: want.cacheRead, cacheWrite: want.cacheWrite, total: want.totalTokens }, `${what}: tokens`);
  assert.ok(Math.abs(t.cost.total - want.costUsd) < 1e-9, `${what}: cost ${t.cost.total} vs ${want.costUsd}`);
  assert.equal(t.toolCalls, want.toolCalls, `${what}: tool calls`);
}

/** Every report the dashboard shows for "All deployments" (no deployment filter), checked against the fixture. */
async function assertCountedOnce(h: TestHub, fixture: string, sessionsAlone: number) {
  const want = expectedOf(fixture).transcriptTotals;
  const summary = await get<{ totals: Totals }>(h, "/api/v1/reports/summary");
  assertFixtureTotals(summary.totals, fixture, "summary");
  assert.equal(summary.totals.sessions, sessionsAlone, "summary: sessions, as one path alone counts them");
  // A range that is not whole days: answered from hour / slot rollups and call edges instead of day rollups.
  const ranged = await get<{ totals: Totals }>(h, `/api/v1/reports/summary?since=${encodeURIComponent("2020-01-01T00:07:00Z")}`);
  assertFixtureTotals(ranged.totals, fixture, "summary since an odd minute");
  const daily = await get<{ periods: { llmCalls: number; tokens: { total: number } }[] }>(h, "/api/v1/reports/daily");
  assert.equal(daily.periods.reduce((s, r) => s + r.llmCalls, 0), want.llmCallsWithUsage, "daily: calls");
  assert.equal(daily.periods.reduce((s, r) => s + r.tokens.total, 0), want.totalTokens, "daily: tokens");
  for (const path of ["/api/v1/reports/models", "/api/v1/reports/agents"]) {
    const r = await get<{ rows: { llmCalls: number; tokens: { total: number } }[] }>(h, path);
    assert.equal(r.rows.reduce((s, x) => s + x.llmCalls, 0), want.llmCallsWithUsage, `${path}: calls`);
    assert.equal(r.rows.reduce((s, x) => s + x.tokens.total, 0), want.totalTokens, `${path}: tokens`);
  }
  const ts = await get<{ points: { llmCalls: number }[] }>(h, "/api/v1/reports/timeseries?bucket=hour");
  const tsCalls = ts.points.reduce((s, v) => s + v.llmCalls, 0);
  assert.equal(tsCalls, want.llmCallsWithUsage, "timeseries: calls");
  const sessions = await get<{ total: number; sessions: { sessionId: string }[] }>(h, "/api/v1/sessions?limit=500");
  assert.equal(sessions.total, sessionsAlone, "sessions list");
  // The session search finds each session once (a deployment that gave way left no search entries behind).
  for (const s of sessions.sessions.slice(0, 3)) {
    const found = await get<{ sessions: { sessionId: string }[] }>(h, `/api/v1/sessions?limit=50&q=${encodeURIComponent(s.sessionId)}`);
    assert.deepEqual(found.sessions.map((x) => x.sessionId), [s.sessionId], `search ${s.sessionId}`);
  }
  const facets = await get<{ deployments: { id: string; paths: { via: string; name: string }[] }[] }>(h, "/api/v1/facets");
  assert.equal(facets.deployments.length, 1, `one deployment for the home: ${JSON.stringify(facets.deployments)}`);
  assert.deepEqual(facets.deployments[0]!.paths.map((p) => p.via).sort(), ["plugin", "watch"]);
}

async function sessionsOneWay(target: StoreTarget, fixture: string, how: "local" | "plugin"): Promise<number> {
  const h = await hubOn(target);
  const home = copyFixture(fixture);
  if (how === "local") await localImport(h, home);
  else await ship(h, home);
  const s = await get<{ totals: Totals }>(h, "/api/v1/reports/summary");
  assertFixtureTotals(s.totals, fixture, `${how} alone`);
  return s.totals.sessions;
}

for (const target of targets) {
  for (const fixture of ["openclaw-2026.9.6", "openclaw-legacy-2026.7.35"]) {
    describeStore(target, `${target.name}, ${fixture}: imported locally and shipped by the plugin into one hub`, () => {
      it("counts once when the local import comes first", async () => {
        const alone = await sessionsOneWay(target, fixture, "local");
        assert.equal(await sessionsOneWay(target, fixture, "plugin"), alone, "both paths alone see the same sessions");
        const h = await hubOn(target);
        const home = copyFixture(fixture);
        await localImport(h, home);
        await ship(h, home);
        await localImport(h, home); // and the live import keeps running
        await assertCountedOnce(h, fixture, alone);
      });

      it("counts once when the plugin ships first", async () => {
        const alone = await sessionsOneWay(target, fixture, "local");
        const h = await hubOn(target);
        const home = copyFixture(fixture);
        await ship(h, home);
        await localImport(h, home);
        await ship(h, home);
        await assertCountedOnce(h, fixture, alone);
      });

      // Stores both paths filled before homes were recorded: two deployments, each complete. Forgetting the
      // home between the two paths' first writes makes exactly that.
      const forgetHomes = async (h: TestHub) => {
        await h.conn.db.updateTable("deployments").set({ home_id: null }).execute();
        await h.conn.db.deleteFrom("deployment_paths").execute();
      };

      it("counts once after both paths wrote apart, local import first", async () => {
        const alone = await sessionsOneWay(target, fixture, "local");
        const h = await hubOn(target);
        const home = copyFixture(fixture);
        await localImport(h, home);
        await forgetHomes(h);
        await ship(h, home);
        await localImport(h, home);
        await ship(h, home);
        await assertCountedOnce(h, fixture, alone);
      });

      it("counts once after both paths wrote apart, plugin first", async () => {
        const alone = await sessionsOneWay(target, fixture, "local");
        const h = await hubOn(target);
        const home = copyFixture(fixture);
        await ship(h, home);
        await forgetHomes(h);
        await localImport(h, home);
        // The plugin names its home on its next upload after the upgrade; a shipper with nothing new sends no
        // request, so have it start over (every line again, all duplicates for its deployment).
        fs.rmSync(statePaths(home).shipState);
        await ship(h, home);
        await localImport(h, home);
        await assertCountedOnce(h, fixture, alone);
      });
    });
  }
}
