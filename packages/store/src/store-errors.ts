/** What a driver's error means for a client, for the hub to answer it as more than "internal error". */

/**
 * Whether the store could not write because its disk (or an SQLite size limit) is full: SQLITE_FULL from
 * node:sqlite ("database or disk is full"), SQLSTATE 53100 disk_full from PostgreSQL. Nothing of the failed
 * transaction was kept, so the client may resend once space is freed.
 */
export function isStoreFullError(error: unknown): boolean {
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown } | null;
  if (!e || typeof e !== "object") return false;
  if (typeof e.errcode === "number" && (e.errcode & 0xff) === 13) return true;
  if (e.code === "53100") return true;
  return typeof e.message === "string" && e.message.includes("database or disk is full");
}
