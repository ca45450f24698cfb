/**
 * A damaged store is refused with a message naming the file and the recovery (`clawtower serve`), and found by
 * `clawtower doctor --store`; Clawtower's home is created owner-only.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { createPriceBook } from "@clawtower/core";
import { ingestLines, openStore, startIntegrityCheck, StoreDamagedError } from "@clawtower/store";
import { tmpDir } from "@clawtower/testkit";
import { CLAWTOWER_BIN } from "@clawtower/testkit/hub-process";
import { writeDemoHome } from "../src/demo/demo-home.ts";
import { checkOnStart } from "../src/store-check.ts";

/** A real store with enough rows to span a few hundred pages. */
async function buildStore(file: string): Promise<void> {
  const conn = await openStore({ kind: "sqlite", path: file });
  const lines = Array.from({ length: 3000 }, (_, i) => ({
    index: i,
    deploymentId: "gw-1",
    agentId: "main",
    sessionId: `s${i % 30}`,
    seq: i,
    event: JSON.stringify({ type: "message", id: `e${i}`, timestamp: "2026-11-20T10:00:00.000Z", message: { role: "user", content: `question ${i} `.repeat(20) } }),
  }));
  const r = await ingestLines(conn, lines, createPriceBook([], []), Date.now());
  assert.equal(r.accepted, 3000);
  conn.sqlite!.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  await conn.close();
}

/** Overwrites whole pages in the middle of the database file, as a bad disk or a stray writer would. */
function damagePages(file: string): void {
  const fd = fs.openSync(file, "r+");
  try {
    const header = Buffer.alloc(100);
    fs.readSync(fd, header, 0, 100, 0);
    const pageSize = header.readUInt16BE(16) === 1 ? 65536 : header.readUInt16BE(16);
    const pages = fs.fstatSync(fd).size / pageSize;
    assert.ok(pages > 50, `a store of ${pages} pages`);
    const garbage = Buffer.alloc(pageSize * 3, 0x5a);
    fs.writeSync(fd, garbage, 0, garbage.length, Math.floor(pages / 2) * pageSize);
  } finally {
    fs.closeSync(fd);
  }
}

function run(args: string[], home: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLAWTOWER_BIN, ...args], { env: { ...process.env, CLAWTOWER_HOME: home, OPENCLAW_STATE_DIR: path.join(home, "no-openclaw") } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    // A hub that started serving would never exit on its own: stop it, the test then fails on its exit code.
    const timer = setTimeout(() => child.kill("SIGTERM"), 30_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("a damaged store", () => {
  it("is refused by the hub at start, naming the file and how to recover", async () => {
    const dir = tmpDir();
    const file = path.join(dir, "clawtower.db");
    await buildStore(file);
    damagePages(file);
    const r = await run(["serve", "--no-import", "--no-progress", "--db", file, "--port", "0"], dir);
    assert.doesNotMatch(r.stdout, /is serving/);
    if (process.env["CT_SHOW"]) console.log(r.stderr);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`the store ${file} is damaged`), r.stderr);
    assert.match(r.stderr, /move the damaged store aside/);
    assert.match(r.stderr, /imports the local OpenClaw home again/);
  });

  it("damaged where opening reads (the header and schema page) is refused by every command, naming the file", async () => {
    const dir = tmpDir();
    const file = path.join(dir, "clawtower.db");
    await buildStore(file);
    const fd = fs.openSync(file, "r+");
    fs.writeSync(fd, Buffer.alloc(4000, 0x5a), 0, 4000, 0); // the header and the schema's b-tree page
    fs.closeSync(fd);
    for (const args of [["doctor", "--store", "--db", file], ["serve", "--no-import", "--no-progress", "--db", file, "--port", "0"]]) {
      const r = await run(args, dir);
      assert.equal(r.code, 1, r.stderr);
      assert.ok(r.stderr.includes(`clawtower: the store ${file} is damaged`), r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "a message, not a stack trace");
    }
  });

  it("is found by doctor --store (exit 1, the file named), and an intact store passes", async () => {
    const dir = tmpDir();
    const file = path.join(dir, "clawtower.db");
    await buildStore(file);
    const intact = await run(["doctor", "--store", "--db", file], dir);
    assert.equal(intact.code, 0, intact.stderr);
    assert.ok(intact.stdout.includes(`Clawtower store ${file}: intact`), intact.stdout);

    damagePages(file);
    const r = await run(["doctor", "--store", "--db", file], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stdout.includes(`Clawtower store ${file}: DAMAGED`), r.stdout);
    assert.match(r.stdout, /DAMAGED.*\n  \S/, "what SQLite found is listed");
    assert.ok(r.stderr.includes(file), r.stderr);
    const json = await run(["doctor", "--store", "--json", "--db", file], dir);
    assert.equal(json.code, 1);
    const doc = JSON.parse(json.stdout) as { integrity: { ok: boolean; file: string; problems: string[] } };
    assert.equal(doc.integrity.ok, false);
    assert.equal(doc.integrity.file, file);
    assert.ok(doc.integrity.problems.length > 0);
  });
});

describe("the start's quick check", () => {
  it("of a store too big to wait for: serves meanwhile, then logs the damage naming the file and flags it", async () => {
    const file = path.join(tmpDir(), "clawtower.db");
    await buildStore(file);
    damagePages(file);
    const conn = await openStore({ kind: "sqlite", path: file }).catch((e: unknown) => assert.fail(`the schema pages are intact: ${String(e)}`));
    try {
      const log: string[] = [];
      const check = startIntegrityCheck(conn)!;
      const state = await checkOnStart(conn.location, check, (l) => log.push(l), 0); // waits for nothing, as for a big store
      assert.equal(state()!.state, "checking");
      assert.match(log[0]!, /in the background/);
      await check;
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(state()!.state, "damaged");
      assert.ok(state()!.problems.length > 0);
      assert.ok(log.some((l) => l.startsWith(`ERROR: the store ${file} is damaged`)), log.join("\n"));
    } finally {
      await conn.close();
    }
  });

  it("of an intact store: ok, and of a damaged one that ends in time: refused with StoreDamagedError", async () => {
    const file = path.join(tmpDir(), "clawtower.db");
    await buildStore(file);
    const intact = await openStore({ kind: "sqlite", path: file });
    try {
      const state = await checkOnStart(intact.location, startIntegrityCheck(intact), () => {});
      assert.deepEqual(state(), { check: "quick", state: "ok", problems: [] });
    } finally {
      await intact.close();
    }
    damagePages(file);
    const damaged = await openStore({ kind: "sqlite", path: file });
    try {
      await assert.rejects(checkOnStart(damaged.location, startIntegrityCheck(damaged), () => {}), (e: unknown) => e instanceof StoreDamagedError && e.file === file);
    } finally {
      await damaged.close();
    }
  });
});

describe("Clawtower's home", () => {
  it("is created 0700 by the demo, which writes there before any store", () => {
    const home = path.join(tmpDir(), "fresh", ".clawtower");
    const old = process.umask(0o022);
    try {
      writeDemoHome(home, Date.now());
    } finally {
      process.umask(old);
    }
    assert.equal((fs.statSync(home).mode & 0o777).toString(8), "700");
  });
});

