/**
 * What a timeline draws, as plain arrays: one series per stacked part, values per time bucket. Pure, so
 * the split (token kinds, priced/unpriced calls, models, agents) is tested without a browser.
 */
import type { TimeseriesPoint, TimeseriesReport, Usage } from "../api/types.ts";
import type { Metric } from "../state/url-state.ts";

export type ChartSeries = { label: string; color: string; values: number[] };

/** Tableau 10: distinguishable on light and dark backgrounds, and for most colour-vision deficiencies. */
export const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"];
export const OTHER_COLOR = "#8c8c8c";

/** The metric's own parts: cost as recorded vs estimated, tokens by kind, calls priced vs unpriced. */
export function partsSeries(points: TimeseriesPoint[], metric: Metric): ChartSeries[] {
  const col = (f: (p: TimeseriesPoint) => number) => points.map(f);
  switch (metric) {
    case "cost":
      return [
        { label: "Recorded", color: PALETTE[0]!, values: col((p) => p.cost.recorded) },
        { label: "Estimated", color: PALETTE[4]!, values: col((p) => p.cost.estimated) },
      ];
    case "tokens":
      return [
        { label: "Input", color: PALETTE[0]!, values: col((p) => p.tokens.input) },
        { label: "Output", color: PALETTE[1]!, values: col((p) => p.tokens.output) },
        { label: "Cache read", color: PALETTE[2]!, values: col((p) => p.tokens.cacheRead) },
        { label: "Cache write", color: PALETTE[5]!, values: col((p) => p.tokens.cacheWrite) },
      ];
    case "calls":
      return [
        { label: "Priced calls", color: PALETTE[0]!, values: col((p) => p.llmCalls - p.unpricedCalls) },
        { label: "Unpriced calls", color: PALETTE[3]!, values: col((p) => p.unpricedCalls) },
      ];
  }
}

export function metricValue(u: Usage, metric: Metric): number {
  return metric === "cost" ? u.cost.total : metric === "tokens" ? u.tokens.total : u.llmCalls;
}

/**
 * One series per group (model or agent) for a report fetched with groupBy. The `max - 1` largest groups
 * by this metric keep their own colour; the rest are summed into "other", so the legend stays readable.
 */
export function groupSeries(report: TimeseriesReport, metric: Metric, max = 7): ChartSeries[] {
  const totals = new Map<string, number>();
  for (const p of report.points) for (const [g, u] of Object.entries(p.groups ?? {})) totals.set(g, (totals.get(g) ?? 0) + metricValue(u, metric));
  const ranked = [...totals.entries()].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([g]) => g);
  const shown = ranked.length <= max ? ranked : ranked.slice(0, max - 1);
  const rest = ranked.slice(shown.length);
  const series: ChartSeries[] = shown.map((g, i) => ({
    label: g,
    color: PALETTE[i % PALETTE.length]!,
    values: report.points.map((p) => (p.groups?.[g] ? metricValue(p.groups[g], metric) : 0)),
  }));
  if (rest.length > 0) {
    series.push({
      label: `${rest.length} other${rest.length === 1 ? "" : "s"}`,
      color: OTHER_COLOR,
      values: report.points.map((p) => rest.reduce((a, g) => a + (p.groups?.[g] ? metricValue(p.groups[g], metric) : 0), 0)),
    });
  }
  return series;
}

/** Running totals, bottom series first: stacked bar i reaches stacked[i][x]. */
export function stack(series: ChartSeries[]): number[][] {
  const out: number[][] = [];
  series.forEach((s, i) => out.push(s.values.map((v, x) => v + (i === 0 ? 0 : out[i - 1]![x]!))));
  return out;
}

/** Evenly spaced tick positions (bucket indexes) for an axis that fits `maxTicks` labels. */
export function tickIndexes(count: number, maxTicks: number): number[] {
  if (count <= 0) return [];
  const steps = [1, 2, 3, 4, 6, 7, 12, 14, 24, 28, 30, 48, 60, 90, 120, 180, 365];
  const step = steps.find((s) => Math.ceil(count / s) <= Math.max(1, maxTicks)) ?? Math.ceil(count / Math.max(1, maxTicks));
  const out: number[] = [];
  for (let i = 0; i < count; i += step) out.push(i);
  return out;
}

/** Hours between ticks on an hour axis: steps that divide a day, then whole days, so ticks sit on round hours or midnights. */
const HOUR_STEPS = [1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336, 720];

/**
 * Tick positions for hour buckets labelled "YYYY-MM-DDTHH:00" (already in the dashboard's time zone): every
 * `step` hours on the clock (00:00, 06:00, 12:00…), or every `step / 24` midnights, whichever step is the
 * smallest that fits `maxTicks`. Ticks 28 hours apart would fall on a different hour each day and, labelled
 * with the time only, never say which day they are.
 */
export function hourTickIndexes(labels: string[], maxTicks: number): number[] {
  const count = labels.length;
  if (count <= 0) return [];
  const fit = Math.max(1, maxTicks);
  const step = HOUR_STEPS.find((s) => count / s <= fit) ?? Math.ceil(count / fit / 24) * 24;
  const hourOf = (label: string) => Number(label.slice(11, 13));
  const out: number[] = [];
  let midnights = 0;
  labels.forEach((label, i) => {
    const hour = hourOf(label);
    if (step < 24) {
      if (hour % step === 0) out.push(i);
    } else if (hour === 0) {
      if (midnights % (step / 24) === 0) out.push(i);
      midnights++;
    }
  });
  // A short range without a round hour (or a midnight) still gets its first bucket labelled.
  return out.length > 0 ? out : [0];
}
