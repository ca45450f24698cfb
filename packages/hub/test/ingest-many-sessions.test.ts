/**
 * A request spanning many sessions (issue 16 A6): at most MAX_SESSIONS_PER_REQUEST sessions per request
 * (413 naming the limit, nothing written), a request at the limit counted exactly, and other clients served
 * while it is written — readers see its sessions arrive piece by piece and a small request that came later
 * is answered before it. Real hub over HTTP, on SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPriceBook, loadBundledPrices } from "@clawtower/core";
import { createApiKey, openStore, type StoreConnection } from "@clawtower/store";
import { storeTargets } from "@clawtower/testkit";
import { startHub, type RunningHub } from "../src/index.ts";
import { MAX_SESSIONS_PER_REQUEST } from "../src/routes/ingest.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

const DAY = Date.UTC(2026, 10, 20);

/** `perSession` assistant calls in each of `sessions` sessions; call i of session s has input s + i + 1 and output 1. */
function eventsBody(deployment: string, sessions: number, perSession: number): string {
  const lines: string[] = [];
  for (let s = 0; s < sessions; s++) {
    for (let i = 0; i < perSession; i++) {
      lines.push(
        JSON.stringify({
          deploymentId: deployment,
          agentId: "main",
          sessionId: `sess-${s}`,
          event: {
            type: "message",
            id: `e-${s}-${i}`,
            timestamp: new Date(DAY + (s * perSession + i) * 1000).toISOString(),
            message: { role: "assistant", provider: "anthropic", model: "claude-sonnet-5", usage: { input: s + i + 1, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: 0.001 } } },
          },
        }),
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The input tokens eventsBody sends, summed independently of the hub: Σ_s Σ_i (s + i + 1). */
function expectedInput(sessions: number, perSession: number): number {
  let sum = 0;
  for (let s = 0; s < sessions; s++) for (let i = 0; i < perSession; i++) sum += s + i + 1;
  return sum;
}

for (const target of targets) {
  describe(`[${target.name}] ingest of many sessions in one request`, () => {
    let conn: StoreConnection;
    let hub: RunningHub;
    let key: string;
    before(async () => {
      conn = await openStore(target.options());
      key = (await createApiKey(conn, {}, Date.now())).token;
      hub = await startHub({ conn, prices: createPriceBook([], loadBundledPrices().prices), host: "127.0.0.1", port: 0, adminToken: null, webDir: null, log: () => {} });
    });
    after(async () => {
      await hub.close();
      await conn.close();
    });

    const post = async (path: string, body: string, type: string) => {
      const r = await fetch(`${hub.url}${path}`, { method: "POST", body, headers: { authorization: `Bearer ${key}`, "content-type": type } });
      return { status: r.status, body: (await r.json()) as any };
    };
    const get = async (path: string) => (await (await fetch(`${hub.url}${path}`)).json()) as any;

    it(`refuses more than ${MAX_SESSIONS_PER_REQUEST} sessions with a 413 naming the limit, writing nothing`, async () => {
      const tooMany = await post("/api/v1/ingest/events", eventsBody("gw-over", MAX_SESSIONS_PER_REQUEST + 1, 1), "application/x-ndjson");
      assert.equal(tooMany.status, 413);
      assert.equal(tooMany.body.error.code, "payload_too_large");
      assert.match(tooMany.body.error.message, /at most 1,000 sessions per request \(got 1,001\)/);
      const lines = Array.from({ length: MAX_SESSIONS_PER_REQUEST + 1 }, (_, s) => ({
        deploymentId: "gw-over",
        agentId: "main",
        sessionId: `inf-${s}`,
        sessionFile: `agents/main/sessions/inf-${s}.jsonl`,
        lineIndex: 0,
        payload: { type: "session", id: `inf-${s}`, timestamp: new Date(DAY).toISOString() },
      }));
      const influxion = await post("/v1/openclaw/ingest/sessions", JSON.stringify({ lines }), "application/json");
      assert.equal(influxion.status, 413);
      assert.match(influxion.body.error.message, /at most 1,000 sessions per request/);
      assert.equal((await get("/api/v1/sessions?deployment=gw-over&limit=1")).total, 0);
    });

    it("counts a request at the limit exactly, while other clients are served between its pieces", { timeout: 180_000 }, async () => {
      const sessions = MAX_SESSIONS_PER_REQUEST;
      const perSession = 20;
      const body = eventsBody("gw-big", sessions, perSession);
      let bigDone = false;
      const big = post("/api/v1/ingest/events", body, "application/x-ndjson").finally(() => (bigDone = true));
      // Readers poll the big deployment's session count; a small request from another client goes in meanwhile.
      const seen: number[] = [];
      let smallAnsweredFirst: boolean | null = null;
      const small = (async () => {
        while (!bigDone && seen.length === 0) await new Promise((r) => setTimeout(r, 5));
        const r = await post("/api/v1/ingest/events", eventsBody("gw-small", 1, 1), "application/x-ndjson");
        smallAnsweredFirst = !bigDone;
        return r;
      })();
      while (!bigDone) seen.push((await get("/api/v1/sessions?deployment=gw-big&limit=1")).total as number);
      const answer = await big;
      assert.equal(answer.status, 200);
      assert.equal(answer.body.accepted, sessions * perSession);
      assert.equal((await small).body.accepted, 1);
      assert.ok(
        seen.some((n) => n > 0 && n < sessions),
        `readers saw the sessions arrive piece by piece, not only before or after the whole request (saw ${[...new Set(seen)].join(", ")})`,
      );
      assert.equal(smallAnsweredFirst, true, "a small request sent while the big one was being written was answered before it");

      const summary = await get("/api/v1/reports/summary?deployment=gw-big");
      assert.equal(summary.totals.llmCalls, sessions * perSession);
      assert.equal(summary.totals.tokens.input, expectedInput(sessions, perSession));
      assert.equal(summary.totals.tokens.output, sessions * perSession);
      assert.equal((await get("/api/v1/sessions?deployment=gw-big&limit=1")).total, sessions);
      const daily = await get("/api/v1/reports/daily?deployment=gw-big");
      const dailyInput = daily.periods.reduce((a: number, r: { tokens: { input: number } }) => a + r.tokens.input, 0);
      assert.equal(dailyInput, expectedInput(sessions, perSession));
      const again = await post("/api/v1/ingest/events", body, "application/x-ndjson");
      assert.equal(again.body.duplicates, sessions * perSession, "a resent request is all duplicates");
      assert.equal((await get("/api/v1/reports/summary?deployment=gw-big")).totals.llmCalls, sessions * perSession);
    });
  });
}
