/**
 * Ranges over the HTTP API, on SQLite and PostgreSQL: "the last 24 h / 7 d" ends at now, so events dated in
 * the future (a clock ahead) never count as recent and are flagged as a problem; a timeline of the last 24 h
 * ends at now; a session counts in a range when it was active in it, not because its lifetime overlaps it.
 */
import assert from "node:assert/strict";
import { after, it } from "node:test";
import { createPriceBook } from "@clawtower/core";
import { createApiKey, openStore, type StoreConnection } from "@clawtower/store";
import { describeStore, storeTargets, type StoreTarget } from "@clawtower/testkit";
import { createChangeFeed, createHubApp } from "../src/index.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

const H = 3_600_000;
const D = 24 * H;
/** The hub's clock for these tests: near the real one (ingest may refuse far-off timestamps), on a half hour. */
const NOW = Math.floor(Date.now() / H) * H + H / 2;

type Line = { agentId: string; sessionId: string; event: Record<string, unknown> };
const user = (sessionId: string, id: string, at: number): Line => ({ agentId: "main", sessionId, event: { type: "message", id, timestamp: new Date(at).toISOString(), message: { role: "user", content: "hi" } } });
const call = (sessionId: string, id: string, at: number, input: number): Line => ({
  agentId: "main",
  sessionId,
  event: { type: "message", id, timestamp: new Date(at).toISOString(), message: { role: "assistant", provider: "fake", model: "fake-1", usage: { input, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: 0.001 } } } },
});

/** The data, with what each range must count worked out by hand from it. */
const LINES: Line[] = [
  call("recent", "r1", NOW - 2 * H, 100),
  call("future", "f1", NOW + 3 * H, 1000), // a gateway whose clock is 3 h ahead
  call("straddle", "s1", NOW - 5 * H, 10),
  call("straddle", "s2", NOW + 2 * H, 10_000),
  // Long sessions that began 20 days ago and were last active yesterday; only "busy" did anything 12 days ago.
  user("quiet", "q1", NOW - 20 * D),
  call("quiet", "q2", NOW - 20 * D + 60_000, 7),
  user("quiet", "q3", NOW - 1 * D - 2 * H),
  user("busy", "b1", NOW - 20 * D),
  call("busy", "b2", NOW - 12 * D, 5),
  user("busy", "b3", NOW - 1 * D - 2 * H),
];

async function hubWith(target: StoreTarget) {
  const conn: StoreConnection = await openStore(target.options());
  const feed = await createChangeFeed(conn, 50);
  const app = createHubApp({ conn, prices: createPriceBook([], []), auth: { adminToken: null, loopbackOnly: true }, feed, webDir: null, bodyLimitBytes: 1 << 20, log: () => {}, now: () => NOW });
  const key = (await createApiKey(conn, { deploymentId: "gw-ranges" }, NOW)).token;
  const body = LINES.map((l) => JSON.stringify(l)).join("\n");
  const r = await app.request("/api/v1/ingest/events", { method: "POST", body, headers: { host: "127.0.0.1:4680", authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" } });
  const answer = (await r.json()) as { accepted: number };
  assert.equal(answer.accepted, LINES.length, JSON.stringify(answer));
  const get = async (url: string) => {
    const res = await app.request(url, { headers: { host: "127.0.0.1:4680" } });
    assert.equal(res.status, 200, url);
    return (await res.json()) as any;
  };
  return { get, close: async () => (feed.close(), await conn.close()) };
}

const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());

for (const target of targets) {
  describeStore(target, `[${target.name}] ranges`, () => {
    it("the last 24 h ends now: calls dated in the future are not recent, but stay in all time", async () => {
      const hub = await hubWith(target);
      try {
        const day = await hub.get("/api/v1/reports/summary?since=24h");
        assert.equal(day.totals.llmCalls, 2, "r1 and s1; not f1 or s2");
        assert.equal(day.totals.tokens.input, 110);
        assert.equal(day.filters.until, new Date(NOW).toISOString());
        assert.equal((await hub.get("/api/v1/reports/summary?since=7d")).totals.llmCalls, 2);
        // The dashboard's presets say so explicitly.
        assert.equal((await hub.get("/api/v1/reports/summary?since=7d&until=now")).totals.llmCalls, 2);
        const all = await hub.get("/api/v1/reports/summary");
        assert.equal(all.totals.llmCalls, 6);
        assert.equal(all.totals.tokens.input, 100 + 1000 + 10 + 10_000 + 7 + 5);
        // A session that only has future-dated events is not among the last day's sessions.
        const list = await hub.get("/api/v1/sessions?since=24h&limit=50");
        assert.deepEqual(list.sessions.map((s: { sessionId: string }) => s.sessionId).sort(), ["recent", "straddle"]);
        assert.equal(day.totals.sessions, 2);
      } finally {
        await hub.close();
      }
    });

    it("flags sessions dated after now (beyond the skew allowance) as a problem", async () => {
      const hub = await hubWith(target);
      try {
        const s = await hub.get("/api/v1/reports/summary");
        assert.equal(s.problems["future-timestamp"], 2, `future and straddle: ${JSON.stringify(s.problems)}`);
        const listed = (await hub.get("/api/v1/reports/summary?since=24h")).problems["future-timestamp"];
        assert.equal(listed, 2, "whatever the range");
      } finally {
        await hub.close();
      }
    });

    it("a timeline of the last 24 h ends at the hour of now, not at the last data point", async () => {
      const hub = await hubWith(target);
      try {
        const ts = await hub.get("/api/v1/reports/timeseries?since=24h&bucket=hour&tz=UTC");
        const last = ts.points.at(-1);
        assert.ok(Date.parse(last.start) <= NOW && NOW < Date.parse(last.start) + H, `last bucket ${last.start}, now ${new Date(NOW).toISOString()}`);
        assert.ok(Date.parse(ts.points[0].start) <= NOW - 24 * H);
        assert.equal(ts.points.reduce((a: number, p: { llmCalls: number }) => a + p.llmCalls, 0), 2);
      } finally {
        await hub.close();
      }
    });

    it("counts a session in a range only when it was active in it", async () => {
      const hub = await hubWith(target);
      try {
        // 15 to 10 days ago: "quiet" and "busy" both lived through it; only "busy" made a call in it.
        const range = `since=${iso(NOW - 15 * D)}&until=${iso(NOW - 10 * D)}`;
        const s = await hub.get(`/api/v1/reports/summary?${range}`);
        assert.equal(s.totals.llmCalls, 1);
        assert.equal(s.totals.sessions, 1);
        const list = await hub.get(`/api/v1/sessions?${range}&limit=50`);
        assert.equal(list.total, 1);
        assert.deepEqual(list.sessions.map((x: { sessionId: string }) => x.sessionId), ["busy"]);
        for (const sort of ["cost", "tokens", "calls"]) assert.equal((await hub.get(`/api/v1/sessions?${range}&limit=50&sort=${sort}`)).total, 1, sort);
        const agents = await hub.get(`/api/v1/reports/agents?${range}`);
        assert.deepEqual(agents.rows.map((r: { agentId: string; sessions: number }) => [r.agentId, r.sessions]), [["main", 1]]);
        const models = await hub.get(`/api/v1/reports/models?${range}`);
        assert.deepEqual(models.rows.map((r: { model: string; sessions: number }) => [r.model, r.sessions]), [["fake-1", 1]]);
        assert.equal((await hub.get(`/api/v1/sessions?${range}&model=fake/fake-1`)).total, 1);
        // 9 to 3 days ago nobody did anything, though both sessions were open.
        const quiet = `since=${iso(NOW - 9 * D)}&until=${iso(NOW - 3 * D)}`;
        assert.equal((await hub.get(`/api/v1/reports/summary?${quiet}`)).totals.sessions, 0);
        assert.equal((await hub.get(`/api/v1/sessions?${quiet}`)).total, 0);
        // A range holding a first or last event counts the session by that event alone.
        const lastEvents = `since=${iso(NOW - 2 * D)}&until=${iso(NOW - 12 * H)}`;
        assert.equal((await hub.get(`/api/v1/reports/summary?${lastEvents}`)).totals.sessions, 2);
      } finally {
        await hub.close();
      }
    });
  });
}
