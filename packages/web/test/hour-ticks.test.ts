/**
 * Hour axes: ticks on round hours of the dashboard's time zone, or on midnights when the range is long, so
 * every tick label says which day it is (the bucket labels are already in that zone).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hourTickIndexes } from "../src/charts/timeline-series.ts";

/** Hour bucket labels as the API writes them, from a UTC start (UTC has no DST, so one label per hour). */
function hourLabels(startIso: string, hours: number): string[] {
  const start = Date.parse(startIso);
  return Array.from({ length: hours }, (_, i) => new Date(start + i * 3_600_000).toISOString().slice(0, 16));
}

const hourOf = (label: string) => Number(label.slice(11, 13));

describe("hour axis ticks", () => {
  it("over ~20 days ticks only midnights, the same number of days apart", () => {
    const labels = hourLabels("2026-11-01T05:00:00Z", 20 * 24);
    for (const fit of [8, 12, 17, 30]) {
      const ticks = hourTickIndexes(labels, fit);
      assert.ok(ticks.length <= fit, `${ticks.length} ticks for room for ${fit}`);
      assert.ok(ticks.length >= 2);
      for (const i of ticks) assert.equal(hourOf(labels[i]!), 0, `tick ${labels[i]} is not a midnight (room for ${fit})`);
      const gaps = new Set(ticks.slice(1).map((t, k) => t - ticks[k]!));
      assert.equal(gaps.size, 1, `evenly spaced: ${[...gaps]}`);
      assert.equal([...gaps][0]! % 24, 0, "whole days apart");
    }
  });

  it("over a day ticks round hours that divide the day", () => {
    const labels = hourLabels("2026-11-01T05:00:00Z", 25);
    const ticks = hourTickIndexes(labels, 10);
    assert.ok(ticks.length <= 10 && ticks.length >= 4);
    const hours = ticks.map((i) => hourOf(labels[i]!));
    const step = hours[1]! - hours[0]!;
    assert.ok([1, 2, 3, 4, 6, 12].includes(step), `step ${step}`);
    for (const h of hours) assert.equal(h % step, 0, `${h}:00 is on the ${step}-hour grid`);
  });

  it("labels the first bucket when no tick falls on the grid", () => {
    // 01:00 to 23:00 with room for one tick: a day's step, and no midnight in the range.
    assert.deepEqual(hourTickIndexes(hourLabels("2026-11-01T01:00:00Z", 23), 1), [0]);
    assert.deepEqual(hourTickIndexes([], 5), []);
  });
});
