import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALL_TIME, LEVEL_MS, decompose, decomposeBuckets, type Piece } from "../src/reports/intervals.ts";

function check(from: number, to: number, pieces: Piece[]) {
  let at = from;
  for (const p of pieces) {
    assert.equal(p.from, at, `gap or overlap at ${at}`);
    assert.ok(p.to > p.from);
    if (p.level !== "raw") {
      const unit = LEVEL_MS[p.level];
      assert.equal(p.from % unit, 0, `${p.level} piece starts unaligned`);
      assert.equal(p.to % unit, 0, `${p.level} piece ends unaligned`);
    }
    at = p.to;
  }
  assert.equal(at, to, "pieces cover the whole range");
}

describe("decompose", () => {
  it("covers any range exactly with aligned pieces", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let i = 0; i < 5000; i++) {
      const from = Math.floor(1.79e12 + rand() * 1e10);
      const to = from + Math.floor(rand() ** 3 * 40 * LEVEL_MS.day);
      check(from, to, decompose(from, to));
    }
  });

  it("answers whole days from the day level and only the edges from rows", () => {
    const from = Date.parse("2026-11-01T10:07:00Z");
    const to = Date.parse("2026-11-20T03:31:00Z");
    const p = decompose(from, to);
    assert.deepEqual(
      p.map((x) => x.level),
      ["raw", "slot", "hour", "day", "hour", "slot", "raw"],
    );
    const days = p.find((x) => x.level === "day")!;
    assert.equal(new Date(days.from).toISOString(), "2026-11-02T00:00:00.000Z");
    assert.equal(new Date(days.to).toISOString(), "2026-11-20T00:00:00.000Z");
    assert.deepEqual(decompose(ALL_TIME.from, ALL_TIME.to).map((x) => x.level), ["day"]);
  });

  it("splits buckets separately (a local day at +05:30 never shares a rollup unit with the next)", () => {
    const b = [Date.parse("2026-11-19T18:30:00Z"), Date.parse("2026-11-20T18:30:00Z"), Date.parse("2026-11-21T18:30:00Z")];
    const pieces = decomposeBuckets(b);
    check(b[0]!, b[2]!, pieces);
    for (const p of pieces) assert.ok(p.from >= b[p.bucket]! && p.to <= b[p.bucket + 1]!);
    assert.ok(!pieces.some((p) => p.level === "raw"));
  });
});
