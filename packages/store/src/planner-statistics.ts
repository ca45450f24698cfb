/**
 * PostgreSQL plans ingest's per-session lookups from table statistics. A store filled faster than autovacuum
 * analyzes it (a first upload from a fleet) has none, and then the planner picked any index with a matching
 * first column — `sessions_agent_last (agent_id, …)` for a primary-key lookup, `llm_calls_dep_ts` for a
 * session's calls — so each lookup read every session of the agent and a request with n new sessions read
 * n²/2 rows. The ingest writer therefore analyzes the tables it looks up in once the rows it wrote since the
 * last ANALYZE outnumber what the statistics know of (and at least FLOOR): the cost is geometric, so linear in
 * what is ingested, and once the statistics exist the plans are right whatever the table grows to.
 */
import { sql } from "kysely";
import type { StoreConnection } from "./connection.ts";

const FLOOR_SESSIONS = 50;
const FLOOR_LINES = 10_000;

export class PlannerStatistics {
  #sessions = 0;
  #lines = 0;
  #known: { sessions: number; calls: number } | null = null;

  /** Counts what a transaction wrote and analyzes when that outgrew the statistics (PostgreSQL only). */
  async wrote(conn: StoreConnection, sessions: number, lines: number): Promise<void> {
    if (conn.dialect !== "postgres") return;
    this.#sessions += sessions;
    this.#lines += lines;
    if (this.#sessions < FLOOR_SESSIONS && this.#lines < FLOOR_LINES) return;
    try {
      this.#known ??= await known(conn);
      if (this.#sessions <= Math.max(FLOOR_SESSIONS, this.#known.sessions) && this.#lines <= Math.max(FLOOR_LINES, this.#known.calls)) return;
      // Not behind an autovacuum of the same table: a lock wait here would hold up every queued request.
      await conn.db.transaction().execute(async (trx) => {
        await sql`SET LOCAL lock_timeout = '200ms'`.execute(trx);
        await sql`ANALYZE sessions, llm_calls, tool_calls, parts`.execute(trx);
      });
      this.#known = await known(conn);
      this.#sessions = 0;
      this.#lines = 0;
    } catch {
      // Statistics are an optimisation: a lock timeout or a role that may not analyze changes no answer.
    }
  }
}

async function known(conn: StoreConnection): Promise<{ sessions: number; calls: number }> {
  const r = await sql<{ relname: string; reltuples: number }>`SELECT relname, reltuples FROM pg_class WHERE oid IN ('sessions'::regclass, 'llm_calls'::regclass)`.execute(conn.db);
  const of = (name: string) => Math.max(0, Number(r.rows.find((x) => x.relname === name)?.reltuples ?? 0));
  return { sessions: of("sessions"), calls: of("llm_calls") };
}
