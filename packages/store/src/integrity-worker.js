// Worker thread (plain JavaScript, nothing to strip): checks a SQLite store's pages on a read-only
// connection of its own for integrity.ts, so that a big store's check does not hold up the hub's thread.
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

const { path, pragma } = workerData;
try {
  const db = new DatabaseSync(path, { readOnly: true, timeout: 10000 });
  try {
    const rows = db.prepare(`PRAGMA ${pragma}`).all();
    parentPort.postMessage({ problems: rows.map((r) => String(Object.values(r)[0])).filter((p) => p !== "ok") });
  } finally {
    db.close();
  }
} catch (e) {
  parentPort.postMessage({ error: { message: e.message, errcode: e.errcode } });
}
