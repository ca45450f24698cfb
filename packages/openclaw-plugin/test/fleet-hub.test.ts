/** The plugin's fleet-budget source against a real hub over HTTP, including the hub going away and coming back. */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import path from "node:path";
import { after, describe, it } from "node:test";
import { budgetPeriodOf, createPriceBook, loadBundledPrices } from "@clawtower/core";
import { startHub, type RunningHub } from "@clawtower/hub";
import { createApiKey, openStore, setBudget, syncHome, type StoreConnection } from "@clawtower/store";
import { FixtureHome, tmpDir } from "@clawtower/testkit";
import { HubFleetSource } from "../src/budgets/fleet-hub.ts";

describe("fleet budgets from the hub (HubFleetSource)", () => {
  let t = Date.parse("2026-12-01T15:00:00Z");
  const now = () => t;
  const day = budgetPeriodOf(t, "day", "UTC");
  const spentBy = new Map<string, { nanos: number; tokens: number }>();
  let conn: StoreConnection;
  let hub: RunningHub | null = null;
  let port = 0;
  let key = "";
  const logs: string[] = [];
  const start = async () => {
    hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port, adminToken: crypto.randomBytes(32).toString("base64url"), webDir: null, log: () => {}, now });
    port = hub.port;
  };
  after(async () => {
    await hub?.close();
    await conn?.close();
  });

  it("gets the fleet's budgets for its deployment and the OTHER gateways' spend in each", async () => {
    conn = await openStore({ kind: "sqlite", path: path.join(tmpDir(), "hub.db") });
    for (const [i, dep] of ["gw-a", "gw-b", "gw-c"].entries()) {
      const fx = new FixtureHome();
      const s = fx.agent("main").session({ store: "sqlite", sessionKey: `agent:main:telegram:direct:u${i}` });
      const sums = { nanos: 0, tokens: 0 };
      for (let k = 0; k < 4; k++) {
        s.at(day.start + (9 + k) * 3_600_000);
        s.user(`q${k}`);
        s.assistant({ provider: "anthropic", model: "claude-sonnet-4-5", input: 100 * (i + 1), output: 7, cost: 0.01 * (i + 1) * (k + 1) });
        sums.nanos += Math.round(0.01 * (i + 1) * (k + 1) * 1e9);
        sums.tokens += 100 * (i + 1) + 7;
      }
      spentBy.set(dep, sums);
      const home = path.join(tmpDir(), dep);
      fx.write(home);
      await syncHome(conn, { home, deploymentId: dep, deploymentName: dep, prices: createPriceBook([], loadBundledPrices().prices), workers: 0 });
    }
    await setBudget(conn, { id: "fleet-daily", period: "day", timeZone: "UTC", limitUsd: 1, message: "Fleet budget reached" }, t);
    await setBudget(conn, { id: "only-c", deployment: "gw-c", period: "day", limitUsd: 1 }, t);
    key = (await createApiKey(conn, { deploymentId: "gw-a", scopes: ["ingest"] }, t)).token;
    await start();

    const src = new HubFleetSource({ hubUrl: hub!.url, apiKey: key, now, log: (l) => logs.push(l) });
    assert.equal(src.current(), null);
    assert.match(src.describe(), /pending/);
    await src.refresh();
    const snap = src.current()!;
    assert.deepEqual(snap.budgets.map((b) => [b.id, b.timeZone, b.message]), [["fleet:fleet-daily", "UTC", "Fleet budget reached"]]);
    assert.equal("deployment" in snap.budgets[0]!, false);
    const others = { nanos: spentBy.get("gw-b")!.nanos + spentBy.get("gw-c")!.nanos, tokens: spentBy.get("gw-b")!.tokens + spentBy.get("gw-c")!.tokens };
    assert.deepEqual(snap.fleetSpend.get("fleet:fleet-daily"), { ...others, periodStart: day.start });
    t += 12_000;
    assert.equal(src.describe(), "hub ok, 12 s ago (1 fleet budget)");
    await src.stop();
  });

  it("hub gone: keeps the last figures and says since when; a period that ended drops its figure; hub back: fresh figures", async () => {
    const src = new HubFleetSource({ hubUrl: hub!.url, apiKey: key, now, log: (l) => logs.push(l), timeoutMs: 2000 });
    await src.refresh();
    const fetchedAt = t;
    const before = src.current()!;
    await hub!.close();
    hub = null;
    t += 30_000;
    await src.refresh();
    assert.deepEqual(src.current(), before, "the last figures stay");
    assert.match(src.describe(), new RegExp(`^hub unreachable since ${new Date(t).toISOString()} \\(.+\\), using figures of ${new Date(fetchedAt).toISOString()} \\(1 fleet budgets\\)$`));
    assert.ok(logs.some((l) => /hub unreachable/.test(l)));
    t = day.end + 1000;
    assert.equal(src.current()!.fleetSpend.has("fleet:fleet-daily"), false, "no carrying a finished period's spend");
    assert.equal(src.current()!.budgets.length, 1, "the budget itself is still enforced");
    await start();
    await src.refresh();
    assert.match(src.describe(), /^hub ok, 0 s ago/);
    assert.deepEqual(src.current()!.fleetSpend.get("fleet:fleet-daily"), { nanos: 0, tokens: 0, periodStart: day.end });
    assert.ok(logs.some((l) => /reachable again/.test(l)));
    await src.stop();
  });

  it("a key for another deployment is refused and said so; start() fetches in the background", async () => {
    const other = (await createApiKey(conn, { deploymentId: "gw-b", scopes: ["ingest"] }, t)).token;
    const wrong = new HubFleetSource({ hubUrl: hub!.url, apiKey: other, deployment: "gw-a", now });
    await wrong.refresh();
    assert.match(wrong.describe(), /unreachable.*HTTP 403.*local budgets only/);
    const bg = new HubFleetSource({ hubUrl: hub!.url, apiKey: key, now, intervalMs: 50 });
    bg.start();
    for (let i = 0; i < 100 && !bg.current(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(bg.current(), "fetched without anyone awaiting it");
    await bg.stop();
  });
});
