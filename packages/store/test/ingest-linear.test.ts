/**
 * Work per ingest request is linear in its sessions (issue 16 A6), shown without a clock: PostgreSQL counts the
 * session rows its statements read (pg_stat_user_tables), and twice the sessions must read about twice the
 * rows. Before, on a table without statistics every per-session primary-key lookup was planned on another
 * index and read every session of the agent (≈ n²/2 rows per statement kind: ×4.00 measured), and the models
 * refresh scanned the table once per 500 sessions. PostgreSQL only: SQLite's planner uses the primary key.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import pg from "pg";
import { createPriceBook, loadBundledPrices } from "@clawtower/core";
import { ingestLines, openStore } from "@clawtower/store";
import { storeTargets } from "@clawtower/testkit";

const targets = storeTargets().filter((t) => t.name === "postgres");
after(() => Promise.all(targets.map((t) => t.cleanup())));

function lines(sessions: number) {
  return Array.from({ length: sessions }, (_, s) => ({
    index: s,
    deploymentId: "gw",
    agentId: "main",
    sessionId: `s-${s}`,
    seq: 0,
    event: JSON.stringify({ type: "message", id: `e-${s}`, timestamp: new Date(Date.UTC(2026, 10, 20) + s * 1000).toISOString(), message: { role: "assistant", provider: "anthropic", model: "claude-sonnet-5", usage: { input: 10, output: 1, cacheRead: 0, cacheWrite: 0 } } }),
  }));
}

/** Session rows PostgreSQL read (sequential + index fetches) while one request with n new sessions went into a new store. */
async function sessionRowsRead(target: (typeof targets)[number], n: number): Promise<number> {
  const options = target.options();
  if (options.kind !== "postgres") throw new Error("PostgreSQL only");
  const conn = await openStore(options);
  const r = await ingestLines(conn, lines(n), createPriceBook([], loadBundledPrices().prices), Date.now());
  assert.equal(r.accepted, n);
  // Closing ends the pool's backends, which flushes their statistics.
  await conn.close();
  const client = new pg.Client({ connectionString: options.url });
  await client.connect();
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      const row = (await client.query(`SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS read, n_tup_ins FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'sessions'`, [options.schema])).rows[0];
      if (row && Number(row.n_tup_ins) >= n) return Number(row.read);
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error("the statistics were not flushed");
  } finally {
    await client.end();
  }
}

for (const target of targets) {
  describe(`[${target.name}] ingest work per session`, () => {
    it("reads about twice the session rows for twice the sessions, not four times", { timeout: 120_000 }, async (t) => {
      const small = await sessionRowsRead(target, 400);
      const large = await sessionRowsRead(target, 800);
      t.diagnostic(`session rows read: ${small} for 400 sessions, ${large} for 800`);
      assert.ok(large < 2.5 * small, `400 sessions read ${small} session rows, 800 read ${large} (× ${(large / small).toFixed(2)})`);
    });
  });
}
