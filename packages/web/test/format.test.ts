import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { groupSeries, partsSeries, stack, tickIndexes } from "../src/charts/timeline-series.ts";
import type { TimeseriesPoint, TimeseriesReport, Usage } from "../src/api/types.ts";
import {
  cacheHitRate,
  costNote,
  formatBucket,
  formatBytes,
  formatCost,
  formatDateTime,
  formatCountAxis,
  formatDuration,
  formatInt,
  formatPercent,
  formatUsd,
  formatUsdAxis,
  stepDecimals,
} from "../src/format.ts";

describe("formatting", () => {
  it("groups thousands", () => {
    assert.equal(formatInt(0), "0");
    assert.equal(formatInt(6877191), "6,877,191");
  });

  it("shows money in cents, and sub-cent amounts with their digits", () => {
    assert.equal(formatUsd(3.485847925), "$3.49");
    assert.equal(formatUsd(1234.5), "$1,234.50");
    assert.equal(formatUsd(0.0031), "$0.0031");
    assert.equal(formatUsd(0.00061), "$0.00061");
    assert.equal(formatUsd(0.00000001), "<$0.0001");
    assert.equal(formatUsd(0), "$0.00");
  });

  it("never shows unpriced usage as $0", () => {
    assert.equal(formatCost(0, 3), "unpriced");
    assert.equal(formatCost(0, 0), "$0.00");
    assert.equal(formatCost(1.5, 3), "$1.50");
    assert.equal(costNote(3), "+ 3 unpriced calls");
    assert.equal(costNote(1), "+ 1 unpriced call");
    assert.equal(costNote(0), null);
  });

  it("formats ratios, sizes and durations", () => {
    assert.equal(formatPercent(0.4912), "49.1%");
    assert.equal(formatPercent(null), "—");
    assert.equal(formatBytes(512), "512 B");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(200 * 1024 * 1024), "200 MiB");
    assert.equal(formatDuration(700), "700 ms");
    assert.equal(formatDuration(4200), "4.2 s");
    assert.equal(formatDuration(185_000), "3 min 5 s");
  });

  it("computes the cache hit rate over the whole prompt", () => {
    assert.equal(cacheHitRate({ input: 100, output: 50, cacheRead: 300, cacheWrite: 100, total: 550 }), 0.6);
    assert.equal(cacheHitRate({ input: 0, output: 5, cacheRead: 0, cacheWrite: 0, total: 5 }), null);
  });

  it("shows instants in the chosen zone", () => {
    const now = Date.parse("2026-11-22T12:00:00Z");
    assert.equal(formatDateTime("2026-11-22T13:05:00Z", "UTC", now), "Nov 22, 13:05");
    assert.equal(formatDateTime("2026-11-22T13:05:00Z", "Asia/Tokyo", now), "Nov 22, 22:05");
    assert.equal(formatDateTime("2024-01-02T00:00:00Z", "UTC", now), "Jan 2, 2024, 00:00");
    assert.equal(formatDateTime(null, "UTC", now), "—");
  });

  it("labels time buckets", () => {
    assert.equal(formatBucket("2026-11-22T13:00", "hour"), "13:00");
    assert.equal(formatBucket("2026-11-22T13:00", "hour", true), "Nov 22, 13:00");
    assert.equal(formatBucket("2026-11-02", "day"), "Nov 2");
    assert.equal(formatBucket("2026-11", "month"), "Nov 2026");
  });
});

function usage(calls: number, cost: number, unpriced = 0): Usage {
  return { llmCalls: calls, tokens: { input: calls * 10, output: calls, cacheRead: 0, cacheWrite: 0, total: calls * 11 }, cost: { recorded: cost, estimated: 0, total: cost }, unpricedCalls: unpriced, unpricedTokens: unpriced * 11 };
}

describe("timeline series", () => {
  const points: TimeseriesPoint[] = [
    { bucket: "2026-11-21", start: "", ...usage(3, 1, 1), groups: { a: usage(1, 0.5), b: usage(1, 0.25), c: usage(1, 0.25, 1) } },
    { bucket: "2026-11-22", start: "", ...usage(2, 2), groups: { a: usage(2, 2) } },
  ];

  it("splits a metric into its parts", () => {
    assert.deepEqual(partsSeries(points, "calls").map((s) => s.values), [[2, 2], [1, 0]]);
    assert.deepEqual(partsSeries(points, "tokens").map((s) => s.label), ["Input", "Output", "Cache read", "Cache write"]);
  });

  it("keeps the largest groups and sums the rest into one", () => {
    const report = { points, groups: ["a", "b", "c"] } as unknown as TimeseriesReport;
    const two = groupSeries(report, "cost", 2);
    assert.deepEqual(two.map((s) => [s.label, s.values]), [["a", [0.5, 2]], ["2 others", [0.5, 0]]]);
    assert.equal(groupSeries(report, "calls", 7).length, 3);
  });

  it("stacks series and spaces ticks", () => {
    const series = [{ label: "x", color: "", values: [1, 2] }, { label: "y", color: "", values: [3, 4] }];
    assert.deepEqual(stack(series), [[1, 2], [4, 6]]);
    assert.deepEqual(tickIndexes(10, 5), [0, 2, 4, 6, 8]);
    assert.deepEqual(tickIndexes(3, 10), [0, 1, 2]);
    assert.deepEqual(tickIndexes(0, 10), []);
  });
});

describe("chart axes", () => {
  it("gives each tick as many decimals as the step needs", () => {
    assert.deepEqual([0, 0.005, 0.01, 0.015].map((v) => formatUsdAxis(v, 0.005)), ["$0", "$0.005", "$0.010", "$0.015"]);
    assert.equal(formatUsdAxis(1.25, 0.25), "$1.25");
    assert.equal(formatUsdAxis(40, 10), "$40");
    assert.equal(formatUsdAxis(25_000, 5000), "$25K");
    assert.equal(formatCountAxis(1_250_000), "1.25M");
    assert.equal(formatCountAxis(2500), "2,500");
    assert.equal(stepDecimals(1e-7), 7);
  });
});
