/**
 * What reading an OpenClaw agent database does to the files beside it (README, "What it reads"): the database
 * and its WAL are never changed; SQLite adds only its own coordination files, and only when no OpenClaw
 * connection has the database open — an empty -wal and the -shm index, with the database's mode. Reading gives
 * the same facts whatever state the gateway left the files in.
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { tmpDir } from "@clawtower/testkit";
import { DbHandles, listAgentDb, openAgentDb, readPart } from "../src/index.ts";

const FIXTURE = path.resolve(import.meta.dirname, "../../testkit/fixtures/openclaw-2026.9.6/state/agents/main/agent/openclaw-agent.sqlite");

/** Every file in `dir` with its mode and the hash of its bytes. */
function snapshot(dir: string): Map<string, { mode: number; size: number; sha1: string }> {
  const out = new Map<string, { mode: number; size: number; sha1: string }>();
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    const bytes = fs.readFileSync(file);
    out.set(name, { mode: fs.statSync(file).mode & 0o777, size: bytes.length, sha1: crypto.createHash("sha1").update(bytes).digest("hex") });
  }
  return out;
}

/** The facts Clawtower takes from a database: the ledger of every part it holds, with its path left out. */
function facts(dbPath: string): string {
  const dbs = new DbHandles();
  try {
    const db = openAgentDb(dbPath);
    const listing = listAgentDb("main", dbPath, db);
    db.close();
    // Cold archives kept as files beside the database are not its content: only what the database holds.
    const ledgers = listing.parts.filter((part) => part.source.type !== "file").map((part) => {
      const outcome = readPart({ part, from: null, cursor: null }, { maxLineBytes: 64 * 1024 * 1024, dbs });
      assert.equal(outcome.readError, null);
      return { kind: part.kind, sessionId: part.sessionId, ledger: outcome.ledger, fingerprint: outcome.fingerprint };
    });
    return JSON.stringify({ ledgers, sessions: listing.sessions }).replaceAll(dbPath, "<db>");
  } finally {
    dbs.closeAll();
  }
}

/** A copy of the fixture in WAL mode, as a running OpenClaw keeps it. */
function walCopy(): { dir: string; db: string } {
  const dir = tmpDir("ct-agentdb-");
  const db = path.join(dir, "openclaw-agent.sqlite");
  fs.copyFileSync(FIXTURE, db);
  fs.chmodSync(db, 0o640);
  const w = new DatabaseSync(db);
  w.exec("PRAGMA journal_mode = WAL");
  w.close(); // the last connection closing cleanly removes its -wal and -shm
  return { dir, db };
}

const expected = facts(FIXTURE);

describe("reading an OpenClaw agent database", () => {
  it("has something to compare: the fixture holds sessions with LLM calls", () => {
    const parsed = JSON.parse(expected) as { ledgers: { ledger: { llmCalls: unknown[] } }[] };
    assert.ok(parsed.ledgers.reduce((n, l) => n + l.ledger.llmCalls.length, 0) > 10);
  });

  it("in rollback-journal mode (the checked-in store): adds no file and changes no byte", () => {
    const dir = tmpDir("ct-agentdb-");
    const db = path.join(dir, "openclaw-agent.sqlite");
    fs.copyFileSync(FIXTURE, db);
    const before = snapshot(dir);
    assert.equal(facts(db), expected);
    assert.deepEqual(snapshot(dir), before);
  });

  it("in WAL mode with a gateway running: adds no file and changes neither the database nor its WAL", () => {
    const { dir, db } = walCopy();
    const gateway = new DatabaseSync(db); // holds the database open, as a running gateway does
    try {
      gateway.exec("PRAGMA wal_autocheckpoint = 0; CREATE TABLE IF NOT EXISTS gateway_probe(x); DELETE FROM gateway_probe");
      const before = snapshot(dir);
      assert.deepEqual([...before.keys()], ["openclaw-agent.sqlite", "openclaw-agent.sqlite-shm", "openclaw-agent.sqlite-wal"]);
      assert.equal(facts(db), expected);
      const after = snapshot(dir);
      assert.deepEqual([...after.keys()], [...before.keys()], "no new file");
      assert.deepEqual(after.get("openclaw-agent.sqlite"), before.get("openclaw-agent.sqlite"));
      assert.deepEqual(after.get("openclaw-agent.sqlite-wal"), before.get("openclaw-agent.sqlite-wal"));
    } finally {
      gateway.close();
    }
  });

  it("in WAL mode after a gateway crashed (a WAL with commits, no -shm): reads the WAL's commits, adds only the -shm index", () => {
    const { dir, db } = walCopy();
    const crashed = path.join(tmpDir("ct-agentdb-"), "crashed");
    const gateway = new DatabaseSync(db);
    // Rows only in the WAL: copied while the gateway is open, the files are what a killed gateway leaves.
    gateway.exec("PRAGMA wal_autocheckpoint = 0; CREATE TABLE gateway_probe(x); INSERT INTO gateway_probe VALUES (42)");
    fs.copyFileSync(db, `${crashed}.sqlite`);
    fs.copyFileSync(`${db}-wal`, `${crashed}.sqlite-wal`);
    gateway.close();
    fs.rmSync(db);
    fs.copyFileSync(`${crashed}.sqlite`, db);
    fs.copyFileSync(`${crashed}.sqlite-wal`, `${db}-wal`);
    fs.chmodSync(db, 0o640);
    const before = snapshot(dir);
    assert.deepEqual([...before.keys()], ["openclaw-agent.sqlite", "openclaw-agent.sqlite-wal"]);
    assert.equal(facts(db), expected);
    const reader = openAgentDb(db);
    assert.equal((reader.prepare("SELECT x FROM gateway_probe").get() as { x: number }).x, 42, "the WAL's commits are read");
    reader.close();
    const after = snapshot(dir);
    assert.deepEqual([...after.keys()], ["openclaw-agent.sqlite", "openclaw-agent.sqlite-shm", "openclaw-agent.sqlite-wal"]);
    assert.deepEqual(after.get("openclaw-agent.sqlite"), before.get("openclaw-agent.sqlite"));
    assert.deepEqual(after.get("openclaw-agent.sqlite-wal"), before.get("openclaw-agent.sqlite-wal"));
    assert.equal(after.get("openclaw-agent.sqlite-shm")!.mode, 0o640, "with the database's mode");
  });

  it("in WAL mode with the gateway stopped: changes no byte of the database; SQLite adds an empty -wal and the -shm index", () => {
    const { dir, db } = walCopy();
    const before = snapshot(dir);
    assert.deepEqual([...before.keys()], ["openclaw-agent.sqlite"]);
    assert.equal(facts(db), expected);
    const after = snapshot(dir);
    assert.deepEqual(after.get("openclaw-agent.sqlite"), before.get("openclaw-agent.sqlite"));
    assert.deepEqual([...after.keys()], ["openclaw-agent.sqlite", "openclaw-agent.sqlite-shm", "openclaw-agent.sqlite-wal"]);
    assert.equal(after.get("openclaw-agent.sqlite-wal")!.size, 0, "the WAL SQLite adds is empty");
    assert.equal(after.get("openclaw-agent.sqlite-wal")!.mode, 0o640);
    assert.equal(after.get("openclaw-agent.sqlite-shm")!.mode, 0o640);
    // OpenClaw opens it afterwards as usual, and its last connection removes both files.
    const gateway = new DatabaseSync(db);
    gateway.exec("CREATE TABLE gateway_probe(x)");
    gateway.close();
    assert.deepEqual(fs.readdirSync(dir).sort(), ["openclaw-agent.sqlite"]);
  });
});
