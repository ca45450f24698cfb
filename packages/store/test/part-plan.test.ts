import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DiscoveredPart, FileFingerprint, PartKind, PartPosition, RowsFingerprint } from "@clawtower/core";
import { planPart, type StoredPart } from "../src/part-plan.ts";

const file = (kind: PartKind, fp: FileFingerprint): DiscoveredPart => ({
  agentId: "a",
  sessionId: "s",
  kind,
  locator: `f:${kind}`,
  source: { type: "file", path: "/x", compressed: false, fingerprint: fp },
  sizeHint: fp.size,
});
const rows = (fp: RowsFingerprint): DiscoveredPart => ({
  agentId: "a",
  sessionId: "s",
  kind: "sqlite",
  locator: "r",
  source: { type: "sqlite-rows", db: "/db", sessionId: "s", fingerprint: fp },
  sizeHint: 1,
});
const stored = (fingerprint: unknown, position: PartPosition | null, present = 1): StoredPart => ({
  part_id: 1,
  agent_id: "a",
  session_id: "s",
  kind: "jsonl",
  locator: "x",
  fingerprint: JSON.stringify(fingerprint),
  present,
  cursor: JSON.stringify(position ? { position, cursor: {} } : {}),
});

const fp = { size: 100, mtimeMs: 1, ino: 7 };
const at100: PartPosition = { type: "file", offset: 100, line: 3, headHash: "h", tailHash: "t" };
const rfp = { count: 3, minSeq: 0, maxSeq: 2, generation: null };
const rowsAt: PartPosition = { type: "rows", lastSeq: 2, count: 3 };

describe("planPart", () => {
  it("new → read; same fingerprint → unchanged; no resume state or a corrupt one → rewrite", () => {
    assert.equal(planPart(file("jsonl", fp), undefined), "read");
    assert.equal(planPart(file("jsonl", fp), stored(fp, at100)), "unchanged");
    assert.equal(planPart(file("jsonl", { ...fp, size: 150 }), stored(fp, null)), "rewrite");
    assert.equal(planPart(file("jsonl", { ...fp, size: 150 }), { ...stored(fp, at100), cursor: "{not json" }), "rewrite");
  });

  it("files: a grown transcript is read from its tail; a shorter or replaced one, or a changed archive, is re-read", () => {
    assert.equal(planPart(file("jsonl", { ...fp, size: 150, mtimeMs: 2 }), stored(fp, at100)), "append");
    assert.equal(planPart(file("jsonl", { ...fp, size: 50, mtimeMs: 2 }), stored(fp, at100)), "rewrite");
    assert.equal(planPart(file("jsonl", { ...fp, size: 150, ino: 8 }), stored(fp, at100)), "rewrite");
    assert.equal(planPart(file("jsonl-reset", { ...fp, size: 150, mtimeMs: 2 }), stored(fp, at100)), "rewrite");
  });

  it("rows: new rows after the position → append; rows gone or a new generation → rewrite", () => {
    assert.equal(planPart(rows({ ...rfp, count: 5, maxSeq: 4 }), stored(rfp, rowsAt)), "append");
    assert.equal(planPart(rows({ ...rfp, count: 2 }), stored(rfp, rowsAt)), "rewrite");
    assert.equal(planPart(rows({ ...rfp, generation: "g2" }), stored(rfp, rowsAt)), "rewrite");
  });

  it("a part marked gone that is back unchanged is read on from its position, so that the read marks it present", () => {
    assert.equal(planPart(file("jsonl", fp), stored(fp, at100, 0)), "append");
    // Before planning used core's planResume, rows came back "unchanged" and stayed marked gone.
    assert.equal(planPart(rows(rfp), stored(rfp, rowsAt, 0)), "append");
    assert.equal(planPart(file("jsonl-zst", fp), stored(fp, { type: "whole" }, 0)), "rewrite");
  });
});
