/**
 * Calendar periods in a time zone: days, weeks (Monday start) and months, at zone and DST boundaries, for the
 * period reports and the chart series. Expected labels worked out by hand from the zones' offsets:
 *   Europe/Paris  CEST (+02:00) until 2026-10-25 01:00Z, then CET (+01:00); CET → CEST at 2026-03-29 01:00Z.
 *   Asia/Tokyo    +09:00, no DST.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SLOT_MS, bucketBoundaries, bucketLabels, buildPeriodReport, buildTimeseries, type ReportFilters, type UsageAggregate } from "../src/index.ts";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const filters = (tz: string, since: string | null = null, until: string | null = null): ReportFilters => ({
  since: since === null ? null : Date.parse(since),
  until: until === null ? null : Date.parse(until),
  tz,
  agent: null,
  deployment: null,
});

/** One call of `tokens` input tokens in the slot holding `at`. */
function call(at: string, tokens: number, model = "claude"): UsageAggregate {
  const t = Date.parse(at);
  assert.equal(t % SLOT_MS, 0, `${at} starts a slot`);
  return { slot: t / SLOT_MS, agentId: "main", provider: "anthropic", model, calls: 1, input: tokens, output: 0, cacheRead: 0, cacheWrite: 0, recordedNanos: tokens * 1000, estimatedNanos: 0, unpricedCalls: 0, unpricedTokens: 0 };
}

const periods = (rows: UsageAggregate[], bucket: "day" | "week" | "month", tz: string) =>
  buildPeriodReport(rows, bucket, filters(tz), NOW).periods.map((p) => [p.period, p.tokens.input]);

describe("buildPeriodReport", () => {
  it("days at the autumn DST change in Paris: 25 hours in 25 October", () => {
    const rows = [
      call("2026-10-24T21:45:00Z", 1), // 23:45 CEST on the 24th
      call("2026-10-24T22:00:00Z", 2), // 00:00 CEST on the 25th: the day's first slot
      call("2026-10-25T00:45:00Z", 4), // 02:45 CEST (the first 02:45 of the night)
      call("2026-10-25T01:45:00Z", 8), // 02:45 CET (the second)
      call("2026-10-25T22:45:00Z", 16), // 23:45 CET: still the 25th, 25 hours after its start
      call("2026-10-25T23:00:00Z", 32), // 00:00 CET on the 26th
    ];
    assert.deepEqual(periods(rows, "day", "Europe/Paris"), [["2026-10-24", 1], ["2026-10-25", 30], ["2026-10-26", 32]]);
    assert.deepEqual(periods(rows, "day", "UTC"), [["2026-10-24", 3], ["2026-10-25", 60]]);
  });

  it("days at the spring DST change in Paris: 23 hours in 29 March", () => {
    const rows = [call("2026-03-28T22:45:00Z", 1), call("2026-03-28T23:00:00Z", 2), call("2026-03-29T21:45:00Z", 4), call("2026-03-29T22:00:00Z", 8)];
    assert.deepEqual(periods(rows, "day", "Europe/Paris"), [["2026-03-28", 1], ["2026-03-29", 6], ["2026-03-30", 8]]);
  });

  it("weeks start on Monday in the zone", () => {
    // 2026-11-22 is a Sunday; 23:30Z that day is Monday 08:30 in Tokyo.
    const rows = [call("2026-11-22T14:45:00Z", 1), call("2026-11-22T15:00:00Z", 2), call("2026-11-22T23:30:00Z", 4), call("2026-11-29T23:45:00Z", 8)];
    assert.deepEqual(periods(rows, "week", "UTC"), [["2026-11-16", 7], ["2026-11-23", 8]]);
    // Tokyo: 14:45Z is 23:45 on Sunday, 15:00Z midnight on Monday; 11-29T23:45Z is Monday 30 November 08:45.
    assert.deepEqual(periods(rows, "week", "Asia/Tokyo"), [["2026-11-16", 1], ["2026-11-23", 6], ["2026-11-30", 8]]);
  });

  it("months in the zone, and their models and totals", () => {
    const rows = [call("2026-11-30T14:45:00Z", 1), call("2026-11-30T15:00:00Z", 2, "haiku"), call("2026-12-31T15:00:00Z", 4)];
    assert.deepEqual(periods(rows, "month", "UTC"), [["2026-11", 3], ["2026-12", 4]]);
    assert.deepEqual(periods(rows, "month", "Asia/Tokyo"), [["2026-11", 1], ["2026-12", 2], ["2027-01", 4]]);
    const r = buildPeriodReport(rows, "month", filters("UTC"), NOW);
    assert.equal(r.report, "monthly");
    assert.deepEqual(r.periods[0]!.models.map((m) => [m.model, m.tokens.input]), [["haiku", 2], ["claude", 1]], "most expensive first");
    assert.equal(r.totals.llmCalls, 3);
    assert.equal(r.totals.tokens.input, 7);
    assert.ok(Math.abs(r.totals.cost.recorded - 7e-6) < 1e-15);
  });
});

describe("bucket labels and boundaries", () => {
  it("a Paris day of 25 hours and one of 23 hours", () => {
    assert.deepEqual(bucketBoundaries(Date.parse("2026-10-24T12:00:00Z"), Date.parse("2026-10-26T12:00:00Z"), "Europe/Paris", "day").map((t) => new Date(t).toISOString()), [
      "2026-10-24T12:00:00.000Z",
      "2026-10-24T22:00:00.000Z",
      "2026-10-25T23:00:00.000Z",
      "2026-10-26T12:00:00.000Z",
    ]);
    assert.deepEqual(bucketBoundaries(Date.parse("2026-03-28T12:00:00Z"), Date.parse("2026-03-30T12:00:00Z"), "Europe/Paris", "day").map((t) => new Date(t).toISOString()), [
      "2026-03-28T12:00:00.000Z",
      "2026-03-28T23:00:00.000Z",
      "2026-03-29T22:00:00.000Z",
      "2026-03-30T12:00:00.000Z",
    ]);
  });

  it("hours of a Paris night that repeats 02:00 and of one that skips it", () => {
    const autumn = bucketLabels(Date.parse("2026-10-24T22:00:00Z"), Date.parse("2026-10-25T23:00:00Z"), "Europe/Paris", "hour");
    assert.equal(autumn[0], "2026-10-25T00:00");
    assert.equal(autumn.at(-1), "2026-10-25T23:00");
    assert.equal(autumn.filter((l) => l === "2026-10-25T02:00").length, 1, "the repeated wall-clock hour is one label");
    assert.equal(autumn.length, 24);
    const spring = bucketLabels(Date.parse("2026-03-28T23:00:00Z"), Date.parse("2026-03-29T22:00:00Z"), "Europe/Paris", "hour");
    assert.equal(spring.length, 23);
    assert.ok(!spring.includes("2026-03-29T02:00"), "02:00 does not exist that night");
    assert.deepEqual(spring.slice(0, 3), ["2026-03-29T00:00", "2026-03-29T01:00", "2026-03-29T03:00"]);
  });
});

describe("buildTimeseries", () => {
  it("fills the quiet days of the range with zeros and groups by model", () => {
    const rows = [call("2026-11-20T10:00:00Z", 5), call("2026-11-22T23:30:00Z", 7, "haiku")];
    const r = buildTimeseries(rows, { bucket: "day", groupBy: "model", filters: filters("Asia/Tokyo", "2026-11-19T15:00:00Z", "2026-11-23T15:00:00Z"), generatedAt: NOW, dataRange: null });
    // Tokyo days of [11-20 00:00, 11-24 00:00): the second call is 08:30 on the 23rd.
    assert.deepEqual(r.points.map((p) => [p.bucket, p.start, p.tokens.input]), [
      ["2026-11-20", "2026-11-19T15:00:00.000Z", 5],
      ["2026-11-21", "2026-11-20T15:00:00.000Z", 0],
      ["2026-11-22", "2026-11-21T15:00:00.000Z", 0],
      ["2026-11-23", "2026-11-22T15:00:00.000Z", 7],
    ]);
    assert.deepEqual(r.groups, ["anthropic/haiku", "anthropic/claude"], "most expensive first");
    assert.deepEqual(Object.keys(r.points[3]!.groups!), ["anthropic/haiku"]);
    assert.deepEqual(r.points[1]!.groups, {});
    assert.equal(r.totals.tokens.input, 12);
  });
});
