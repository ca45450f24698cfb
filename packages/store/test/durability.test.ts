/**
 * Durability and file modes of the SQLite store: an acknowledged ingest is committed with synchronous=FULL
 * (the WAL is synced before the answer), imports keep NORMAL, and the store's files are owner-only.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { createPriceBook, loadBundledPrices } from "@clawtower/core";
import { tmpDir } from "@clawtower/testkit";
import { ingestLines, ingestSkills, openStore, type IngestLine } from "../src/index.ts";

const prices = createPriceBook([], loadBundledPrices().prices);

function batch(sessionId: string, n: number): IngestLine[] {
  return Array.from({ length: n }, (_, i) => ({
    index: i,
    deploymentId: "gw-1",
    agentId: "main",
    sessionId,
    seq: i,
    event: JSON.stringify({ type: "message", id: `${sessionId}-${i}`, timestamp: "2026-11-20T10:00:00.000Z", message: { role: "user", content: "hi" } }),
  }));
}

/** SQLite's synchronous level (0 OFF, 1 NORMAL, 2 FULL) as seen by each insert into raw_events, from inside the transaction. */
function watchSynchronous(raw: NonNullable<Awaited<ReturnType<typeof openStore>>["sqlite"]>, table = "raw_events"): number[] {
  const seen: number[] = [];
  raw.function("ct_test_sync_level", () => {
    seen.push(Number((raw.prepare("PRAGMA synchronous").get() as { synchronous: number }).synchronous));
    return null;
  });
  raw.exec(`CREATE TEMP TRIGGER ct_test_watch AFTER INSERT ON ${table} BEGIN SELECT ct_test_sync_level(); END`);
  return seen;
}

describe("ingest commits are durable (SQLite)", () => {
  it("commits every ingest transaction with synchronous=FULL, concurrent requests included, and goes back to NORMAL", async () => {
    const conn = await openStore({ kind: "sqlite", path: path.join(tmpDir(), "sync.db") });
    try {
      const seen = watchSynchronous(conn.sqlite!);
      const answers = await Promise.all([ingestLines(conn, batch("a", 3), prices, Date.now()), ingestLines(conn, batch("b", 2), prices, Date.now())]);
      assert.deepEqual(answers.map((a) => a.accepted), [3, 2]);
      assert.equal(seen.length, 5);
      assert.deepEqual([...new Set(seen)], [2], "every ingest write ran under synchronous=FULL");
      // Outside ingest (imports, reports) the store stays at NORMAL.
      assert.equal((conn.sqlite!.prepare("PRAGMA synchronous").get() as { synchronous: number }).synchronous, 1);
    } finally {
      await conn.close();
    }
  });

  it("commits a skills inventory with synchronous=FULL too", async () => {
    const conn = await openStore({ kind: "sqlite", path: path.join(tmpDir(), "skills.db") });
    try {
      const seen = watchSynchronous(conn.sqlite!, "skills");
      await ingestSkills(conn, { deploymentId: "gw-1", agentId: "main" }, [{ skillKey: "a", name: "A" }, { skillKey: "b", name: "B" }], true, Date.now());
      assert.deepEqual(seen, [2, 2]);
    } finally {
      await conn.close();
    }
  });

  const strace = spawnSync("strace", ["-V"]).status === 0;
  it("syncs the WAL before an ingest is answered (fsyncs counted with strace)", { skip: strace ? false : "strace is not installed" }, () => {
    const dir = tmpDir();
    const db = path.join(dir, "fsync.db");
    // The child marks the ingest's start and end with writes to /dev/null, so that only its syncs are counted.
    const script = `
      import fs from "node:fs";
      import { createPriceBook, loadBundledPrices } from "@clawtower/core";
      import { ingestLines, openStore } from "@clawtower/store";
      const conn = await openStore({ kind: "sqlite", path: ${JSON.stringify(db)} });
      const mark = fs.openSync("/dev/null", "w");
      const lines = ${JSON.stringify(batch("s", 4))};
      fs.writeSync(mark, "CT-INGEST-START");
      const r = await ingestLines(conn, lines, createPriceBook([], loadBundledPrices().prices), Date.now());
      fs.writeSync(mark, "CT-INGEST-END");
      if (r.accepted !== 4) throw new Error("not accepted: " + JSON.stringify(r));
      process.exit(0);
    `;
    const file = path.join(path.dirname(new URL(import.meta.url).pathname), `.fsync-child-${process.pid}.mts`);
    fs.writeFileSync(file, script);
    try {
      const out = spawnSync("strace", ["-f", "-y", "-e", "trace=fsync,fdatasync,write", "-o", path.join(dir, "trace"), process.execPath, file], { encoding: "utf8" });
      assert.equal(out.status, 0, out.stderr);
    } finally {
      fs.rmSync(file, { force: true });
    }
    const trace = fs.readFileSync(path.join(dir, "trace"), "utf8");
    const start = trace.indexOf("CT-INGEST-START");
    const end = trace.indexOf("CT-INGEST-END");
    assert.ok(start > 0 && end > start, "both marks traced");
    const syncs = trace.slice(start, end).match(/f(data)?sync\(\d+<[^>]*fsync\.db-wal>/g) ?? [];
    assert.ok(syncs.length >= 1, `the WAL is synced during the ingest (saw ${syncs.length} syncs)`);
  });
});

describe("store files are owner-only", () => {
  const mode = (f: string) => fs.statSync(f).mode & 0o777;

  it("creates the database, its WAL and its shared-memory file 0600 even under umask 022 in a 0755 directory", async () => {
    const dir = tmpDir();
    fs.chmodSync(dir, 0o755);
    const old = process.umask(0o022);
    try {
      const file = path.join(dir, "store.db");
      const conn = await openStore({ kind: "sqlite", path: file });
      try {
        await ingestLines(conn, batch("s", 1), prices, Date.now());
        for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(f).toString(8), "600", f);
      } finally {
        await conn.close();
      }
    } finally {
      process.umask(old);
    }
  });

  it("creates a missing store directory 0700", async () => {
    const home = path.join(tmpDir(), "new-home", ".clawtower");
    const conn = await openStore({ kind: "sqlite", path: path.join(home, "clawtower.db") });
    await conn.close();
    assert.equal(mode(home).toString(8), "700");
  });

  it("makes an existing world-readable store 0600 on open and warns once, naming the files", async () => {
    const file = path.join(tmpDir(), "old.db");
    const first = await openStore({ kind: "sqlite", path: file });
    await ingestLines(first, batch("s", 2), prices, Date.now());
    // Leave the WAL and shared-memory files behind, as a store written by an older version would.
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.chmodSync(f, 0o644);
    const warnings: string[] = [];
    const again = await openStore({ kind: "sqlite", path: file, warn: (l) => warnings.push(l) });
    try {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(f).toString(8), "600", f);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(was 0644\\)`));
      assert.match(warnings[0]!, /-wal \(was 0644\)/);
      assert.equal((await again.db.selectFrom("raw_events").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n, 2, "the data is still there");
    } finally {
      await again.close();
      await first.close();
    }
    const quiet: string[] = [];
    const third = await openStore({ kind: "sqlite", path: file, warn: (l) => quiet.push(l) });
    await third.close();
    assert.deepEqual(quiet, [], "no warning once the modes are right");
  });
});
