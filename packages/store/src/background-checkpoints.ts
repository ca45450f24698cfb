/**
 * Checkpoints a SQLite store's WAL on a worker thread, for long-running writers (the hub).
 *
 * Why: a checkpoint copies every page written since the previous one into the database file and syncs it.
 * SQLite runs it on the committing thread once the WAL holds 1000 pages: under ingest that was ~20% of the
 * hub's main thread (measured: commits 1.7 s → 0.4 s of a 7 s run without it), time in which no request
 * is parsed. A worker checkpoints instead; the writer keeps a higher threshold of its own as a backstop,
 * should the worker fall behind.
 */
import { Worker } from "node:worker_threads";
import type { StoreConnection } from "./connection.ts";

/** WAL pages beyond which the writer checkpoints itself (SQLite's default is 1000). */
const BACKSTOP_PAGES = 16_384;

/** Starts background checkpoints on a SQLite store (nothing on PostgreSQL); returns how to stop them. */
export function startBackgroundCheckpoints(conn: StoreConnection, intervalMs = 200): () => Promise<void> {
  if (!conn.sqlite) return async () => {};
  conn.sqlite.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  const worker = new Worker(new URL("./checkpoint-worker.js", import.meta.url), {
    workerData: { path: conn.location, intervalMs },
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  worker.unref();
  worker.on("error", () => {}); // checkpoints fall back to the writer's own threshold
  return async () => {
    worker.postMessage("stop");
    await new Promise((resolve) => worker.once("exit", resolve));
    conn.sqlite?.exec("PRAGMA wal_autocheckpoint = 1000");
  };
}
