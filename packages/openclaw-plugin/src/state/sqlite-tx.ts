/** One BEGIN IMMEDIATE … COMMIT around `fn` (rolled back if it throws): the write lock is taken up front, so two processes never interleave. */
import type { DatabaseSync } from "node:sqlite";

export function immediateTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const r = fn();
    db.exec("COMMIT");
    return r;
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}
