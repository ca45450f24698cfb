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

/** Running checkpointers, per connection: the hub and an import running in it share one. */
const running = new WeakMap<StoreConnection, { users: number; stop: () => Promise<void> }>();

/**
 * Starts background checkpoints on a SQLite store (nothing on PostgreSQL); returns how to release them.
 * Starts are counted per connection: the worker stops, and SQLite's own threshold comes back, when the
 * last user releases it.
 */
export function startBackgroundCheckpoints(conn: StoreConnection, intervalMs = 200): () => Promise<void> {
  if (!conn.sqlite) return async () => {};
  let entry = running.get(conn);
  if (!entry) {
    entry = { users: 0, stop: startWorker(conn, intervalMs) };
    running.set(conn, entry);
  }
  entry.users++;
  const mine = entry;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--mine.users > 0) return;
    running.delete(conn);
    await mine.stop();
  };
}

function startWorker(conn: StoreConnection, intervalMs: number): () => Promise<void> {
  conn.sqlite!.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  const worker = new Worker(new URL("./checkpoint-worker.js", import.meta.url), {
    workerData: { path: conn.location, intervalMs },
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  worker.unref();
  worker.on("error", () => {}); // checkpoints fall back to the writer's own threshold
  return async () => {
    worker.ref(); // waiting for its exit must keep a process with nothing else to do alive
    worker.postMessage("stop");
    await new Promise((resolve) => worker.once("exit", resolve));
    conn.sqlite?.exec("PRAGMA wal_autocheckpoint = 1000");
  };
}
