import assert from "node:assert/strict";
import http from "node:http";
import path from "node:path";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { createPriceBook, listAgents, loadBundledPrices, readConfigPrices } from "@clawtower/core";
import { createApiKey, openStore, revokeApiKey, summaryReport, syncHome, type StoreConnection } from "@clawtower/store";
import { buildMixedHome, describeStore, storeTargets, tmpDir } from "@clawtower/testkit";
import { createChangeFeed, createHubApp, startHub, HubConfigError, type ChangeFeed } from "../src/index.ts";

type App = ReturnType<typeof createHubApp>;
const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

function ev(id: string, ts: string, message: Record<string, unknown>) {
  return { type: "message", id, timestamp: ts, message };
}

for (const target of targets) {
  describeStore(target, `[${target.name}] hub API`, () => {
    let conn: StoreConnection;
    let app: App;
    let feed: ChangeFeed;
    let prices: ReturnType<typeof createPriceBook>;
    let boundKey: string;
    let openKey: string;
    const mixed = buildMixedHome();

    // Each test gets its own store, imported from the same home, and its own hub and keys: no test sees
    // another's writes, so each passes alone and in any order (`--test-randomize`).
    beforeEach(async () => {
      const home = path.join(tmpDir(), "openclaw");
      mixed.home.write(home);
      conn = await openStore(target.options());
      const cfg = readConfigPrices(home, listAgents(home).map((a) => a.dir));
      prices = createPriceBook(cfg.prices, loadBundledPrices().prices);
      await syncHome(conn, { home, deploymentId: "dep-local", deploymentName: "local", prices });
      feed = await createChangeFeed(conn, 50);
      app = createHubApp({ conn, prices, auth: { adminToken: null, loopbackOnly: true }, feed, webDir: null, bodyLimitBytes: 256 * 1024, log: () => {} });
      boundKey = (await createApiKey(conn, { deploymentId: "gw-1", name: "gateway 1" }, Date.now())).token;
      openKey = (await createApiKey(conn, {}, Date.now())).token;
    });
    afterEach(async () => {
      feed.close();
      await conn.close();
    });

    const get = async (url: string) => {
      const r = await app.request(url, { headers: { host: "127.0.0.1:4680" } });
      return { status: r.status, body: (await r.json()) as any };
    };
    const post = async (url: string, body: string, headers: Record<string, string>) => {
      const r = await app.request(url, { method: "POST", body, headers: { host: "127.0.0.1:4680", ...headers } });
      return { status: r.status, body: (await r.json()) as any };
    };

    it("serves /healthz and the same summary JSON as `clawtower report summary --json`", async () => {
      assert.deepEqual((await get("/healthz")).body, { ok: true, store: target.name });
      const api = (await get("/api/v1/reports/summary?deployment=dep-local&tz=Europe/Paris&since=2026-11-01")).body;
      const direct = await summaryReport(conn, { deployment: "dep-local", tz: "Europe/Paris", since: Date.parse("2026-10-31T23:00:00Z"), until: null, agent: null }, Date.now());
      delete api.generatedAt;
      delete (direct as Partial<typeof direct>).generatedAt;
      assert.deepEqual(api, JSON.parse(JSON.stringify(direct)));
      assert.equal((await get("/api/v1/reports/summary?deployment=dep-local")).body.totals.llmCalls, mixed.home.expected.llmCalls);
    });

    it("answers bad query parameters with 400 and an error body naming the field", async () => {
      const tz = await get("/api/v1/reports/summary?tz=Mars/Base");
      assert.equal(tz.status, 400);
      assert.equal(tz.body.error.code, "invalid_query");
      assert.match(tz.body.error.message, /unknown time zone/);
      const limit = await get("/api/v1/sessions?limit=9999");
      assert.equal(limit.status, 400);
      assert.match(limit.body.error.message, /^limit: /);
      assert.equal((await get("/api/v1/nope")).status, 404);
      assert.equal((await get("/api/v1/sessions/x/y/z")).body.error.code, "not_found");
    });

    it("buckets time series in a time zone, with points summing to the totals", async () => {
      const r = (await get("/api/v1/reports/timeseries?deployment=dep-local&bucket=day&tz=Asia/Tokyo&groupBy=model")).body;
      const sum = r.points.reduce((a: number, p: { llmCalls: number }) => a + p.llmCalls, 0);
      assert.equal(sum, mixed.home.expected.llmCalls);
      assert.equal(r.totals.llmCalls, sum);
      assert.ok(r.points.every((p: { bucket: string }) => /^\d{4}-\d{2}-\d{2}$/.test(p.bucket)));
      const days = r.points.map((p: { bucket: string }) => p.bucket);
      assert.deepEqual(days, [...days].sort(), "points are in order");
      assert.ok(r.points.some((p: { llmCalls: number }) => p.llmCalls === 0), "quiet days are filled with zeros");
      assert.ok(r.groups.length >= 3);
      const hourly = (await get("/api/v1/reports/timeseries?deployment=dep-local&bucket=hour&since=2026-11-18&until=2026-11-19")).body;
      assert.equal(hourly.points.length, 48);
    });

    it("pages, sorts, filters and searches sessions", async () => {
      const all = (await get("/api/v1/sessions?deployment=dep-local&limit=3&sort=cost")).body;
      assert.equal(all.total, mixed.home.expected.sessions);
      assert.equal(all.sessions.length, 3);
      const costs = all.sessions.map((s: { cost: { total: number } }) => s.cost.total);
      assert.deepEqual(costs, [...costs].sort((a, b) => b - a));
      const page2 = (await get("/api/v1/sessions?deployment=dep-local&limit=3&offset=3&sort=cost")).body;
      assert.equal(new Set([...all.sessions, ...page2.sessions].map((s: { sessionId: string }) => s.sessionId)).size, 6);
      const cron = (await get("/api/v1/sessions?deployment=dep-local&kind=cron")).body;
      assert.deepEqual(cron.sessions.map((s: { sessionKey: string }) => s.sessionKey), ["cron:nightly"]);
      const byModel = (await get("/api/v1/sessions?deployment=dep-local&model=openai/gpt-5.2")).body;
      assert.equal(byModel.total, 1);
      const search = (await get("/api/v1/sessions?deployment=dep-local&q=TELEGRAM")).body;
      assert.deepEqual(search.sessions.map((s: { channel: string }) => s.channel), ["telegram"]);
    });

    it("gives each session its usage inside a range that cuts hours, in every sort plan", async () => {
      // Cut inside hours that have calls on both sides of the cut, so both sub-hour edges carry usage.
      const calls = async (from: number, to: number) =>
        (await get(`/api/v1/reports/summary?deployment=dep-local&since=${new Date(from).toISOString()}&until=${new Date(to).toISOString()}`)).body.totals.llmCalls as number;
      const hours = (await get("/api/v1/reports/timeseries?deployment=dep-local&bucket=hour")).body.points
        .filter((p: { llmCalls: number }) => p.llmCalls >= 2)
        .map((p: { start: string }) => Date.parse(p.start));
      const cutOf = async (h: number) => {
        // Binary search for just after the hour's first call.
        let lo = 0;
        let hi = 3_600_000;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if ((await calls(h, h + mid)) > 0) hi = mid;
          else lo = mid;
        }
        return (await calls(h, h + hi)) < (await calls(h, h + 3_600_000)) ? h + hi : null;
      };
      const cuts: number[] = [];
      for (const h of hours) {
        const cut = await cutOf(h);
        if (cut !== null) cuts.push(cut);
        if (cuts.length === 2) break;
      }
      assert.equal(cuts.length, 2, "the fixture has two hours whose calls can be split");
      const range = `deployment=dep-local&since=${new Date(cuts[0]!).toISOString()}&until=${new Date(cuts[1]!).toISOString()}`;
      const summary = (await get(`/api/v1/reports/summary?${range}`)).body;
      assert.ok(summary.totals.llmCalls > 0 && summary.totals.llmCalls < mixed.home.expected.llmCalls, "the range cuts the data");
      for (const sort of ["cost", "tokens", "calls", "last"]) {
        const r = (await get(`/api/v1/sessions?${range}&sort=${sort}&limit=500`)).body;
        const sum = (k: (x: any) => number) => r.sessions.reduce((a: number, x: any) => a + k(x), 0);
        assert.equal(sum((x) => x.llmCalls), summary.totals.llmCalls, `calls, sort=${sort}`);
        assert.equal(sum((x) => x.tokens.total), summary.totals.tokens.total, `tokens, sort=${sort}`);
        assert.equal(Math.round(sum((x) => x.cost.total) * 1e6), Math.round(summary.totals.cost.total * 1e6), `cost, sort=${sort}`);
      }
    });

    it("replays a session: messages, tool calls joined with results, per-turn tokens and cost", async () => {
      const chat = mixed.home.agents.get("main")!.sessions.find((x) => x.options.sessionKey === "agent:main:main")!;
      const r = (await get(`/api/v1/sessions/dep-local/main/${chat.sessionId}`)).body;
      assert.equal(r.session.sessionId, chat.sessionId);
      const assistants = r.entries.filter((e: { kind: string }) => e.kind === "assistant");
      assert.equal(assistants.length, 4);
      const read = assistants[0].toolCalls[0];
      assert.equal(read.name, "read");
      assert.deepEqual(read.arguments, { path: "README.md" });
      assert.equal(read.result.truncated, true, "a 200 KB result is clipped for display");
      assert.equal(read.result.bytes, 200_000);
      assert.equal(assistants[1].toolCalls[0].result.isError, true);
      assert.equal(assistants[2].toolCalls[0].name, "sessions_spawn");
      const turnTokens = r.turns.reduce((a: number, t: { tokens: { total: number } }) => a + t.tokens.total, 0);
      assert.equal(turnTokens, r.session.tokens.total);
      assert.equal(r.turns.length, 2);
      assert.deepEqual(assistants.map((a: { latencyMs: number | null }) => a.latencyMs), [1200, 1200, 1200, 1200]);
      assert.ok(r.sources.length >= 1);
      // A session only in a cold archive and one only in an archive blob replay too.
      const cold = mixed.home.agents.get("main")!.sessions.find((x) => x.options.store === "cold")!;
      assert.equal((await get(`/api/v1/sessions/dep-local/main/${cold.sessionId}`)).body.entries.filter((e: { kind: string }) => e.kind === "assistant").length, 2);
    });

    it("ingests NDJSON per line: accepted, duplicate on retry, rejected with a reason", async () => {
      const lines = [
        { agentId: "main", sessionId: "remote-1", session: { sessionKey: "agent:main:main", channel: "webchat" }, event: { type: "session", version: 4, id: "remote-1", timestamp: "2026-11-21T10:00:00.000Z" } },
        { agentId: "main", sessionId: "remote-1", event: ev("r1-u", "2026-11-21T10:00:01.000Z", { role: "user", content: "hi" }) },
        { agentId: "main", sessionId: "remote-1", event: ev("r1-a", "2026-11-21T10:00:02.000Z", { role: "assistant", provider: "anthropic", model: "claude-sonnet-5", content: [{ type: "toolCall", id: "c1", name: "read", arguments: {} }], usage: { input: 100, output: 20, cacheRead: 50, cacheWrite: 0, cost: { total: 0.25 } } }) },
        { agentId: "main", sessionId: "remote-1", event: ev("r1-t", "2026-11-21T10:00:03.000Z", { role: "toolResult", toolCallId: "c1", toolName: "read", content: [{ type: "text", text: "ok" }], isError: true }) },
        { agentId: "main", sessionId: "remote-1", seq: 9, event: { type: "message", timestamp: "2026-11-21T10:00:04.000Z", message: { role: "assistant", provider: "anthropic", model: "claude-sonnet-5", usage: { input: 10, output: 2, cacheRead: 0, cacheWrite: 0, cost: { total: 0.05 } } } } },
      ];
      const body = `${lines.map((l) => JSON.stringify(l)).join("\n")}\n{not json\n${JSON.stringify({ agentId: "main", event: {} })}\n`;
      const headers = { authorization: `Bearer ${boundKey}`, "content-type": "application/x-ndjson" };
      const first = await post("/api/v1/ingest/events", body, headers);
      assert.equal(first.status, 200);
      assert.equal(first.body.accepted, 5);
      assert.equal(first.body.rejected, 2);
      assert.deepEqual(
        first.body.results.map((r: { line: number; status: string }) => [r.line, r.status]),
        [[0, "accepted"], [1, "accepted"], [2, "accepted"], [3, "accepted"], [4, "accepted"], [5, "rejected"], [6, "rejected"]],
      );
      assert.match(first.body.results[5].reason, /not valid JSON/);
      assert.match(first.body.results[6].reason, /sessionId/);
      const again = await post("/api/v1/ingest/events", body, headers);
      assert.equal(again.body.accepted, 0);
      assert.equal(again.body.duplicates, 5, "a retried batch changes nothing");
      const s = (await get("/api/v1/reports/summary?deployment=gw-1")).body;
      assert.equal(s.totals.llmCalls, 2);
      assert.equal(s.totals.toolCalls, 1);
      assert.deepEqual(s.totals.tokens, { input: 110, output: 22, cacheRead: 50, cacheWrite: 0, total: 182 });
      assert.ok(Math.abs(s.totals.cost.recorded - 0.3) < 1e-12);
      const tools = (await get("/api/v1/reports/tools?deployment=gw-1")).body;
      assert.deepEqual(tools.tools.map((t: { name: string; errors: number }) => [t.name, t.errors]), [["read", 1]]);
      const sessions = (await get("/api/v1/sessions?deployment=gw-1")).body;
      assert.equal(sessions.sessions[0].channel, "webchat");
      const replay = (await get("/api/v1/sessions/gw-1/main/remote-1")).body;
      assert.equal(replay.entries.filter((e: { kind: string }) => e.kind === "assistant").length, 2);
    });

    it("stores an NDJSON line's event as sent, byte for byte, and answers a re-sent one as a duplicate", async () => {
      const sent = '{ "type": "message", "id": "verbatim-1", "timestamp": "2026-11-21T11:00:00Z", "message": {"role": "user", "content": "caf\\u00e9 \\"q\\""} }';
      const body = `{"agentId":"main","sessionId":"verbatim","event": ${sent} }\n`;
      const headers = { authorization: `Bearer ${boundKey}`, "content-type": "application/x-ndjson" };
      assert.equal((await post("/api/v1/ingest/events", body, headers)).body.accepted, 1);
      const row = await conn.db.selectFrom("raw_events").select("payload").where("session_id", "=", "verbatim").executeTakeFirstOrThrow();
      assert.equal(row.payload, sent);
      const again = (await post("/api/v1/ingest/events", body.replace('"message": {', '"message":{'), headers)).body;
      assert.deepEqual([again.accepted, again.duplicates], [0, 1]);
    });

    it("scopes keys: a bound key cannot write another deployment, an unbound one must name it, a revoked one is refused", async () => {
      const line = (dep?: string) => JSON.stringify({ ...(dep ? { deploymentId: dep } : {}), agentId: "a", sessionId: "s", seq: 0, event: { type: "session", id: "s" } });
      const wrong = await post("/api/v1/ingest/events", line("gw-2"), { authorization: `Bearer ${boundKey}`, "content-type": "application/x-ndjson" });
      assert.match(wrong.body.results[0].reason, /bound to deployment "gw-1"/);
      const unnamed = await post("/api/v1/ingest/events", line(), { authorization: `Bearer ${openKey}`, "content-type": "application/x-ndjson" });
      assert.match(unnamed.body.results[0].reason, /deploymentId is required/);
      const named = await post("/api/v1/ingest/events", line("gw-3"), { authorization: `Bearer ${openKey}`, "content-type": "application/x-ndjson" });
      assert.equal(named.body.accepted, 1);
      const none = await post("/api/v1/ingest/events", line("gw-3"), { "content-type": "application/x-ndjson" });
      assert.equal(none.status, 401);
      const k = await createApiKey(conn, { deploymentId: "gw-9" }, Date.now());
      await revokeApiKey(conn, k.keyId, Date.now());
      assert.equal((await post("/api/v1/ingest/events", line(), { authorization: `Bearer ${k.token}`, "content-type": "application/x-ndjson" })).status, 401);
      const bogus = await post("/api/v1/ingest/events", line(), { authorization: `Bearer ${boundKey.slice(0, -3)}abc`, "content-type": "application/x-ndjson" });
      assert.equal(bogus.status, 401);
    });

    it("limits body size and content types", async () => {
      const headers = { authorization: `Bearer ${boundKey}`, "content-type": "application/x-ndjson" };
      const big = await post("/api/v1/ingest/events", "x".repeat(300 * 1024), headers);
      assert.equal(big.status, 413);
      assert.equal(big.body.error.code, "payload_too_large");
      const xml = await post("/api/v1/ingest/events", "<a/>", { ...headers, "content-type": "application/xml" });
      assert.equal(xml.status, 415);
      const bad = await post("/api/v1/ingest/events", "{", { ...headers, "content-type": "application/json" });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, "invalid_body");
    });

    it("accepts Influxion-compatible session lines and skills", async () => {
      const headers = { authorization: `Bearer ${boundKey}`, "content-type": "application/json" };
      const lines = [
        { deploymentId: "gw-1", projectId: "p", agentId: "main", sessionId: "inf-1", lineIndex: 0, payload: { type: "session", id: "inf-1", timestamp: "2026-11-20T08:00:00.000Z" } },
        { deploymentId: "gw-1", projectId: "p", agentId: "main", sessionId: "inf-1", lineIndex: 1, payload: { type: "message", timestamp: "2026-11-20T08:00:01.000Z", message: { role: "assistant", provider: "openai", model: "gpt-6-sol", usage: { input: 1000, output: 100, cacheRead: 0, cacheWrite: 0 } } } },
        { deploymentId: "gw-1", projectId: "p", agentId: "main", sessionId: "inf-1", lineIndex: 2, payload: { raw: "{broken" } },
        // another session's line with the same lineIndex: accepted, and the error above names its own line only
        { deploymentId: "gw-1", projectId: "p", agentId: "main", sessionId: "inf-2", lineIndex: 2, payload: { type: "session", id: "inf-2", timestamp: "2026-11-20T08:00:00.000Z" } },
      ];
      const r = await post("/v1/openclaw/ingest/sessions", JSON.stringify({ lines }), headers);
      assert.equal(r.status, 200);
      assert.equal(r.body.accepted, 3);
      assert.equal(r.body.rejected, 1);
      assert.equal(typeof r.body.batchId, "string");
      assert.deepEqual(
        r.body.errors.map((e: Record<string, unknown>) => ({ ...e, reason: typeof e["reason"] })),
        [{ index: 2, lineIndex: 2, agentId: "main", sessionId: "inf-1", reason: "string" }],
      );
      const again = await post("/v1/openclaw/ingest/sessions", JSON.stringify({ lines: lines.slice(0, 2) }), headers);
      assert.equal(again.body.accepted, 2, "Influxion counts an already-stored line as accepted");
      assert.equal(again.body.duplicates, 2);
      // gpt-6-sol is priced by the bundled table: 1000 × $2/M + 100 × $10/M
      const m = (await get("/api/v1/reports/models?deployment=gw-1")).body.rows.find((x: { model: string }) => x.model === "gpt-6-sol");
      assert.ok(Math.abs(m.cost.estimated - 0.003) < 1e-12);

      const skills = await post("/v1/openclaw/ingest/skills", JSON.stringify({ agentId: "main", fullSync: true, skills: [{ name: "github", content: "# GitHub", contentHash: "h1" }, { name: "weather" }] }), headers);
      assert.equal(skills.body.accepted, 2);
      await post("/v1/openclaw/ingest/skills", JSON.stringify({ agentId: "main", fullSync: true, skills: [{ name: "github", contentHash: "h1" }] }), headers);
      const rows = await conn.db.selectFrom("skills").select(["skill_key", "available", "content"]).where("deployment_id", "=", "gw-1").orderBy("skill_key").execute();
      assert.deepEqual(rows.map((x) => [x.skill_key, Number(x.available), x.content]), [["github", 1, "# GitHub"], ["weather", 0, null]]);
    });

    it("accepts AgentWatch snapshots without double counting cumulative totals", async () => {
      const headers = { authorization: `Bearer ${boundKey}`, "content-type": "application/json" };
      const snap = (input: number, output: number, ts: string) => ({ agent_id: "haiku", agent_name: "gh-22", event_type: "execution", session_id: "aw-1", input_tokens: input, output_tokens: output, model: "claude-haiku-4-5", status: "running", metadata: { kind: "subagent", label: "gh:22", channel: "github" }, timestamp: ts });
      await post("/api/events/bulk", JSON.stringify([snap(600, 400, "2026-11-20T09:00:00Z")]), headers);
      await post("/api/events/bulk", JSON.stringify([snap(600, 400, "2026-11-20T09:00:00Z"), snap(1000, 700, "2026-11-20T09:00:30Z")]), headers);
      const s = (await get("/api/v1/reports/agents?deployment=gw-1")).body.rows.find((r: { agentId: string }) => r.agentId === "haiku");
      assert.deepEqual([s.tokens.input, s.tokens.output], [1000, 700]);
    });

    it("requires a token for everything on a hub that is not loopback-only", async () => {
      const secured = createHubApp({ conn, prices, auth: { adminToken: "admin-token-0123456789", loopbackOnly: false }, feed, webDir: null, log: () => {} });
      const req = (url: string, headers: Record<string, string> = {}) => secured.request(url, { headers: { host: "hub.example:4680", ...headers } });
      assert.equal((await req("/api/v1/reports/summary")).status, 401);
      assert.equal((await req("/api/v1/reports/summary", { authorization: "Bearer wrong" })).status, 401);
      assert.equal((await req("/api/v1/reports/summary", { authorization: "Bearer admin-token-0123456789" })).status, 200);
      // A key made without --scope may ingest only (key-scopes.test.ts covers read keys).
      assert.equal((await req("/api/v1/reports/summary", { authorization: `Bearer ${openKey}` })).status, 403);
      const login = await secured.request("/api/v1/auth/login", { method: "POST", body: JSON.stringify({ token: "admin-token-0123456789" }), headers: { host: "hub.example", "content-type": "application/json" } });
      const cookie = login.headers.get("set-cookie")!;
      assert.match(cookie, /HttpOnly/);
      assert.equal((await req("/api/v1/info", { cookie: cookie.split(";")[0]! })).status, 200);
      // A loopback hub refuses foreign Host headers (DNS rebinding).
      assert.equal((await app.request("/api/v1/info", { headers: { host: "evil.example" } })).status, 403);
    });

    it("streams a change event when data lands", async () => {
      const res = await app.request("/api/v1/stream", { headers: { host: "127.0.0.1" } });
      const reader = res.body!.getReader();
      const text = new TextDecoder();
      let seen = "";
      const read = async (until: RegExp) => {
        const deadline = Date.now() + 5000;
        while (!until.test(seen) && Date.now() < deadline) {
          const { value, done } = await reader.read();
          if (done) break;
          seen += text.decode(value);
        }
      };
      await read(/event: hello/);
      await post("/api/v1/ingest/events", JSON.stringify({ agentId: "main", sessionId: "live-1", seq: 0, event: { type: "session", id: "live-1" } }), {
        authorization: `Bearer ${boundKey}`,
        "content-type": "application/x-ndjson",
      });
      await read(/event: change/);
      await reader.cancel();
      assert.match(seen, /event: change\ndata: \{"changes":\d+,"deployments":\["gw-1"\]/);
    });
  });
}

describe("startHub", () => {
  it("refuses to serve a non-loopback address without an admin token", async () => {
    const conn = await openStore({ kind: "sqlite", path: path.join(tmpDir(), "x.db") });
    await assert.rejects(startHub({ conn, prices: createPriceBook([], []), host: "0.0.0.0", port: 0, adminToken: null, webDir: null }), HubConfigError);
    const hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: null });
    const r = await fetch(`${hub.url}/healthz`);
    assert.equal(r.status, 200);
    await hub.close();
    await conn.close();
  });
});

describe("request bodies over a real socket", () => {
  /** POSTs `chunks` one write each: without a content-length header Node sends them chunked. */
  const rawPost = (url: string, chunks: (string | Buffer)[], headers: Record<string, string>) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = http.request(url, { method: "POST", headers }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => (text += d)).on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      });
      req.on("error", reject);
      for (const c of chunks) req.write(c);
      req.end();
    });

  it("reads NDJSON line by line (BOM, CRLF, blank lines), and limits chunked and declared bodies", async () => {
    const conn = await openStore({ kind: "sqlite", path: path.join(tmpDir(), "bodies.db") });
    const key = (await createApiKey(conn, { deploymentId: "gw-body" }, Date.now())).token;
    const hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: null, bodyLimitBytes: 64 * 1024 });
    try {
      const url = `${hub.url}/api/v1/ingest/events`;
      const headers = { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" };
      const line = (id: string, text: string) => JSON.stringify({ agentId: "main", sessionId: "s-body", event: ev(id, "2026-11-20T10:00:00Z", { role: "user", content: [{ type: "text", text }] }) });
      // "é" and "€" split across two writes: bytes, not chunks, are decoded.
      const second = Buffer.from(`${line("e2", "café € ok")}\r\n`);
      const cut = second.indexOf(Buffer.from("€")) + 1;
      const r = await rawPost(url, [`\uFEFF${line("e1", "hello")}\r\n\r\n`, second.subarray(0, cut), second.subarray(cut), "{not json\n", `\n${line("e3", "x")}`], headers);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual([r.body.accepted, r.body.rejected], [3, 1]);
      assert.deepEqual(r.body.results.map((x: { line: number; status: string }) => [x.line, x.status]), [[0, "accepted"], [1, "accepted"], [2, "rejected"], [3, "accepted"]]);
      assert.match(r.body.results[2].reason, /^not valid JSON/); // its position is `line`, not the text
      const stored = (await conn.db.selectFrom("raw_events").select("payload").where("event_id", "=", "e2").executeTakeFirstOrThrow()).payload;
      assert.equal(JSON.parse(stored).message.content[0].text, "café € ok");

      const filler = `${line("big", "y".repeat(8 * 1024))}\n`;
      const chunked = await rawPost(url, Array.from({ length: 12 }, () => filler), headers);
      assert.equal(chunked.status, 413);
      assert.equal(chunked.body.error.code, "payload_too_large");
      const declared = await rawPost(url, ["x".repeat(70 * 1024)], { ...headers, "content-length": String(70 * 1024) });
      assert.equal(declared.status, 413);
      assert.equal((await conn.db.selectFrom("raw_events").select("event_id").where("event_id", "=", "big").execute()).length, 0);
      assert.equal((await fetch(`${hub.url}/healthz`)).status, 200);
    } finally {
      await hub.close();
      await conn.close();
    }
  });
});
