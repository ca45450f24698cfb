/**
 * A SQLite store holds full transcripts: its files are readable by their owner only (0600), wherever they
 * live (a pre-existing 0755 directory, `--db` elsewhere). SQLite creates the -wal, -shm and -journal files
 * with the database file's mode, so the database file is created 0600 before SQLite opens it.
 */
import fs from "node:fs";

/** The files SQLite keeps for a database, the database first. */
export function sqliteFiles(dbPath: string): string[] {
  return [dbPath, `${dbPath}-wal`, `${dbPath}-shm`, `${dbPath}-journal`];
}

/**
 * Creates the database file 0600 if it does not exist, and takes group/other access away from the files of
 * an existing store (once: afterwards they are 0600), saying so through `warn`.
 */
export function secureStoreFiles(dbPath: string, warn: (line: string) => void): void {
  try {
    fs.closeSync(fs.openSync(dbPath, "wx", 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const fixed: string[] = [];
  const kept: string[] = [];
  for (const file of sqliteFiles(dbPath)) {
    let mode: number;
    try {
      mode = fs.statSync(file).mode & 0o777;
    } catch {
      continue; // not there (yet): SQLite creates it with the database file's mode
    }
    if ((mode & 0o077) === 0) continue;
    const was = `${file} (was ${mode.toString(8).padStart(4, "0")})`;
    try {
      fs.chmodSync(file, mode & 0o700);
      fixed.push(was);
    } catch (e) {
      kept.push(`${was}: ${(e as Error).message}`); // another user's file: say so, and open it as before
    }
  }
  if (fixed.length > 0) warn(`warning: the store holds full transcripts but was readable by other users; made owner-only (0600): ${fixed.join(", ")}`);
  if (kept.length > 0) warn(`warning: the store holds full transcripts and is readable by other users; could not change: ${kept.join(", ")}`);
}
