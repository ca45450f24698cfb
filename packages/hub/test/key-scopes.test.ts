/**
 * API key scopes over real HTTP on SQLite and PostgreSQL: ingest keys read nothing, a read key bound to a
 * deployment sees only that deployment on every read route (reports, sessions and their search, replay, facets,
 * live stream), keys made before scopes existed become ingest-only.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { createApiKey, listApiKeys, openStore, type StoreConnection } from "@clawtower/store";
import { describeStore, storeTargets } from "@clawtower/testkit";
import type { RunningHub } from "../src/index.ts";
import { call, hubOver, strongToken } from "./hub-over-http.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

/** One session per deployment, with a known secret in its transcript text and known token counts. */
function lines(dep: string, input: number) {
  const ev = (id: string, ts: string, message: Record<string, unknown>) => ({ type: "message", id, timestamp: ts, message });
  return [
    { agentId: "main", sessionId: `s-${dep}`, session: { sessionKey: `agent:main:${dep}`, label: `label ${dep}` }, event: { type: "session", version: 4, id: `s-${dep}`, timestamp: "2026-11-21T10:00:00.000Z" } },
    { agentId: "main", sessionId: `s-${dep}`, event: ev(`${dep}-u`, "2026-11-21T10:00:01.000Z", { role: "user", content: `the secret of ${dep}` }) },
    {
      agentId: "main",
      sessionId: `s-${dep}`,
      event: ev(`${dep}-a`, "2026-11-21T10:00:02.000Z", { role: "assistant", provider: "anthropic", model: "claude-sonnet-5", content: [{ type: "text", text: `answer for ${dep}` }], usage: { input, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: 0.01 } } }),
    },
  ]
    .map((l) => JSON.stringify(l))
    .join("\n");
}

/** Every input-token count anywhere in a report (`tokens.input`), whatever the report's shape. */
function inputTokens(v: unknown): number[] {
  if (Array.isArray(v)) return v.flatMap(inputTokens);
  if (!v || typeof v !== "object") return [];
  const o = v as Record<string, unknown>;
  const own = o["tokens"] && typeof (o["tokens"] as Record<string, unknown>)["input"] === "number" ? [(o["tokens"] as { input: number }).input] : [];
  return [...own, ...Object.entries(o).filter(([k]) => k !== "tokens").flatMap(([, x]) => inputTokens(x))];
}

for (const target of targets) {
  describeStore(target, `[${target.name}] key scopes`, () => {
    let conn: StoreConnection;
    let hub: RunningHub;
    const keys: Record<string, string> = {};
    const as = (key: string, path: string) => call(hub, path, { headers: { authorization: `Bearer ${keys[key]}` } });

    before(async () => {
      conn = await openStore(target.options());
      hub = await hubOver(conn, { adminToken: strongToken() });
      const make = async (name: string, opts: Parameters<typeof createApiKey>[1]) => void (keys[name] = (await createApiKey(conn, opts, Date.now())).token);
      await make("ingest-1", { deploymentId: "gw-1" });
      await make("ingest-2", { deploymentId: "gw-2" });
      await make("read-2", { deploymentId: "gw-2", scopes: ["read"] });
      await make("read-all", { scopes: ["read"] });
      await make("admin", { scopes: ["admin"] });
      for (const [key, dep, input] of [["ingest-1", "gw-1", 1000], ["ingest-2", "gw-2", 20]] as const) {
        const r = await call(hub, "/api/v1/ingest/events", { body: lines(dep, input), headers: { authorization: `Bearer ${keys[key]}`, "content-type": "application/x-ndjson" } });
        assert.equal(r.body.accepted, 3, JSON.stringify(r.body));
      }
    });
    after(async () => {
      await hub.close();
      await conn.close();
    });

    const READ_ROUTES = [
      "/api/v1/reports/summary",
      "/api/v1/reports/daily",
      "/api/v1/reports/models",
      "/api/v1/reports/agents",
      "/api/v1/reports/tools",
      "/api/v1/reports/timeseries?bucket=day",
      "/api/v1/sessions",
      "/api/v1/sessions?q=secret",
      "/api/v1/sessions/gw-2/main/s-gw-2",
      "/api/v1/facets",
      "/api/v1/info",
      "/api/v1/stream",
    ];

    it("gives an ingest key (the default scope) nothing to read, not even its own deployment", async () => {
      for (const route of READ_ROUTES) {
        const r = await as("ingest-2", route);
        assert.equal(r.status, 403, route);
        assert.match(r.body.error.message, /may not read.*--scope read --deployment gw-2/, route);
      }
    });

    it("lets a read key bound to gw-2 see gw-2 only, on every read route", async () => {
      const sessions = await as("read-2", "/api/v1/sessions");
      assert.deepEqual(sessions.body.sessions.map((s: { deploymentId: string; sessionId: string }) => [s.deploymentId, s.sessionId]), [["gw-2", "s-gw-2"]]);
      const search = await as("read-2", "/api/v1/sessions?q=label");
      assert.deepEqual(search.body.sessions.map((s: { sessionId: string }) => s.sessionId), ["s-gw-2"], "search is scoped too");
      const summary = await as("read-2", "/api/v1/reports/summary");
      assert.equal(summary.body.totals.tokens.input, 20, "gw-2's 20 input tokens, not gw-1's 1,000 as well");
      assert.equal(summary.body.totals.sessions, 1);
      for (const route of ["/api/v1/reports/models", "/api/v1/reports/agents", "/api/v1/reports/daily", "/api/v1/reports/timeseries?bucket=day"]) {
        const inputs = inputTokens((await as("read-2", route)).body);
        assert.ok(inputs.length > 0 && inputs.every((n) => n === 20 || n === 0), `${route}: input tokens ${inputs.join(", ")} (gw-1 has 1,000)`);
      }
      const facets = await as("read-2", "/api/v1/facets");
      assert.deepEqual(facets.body.deployments.map((d: { id: string }) => d.id), ["gw-2"]);
      const own = await as("read-2", "/api/v1/sessions/gw-2/main/s-gw-2");
      assert.equal(own.status, 200);
      assert.ok(JSON.stringify(own.body).includes("the secret of gw-2"));
      const info = await as("read-2", "/api/v1/info");
      assert.deepEqual(info.body.access, { kind: "key", deployment: "gw-2" });
    });

    it("refuses a bound read key another deployment's data, transcript text above all", async () => {
      const replay = await as("read-2", "/api/v1/sessions/gw-1/main/s-gw-1");
      assert.equal(replay.status, 403);
      assert.ok(!JSON.stringify(replay.body).includes("secret of gw-1"));
      for (const route of ["/api/v1/sessions?deployment=gw-1", "/api/v1/reports/summary?deployment=gw-1", "/api/v1/reports/timeseries?deployment=gw-1", "/api/v1/facets?deployment=gw-1", "/api/v1/sessions?deployment=gw-1&q=secret"]) {
        const r = await as("read-2", route);
        assert.equal(r.status, 403, route);
        assert.match(r.body.error.message, /deployment gw-2 only/);
      }
    });

    it("lets an unbound read key and an admin key read every deployment; only ingest and admin keys ingest", async () => {
      for (const key of ["read-all", "admin"]) {
        const all = await as(key, "/api/v1/sessions");
        assert.deepEqual(all.body.sessions.map((s: { sessionId: string }) => s.sessionId).sort(), ["s-gw-1", "s-gw-2"]);
        assert.equal((await as(key, "/api/v1/reports/summary")).body.totals.tokens.input, 1020);
        assert.equal((await as(key, "/api/v1/sessions/gw-1/main/s-gw-1")).status, 200);
      }
      const line = JSON.stringify({ deploymentId: "gw-3", agentId: "a", sessionId: "s", event: { type: "session", id: "s" } });
      const post = (key: string) => call(hub, "/api/v1/ingest/events", { body: line, headers: { authorization: `Bearer ${keys[key]}`, "content-type": "application/x-ndjson" } });
      const refused = await post("read-all");
      assert.equal(refused.status, 403);
      assert.match(refused.body.error.message, /may not ingest/);
      assert.equal((await post("admin")).body.accepted, 1);
    });

    it("streams a bound read key's live updates for its deployment only", async () => {
      const res = await fetch(`${hub.url}/api/v1/stream`, { headers: { authorization: `Bearer ${keys["read-2"]}` } });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let seen = "";
      // One read in flight at a time, kept across waits that time out, so no chunk is dropped.
      let pending: ReturnType<typeof reader.read> | null = null;
      const readUntil = async (pattern: RegExp, ms: number) => {
        const deadline = Date.now() + ms;
        while (!pattern.test(seen) && Date.now() < deadline) {
          pending ??= reader.read();
          const chunk = await Promise.race([pending, new Promise<null>((r) => setTimeout(() => r(null), Math.max(1, deadline - Date.now())))]);
          if (!chunk) break;
          pending = null;
          if (chunk.done) break;
          seen += new TextDecoder().decode(chunk.value);
        }
      };
      await readUntil(/event: hello/, 5000);
      const ingest = (key: string, dep: string, id: string) =>
        call(hub, "/api/v1/ingest/events", { body: JSON.stringify({ agentId: "main", sessionId: id, event: { type: "session", id } }), headers: { authorization: `Bearer ${keys[key]}`, "content-type": "application/x-ndjson" } }).then((r) => assert.equal(r.body.accepted, 1, dep));
      await ingest("ingest-1", "gw-1", "live-gw-1");
      await readUntil(/event: change/, 2500);
      assert.doesNotMatch(seen, /event: change/, "a change to gw-1 is not announced to a gw-2 key");
      await ingest("ingest-2", "gw-2", "live-gw-2");
      await readUntil(/event: change/, 5000);
      await reader.cancel();
      assert.match(seen, /event: change\ndata: \{"changes":1,"deployments":\["gw-2"\]/);
    });
  });

  describeStore(target, `[${target.name}] keys from before scopes`, () => {
    it("become ingest-only keys bound to the deployment they had", async () => {
      const where = target.options();
      const conn = await openStore(where);
      try {
        // Migration 11 undone (later ones stay: the migrator runs every missing version), with a key of that time.
        await sql`DROP TABLE auth_sessions`.execute(conn.db);
        await sql`DROP TABLE login_attempts`.execute(conn.db);
        await sql`ALTER TABLE api_keys DROP COLUMN scopes`.execute(conn.db);
        await sql`DELETE FROM schema_migrations WHERE version = 11`.execute(conn.db);
        await sql`INSERT INTO api_keys (key_id, name, project_id, deployment_id, secret_hash, created_at) VALUES ('oldkey000001', 'old', NULL, 'gw-old', 'x', 1)`.execute(conn.db);
        await sql`INSERT INTO api_keys (key_id, name, project_id, deployment_id, secret_hash, created_at) VALUES ('oldkey000002', 'old', NULL, NULL, 'y', 2)`.execute(conn.db);
      } finally {
        await conn.close();
      }
      const reopened = await openStore(where);
      try {
        const keys = await listApiKeys(reopened);
        assert.deepEqual(
          keys.map((k) => [k.keyId, k.deploymentId, k.scopes]),
          [["oldkey000001", "gw-old", ["ingest"]], ["oldkey000002", null, ["ingest"]]],
        );
      } finally {
        await reopened.close();
      }
    });
  });
}
