/**
 * Fleet budgets enforced by the spend guard against a real hub over HTTP: gateway A's calls, ingested by the
 * hub, plus gateway B's own live spend reach a fleet budget → B's guard blocks; the hub goes away → B keeps
 * blocking with the last figures; `agent --local` (no service) fetches once at load.
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import path from "node:path";
import { after, describe, it } from "node:test";
import { createPriceBook, loadBundledPrices } from "@clawtower/core";
import { startHub, type RunningHub } from "@clawtower/hub";
import { createApiKey, listBudgetEvents, openStore, setBudget, syncHome, type StoreConnection } from "@clawtower/store";
import { FixtureHome, tmpDir } from "@clawtower/testkit";
import type { HubFleetSource } from "../src/budgets/fleet-hub.ts";
import { BudgetGuard } from "../src/budgets/guard.ts";
import { budgetSnapshot } from "../src/budgets/report.ts";

const ACCESS = { plugins: { entries: { clawtower: { hooks: { allowConversationAccess: true } } } } };
const silent = { info() {}, warn() {}, error() {} };

function ownCall(n: number, cost: number) {
  return {
    target: { agentId: "main", sessionId: "sb", sessionKey: "agent:main:main" },
    messageId: `b-${n}`,
    message: { role: "assistant", provider: "fake", model: "fake-model", timestamp: Date.now(), usage: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0, cost: { total: cost } } },
  };
}

describe("fleet budgets in the spend guard (real hub over HTTP)", () => {
  let conn: StoreConnection;
  let hub: RunningHub | null = null;
  after(async () => {
    await hub?.close();
    await conn?.close();
  });

  it("A's ingested spend + B's own spend reach the fleet budget: B's run is blocked; hub gone: still blocked", async () => {
    conn = await openStore({ kind: "sqlite", path: path.join(tmpDir(), "hub.db") });
    // Gateway A: 3 calls of $0.20 today (UTC), ingested by the hub.
    const fx = new FixtureHome();
    const s = fx.agent("main").session({ store: "sqlite", sessionKey: "agent:main:telegram:direct:a" });
    const dayStart = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    for (let k = 0; k < 3; k++) {
      s.at(Math.max(dayStart, Date.now() - 3_600_000) + k * 1000);
      s.user(`q${k}`);
      s.assistant({ provider: "anthropic", model: "claude-sonnet-4-5", input: 100, output: 7, cost: 0.2 });
    }
    const homeA = path.join(tmpDir(), "gw-a");
    fx.write(homeA);
    await syncHome(conn, { home: homeA, deploymentId: "gw-a", deploymentName: "gw-a", prices: createPriceBook([], loadBundledPrices().prices), workers: 0 });
    await setBudget(conn, { id: "fleet-daily", period: "day", timeZone: "UTC", limitUsd: 1, message: "Fleet budget reached" }, Date.now());
    const keyB = (await createApiKey(conn, { deploymentId: "gw-b", scopes: ["ingest"] }, Date.now())).token;
    hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: crypto.randomBytes(32).toString("base64url"), webDir: null, log: () => {} });

    // Gateway B: no local budgets at all; the hub the uploads go to brings the fleet budget.
    const pluginConfig = { apiUrl: hub.url, apiKey: keyB, deploymentId: "gw-b" };
    const stateDir = tmpDir("ct-fleet-b-");
    const g = new BudgetGuard();
    g.configure({ pluginConfig, config: ACCESS }, silent);
    g.attachService(stateDir, silent);
    await (g.fleet as HubFleetSource).refresh();
    assert.match(g.fleet.describe(), /^hub ok, \d+ s ago \(1 fleet budget\)$/);
    const row = () => budgetSnapshot(g.book!, Date.now()).find((r) => r.id === "fleet:fleet-daily")!;
    assert.ok(row(), "the fleet budget is in the guard's book");
    assert.equal(row().fleetUsd, 0.6);

    // $0.60 of the rest of the fleet: room left, B's run goes ahead (zero false blocks).
    const ctx = { runId: "r1", agentId: "main", sessionId: "sb", sessionKey: "agent:main:main" };
    assert.equal(await g.beforeAgentRun({}, ctx), undefined);
    g.onTranscript(ownCall(1, 0.3));
    assert.equal(g.beforeToolCall({ toolName: "read", runId: "r1" }, ctx), undefined, "$0.90 < $1: the tool call goes on");
    g.onTranscript(ownCall(2, 0.15));
    // $0.60 (A, from the hub) + $0.45 (B's own, live) = $1.05 ≥ $1.
    assert.deepEqual(g.beforeToolCall({ toolName: "read", runId: "r1" }, ctx), { block: true, blockReason: "Fleet budget reached" });
    await g.agentEnd({ runId: "r1" }, { sessionId: "sb" });
    const blocked = await g.beforeAgentRun({}, { ...ctx, runId: "r2" });
    assert.equal(blocked?.outcome, "block");
    assert.equal(blocked?.metadata.budgetId, "fleet:fleet-daily");
    assert.equal(row().spentUsd, 1.05);

    // The drain ships the recorded events (both blocks) to the hub; the cursor is what the hub accepted.
    g.flush();
    await g.shipEvents();
    const shipped = await listBudgetEvents(conn, { deployment: "gw-b" });
    assert.deepEqual(shipped.map((e) => [e.kind, e.budgetId, e.runId]).sort(), [["block", "fleet:fleet-daily", "r1"], ["block", "fleet:fleet-daily", "r2"]]);
    const cursor = g.store!.shippedThrough();
    assert.equal(cursor, Math.max(...g.store!.events(0).map((e) => e.id)));
    await g.shipEvents();
    assert.equal((await listBudgetEvents(conn, { deployment: "gw-b" })).length, 2, "nothing sent twice");

    // Hub gone: the last figures stay, B keeps blocking; status says so.
    await hub.close();
    hub = null;
    await (g.fleet as HubFleetSource).refresh();
    assert.match(g.fleet.describe(), /^hub unreachable since .+ using figures of .+ \(1 fleet budgets\)$/);
    assert.equal((await g.beforeAgentRun({}, { ...ctx, runId: "r3" }))?.outcome, "block");
    assert.equal(row().fleetUsd, 0.6);
    // Shipping fails without blocking anything; the block of r3 stays unsent for the next drain.
    g.flush();
    await g.shipEvents();
    assert.equal(g.store!.shippedThrough(), cursor);
    assert.equal(g.store!.eventsAfter(cursor, 10).length, 1);
    await g.detachService();
    g.close();

    // A new process (`agent --local`, or a restarted Gateway) while the hub is down: the kept answer + own spend.
    const g2 = new BudgetGuard();
    g2.configure({ pluginConfig, config: ACCESS }, silent);
    g2.ensure(Date.now(), stateDir);
    assert.equal((await g2.beforeAgentRun({}, { ...ctx, runId: "r4" }))?.outcome, "block");
    assert.match(g2.fleet.describe(), /^hub unreachable since .+ using figures of /);
    g2.close();
  });

  it("agent --local (no service): one bounded fetch at load, awaited by the first gate hook", async () => {
    const fx = new FixtureHome();
    const s = fx.agent("main").session({ store: "sqlite", sessionKey: "agent:main:telegram:direct:c" });
    s.at(Math.max(Math.floor(Date.now() / 86_400_000) * 86_400_000, Date.now() - 60_000));
    s.user("q");
    s.assistant({ provider: "anthropic", model: "claude-sonnet-4-5", input: 100, output: 7, cost: 0.5 });
    const homeC = path.join(tmpDir(), "gw-c");
    fx.write(homeC);
    await syncHome(conn, { home: homeC, deploymentId: "gw-c", deploymentName: "gw-c", prices: createPriceBook([], loadBundledPrices().prices), workers: 0 });
    hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: crypto.randomBytes(32).toString("base64url"), webDir: null, log: () => {} });
    const keyD = (await createApiKey(conn, { deploymentId: "gw-d", scopes: ["ingest"] }, Date.now())).token;
    const g = new BudgetGuard();
    g.configure({ pluginConfig: { apiUrl: hub.url, apiKey: keyD, deploymentId: "gw-d" }, config: ACCESS }, silent);
    // The first hook of the process: $0.60 (A) + $0.50 (C) ≥ $1 once the hub answered.
    const d = g.beforeAgentRun({}, { runId: "l1", agentId: "main", sessionId: "sd", sessionKey: "agent:main:main" });
    assert.ok(d instanceof Promise, "the first gate hook waits for the one fetch");
    assert.equal((await d)?.outcome, "block");
    assert.match(g.fleet.describe(), /^hub ok/);
    g.close();
  });
});
