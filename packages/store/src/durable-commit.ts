/**
 * Transactions whose commit survives a power loss, for what a client is told is stored (ingest).
 *
 * The store runs with synchronous=NORMAL: in WAL mode a commit then appends to the WAL without syncing it,
 * so a power loss can drop the last commits. That is fine for imports of OpenClaw's files (the files stay the
 * source of truth and are read again) but not for an acknowledged ingest, which a gateway will not resend.
 * synchronous=FULL syncs the WAL at each commit; SQLite refuses to change it inside a transaction, so it is
 * set around the transaction while holding the connection (no other transaction can run on it meanwhile).
 */
import type { Transaction } from "kysely";
import type { StoreConnection } from "./connection.ts";
import type { Database } from "./schema.ts";

export async function durableTransaction<T>(conn: StoreConnection, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  const raw = conn.sqlite;
  // PostgreSQL commits are durable already (synchronous_commit is on by default).
  if (!raw) return conn.db.transaction().execute(work);
  return conn.db.connection().execute(async (db) => {
    raw.exec("PRAGMA synchronous = FULL");
    try {
      return await db.transaction().execute(work);
    } finally {
      // Should a failed rollback leave a transaction open, SQLite refuses the change: staying FULL is safe.
      try {
        raw.exec("PRAGMA synchronous = NORMAL");
      } catch {}
    }
  });
}
