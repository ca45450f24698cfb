/**
 * Alerts over real HTTP on SQLite and PostgreSQL: the rules API (admin writes, reader reads, secrets masked),
 * evaluation as data arrives through the real ingest API, one grouped and signed notice per group, history and
 * firing state, incremental evaluation (sessions not written since the cursor are not looked at), and a dead
 * endpoint that is shown and does not hold up other rules.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPriceBook } from "@clawtower/core";
import { createApiKey, loadAlertCursor, openStore, type StoreConnection } from "@clawtower/store";
import { describeStore, storeTargets } from "@clawtower/testkit";
import { sessionLines, startWebhookReceiver, type WebhookReceiver } from "@clawtower/testkit/webhook-receiver";
import { startHub, verifyNotice, type RunningHub } from "../src/index.ts";
import { call, strongToken } from "./hub-over-http.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

for (const target of targets) {
  describeStore(target, `[${target.name}] alerts`, () => {
    let conn: StoreConnection;
    let hub: RunningHub;
    let receiver: WebhookReceiver;
    const admin = strongToken();
    let ingestKey: string;
    let readKey: string;
    const asAdmin = { authorization: `Bearer ${admin}` };
    const ingest = (body: string) => call(hub, "/api/v1/ingest/events", { body, headers: { authorization: `Bearer ${ingestKey}`, "content-type": "application/x-ndjson" } });

    before(async () => {
      conn = await openStore(target.options());
      ingestKey = (await createApiKey(conn, { deploymentId: "gw-a" }, Date.now())).token;
      readKey = (await createApiKey(conn, { scopes: ["read"] }, Date.now())).token;
      receiver = await startWebhookReceiver();
      hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: admin, webDir: null, log: () => {}, alerts: { tickMs: 100, delivery: { baseDelayMs: 50, maxAttempts: 2 } } });
    });
    after(async () => {
      await hub.close();
      await receiver.close();
      await conn.close();
    });

    it("admins add and remove rules, readers list them with secrets masked, bad rules are refused with the field", async () => {
      const rule = { name: "tmp", condition: { kind: "session-tokens", aboveTokens: 5 }, channels: [{ type: "webhook", url: receiver.url }] };
      const denied = await call(hub, "/api/v1/alerts/rules", { body: rule, headers: { authorization: `Bearer ${readKey}` } });
      assert.equal(denied.status, 403);
      const bad = await call(hub, "/api/v1/alerts/rules", { body: { ...rule, condition: { kind: "window-spend", window: "week", aboveUsd: 1 } }, headers: asAdmin });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /condition\.window/);
      const made = await call(hub, "/api/v1/alerts/rules", { body: rule, headers: asAdmin });
      assert.equal(made.status, 201);
      assert.equal(made.body.rule.channels[0].secret.length >= 16, true, "a webhook gets a secret, shown once");
      const listed = await call(hub, "/api/v1/alerts/rules", { headers: { authorization: `Bearer ${readKey}` } });
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body.rules.map((r: { name: string; channels: { secret: string }[] }) => [r.name, r.channels[0]!.secret]), [["tmp", "********"]]);
      assert.equal((await call(hub, `/api/v1/alerts/rules/${made.body.rule.id}`, { method: "DELETE", headers: { authorization: `Bearer ${readKey}` } })).status, 403);
      assert.equal((await call(hub, "/api/v1/alerts/rules/tmp", { method: "DELETE", headers: asAdmin })).status, 200);
      assert.equal((await call(hub, "/api/v1/alerts/rules", { headers: asAdmin })).body.rules.length, 0);
    });

    it("a session-cost rule fires once per group for sessions ingested together, signed; history and firing state show it", async () => {
      // Written before the rule exists: a rule watches sessions written from then on, so this one never fires.
      assert.equal((await ingest(sessionLines("old-expensive", [5]))).status, 200);
      const head = Number((await conn.db.selectFrom("changes").select((eb) => eb.fn.max("change_id").as("id")).executeTakeFirst())?.id ?? 0);
      await waitUntil(async () => ((await loadAlertCursor(conn.db))?.changeId ?? -1) >= head);
      const made = await call(hub, "/api/v1/alerts/rules", {
        body: { name: "cost", severity: "warning", condition: { kind: "session-cost", aboveUsd: 1 }, channels: [{ type: "webhook", url: receiver.url, groupWaitMs: 300, groupIntervalMs: 60_000, repeatIntervalMs: 3_600_000 }] },
        headers: asAdmin,
      });
      const secret = made.body.rule.channels[0].secret as string;
      const sent = Date.now();
      // $0.60 + $0.50 = $1.10 > $1 and $2.00 > $1 fire; $0.30 + $0.70 = $1.00 is not above $1.
      const r = await ingest([sessionLines("s-110", [0.6, 0.5]), sessionLines("s-200", [2]), sessionLines("s-100", [0.3, 0.7])].join("\n"));
      assert.equal(r.body.rejected, 0);
      const [notice] = await receiver.waitFor(1, 5_000);
      assert.ok(notice!.at - sent <= 5_000);
      await new Promise((res) => setTimeout(res, 700));
      assert.equal(receiver.received.length, 1, "one notice for the group, not one per session");
      assert.ok(verifyNotice(secret, { signature: String(notice!.headers["x-clawtower-signature"]), timestamp: String(notice!.headers["x-clawtower-timestamp"]) }, notice!.body, Date.now()));
      assert.equal(verifyNotice("another-secret-xxxxxxxx", { signature: String(notice!.headers["x-clawtower-signature"]), timestamp: String(notice!.headers["x-clawtower-timestamp"]) }, notice!.body, Date.now()), false);
      const body = JSON.parse(notice!.body);
      assert.equal(body.status, "firing");
      assert.deepEqual(body.alerts.map((a: { labels: { session: string }; value: number }) => [a.labels.session, Math.round(a.value * 100) / 100]).sort(), [["s-110", 1.1], ["s-200", 2]]);
      const rules = (await call(hub, "/api/v1/alerts/rules", { headers: asAdmin })).body.rules;
      assert.equal(rules[0].firing, 2);
      assert.equal(rules[0].channelHealth[0].status, "ok");
      const history = (await call(hub, "/api/v1/alerts/history?rule=cost", { headers: asAdmin })).body.events;
      assert.deepEqual(history.map((e: { key: string; to: string }) => `${e.key}:${e.to}`).sort(), ["gw-a/main/s-110:firing", "gw-a/main/s-200:firing"]);
    });

    it("an error-rate rule resolves with one resolved notice when later calls succeed", async () => {
      const before = receiver.received.length;
      await call(hub, "/api/v1/alerts/rules", {
        body: { name: "errors", severity: "critical", condition: { kind: "error-rate", windowMinutes: 30, aboveRatio: 0.5, minCalls: 3 }, scope: { channel: "errs" }, channels: [{ type: "slack", url: receiver.url, groupWaitMs: 100, groupIntervalMs: 200 }] },
        headers: asAdmin,
      });
      // Scoped to one channel: the other tests' successful calls do not count.
      await ingest(sessionLines("e-1", [0, 0, 0, 0], { errors: 3, channel: "errs" })); // 3 of 4 → 0.75
      const fired = await receiver.waitFor(before + 1, 5_000);
      assert.match(JSON.parse(fired.at(-1)!.body).text, /^\[FIRING:1\] errors \(critical, error-rate\)/);
      await ingest(sessionLines("e-2", [0, 0, 0, 0, 0, 0, 0, 0], { channel: "errs" })); // 3 of 12 → 0.25
      const resolved = await receiver.waitFor(before + 2, 5_000);
      assert.match(JSON.parse(resolved.at(-1)!.body).text, /^\[RESOLVED\] errors/);
      await new Promise((res) => setTimeout(res, 500));
      assert.equal(receiver.received.length, before + 2);
    });

    it("a dead endpoint is marked dead after its retries, shown, and other rules still notify", async () => {
      await call(hub, "/api/v1/alerts/rules", {
        body: { name: "dead", condition: { kind: "session-tokens", aboveTokens: 1 }, channels: [{ type: "webhook", url: "http://127.0.0.1:9/nothing-listens", groupWaitMs: 0 }] },
        headers: asAdmin,
      });
      const before = receiver.received.length;
      await ingest(sessionLines("d-1", [3]));
      await waitUntil(async () => (await call(hub, "/api/v1/alerts/rules", { headers: asAdmin })).body.rules.find((r: { name: string }) => r.name === "dead").channelHealth[0].status === "dead");
      const dead = (await call(hub, "/api/v1/alerts/rules", { headers: asAdmin })).body.rules.find((r: { name: string }) => r.name === "dead");
      assert.match(dead.channelHealth[0].lastError, /127\.0\.0\.1:9/);
      // Meanwhile a rule with a live endpoint notifies as usual.
      await call(hub, "/api/v1/alerts/rules", { body: { name: "alive", condition: { kind: "session-tokens", aboveTokens: 1 }, channels: [{ type: "webhook", url: receiver.url, groupWaitMs: 0 }] }, headers: asAdmin });
      await ingest(sessionLines("d-2", [1]));
      const got = await receiver.waitFor(before + 1, 5_000);
      assert.equal(JSON.parse(got.at(-1)!.body).rule.name, "alive");
    });
  });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not met in time");
}
