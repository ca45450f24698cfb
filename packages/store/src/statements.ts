/**
 * One cache of prepared statements per SQLite handle, shared by Kysely's adapter (connection.ts) and the
 * writers that run statements on the handle directly (ledger-writer.ts, session-aggregates.ts, ingest.ts).
 *
 * Why: preparing costs more than running a small insert, and preparing the same few texts again for each
 * ingested session was ~2 % of the hub's CPU under ingest. Statements are kept by text, the least recently
 * used dropped beyond STATEMENT_CACHE_SIZE (queries built from user filters have many texts). A dropped
 * statement stays valid for whoever still holds it: `all`, `run` and `get` complete before they return.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

const STATEMENT_CACHE_SIZE = 256;

const caches = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

export function prepared(raw: DatabaseSync, text: string): StatementSync {
  let cache = caches.get(raw);
  if (!cache) {
    cache = new Map();
    caches.set(raw, cache);
  }
  let st = cache.get(text);
  if (st) {
    cache.delete(text); // re-inserted below: most recently used last
  } else {
    st = raw.prepare(text);
    if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(text, st);
  return st;
}

/** Forgets the handle's statements (before it is closed). */
export function forgetStatements(raw: DatabaseSync): void {
  caches.delete(raw);
}
