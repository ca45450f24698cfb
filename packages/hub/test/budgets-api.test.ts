/** The fleet-budget API over HTTP on SQLite and PostgreSQL: who may read and change what, and the spend it reports. */
import assert from "node:assert/strict";
import path from "node:path";
import { after, it } from "node:test";
import { budgetPeriodOf, createPriceBook, loadBundledPrices } from "@clawtower/core";
import { FixtureHome, describeStore, storeTargets, tmpDir } from "@clawtower/testkit";
import { createApiKey, openStore, syncHome, type StoreConnection } from "@clawtower/store";
import type { RunningHub } from "../src/index.ts";
import { call, clock, hubOver, strongToken } from "./hub-over-http.ts";

const NOW = Date.parse("2026-12-01T15:00:00Z");
const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

for (const target of targets) {
  describeStore(target, `budgets API (${target.name})`, () => {
    let conn: StoreConnection;
    let hub: RunningHub;
    const admin = strongToken();
    const keys: Record<string, string> = {};
    let expectedNanos = 0;
    let expectedTokens = 0;
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    after(async () => {
      await hub?.close();
      await conn?.close();
    });

    it("starts a hub with a gateway's calls (some before today in Berlin, some today)", async () => {
      conn = await openStore(target.options());
      const fx = new FixtureHome();
      const s = fx.agent("main").session({ store: "sqlite", sessionKey: "agent:main:telegram:direct:u1" });
      const today = budgetPeriodOf(NOW, "day", "Europe/Berlin");
      for (let k = 0; k < 6; k++) {
        s.at(today.start - 3 * 3_600_000 + k * 2 * 3_600_000);
        s.user(`q${k}`);
        s.assistant({ provider: "anthropic", model: "claude-sonnet-4-5", input: 1000 + k, output: 100, cost: 0.25 * (k + 1) });
      }
      for (const c of s.calls)
        if (c.ts >= today.start && c.ts < today.end) {
          expectedNanos += Math.round(c.cost! * 1e9);
          expectedTokens += c.tokens.reduce((a, b) => a + b, 0);
        }
      assert.ok(expectedNanos > 0 && s.calls.some((c) => c.ts < today.start), "calls on both sides of midnight");
      const home = path.join(tmpDir(), "gw-a");
      fx.write(home);
      await syncHome(conn, { home, deploymentId: "gw-a", deploymentName: "gw-a", prices: createPriceBook([], loadBundledPrices().prices), workers: 0 });
      for (const [name, opts] of Object.entries({
        ingestA: { deploymentId: "gw-a", scopes: ["ingest"] },
        ingestAny: { scopes: ["ingest"] },
        readB: { deploymentId: "gw-b", scopes: ["read"] },
        readAll: { scopes: ["read"] },
        adminKey: { scopes: ["admin"] },
      }))
        keys[name] = (await createApiKey(conn, opts, Date.now())).token;
      hub = await hubOver(conn, { adminToken: admin, clock: clock(NOW) });
    });

    it("PUT needs admin; bad fields are named; the URL's id wins", async () => {
      const body = { scope: { agent: "main" }, period: "day", timeZone: "Europe/Berlin", limitUsd: 2, action: "block" };
      assert.equal((await call(hub, "/api/v1/budgets/main-daily", { method: "PUT", body })).status, 401);
      assert.equal((await call(hub, "/api/v1/budgets/main-daily", { method: "PUT", body, headers: auth(keys["readAll"]!) })).status, 403);
      assert.equal((await call(hub, "/api/v1/budgets/main-daily", { method: "PUT", body, headers: auth(keys["ingestA"]!) })).status, 403);
      const bad = await call(hub, "/api/v1/budgets/main-daily", { method: "PUT", body: { ...body, limitUsd: "5", scope: { agnt: "x" } }, headers: auth(admin) });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /limitUsd/);
      assert.match(bad.body.error.message, /scope/);
      assert.equal((await call(hub, "/api/v1/budgets/main-daily", { method: "PUT", body: { ...body, id: "other" }, headers: auth(admin) })).status, 400);
      const ok = await call(hub, "/api/v1/budgets/main-daily", { method: "PUT", body, headers: auth(admin) });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.budget.deployment, "*");
      const b = await call(hub, "/api/v1/budgets/only-b", { method: "PUT", body: { ...body, deployment: "gw-b" }, headers: auth(keys["adminKey"]!) });
      assert.equal(b.status, 200);
    });

    it("effective budgets: an ingest key reads its own deployment's, with the fleet's spend this period", async () => {
      const r = await call(hub, "/api/v1/budgets/effective", { headers: auth(keys["ingestA"]!) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.deployment, "gw-a");
      assert.equal(r.body.generatedAt, NOW);
      assert.deepEqual(r.body.budgets.map((b: any) => b.budget.id), ["main-daily"]);
      const e = r.body.budgets[0];
      assert.equal(e.spend.nanos, expectedNanos);
      assert.equal(e.spend.tokens, expectedTokens);
      assert.deepEqual(e.byDeployment.map((d: any) => [d.deployment, d.nanos]), [["gw-a", expectedNanos]]);
      assert.equal(e.state, expectedNanos >= 2e9 ? "exceeded" : expectedNanos >= 1.6e9 ? "warn" : "ok");
      assert.equal(e.resetsAt, budgetPeriodOf(NOW, "day", "Europe/Berlin").end);
      assert.equal((await call(hub, "/api/v1/budgets/effective?deployment=gw-b", { headers: auth(keys["ingestA"]!) })).status, 403);
      assert.equal((await call(hub, "/api/v1/budgets/effective", { headers: auth(keys["ingestAny"]!) })).status, 400);
      const any = await call(hub, "/api/v1/budgets/effective?deployment=gw-b", { headers: auth(keys["ingestAny"]!) });
      assert.deepEqual(any.body.budgets.map((b: any) => b.budget.id), ["main-daily", "only-b"]);
      assert.equal((await call(hub, "/api/v1/budgets/effective?deployment=gw-a")).status, 401);
      assert.equal((await call(hub, "/api/v1/budgets/effective?deployment=gw-a", { headers: auth("clawtower_nope") })).status, 401);
      assert.equal((await call(hub, "/api/v1/budgets/effective?deployment=gw-a", { headers: auth(keys["readB"]!) })).status, 403);
    });

    it("listing and reading need read; a bound read key sees its deployment's budgets", async () => {
      assert.equal((await call(hub, "/api/v1/budgets", { headers: auth(keys["ingestA"]!) })).status, 403);
      const all = await call(hub, "/api/v1/budgets", { headers: auth(keys["readAll"]!) });
      assert.deepEqual(all.body.budgets.map((b: any) => b.budget.id), ["main-daily", "only-b"]);
      const mine = await call(hub, "/api/v1/budgets", { headers: auth(keys["readB"]!) });
      assert.equal(mine.body.deployment, "gw-b");
      assert.equal((await call(hub, "/api/v1/budgets/only-b", { headers: auth(admin) })).body.budget.id, "only-b");
      assert.equal((await call(hub, "/api/v1/budgets/nothing", { headers: auth(admin) })).status, 404);
    });

    it("budget events: ingest key writes (idempotent), readers list them", async () => {
      const ev = { eventId: "ev-1", kind: "block", budgetId: "fleet:main-daily", periodStart: NOW - 3_600_000, at: NOW, runId: "r1", sessionKey: "agent:main:telegram:direct:u1", agentId: "main", spentUsd: 2.1, spentTokens: 4000, limitUsd: 2 };
      const first = await call(hub, "/api/v1/ingest/budget-events", { body: { events: [ev] }, headers: auth(keys["ingestA"]!) });
      assert.deepEqual([first.status, first.body.accepted, first.body.duplicates], [200, 1, 0]);
      const again = await call(hub, "/api/v1/ingest/budget-events", { body: { events: [ev] }, headers: auth(keys["ingestA"]!) });
      assert.deepEqual([again.body.accepted, again.body.duplicates], [0, 1]);
      const bad = await call(hub, "/api/v1/ingest/budget-events", { body: { events: [{ ...ev, eventId: "ev-2", spentUsd: -1 }] }, headers: auth(keys["ingestA"]!) });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /events\[0\]\.spentUsd/);
      assert.equal((await call(hub, "/api/v1/ingest/budget-events", { body: { events: [{ ...ev, deployment: "gw-b" }] }, headers: auth(keys["ingestA"]!) })).status, 400);
      assert.equal((await call(hub, "/api/v1/ingest/budget-events", { body: { events: [ev] }, headers: auth(keys["readAll"]!) })).status, 403);
      const list = await call(hub, "/api/v1/budgets/events?kind=block", { headers: auth(keys["readAll"]!) });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.events.map((e: any) => [e.eventId, e.deployment, e.kind]), [["ev-1", "gw-a", "block"]]);
      assert.ok(list.body.events[0].sessionId, "session id resolved from the key");
      assert.deepEqual((await call(hub, "/api/v1/budgets/events", { headers: auth(keys["readB"]!) })).body.events, []);
      assert.equal((await call(hub, "/api/v1/budgets/events?kind=nope", { headers: auth(admin) })).status, 400);
    });

    it("DELETE needs admin", async () => {
      assert.equal((await call(hub, "/api/v1/budgets/only-b", { method: "DELETE", headers: auth(keys["readAll"]!) })).status, 403);
      assert.equal((await call(hub, "/api/v1/budgets/only-b", { method: "DELETE", headers: auth(admin) })).status, 200);
      assert.equal((await call(hub, "/api/v1/budgets/only-b", { method: "DELETE", headers: auth(admin) })).status, 404);
    });
  });
}
