import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bucketKey, parseTimeBound, slotBucketer, SLOT_MS, TimeZoneError, zonedTime, assertTimeZone } from "../src/index.ts";
import { wallClock, zoneOffsetMs } from "../src/time/zone.ts";

describe("time zones", () => {
  it("computes the instant of a wall-clock midnight, across DST", () => {
    assert.equal(new Date(zonedTime(2026, 3, 29, "Europe/Paris")).toISOString(), "2026-03-28T23:00:00.000Z");
    assert.equal(new Date(zonedTime(2026, 3, 30, "Europe/Paris")).toISOString(), "2026-03-29T22:00:00.000Z");
    assert.equal(new Date(zonedTime(2026, 11, 22, "Asia/Kathmandu")).toISOString(), "2026-11-21T18:15:00.000Z");
  });

  it("labels buckets in the zone; weeks start on Monday", () => {
    const t = Date.parse("2026-11-22T23:30:00Z"); // a Sunday in UTC, Monday in Tokyo
    assert.equal(bucketKey(t, "UTC", "day"), "2026-11-22");
    assert.equal(bucketKey(t, "Asia/Tokyo", "day"), "2026-11-23");
    assert.equal(bucketKey(t, "UTC", "week"), "2026-11-16");
    assert.equal(bucketKey(t, "Asia/Tokyo", "week"), "2026-11-23");
    assert.equal(bucketKey(t, "America/New_York", "month"), "2026-11");
    assert.equal(bucketKey(t, "Asia/Kolkata", "hour"), "2026-11-23T05:00");
  });

  it("gives every 15-minute slot the day of its instants, even at +05:45", () => {
    const day = slotBucketer("Asia/Kathmandu", "day");
    const start = zonedTime(2026, 11, 22, "Asia/Kathmandu");
    assert.equal(day(start / SLOT_MS), "2026-11-22");
    assert.equal(day(start / SLOT_MS - 1), "2026-11-21");
  });

  it("reads --since / --until values, and rejects what it cannot read", () => {
    const now = Date.parse("2026-11-22T12:00:00Z");
    assert.equal(parseTimeBound("2026-11-20", "UTC", now, "--since"), Date.parse("2026-11-20T00:00:00Z"));
    assert.equal(parseTimeBound("20261120", "UTC", now, "--until"), Date.parse("2026-11-21T00:00:00Z"));
    assert.equal(parseTimeBound("7d", "UTC", now, "--since"), now - 7 * 86_400_000);
    assert.equal(parseTimeBound("2026-11-20T10:00:00+02:00", "UTC", now, "--since"), Date.parse("2026-11-20T08:00:00Z"));
    assert.throws(() => parseTimeBound("yesterday", "UTC", now, "--since"), /--since: cannot read "yesterday"/);
    assert.throws(() => parseTimeBound("2026-13-01", "UTC", now, "--since"));
    assert.throws(() => assertTimeZone("Nowhere/Land"), TimeZoneError);
  });

  it("computes UTC without Intl, exactly as Intl does", () => {
    for (let ms = Date.parse("1999-12-31T23:59:59.999Z"); ms < Date.parse("2040-01-01T00:00:00Z"); ms += 86_400_000 * 37 + 3_600_000 * 7 + 60_001 * 13 + 999) {
      assert.deepEqual(wallClock(ms, "UTC"), wallClock(ms, "Etc/UTC"), new Date(ms).toISOString());
      assert.equal(zoneOffsetMs(ms, "UTC"), zoneOffsetMs(ms, "Etc/UTC"));
    }
    assert.equal(assertTimeZone("UTC"), "UTC");
  });
});
