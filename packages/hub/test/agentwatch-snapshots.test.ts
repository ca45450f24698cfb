/**
 * AgentWatch-compatible `/api/events/bulk` (issue 16 A5): a TelemetryEvent carries a session's cumulative
 * tokens, so a newer snapshot replaces the session's totals — within one request, across concurrent requests
 * (two hubs on one store), out of order, resent, or with a counter that restarted — and summary, daily,
 * models, agents and the session row all say the same. Real hubs over HTTP, on SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPriceBook, loadBundledPrices } from "@clawtower/core";
import { createApiKey, openStore, type OpenStoreOptions, type StoreConnection } from "@clawtower/store";
import { storeTargets } from "@clawtower/testkit";
import { startHub, type RunningHub } from "../src/index.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

const T0 = Date.UTC(2026, 10, 20, 9);
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/** The seed's TelemetryEvent (shared/seeds/003), with the session's cumulative tokens. */
function snapshot(session: string, input: number, output: number, timestamp: string, model = "claude-haiku-4-5") {
  return { agent_name: "gh-taskmaster-22", agent_id: "haiku", event_type: "execution", trace_id: `trace-${session}`, session_id: session, input_tokens: input, output_tokens: output, model, status: "running", metadata: { kind: "subagent", label: "gh-taskmaster:22", channel: "github", context_used_pct: 35 }, timestamp };
}

for (const target of targets) {
  describe(`[${target.name}] AgentWatch snapshots`, () => {
    let options: OpenStoreOptions;
    const conns: StoreConnection[] = [];
    const hubs: RunningHub[] = [];
    let key: string;
    before(async () => {
      options = target.options();
      // Two hubs, each with its own connection to the one store: replicas (PostgreSQL) or two processes (SQLite).
      for (let i = 0; i < 2; i++) {
        const conn = await openStore(options);
        conns.push(conn);
        hubs.push(await startHub({ conn, prices: createPriceBook([], loadBundledPrices().prices), host: "127.0.0.1", port: 0, adminToken: null, webDir: null, log: () => {} }));
      }
      key = (await createApiKey(conns[0]!, { deploymentId: "aw" }, Date.now())).token;
    });
    after(async () => {
      for (const h of hubs) await h.close();
      for (const c of conns) await c.close();
    });

    const bulk = async (events: unknown[], hub = 0) => {
      const r = await fetch(`${hubs[hub]!.url}/api/events/bulk`, { method: "POST", body: JSON.stringify(events), headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } });
      return { status: r.status, body: (await r.json()) as any };
    };
    const get = async (path: string) => (await (await fetch(`${hubs[0]!.url}${path}`)).json()) as any;

    /** Input and output of one session as each report gives them; every report must agree. */
    async function totalsOf(session: string): Promise<{ input: number; output: number }> {
      const row = (await get(`/api/v1/sessions?deployment=aw&q=${session}&limit=10`)).sessions.find((s: { sessionId: string }) => s.sessionId === session);
      assert.ok(row, `session ${session} is listed`);
      return { input: row.tokens.input, output: row.tokens.output };
    }
    async function deploymentTotals(): Promise<{ input: number; output: number }> {
      const summary = (await get("/api/v1/reports/summary?deployment=aw")).totals.tokens;
      const daily = (await get("/api/v1/reports/daily?deployment=aw")).periods as { tokens: { input: number; output: number } }[];
      const models = (await get("/api/v1/reports/models?deployment=aw")).rows as { tokens: { input: number; output: number } }[];
      const agents = (await get("/api/v1/reports/agents?deployment=aw")).rows as { tokens: { input: number; output: number } }[];
      const sessions = (await get("/api/v1/sessions?deployment=aw&limit=500")).sessions as { tokens: { input: number; output: number } }[];
      const sum = (rows: { tokens: { input: number; output: number } }[]) => ({ input: rows.reduce((a, r) => a + r.tokens.input, 0), output: rows.reduce((a, r) => a + r.tokens.output, 0) });
      const s = { input: summary.input, output: summary.output };
      assert.deepEqual(sum(daily), s, "daily adds up to the summary");
      assert.deepEqual(sum(models), s, "models add up to the summary");
      assert.deepEqual(sum(agents), s, "agents add up to the summary");
      assert.deepEqual(sum(sessions), s, "sessions add up to the summary");
      return s;
    }
    const expected = { input: 0, output: 0 };
    const grow = (t: { input: number; output: number }) => {
      expected.input += t.input;
      expected.output += t.output;
    };

    it("two snapshots of one session in one request count as the newer one", async () => {
      const r = await bulk([snapshot("one-req", 100, 10, at(0)), snapshot("one-req", 150, 15, at(1))]);
      assert.equal(r.status, 200);
      assert.deepEqual([r.body.accepted, r.body.rejected], [2, 0]);
      assert.deepEqual(await totalsOf("one-req"), { input: 150, output: 15 });
      grow({ input: 150, output: 15 });
      assert.deepEqual(await deploymentTotals(), expected);
    });

    it("an older snapshot is superseded and a resent one is a duplicate, in either order", async () => {
      const r = await bulk([snapshot("reorder", 150, 15, at(1)), snapshot("reorder", 100, 10, at(0))]);
      assert.equal(r.body.accepted, 2, "both are done with for the client");
      assert.deepEqual(await totalsOf("reorder"), { input: 150, output: 15 });
      const late = await bulk([snapshot("reorder", 120, 12, at(0.5))]);
      assert.equal(late.body.superseded, 1);
      const again = await bulk([snapshot("reorder", 150, 15, at(1))]);
      assert.equal(again.body.duplicates, 1);
      assert.deepEqual(await totalsOf("reorder"), { input: 150, output: 15 });
      grow({ input: 150, output: 15 });
      assert.deepEqual(await deploymentTotals(), expected);
    });

    it("20 concurrent requests with cumulative totals 100…2000, sent to two hubs in shuffled order, give 2000", async () => {
      const values = Array.from({ length: 20 }, (_, i) => (i + 1) * 100);
      const order = [13, 2, 19, 7, 0, 11, 5, 17, 9, 3, 15, 1, 18, 6, 12, 4, 16, 10, 8, 14];
      const answers = await Promise.all(order.map((i, k) => bulk([snapshot("parallel", values[i]!, values[i]! / 10, at(i))], k % 2)));
      assert.ok(answers.every((a) => a.status === 200 && a.body.accepted === 1 && a.body.rejected === 0));
      assert.deepEqual(await totalsOf("parallel"), { input: 2000, output: 200 });
      grow({ input: 2000, output: 200 });
      assert.deepEqual(await deploymentTotals(), expected);
    });

    it("equal timestamps: the larger totals win whichever arrives first", async () => {
      await bulk([snapshot("tie-a", 300, 30, at(5))]);
      await bulk([snapshot("tie-a", 200, 20, at(5))]);
      await bulk([snapshot("tie-b", 200, 20, at(5))]);
      await bulk([snapshot("tie-b", 300, 30, at(5))]);
      assert.deepEqual(await totalsOf("tie-a"), { input: 300, output: 30 });
      assert.deepEqual(await totalsOf("tie-b"), { input: 300, output: 30 });
      grow({ input: 600, output: 60 });
      assert.deepEqual(await deploymentTotals(), expected);
    });

    it("growth is counted at the model and time it was observed", async () => {
      await bulk([snapshot("models", 100, 10, at(60), "claude-haiku-4-5"), snapshot("models", 250, 25, at(24 * 60), "claude-sonnet-5")]);
      const rows = (await get("/api/v1/reports/models?deployment=aw")).rows as { model: string; tokens: { input: number } }[];
      const sonnet = rows.find((m) => m.model === "claude-sonnet-5")!;
      assert.equal(sonnet.tokens.input, 150, "the second model gets the growth after the first snapshot");
      const nextDay = (await get(`/api/v1/reports/summary?deployment=aw&since=${at(23 * 60)}`)).totals.tokens.input;
      assert.equal(nextDay, 150, "the growth lands on the day it was observed");
      assert.deepEqual(await totalsOf("models"), { input: 250, output: 25 });
      grow({ input: 250, output: 25 });
      assert.deepEqual(await deploymentTotals(), expected);
    });

    it("a newer snapshot with smaller totals (a restarted counter) replaces the session's totals", async () => {
      await bulk([snapshot("restart", 500, 50, at(10)), snapshot("restart", 800, 80, at(20))]);
      await bulk([snapshot("restart", 40, 4, at(30))]);
      assert.deepEqual(await totalsOf("restart"), { input: 40, output: 4 });
      await bulk([snapshot("restart", 90, 9, at(40))]);
      assert.deepEqual(await totalsOf("restart"), { input: 90, output: 9 });
      grow({ input: 90, output: 9 });
      assert.deepEqual(await deploymentTotals(), expected);
    });

    it("refuses more than 1,000 events per request with a 413 naming the limit", async () => {
      const r = await bulk(Array.from({ length: 1001 }, (_, i) => snapshot(`cap-${i}`, 1, 1, at(0))));
      assert.equal(r.status, 413);
      assert.match(r.body.error.message, /at most 1,000 events per request \(got 1,001\)/);
      assert.deepEqual(await deploymentTotals(), expected, "nothing was written");
    });
  });
}
