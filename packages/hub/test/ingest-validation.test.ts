/**
 * Ingest input that used to break the hub (issue 16 A1–A4, A8's line numbering), on every ingest route and
 * both stores: each bad line is answered on its own, the rest of the request is kept, totals stay exact, and a
 * store that already holds absurd values (written behind validation's back) still answers every report.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, it } from "node:test";
import { sql } from "kysely";
import { createPriceBook, MAX_TOKENS_PER_CALL } from "@clawtower/core";
import { createApiKey, ingestLines, openStore, syncHome, type StoreConnection } from "@clawtower/store";
import { describeStore, storeTargets, tmpDir } from "@clawtower/testkit";
import { createChangeFeed, createHubApp, type ChangeFeed } from "../src/index.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

const AT = "2026-11-20T10:00:00.000Z";
const HOUR = 3_600_000;
/** No price for this model anywhere: costs are only what lines record, so expected totals need no price table. */
const prices = createPriceBook([], []);

function call(id: string, usage: Record<string, unknown>, extra: { timestamp?: unknown; model?: string; message?: Record<string, unknown> } = {}) {
  return {
    type: "message",
    id,
    timestamp: extra.timestamp ?? AT,
    message: { role: "assistant", provider: "acme", model: extra.model ?? "m-1", content: [], usage, stopReason: "stop", ...extra.message },
  };
}

/** An object nested `depth` levels deep. */
function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

/** The same nesting as JSON text, built without recursion (JSON.stringify of it would overflow the stack). */
function nestedText(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}1${"}".repeat(depth - 1)}`;
}

for (const target of targets) {
  describeStore(target, `[${target.name}] ingest validation`, () => {
    let conn: StoreConnection;
    let feed: ChangeFeed;
    let app: ReturnType<typeof createHubApp>;
    let key: string;
    const logged: string[] = [];

    before(async () => {
      conn = await openStore(target.options());
      feed = await createChangeFeed(conn, 50);
      app = createHubApp({ conn, prices, auth: { adminToken: null, loopbackOnly: true }, feed, webDir: null, log: (l) => logged.push(l) });
      key = (await createApiKey(conn, {}, Date.now())).token;
    });
    after(async () => {
      feed.close();
      await conn.close();
    });

    const request = async (url: string, body: string, type: string) => {
      const r = await app.request(url, { method: "POST", body, headers: { host: "127.0.0.1:4680", authorization: `Bearer ${key}`, "content-type": type } });
      return { status: r.status, body: (await r.json()) as any };
    };
    const ndjson = (items: unknown[]) => request("/api/v1/ingest/events", items.map((i) => (typeof i === "string" ? i : JSON.stringify(i))).join("\n"), "application/x-ndjson");
    const get = async (url: string) => {
      const r = await app.request(url, { headers: { host: "127.0.0.1:4680" } });
      return { status: r.status, body: (await r.json()) as any };
    };
    const summary = async (deployment: string) => (await get(`/api/v1/reports/summary?deployment=${deployment}`)).body;

    it("counts out-of-range usage as 0 with a problem, as for local files, on every route and exactly", async () => {
      // Known totals: only the valid fields count; an invalid recorded cost is not used (unpriced here).
      const usages: Record<string, unknown>[] = [
        { input: 100, output: 10, cost: { total: 0.5 } },
        { input: 3.5, output: 7 }, // fractional
        { input: 1e20, output: 5 }, // beyond any integer column
        { input: 9007199254740994, output: 1 }, // not a safe integer
        { input: MAX_TOKENS_PER_CALL + 1, output: 4, cacheRead: MAX_TOKENS_PER_CALL }, // one over the ceiling, one at it
        { input: 1, output: 2, cost: { total: 1e12 } }, // cost beyond the ceiling
      ];
      const expected = { input: 101, output: 29, cacheRead: MAX_TOKENS_PER_CALL, recordedUsd: 0.5, problems: 5, calls: usages.length };
      const check = async (deployment: string) => {
        const s = await summary(deployment);
        assert.deepEqual(
          { input: s.totals.tokens.input, output: s.totals.tokens.output, cacheRead: s.totals.tokens.cacheRead, recordedUsd: s.totals.cost.recorded, problems: s.problems["invalid-usage-field"], calls: s.totals.llmCalls },
          expected,
          deployment,
        );
      };

      const ours = await ndjson(usages.map((u, i) => ({ deploymentId: "u-ours", agentId: "main", sessionId: "s1", event: call(`c${i}`, u) })));
      assert.equal(ours.status, 200, JSON.stringify(ours.body));
      assert.deepEqual(ours.body.results.map((r: { status: string }) => r.status), usages.map(() => "accepted"));
      await check("u-ours");

      const influx = await request(
        "/v1/openclaw/ingest/sessions",
        JSON.stringify({ lines: usages.map((u, i) => ({ deploymentId: "u-influx", agentId: "main", sessionId: "s1", lineIndex: i, payload: call(`c${i}`, u) })) }),
        "application/json",
      );
      assert.equal(influx.status, 200, JSON.stringify(influx.body));
      assert.deepEqual([influx.body.accepted, influx.body.rejected], [usages.length, 0]);
      await check("u-influx");

      // AgentWatch snapshots: counts are whole and safe, or the snapshot is refused with the field named.
      const aw = await request(
        "/api/events/bulk?deployment=u-aw",
        JSON.stringify([
          { agent_id: "main", session_id: "w1", model: "m-1", input_tokens: 40, output_tokens: 4, timestamp: AT },
          { agent_id: "main", session_id: "w2", model: "m-1", input_tokens: 3.5, output_tokens: 1, timestamp: AT },
          { agent_id: "main", session_id: "w3", model: "m-1", input_tokens: 1e20, output_tokens: 1, timestamp: AT },
        ]),
        "application/json",
      );
      assert.equal(aw.status, 200, JSON.stringify(aw.body));
      assert.deepEqual(aw.body.errors.map((e: { index: number; reason: string }) => [e.index, e.reason.split(":")[0]]), [[1, "input_tokens"], [2, "input_tokens"]]);
      const s = await summary("u-aw");
      assert.deepEqual([s.totals.tokens.input, s.totals.tokens.output, s.totals.llmCalls], [40, 4, 1]);
    });

    it("rejects ids with control characters and NUL in stored text line by line, keeping the rest, on every route", async () => {
      const good = (i: number) => call(`ok${i}`, { input: 10, output: 1 });
      const ours = await ndjson([
        { deploymentId: "n-ours", agentId: "main", sessionId: "s1", event: good(0) },
        { deploymentId: "n-ours", agentId: "main", sessionId: "s\u0000x", event: good(1) },
        { deploymentId: "n-ours", agentId: "ma\u001bin", sessionId: "s1", event: good(2) },
        { deploymentId: "n-ours", agentId: "main", sessionId: "s1", event: call("e\u0000vil", { input: 1, output: 1 }) },
        { deploymentId: "n-ours", agentId: "main", sessionId: "s1", event: call("m", { input: 1, output: 1 }, { model: "gpt\u0000" }) },
        { deploymentId: "n-ours", agentId: "main", sessionId: "s1", idempotencyKey: "k\u0007", event: good(3) },
        { deploymentId: "n-ours", agentId: "main", sessionId: "s1", session: { label: "a\u0000b" }, event: good(4) },
        // An event sent as a string of JSON can carry a raw NUL inside a string the scanner skips.
        { deploymentId: "n-ours", agentId: "main", sessionId: "s1", event: `{"type":"message","id":"raw","message":{"role":"user","content":"a\u0000b"}}` },
        { deploymentId: "n-ours", agentId: "main", sessionId: "s1", event: good(5) },
      ]);
      assert.equal(ours.status, 200, JSON.stringify(ours.body));
      const answers = ours.body.results.map((r: { line: number; status: string; reason?: string }) => [r.line, r.status, r.reason?.split(":")[0]]);
      assert.deepEqual(answers, [
        [0, "accepted", undefined],
        [1, "rejected", "sessionId"],
        [2, "rejected", "agentId"],
        [3, "rejected", "event.id"],
        [4, "rejected", "event.message.model"],
        [5, "rejected", "idempotencyKey"],
        [6, "rejected", "session.label"],
        [7, "rejected", "event"],
        [8, "accepted", undefined],
      ]);
      assert.equal((await summary("n-ours")).totals.tokens.input, 20);

      const influx = await request(
        "/v1/openclaw/ingest/sessions",
        JSON.stringify({
          lines: [
            { deploymentId: "n-influx", agentId: "main", sessionId: "s1", lineIndex: 0, payload: good(0) },
            { deploymentId: "n-influx", agentId: "main", sessionId: "s\u0000", lineIndex: 1, payload: good(1) },
            { deploymentId: "n-influx", agentId: "main", sessionId: "s1", lineIndex: 2, payload: call("m", { input: 1, output: 1 }, { model: "x\u0000" }) },
            { deploymentId: "n-influx", agentId: "main", sessionId: "s1", lineIndex: 3, idempotencyKey: "", payload: good(3) }, // an empty key is none
          ],
        }),
        "application/json",
      );
      assert.equal(influx.status, 200, JSON.stringify(influx.body));
      assert.deepEqual(influx.body.errors.map((e: { index: number; reason: string }) => [e.index, e.reason.split(":")[0]]).sort(), [[1, "sessionId"], [2, "event.message.model"]]);
      assert.equal((await summary("n-influx")).totals.tokens.input, 20);

      const aw = await request(
        "/api/events/bulk?deployment=n-aw",
        JSON.stringify([
          { agent_id: "main", session_id: "w1", model: "m-1", input_tokens: 10, output_tokens: 1, timestamp: AT },
          { agent_id: "main", session_id: "w\u0000", model: "m-1", input_tokens: 10, output_tokens: 1, timestamp: AT },
          { agent_id: "main", session_id: "w3", model: "m\u0000", input_tokens: 10, output_tokens: 1, timestamp: AT },
        ]),
        "application/json",
      );
      assert.equal(aw.status, 200, JSON.stringify(aw.body));
      assert.deepEqual(aw.body.errors.map((e: { index: number; reason: string }) => [e.index, e.reason.split(":")[0]]).sort(), [[1, "session_id"], [2, "model"]]);
      assert.equal((await summary("n-aw")).totals.tokens.input, 10);

      const skills = await request("/v1/openclaw/ingest/skills", JSON.stringify({ deploymentId: "n-aw", agentId: "main", skills: [{ name: "a\u0000b" }] }), "application/json");
      assert.equal(skills.status, 400);
      assert.match(skills.body.error.message, /^skills\.0\.name: must not contain NUL/);
      const skillsDeployment = await request("/v1/openclaw/ingest/skills", JSON.stringify({ deploymentId: "n\u0000", agentId: "main", skills: [{ name: "ok" }] }), "application/json");
      assert.equal(skillsDeployment.status, 400);
      assert.match(skillsDeployment.body.error.message, /^deploymentId: must not contain control characters/);
    });

    it("rejects events dated before 2020 or more than 24 h ahead of the hub's clock, line by line, on every route", async () => {
      const now = Date.now();
      const stamps: [unknown, boolean][] = [
        ["2019-12-31T23:59:59.999Z", false],
        ["2020-01-01T00:00:00.000Z", true],
        [new Date(now + 23 * HOUR).toISOString(), true],
        [new Date(now + 25 * HOUR).toISOString(), false],
        ["+275760-09-13T00:00:00.000Z", false],
        [1e20, false], // epoch ms as a number, far out of range
        [1_700_000_000, false], // seconds mistaken for milliseconds: January 1970
      ];
      const ours = await ndjson(stamps.map(([ts], i) => ({ deploymentId: "t-ours", agentId: "main", sessionId: "s1", event: call(`t${i}`, { input: 1, output: 0 }, { timestamp: ts }) })));
      assert.equal(ours.status, 200, JSON.stringify(ours.body));
      assert.deepEqual(
        ours.body.results.map((r: { status: string; reason?: string }) => [r.status, r.reason?.split(":")[0]]),
        stamps.map(([, ok]) => (ok ? ["accepted", undefined] : ["rejected", "event.timestamp"])),
      );
      // The message's own timestamp is checked too.
      const inner = await ndjson([{ deploymentId: "t-ours", agentId: "main", sessionId: "s2", event: call("i1", { input: 1, output: 0 }, { message: { timestamp: now + 48 * HOUR } }) }]);
      assert.match(inner.body.results[0].reason, /^event\.message\.timestamp: .* more than 24 h after the hub's clock/);
      assert.equal((await summary("t-ours")).totals.tokens.input, 2);

      const influx = await request(
        "/v1/openclaw/ingest/sessions",
        JSON.stringify({ lines: stamps.map(([ts], i) => ({ deploymentId: "t-influx", agentId: "main", sessionId: "s1", lineIndex: i, payload: call(`t${i}`, { input: 1, output: 0 }, { timestamp: ts }) })) }),
        "application/json",
      );
      assert.deepEqual(influx.body.errors.map((e: { index: number }) => e.index).sort(), stamps.flatMap(([, ok], i) => (ok ? [] : [i])));
      assert.equal((await summary("t-influx")).totals.tokens.input, 2);

      const aw = await request(
        "/api/events/bulk?deployment=t-aw",
        JSON.stringify(stamps.filter(([ts]) => typeof ts === "string").map(([ts], i) => ({ agent_id: "main", session_id: `w${i}`, model: "m-1", input_tokens: 1, output_tokens: 0, timestamp: ts }))),
        "application/json",
      );
      assert.deepEqual(aw.body.errors.map((e: { index: number }) => e.index).sort(), [0, 3, 4]);
      assert.equal((await summary("t-aw")).totals.tokens.input, 2);
    });

    it("rejects deeply nested lines one by one (JSON batch, NDJSON, Influxion), keeping the rest", async () => {
      const fine = (i: number) => ({ deploymentId: "d-ours", agentId: "main", sessionId: "s1", event: call(`f${i}`, { input: 1, output: 0 }) });
      const deepLine = (depth: number) => `{"deploymentId":"d-ours","agentId":"main","sessionId":"s1","event":{"type":"message","id":"deep${depth}","x":${nestedText(depth)}}}`;
      const lines = [JSON.stringify(fine(0)), deepLine(600), deepLine(5_000), deepLine(100_000), JSON.stringify({ ...fine(1), event: { ...call("f1", { input: 1, output: 0 }), x: nested(100) } })];
      const r = await ndjson(lines);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.results.map((x: { status: string }) => x.status), ["accepted", "rejected", "rejected", "rejected", "accepted"]);
      for (const x of r.body.results.slice(1, 4)) assert.match(x.reason, /nest/);

      // The JSON batch path and the Influxion route hold the parsed event, which they turn back into text.
      const batch = `{"events":[${JSON.stringify(fine(2))},{"deploymentId":"d-ours","agentId":"main","sessionId":"s1","event":{"type":"message","id":"deepj","x":${nestedText(20_000)}}}]}`;
      const b = await request("/api/v1/ingest/events", batch, "application/json");
      assert.equal(b.status, 200, JSON.stringify(b.body));
      assert.deepEqual(b.body.results.map((x: { status: string }) => x.status), ["accepted", "rejected"]);
      const influx = `{"lines":[{"deploymentId":"d-influx","agentId":"main","sessionId":"s1","lineIndex":0,"payload":${JSON.stringify(call("f0", { input: 1, output: 0 }))}},{"deploymentId":"d-influx","agentId":"main","sessionId":"s1","lineIndex":1,"payload":{"type":"message","id":"deep","x":${nestedText(20_000)}}}]}`;
      const i = await request("/v1/openclaw/ingest/sessions", influx, "application/json");
      assert.equal(i.status, 200, JSON.stringify(i.body));
      assert.deepEqual([i.body.accepted, i.body.errors.map((e: { index: number }) => e.index)], [1, [1]]);
      const aw = `[{"agent_id":"main","session_id":"w1","model":"m-1","input_tokens":1,"output_tokens":0,"timestamp":"${AT}","metadata":{"x":${nestedText(20_000)}}}]`;
      assert.equal((await request("/api/events/bulk?deployment=d-aw", aw, "application/json")).status, 200);
      assert.equal((await summary("d-ours")).totals.llmCalls, 3);
    });

    it("says where a rejected NDJSON line is only by results[].line (0-based, blank lines not counted)", async () => {
      const ok = (id: string) => JSON.stringify({ deploymentId: "l-ours", agentId: "main", sessionId: "s1", event: call(id, { input: 1, output: 0 }) });
      const r = await request("/api/v1/ingest/events", `${ok("a")}\n\n\n{not json\n${ok("b")}`, "application/x-ndjson");
      assert.deepEqual(r.body.results.map((x: { line: number; status: string }) => [x.line, x.status]), [[0, "accepted"], [1, "rejected"], [2, "accepted"]]);
      assert.doesNotMatch(r.body.results[1].reason, /^line/);
      assert.match(r.body.results[1].reason, /^not valid JSON/);
    });

    it("answers every report over a store that already holds absurd instants", async () => {
      // Behind validation's back: the store's own ingest with a clock set in year 275760, and a local import
      // (local files are never refused) of instants at both ends of what a Date can hold, and beyond it.
      const far = 8.64e15; // +275760-09-13T00:00:00.000Z, the last instant a Date can hold
      const stored = await ingestLines(conn, [{ index: 0, deploymentId: "x-time", agentId: "main", sessionId: "future", seq: 0, event: JSON.stringify(call("f1", { input: 5, output: 1 }, { timestamp: new Date(far).toISOString() })) }], prices, far);
      assert.equal(stored.accepted, 1);
      const home = path.join(tmpDir(), "openclaw");
      const sessions = path.join(home, "agents", "main", "sessions");
      fs.mkdirSync(sessions, { recursive: true });
      const events = [
        { type: "session", version: 3, id: "old", timestamp: "-271821-04-20T00:00:00.000Z", cwd: "/" },
        call("n1", { input: 3, output: 1 }), // a normal call, which must keep its day
        call("o1", { input: 7, output: 1 }, { timestamp: "-271821-04-20T00:00:00.000Z" }),
        call("o2", { input: 11, output: 1 }, { timestamp: 1e18 }),
      ];
      fs.writeFileSync(path.join(sessions, "old.jsonl"), events.map((e) => JSON.stringify(e)).join("\n") + "\n");
      await syncHome(conn, { home, deploymentId: "x-time", deploymentName: "x-time", prices });

      const reports = [
        "summary",
        "summary?tz=Asia/Tokyo",
        "summary?tz=Pacific/Kiritimati",
        "summary?tz=America/Los_Angeles",
        "daily?tz=Asia/Tokyo",
        "weekly?tz=Asia/Tokyo",
        "monthly?tz=Asia/Tokyo",
        "monthly?tz=Pacific/Pago_Pago",
        "timeseries?tz=Asia/Tokyo&bucket=day",
        "timeseries?tz=Asia/Tokyo&bucket=hour",
        "timeseries?tz=Asia/Tokyo&bucket=month&groupBy=model",
        "models?tz=Asia/Tokyo",
        "agents?tz=Asia/Tokyo",
        "tools?tz=Asia/Tokyo",
      ];
      for (const report of reports) {
        const r = await get(`/api/v1/reports/${report}${report.includes("?") ? "&" : "?"}deployment=x-time`);
        assert.equal(r.status, 200, `${report}: ${JSON.stringify(r.body)} ${logged.join("\n").slice(0, 3000)}`);
      }
      const list = await get("/api/v1/sessions?deployment=x-time&tz=Asia/Tokyo");
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.deepEqual(list.body.sessions.map((s: { sessionId: string }) => s.sessionId).sort(), ["future", "old"]);
      for (const s of list.body.sessions) {
        const replay = await get(`/api/v1/sessions/x-time/main/${s.sessionId}`);
        assert.equal(replay.status, 200, JSON.stringify(replay.body));
      }
      // "All time" is ALL_TIME (1970 to ~3065): the absurd calls are kept, counted in no range; the normal one
      // keeps its own day, whatever the outliers.
      for (const tz of ["UTC", "Asia/Tokyo", "America/Los_Angeles"]) {
        const s = (await get(`/api/v1/reports/summary?deployment=x-time&tz=${tz}`)).body;
        assert.deepEqual([s.totals.llmCalls, s.totals.tokens.input], [1, 3], tz);
        const daily = (await get(`/api/v1/reports/daily?deployment=x-time&tz=${tz}`)).body;
        assert.deepEqual(daily.periods.map((p: { period: string; tokens: { input: number } }) => [p.period, p.tokens.input]), [["2026-11-20", 3]], tz);
      }
    });

    it("answers every report over a store that already holds integers too large for a double", async () => {
      // Two sessions on two days, one call each; then every stored copy of their input count is raised by 2^62
      // (as a store written before ingest checked usage may hold): each row still fits a bigint, their sum does not.
      logged.length = 0;
      const day = (d: number) => `2026-11-${String(10 + d).padStart(2, "0")}T10:00:00.000Z`;
      const r = await ndjson([0, 1].map((d) => ({ deploymentId: "x-big", agentId: "main", sessionId: `b${d}`, event: call(`b${d}`, { input: 100, output: 10 }, { timestamp: day(d) }) })));
      assert.equal(r.body.accepted, 2);
      const offset = 2n ** 62n;
      for (const table of ["llm_calls", "sessions", "usage_rollup", "usage_rollup_hour", "usage_rollup_day", "session_hour_usage"]) {
        await sql.raw(`UPDATE ${table} SET input_tokens = input_tokens + ${offset} WHERE deployment_id = 'x-big'`).execute(conn.db);
      }
      const exact = Number(2n * (100n + offset));
      for (const report of ["summary", "summary?tz=Asia/Tokyo", "daily", "monthly", "timeseries?bucket=day", "models", "agents", "tools"]) {
        const g = await get(`/api/v1/reports/${report}${report.includes("?") ? "&" : "?"}deployment=x-big`);
        assert.equal(g.status, 200, `${report}: ${JSON.stringify(g.body)}`);
        if (g.body.totals?.tokens) {
          assert.equal(g.body.totals.tokens.input, exact, report);
          assert.equal(g.body.totals.tokens.output, 20, report); // normal values stay exact
          assert.equal(g.body.totals.llmCalls, 2, report);
        }
      }
      const one = (await get("/api/v1/reports/summary?deployment=x-big&since=2026-11-10&until=2026-11-10")).body;
      assert.equal(one.totals.tokens.input, Number(100n + offset));
      const list = await get("/api/v1/sessions?deployment=x-big&sort=tokens");
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.deepEqual(list.body.sessions.map((s: { tokens: { input: number } }) => s.tokens.input), [Number(100n + offset), Number(100n + offset)]);
      const replay = await get("/api/v1/sessions/x-big/main/b0");
      assert.equal(replay.status, 200, JSON.stringify(replay.body));
      assert.equal(logged.filter((l) => l.includes("internal error")).length, 0, logged.join("\n"));
    });
  });
}
