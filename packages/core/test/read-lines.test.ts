import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { readLinesFromFile } from "../src/sources/read-lines.ts";
import { tmpDir } from "@clawtower/testkit";

function collect(file: string, opts: { startOffset?: number; maxLineBytes?: number; chunkBytes?: number } = {}) {
  const lines: { text: string; line: number; complete: boolean }[] = [];
  const tooLong: number[] = [];
  const size = fs.statSync(file).size;
  const r = readLinesFromFile(
    file,
    { startOffset: opts.startOffset ?? 0, startLine: 0, endOffset: size, maxLineBytes: opts.maxLineBytes ?? 1 << 20, chunkBytes: opts.chunkBytes ?? 16, onTooLong: (line) => tooLong.push(line) },
    (text, line, _s, _e, complete) => lines.push({ text: Buffer.from(text, "latin1").toString("utf8"), line, complete }),
  );
  return { lines, tooLong, r };
}

describe("readLinesFromFile", () => {
  const dir = tmpDir();
  it("splits lines across chunk boundaries, keeps UTF-8 intact, tolerates CRLF", () => {
    const file = path.join(dir, "a.jsonl");
    fs.writeFileSync(file, "héllo wörld 💥 one\r\ntwo\n\nthree-is-much-longer-than-a-chunk\n");
    const { lines, r } = collect(file);
    assert.deepEqual(lines.map((l) => l.text), ["héllo wörld 💥 one", "two", "", "three-is-much-longer-than-a-chunk"]);
    assert.equal(r.offset, fs.statSync(file).size);
    assert.equal(r.line, 4);
  });

  it("hands over an unterminated last line as incomplete and does not consume it", () => {
    const file = path.join(dir, "b.jsonl");
    fs.writeFileSync(file, "one\ntw");
    const { lines, r } = collect(file);
    assert.deepEqual(lines.map((l) => [l.text, l.complete]), [["one", true], ["tw", false]]);
    assert.equal(r.offset, 4);
  });

  it("skips lines over the limit without holding them, and reports them", () => {
    const file = path.join(dir, "c.jsonl");
    fs.writeFileSync(file, `short\n${"x".repeat(5000)}\nafter\n`);
    const { lines, tooLong } = collect(file, { maxLineBytes: 1000, chunkBytes: 256 });
    assert.deepEqual(lines.map((l) => l.text), ["short", "after"]);
    assert.deepEqual(tooLong, [2]);
  });

  it("reads a several-MB line", () => {
    const file = path.join(dir, "d.jsonl");
    fs.writeFileSync(file, `${"y".repeat(6 * 1024 * 1024)}\nz\n`);
    const { lines } = collect(file, { maxLineBytes: 64 * 1024 * 1024, chunkBytes: 1 << 20 });
    assert.equal(lines[0]!.text.length, 6 * 1024 * 1024);
    assert.equal(lines[1]!.text, "z");
  });

  it("continues from an offset", () => {
    const file = path.join(dir, "e.jsonl");
    fs.writeFileSync(file, "one\ntwo\nthree\n");
    assert.deepEqual(collect(file, { startOffset: 4 }).lines.map((l) => l.text), ["two", "three"]);
  });
});
