/**
 * Whether a SQLite store's pages are intact. A store with overwritten pages otherwise answers most requests
 * and fails only those that touch a damaged page (a replay answering 500, sums silently short): it is
 * checked when the hub starts (PRAGMA quick_check) and, fully, by `clawtower doctor --store`.
 */
import { Worker } from "node:worker_threads";
import type { StoreConnection } from "./connection.ts";
import { isStoreDamage } from "./store-damage.ts";

export type IntegrityCheck = "quick" | "full";

export type IntegrityReport = { file: string; check: IntegrityCheck; ok: boolean; problems: string[]; ms: number };

/** At most this many problems are listed: one is enough to refuse the store, a few tell where. */
const MAX_PROBLEMS = 20;

function pragmaFor(check: IntegrityCheck): string {
  return `${check === "quick" ? "quick_check" : "integrity_check"}(${MAX_PROBLEMS})`;
}

/**
 * Checks a SQLite store's pages: "quick" (PRAGMA quick_check: b-tree structure and page use, no index
 * contents) or "full" (PRAGMA integrity_check: indexes against their tables too). Null on PostgreSQL,
 * which checks its own pages.
 */
export function checkStoreIntegrity(conn: StoreConnection, check: IntegrityCheck): IntegrityReport | null {
  if (!conn.sqlite) return null;
  const started = performance.now();
  let problems: string[];
  try {
    const rows = conn.sqlite.prepare(`PRAGMA ${pragmaFor(check)}`).all() as Record<string, unknown>[];
    problems = rows.map((r) => String(Object.values(r)[0])).filter((p) => p !== "ok");
  } catch (e) {
    // Damage where the check starts (the schema, page 1) fails the check itself.
    if (!isStoreDamage(e)) throw e;
    problems = [(e as Error).message];
  }
  return { file: conn.location, check, ok: problems.length === 0, problems, ms: Math.round(performance.now() - started) };
}

/**
 * The quick check on a worker thread, for the hub's start: it reads every page of the store (about 1 s per
 * GiB from the page cache, more from disk), too long to hold up the start of a multi-GB store. The caller
 * waits for it a while (refusing a damaged store before serving) and otherwise hears of damage later.
 * Null on PostgreSQL.
 */
export function startIntegrityCheck(conn: StoreConnection): Promise<IntegrityReport> | null {
  if (!conn.sqlite) return null;
  const started = performance.now();
  const file = conn.location;
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./integrity-worker.js", import.meta.url), { workerData: { path: file, pragma: pragmaFor("quick") } });
    worker.unref(); // a hub closing before the check ends is not kept alive by it
    worker.once("error", reject);
    worker.once("message", (m: { problems: string[] } | { error: { message: string; errcode?: number } }) => {
      const done = (problems: string[]) => resolve({ file, check: "quick", ok: problems.length === 0, problems, ms: Math.round(performance.now() - started) });
      if ("problems" in m) done(m.problems);
      else if (isStoreDamage(m.error)) done([m.error.message]);
      else reject(new Error(`integrity check of ${file}: ${m.error.message}`));
    });
  });
}
