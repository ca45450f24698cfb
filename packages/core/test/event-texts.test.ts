import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { DbHandles, listHome, planResume, readEventTexts, textOf, type DiscoveredPart, type ResumePosition } from "../src/index.ts";

const ev = (id: string, text = "x") => JSON.stringify({ type: "message", id, message: { role: "user", content: text } });

function filePart(file: string): DiscoveredPart {
  const st = fs.statSync(file);
  return { agentId: "a", sessionId: "s", kind: "jsonl", locator: file, source: { type: "file", path: file, compressed: false, fingerprint: { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } }, sizeHint: st.size };
}

describe("readEventTexts", () => {
  it("files: bounded batches, tails after appends, an open last line, rewrites detected", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ct-evt-"));
    const file = path.join(dir, "s.jsonl");
    fs.writeFileSync(file, `${ev("e1")}\n${ev("e2", "é")}\n${ev("e3")}\n`);
    const dbs = new DbHandles();
    const a = readEventTexts(filePart(file), null, { maxBytes: 60, maxEvents: 10 }, dbs);
    assert.deepEqual(a.events.map((e) => JSON.parse(textOf(e)).id), ["e1"]);
    assert.equal(a.done, false);
    const b = readEventTexts(filePart(file), a.resume, { maxBytes: 1e6, maxEvents: 10 }, dbs);
    assert.deepEqual(b.events.map((e) => [JSON.parse(textOf(e)).id, e.order]), [["e2", 2], ["e3", 3]]);
    assert.equal(JSON.parse(textOf(b.events[0]!)).message.content, "é");
    // Carried as read: the UTF-8 bytes one per char, for a sender to put back on the wire undecoded.
    assert.deepEqual([b.events[0]!.encoding, Buffer.from(b.events[0]!.text, "latin1").toString("utf8")], ["latin1", ev("e2", "é")]);
    assert.equal(b.done, true);
    fs.appendFileSync(file, ev("e4")); // no newline yet: a complete event is taken, its newline expected
    const c = readEventTexts(filePart(file), b.resume, { maxBytes: 1e6, maxEvents: 10 }, dbs);
    assert.deepEqual(c.events.map((e) => JSON.parse(textOf(e)).id), ["e4"]);
    fs.appendFileSync(file, `\n${ev("e5")}\n`);
    const d = readEventTexts(filePart(file), c.resume, { maxBytes: 1e6, maxEvents: 10 }, dbs);
    assert.deepEqual(d.events.map((e) => JSON.parse(textOf(e)).id), ["e5"]);
    fs.writeFileSync(file, `${ev("z1")}\n${ev("z2")}\n${ev("z3")}\n${ev("z4")}\n${ev("z5")}\n${ev("z6")}\n`);
    assert.equal(readEventTexts(filePart(file), d.resume, { maxBytes: 1e6, maxEvents: 10 }, dbs).rewriteDetected, true);
  });

  it("rows: continues after the last seq; vanished rows reveal a rewrite", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ct-evt-db-"));
    const file = path.join(dir, "agents", "a", "agent", "openclaw-agent.sqlite");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new DatabaseSync(file);
    db.exec("CREATE TABLE transcript_events (session_id TEXT, seq INTEGER, event_json TEXT, event_zstd BLOB, created_at INTEGER, PRIMARY KEY (session_id, seq))");
    for (let i = 0; i < 5; i++) db.prepare("INSERT INTO transcript_events VALUES ('s', ?, ?, NULL, 0)").run(i, ev(`r${i}`));
    const dbs = new DbHandles();
    const part = () => listHome(dir, { dbs }).parts[0]!;
    const a = readEventTexts(part(), null, { maxBytes: 1e6, maxEvents: 3 }, dbs);
    assert.deepEqual(a.events.map((e) => e.order), [0, 1, 2]);
    assert.equal(planResume(part(), { fingerprint: part().source.fingerprint, resume: a.resume, done: a.done }), "continue");
    const b = readEventTexts(part(), a.resume, { maxBytes: 1e6, maxEvents: 10 }, dbs);
    assert.deepEqual(b.events.map((e) => e.order), [3, 4]);
    assert.equal(planResume(part(), { fingerprint: part().source.fingerprint, resume: b.resume, done: b.done }), "unchanged");
    db.prepare("INSERT INTO transcript_events VALUES ('s', 5, ?, NULL, 0)").run(ev("r5"));
    const grown = part();
    const remembered = { fingerprint: { count: 5, minSeq: 0, maxSeq: 4, generation: null }, resume: b.resume as ResumePosition, done: true };
    assert.equal(planResume(grown, remembered), "continue");
    db.prepare("DELETE FROM transcript_events WHERE seq = 2").run();
    db.close();
    const c = readEventTexts(part(), b.resume, { maxBytes: 1e6, maxEvents: 10 }, dbs);
    assert.equal(c.rewriteDetected, true);
    dbs.closeAll();
  });
});
