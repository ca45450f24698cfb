/**
 * A damaged SQLite store: how to recognise SQLite saying so, and what to tell the user (which file, how to
 * recover). Apart from the checks (integrity.ts) so that opening a store can use it without a cycle.
 */
import { sqliteFiles } from "./file-modes.ts";

/** SQLite result codes (primary) that mean the file is not a sound database. */
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/** Whether `e` is SQLite saying the database file is damaged (or not a database at all). */
export function isStoreDamage(e: unknown): boolean {
  const code = (e as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" && ((code & 0xff) === SQLITE_CORRUPT || (code & 0xff) === SQLITE_NOTADB);
}

/** What to do about a damaged store: move its files away and import again from OpenClaw's files. */
export function storeRecovery(file: string): string {
  const files = sqliteFiles(file).slice(0, 3);
  return (
    `Stop Clawtower, move the damaged store aside (mv ${files.map((f) => `"${f}"`).join(" ")} somewhere else), and start Clawtower again: ` +
    `it creates a new store and imports the local OpenClaw home again from its files, which are the source of truth. ` +
    `Lost: data that only reached this store by ingest (gateways' uploads, API keys) — gateways resend only what they have not had acknowledged.`
  );
}

export class StoreDamagedError extends Error {
  readonly file: string;
  readonly problems: string[];
  constructor(file: string, problems: string[], options?: { cause?: unknown }) {
    super(
      `the store ${file} is damaged (${problems.slice(0, 3).join("; ")}${problems.length > 3 ? `; … ${problems.length - 3} more` : ""}). ${storeRecovery(file)}`,
      options,
    );
    this.name = "StoreDamagedError";
    this.file = file;
    this.problems = problems;
  }
}
