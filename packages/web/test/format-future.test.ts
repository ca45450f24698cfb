/** Relative times for sessions dated in the future (a clock ahead): said so, never "just now". */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatAgo } from "../src/format.ts";

const NOW = Date.parse("2026-12-08T12:00:00Z");
const at = (ms: number) => new Date(NOW + ms).toISOString();

describe("formatAgo and the future", () => {
  it("says a time hours ahead is ahead of now", () => {
    assert.equal(formatAgo(at(3 * 3_600_000), NOW), "in 3 h (ahead of now)");
    assert.equal(formatAgo(at(2 * 86_400_000), NOW), "in 2 d (ahead of now)");
    assert.equal(formatAgo(at(30 * 60_000), NOW), "in 30 min (ahead of now)");
  });
  it("keeps a few minutes of clock skew as just now, and the past as before", () => {
    assert.equal(formatAgo(at(5 * 60_000), NOW), "just now");
    assert.equal(formatAgo(at(-30_000), NOW), "just now");
    assert.equal(formatAgo(at(-5 * 60_000), NOW), "5 min ago");
    assert.equal(formatAgo(at(-3 * 3_600_000), NOW), "3 h ago");
  });
});
