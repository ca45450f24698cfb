/**
 * The snapshot ingest route and the live read route: an API key is required and its deployment binding holds,
 * a bad body is refused with the field named, and on a secured hub the live route needs a reader token.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createPriceBook } from "@clawtower/core";
import { createApiKey, openStore, type StoreConnection } from "@clawtower/store";
import { tmpDir } from "@clawtower/testkit";
import { createChangeFeed, createHubApp, type ChangeFeed } from "../src/index.ts";

const snapshot = {
  sessionId: "s1", fingerprint: "f1", sessionKey: "agent:main:s1", agentId: "main", kind: "main", label: null, channel: null, status: "running",
  provider: "fake", model: "m", inputTokens: 10, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0, contextTokens: 100, contextWindow: 1000,
  costUsd: 0.01, lastActivityAt: Date.now(), observedAt: Date.now(),
};

describe("snapshot ingest and live routes", () => {
  let conn: StoreConnection;
  let feed: ChangeFeed;
  let key = "";
  before(async () => {
    conn = await openStore({ kind: "sqlite", path: path.join(tmpDir("ct-hub-snap-"), "hub.db") });
    feed = await createChangeFeed(conn);
    key = (await createApiKey(conn, { deploymentId: "gw-a" }, Date.now())).token;
  });
  after(async () => {
    feed.close();
    await conn.close();
  });

  it("needs a key, keeps the key's deployment, names a bad field", async () => {
    const app = createHubApp({ conn, prices: createPriceBook([], []), auth: { adminToken: null, loopbackOnly: true }, feed, webDir: null, log: () => {} });
    const post = (body: unknown, auth?: string) =>
      app.request("/api/v1/ingest/snapshots", { method: "POST", body: JSON.stringify(body), headers: { host: "127.0.0.1", "content-type": "application/json", ...(auth ? { authorization: `Bearer ${auth}` } : {}) } });
    assert.equal((await post({ snapshots: [snapshot] })).status, 401);
    assert.equal((await post({ deploymentId: "gw-b", snapshots: [snapshot] }, key)).status, 403);
    const bad = await post({ snapshots: [{ ...snapshot, status: "weird" }] }, key);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /^snapshots\.0\.status:/);
    const ok = await post({ snapshots: [snapshot] }, key);
    assert.deepEqual(await ok.json(), { deploymentId: "gw-a", accepted: 1, duplicates: 0 });
    const live = (await (await app.request("/api/v1/live?stuckMinutes=1", { headers: { host: "127.0.0.1" } })).json()) as { sessions: { deploymentId: string; contextUsedPct: number }[] };
    assert.deepEqual(live.sessions.map((s) => [s.deploymentId, s.contextUsedPct]), [["gw-a", 10]]);
    assert.equal((await app.request("/api/v1/live?stuckMinutes=0", { headers: { host: "127.0.0.1" } })).status, 400);
  });

  it("on a secured hub the live route needs a reader token", async () => {
    const app = createHubApp({ conn, prices: createPriceBook([], []), auth: { adminToken: "admin-token-0123456789", loopbackOnly: false }, feed, webDir: null, log: () => {} });
    assert.equal((await app.request("/api/v1/live", { headers: { host: "hub.example" } })).status, 401);
    assert.equal((await app.request("/api/v1/live", { headers: { host: "hub.example", authorization: "Bearer admin-token-0123456789" } })).status, 200);
  });

  it("a read key bound to a deployment sees only that deployment's live sessions", async () => {
    const other = (await createApiKey(conn, { deploymentId: "gw-c" }, Date.now())).token;
    const app = createHubApp({ conn, prices: createPriceBook([], []), auth: { adminToken: null, loopbackOnly: true }, feed, webDir: null, log: () => {} });
    const ingest = await app.request("/api/v1/ingest/snapshots", { method: "POST", body: JSON.stringify({ snapshots: [{ ...snapshot, sessionId: "c1" }] }), headers: { host: "127.0.0.1", "content-type": "application/json", authorization: `Bearer ${other}` } });
    assert.equal(ingest.status, 200);
    const reader = (await createApiKey(conn, { deploymentId: "gw-c", scopes: ["read"] }, Date.now())).token;
    const get = (q: string) => app.request(`/api/v1/live${q}`, { headers: { host: "127.0.0.1", authorization: `Bearer ${reader}` } });
    const mine = (await (await get("")).json()) as { sessions: { deploymentId: string }[] };
    assert.deepEqual(mine.sessions.map((s) => s.deploymentId), ["gw-c"]);
    assert.equal((await get("?deployment=gw-a")).status, 403);
    const all = (await (await app.request("/api/v1/live", { headers: { host: "127.0.0.1" } })).json()) as { sessions: { deploymentId: string }[] };
    assert.deepEqual(all.sessions.map((s) => s.deploymentId).sort(), ["gw-a", "gw-c"]);
  });
});
