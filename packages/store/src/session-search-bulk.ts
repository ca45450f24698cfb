/**
 * SQLite: the session search index (migration 8, FTS5 trigram) is kept by a trigger on every session insert,
 * and an FTS5 trigram insert costs ~30 µs a row: 0.2 s of a 6,000-session import, on the thread that writes.
 * One INSERT … SELECT indexes the same sessions in ~5 µs a row. A bulk import therefore defers the trigger
 * (a flag row its WHEN clause reads, migration 10) and catches up once at the end.
 *
 * Exactness does not depend on who set the flag or when it is cleared: catching up indexes every session
 * that has no search key row, whoever inserted it, and clears the flag in the same transaction. Updates of
 * a session's key or label are indexed by their own trigger throughout. A process that dies while deferring
 * leaves the flag set; the next openStore catches up (connection.ts).
 */
import type { DatabaseSync } from "node:sqlite";

/** Stops indexing sessions as they are inserted, until {@link catchUpSessionSearch}. */
export function deferSessionSearch(raw: DatabaseSync): void {
  raw.exec(`INSERT OR IGNORE INTO session_search_deferred (id) VALUES (1)`);
}

export function sessionSearchDeferred(raw: DatabaseSync): boolean {
  return raw.prepare(`SELECT 1 FROM session_search_deferred`).get() !== undefined;
}

/**
 * Indexes every session without a search key row and resumes indexing on insert; returns how many it
 * indexed. Runs inside the caller's transaction when there is one (else in its own).
 */
export function catchUpSessionSearch(raw: DatabaseSync): number {
  const own = !raw.isTransaction;
  if (own) raw.exec("BEGIN IMMEDIATE");
  try {
    const before = Number((raw.prepare(`SELECT coalesce(max(id), 0) AS m FROM session_search_keys`).get() as { m: number }).m);
    const added = Number(
      raw
        .prepare(
          `INSERT INTO session_search_keys (deployment_id, agent_id, session_id)
           SELECT s.deployment_id, s.agent_id, s.session_id FROM sessions s
           WHERE NOT EXISTS (SELECT 1 FROM session_search_keys k
             WHERE k.deployment_id = s.deployment_id AND k.agent_id = s.agent_id AND k.session_id = s.session_id)`,
        )
        .run().changes,
    );
    if (added > 0) {
      raw
        .prepare(
          `INSERT INTO session_search (rowid, session_id, session_key, label)
           SELECT k.id, s.session_id, s.session_key, s.label FROM session_search_keys k
           JOIN sessions s ON s.deployment_id = k.deployment_id AND s.agent_id = k.agent_id AND s.session_id = k.session_id
           WHERE k.id > ?`,
        )
        .run(before);
    }
    raw.exec(`DELETE FROM session_search_deferred`);
    if (own) raw.exec("COMMIT");
    return added;
  } catch (e) {
    if (own) raw.exec("ROLLBACK");
    throw e;
  }
}
