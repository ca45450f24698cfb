// Worker thread (plain JavaScript: nothing to strip, a few MiB): checkpoints a SQLite store's WAL for
// background-checkpoints.ts. PASSIVE never blocks the writer or readers; it copies what it can.
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

const { path, intervalMs } = workerData;
const db = new DatabaseSync(path);
db.exec("PRAGMA busy_timeout = 1000");
const timer = setInterval(() => {
  try {
    db.exec("PRAGMA wal_checkpoint(PASSIVE)");
  } catch {
    // busy or closing: the next tick tries again, and the writer's own threshold is the backstop
  }
}, intervalMs);

parentPort.on("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
