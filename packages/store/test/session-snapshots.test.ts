/**
 * Live session snapshots (SQLite and PostgreSQL): idempotent per (session, fingerprint), the latest per session
 * wins, "progress" is when the token totals last changed (so a running session whose totals stand still is
 * stuck), the context % comes only from a known window, and sessions only the ledger knows join the list.
 */
import assert from "node:assert/strict";
import { after, it } from "node:test";
import { createPriceBook } from "@clawtower/core";
import { describeStore, storeTargets } from "@clawtower/testkit";
import { ingestLines, liveSessions, openStore, recordSessionSnapshots, statusFromStopReason, type SessionSnapshotInput } from "../src/index.ts";

const T = Date.UTC(2026, 11, 8, 12, 0, 0);
const min = 60_000;

function snap(over: Partial<SessionSnapshotInput>): SessionSnapshotInput {
  return {
    sessionId: "s1",
    fingerprint: "f1",
    sessionKey: "agent:main:s1",
    agentId: "main",
    kind: "main",
    label: null,
    channel: null,
    status: "running",
    provider: "fake",
    model: "fake-model",
    inputTokens: 100,
    outputTokens: 10,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    contextTokens: 64_000,
    contextWindow: 200_000,
    costUsd: 0.5,
    lastActivityAt: T - 9 * min,
    observedAt: T - 9 * min,
    ...over,
  };
}

for (const target of storeTargets()) {
  describeStore(target, `session snapshots (${target.name})`, () => {
    after(() => target.cleanup());

    it("stores each (session, fingerprint) once and lists the latest, with progress and stuck", async () => {
      const conn = await openStore(target.options());
      try {
        assert.deepEqual(await recordSessionSnapshots(conn, "d", [snap({})], T - 9 * min), { accepted: 1, duplicates: 0 });
        assert.deepEqual(await recordSessionSnapshots(conn, "d", [snap({})], T - 8 * min), { accepted: 0, duplicates: 1 });
        // Same totals, new status facts: no progress. Then s2 grows.
        await recordSessionSnapshots(conn, "d", [snap({ fingerprint: "f2", observedAt: T - min, contextTokens: 65_000 })], T - min);
        await recordSessionSnapshots(conn, "d", [snap({ sessionId: "s2", sessionKey: "agent:main:s2", observedAt: T - 8 * min })], T - 8 * min);
        await recordSessionSnapshots(conn, "d", [snap({ sessionId: "s2", sessionKey: "agent:main:s2", fingerprint: "f2", inputTokens: 300, observedAt: T - min, lastActivityAt: T - min, contextWindow: null })], T - min);
        const rows = await conn.db.selectFrom("session_snapshots").select("session_id").execute();
        assert.equal(rows.length, 4);

        const live = await liveSessions(conn, { now: T, activeWithinMs: 10 * min, stuckAfterMs: 5 * min });
        const s1 = live.find((s) => s.sessionId === "s1")!;
        const s2 = live.find((s) => s.sessionId === "s2")!;
        assert.equal(live.length, 2);
        assert.equal(s1.contextTokens, 65_000, "the latest snapshot");
        assert.equal(s1.contextUsedPct, 32.5);
        assert.equal(s1.progressAt, T - 9 * min);
        assert.equal(s1.stuck, true);
        assert.equal(s2.inputTokens, 300);
        assert.equal(s2.stuck, false);
        assert.equal(s2.contextUsedPct, null, "no window, no percentage");
        assert.equal((await liveSessions(conn, { now: T, activeWithinMs: 10 * min, stuckAfterMs: 10 * min })).find((s) => s.sessionId === "s1")!.stuck, false);
        assert.equal((await liveSessions(conn, { now: T + 30 * min, activeWithinMs: 10 * min, stuckAfterMs: 5 * min })).length, 0, "nothing active 30 min later");
      } finally {
        await conn.close();
      }
    });

    it("adds sessions only the ledger knows, with the status of their last call", async () => {
      const conn = await openStore(target.options());
      try {
        const ev = (id: string, ts: number, stopReason: string) =>
          JSON.stringify({ type: "message", id, timestamp: new Date(ts).toISOString(), message: { role: "assistant", provider: "fake", model: "m", content: [], usage: { input: 40, output: 2, cacheRead: 8, cacheWrite: 0 }, stopReason } });
        await ingestLines(
          conn,
          [
            { index: 0, deploymentId: "gw", agentId: "main", sessionId: "L", seq: 1, idempotencyKey: null, event: ev("a", T - 3 * min, "stop") },
            { index: 1, deploymentId: "gw", agentId: "main", sessionId: "L", seq: 2, idempotencyKey: null, event: ev("b", T - 2 * min, "toolUse") },
          ],
          createPriceBook([], []),
          T,
        );
        const [l] = await liveSessions(conn, { now: T, activeWithinMs: 10 * min, stuckAfterMs: 5 * min });
        assert.ok(l);
        assert.equal(l.source, "ledger");
        assert.equal(l.status, "running");
        assert.deepEqual([l.inputTokens, l.outputTokens, l.cacheReadTokens], [80, 4, 16]);
        assert.equal(l.contextTokens, 48);
        assert.equal(l.contextUsedPct, null);
        assert.equal(statusFromStopReason("error"), "error");
        assert.equal(statusFromStopReason("aborted"), "aborted");
        assert.equal(statusFromStopReason("stop"), "idle");
      } finally {
        await conn.close();
      }
    });
  });
}
