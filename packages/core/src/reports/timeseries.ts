/**
 * Time series for charts: usage per hour / day / week / month of a time zone, with empty buckets filled in
 * (a chart must show the quiet days too), optionally split by model or agent.
 */
import { bucketKey, bucketStart, isoInstant, slotBucketer, type Bucket } from "../time/zone.ts";
import {
  REPORT_SCHEMA_VERSION,
  addInto,
  emptySum,
  filtersJson,
  usageJson,
  type ReportFilters,
  type UsageAggregate,
  type UsageJson,
  type UsageSum,
} from "./usage.ts";

export type TimeseriesPoint = UsageJson & {
  bucket: string;
  /** Start of the bucket (ISO instant). */
  start: string;
  groups?: Record<string, UsageJson>;
};

export type TimeseriesReport = {
  schemaVersion: number;
  report: "timeseries";
  generatedAt: string;
  filters: ReturnType<typeof filtersJson>;
  bucket: Bucket;
  groupBy: "none" | "model" | "agent";
  /** Group keys present, most expensive first (for stable chart colours and legends). */
  groups: string[];
  points: TimeseriesPoint[];
  totals: UsageJson;
};

/** Calendar arithmetic on bucket labels (day/week/month labels are dates, immune to DST). */
function nextLabel(label: string, bucket: "day" | "week" | "month"): string {
  if (bucket === "month") {
    const [y, m] = label.split("-").map(Number) as [number, number];
    return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
  }
  const d = new Date(`${label}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + (bucket === "week" ? 7 : 1));
  return d.toISOString().slice(0, 10);
}

/** Every bucket label from the one containing `from` to the one containing `to - 1`. */
export function bucketLabels(from: number, to: number, tz: string, bucket: Bucket, max = 20_000): string[] {
  const out: string[] = [];
  if (to <= from) return out;
  if (bucket === "hour") {
    let t = bucketStart(bucketKey(from, tz, "hour"), tz, "hour");
    while (t < to && out.length < max) {
      const k = bucketKey(t, tz, "hour");
      if (out.at(-1) !== k) out.push(k);
      t += 3_600_000;
    }
    return out;
  }
  const last = bucketKey(to - 1, tz, bucket);
  let k = bucketKey(from, tz, bucket);
  while (out.length < max) {
    out.push(k);
    if (k >= last) break;
    k = nextLabel(k, bucket);
  }
  return out;
}

/**
 * Bucket boundaries for [from, to): the range's own ends, and every bucket start in between (in `tz`).
 * Bucket i is [b[i], b[i + 1]); its label is the bucket of b[i].
 */
export function bucketBoundaries(from: number, to: number, tz: string, bucket: Bucket): number[] {
  if (!(to > from)) return [];
  const starts = bucketLabels(from, to, tz, bucket)
    .map((label) => bucketStart(label, tz, bucket))
    .filter((t) => t > from && t < to);
  return [from, ...starts, to];
}

export function buildTimeseries(
  rows: UsageAggregate[],
  opts: { bucket: Bucket; groupBy: "none" | "model" | "agent"; filters: ReportFilters; generatedAt: number; dataRange: { first: number; last: number } | null },
): TimeseriesReport {
  const { bucket, groupBy, filters } = opts;
  const labelOf = slotBucketer(filters.tz, bucket);
  const groupOf = (r: UsageAggregate) => (groupBy === "model" ? `${r.provider}/${r.model}` : groupBy === "agent" ? r.agentId : "");
  const sums = new Map<string, { total: UsageSum; groups: Map<string, UsageSum> }>();
  const groupTotals = new Map<string, number>();
  const total = emptySum();
  for (const r of rows) {
    const label = labelOf(r.slot);
    let s = sums.get(label);
    if (!s) {
      s = { total: emptySum(), groups: new Map() };
      sums.set(label, s);
    }
    addInto(s.total, r);
    addInto(total, r);
    if (groupBy !== "none") {
      const g = groupOf(r);
      const gs = s.groups.get(g) ?? emptySum();
      s.groups.set(g, addInto(gs, r));
      groupTotals.set(g, (groupTotals.get(g) ?? 0) + r.recordedNanos + r.estimatedNanos + (r.input + r.output + r.cacheRead + r.cacheWrite) * 1e-9);
    }
  }
  const from = filters.since ?? opts.dataRange?.first ?? null;
  const to = filters.until ?? (opts.dataRange ? opts.dataRange.last + 1 : null);
  const labels = from !== null && to !== null ? bucketLabels(from, to, filters.tz, bucket) : [];
  for (const k of sums.keys()) if (!labels.includes(k)) labels.push(k);
  labels.sort();
  const groups = [...groupTotals.entries()].sort((a, b) => b[1] - a[1]).map(([g]) => g);
  const points = labels.map((label) => {
    const s = sums.get(label);
    const point: TimeseriesPoint = { bucket: label, start: isoInstant(bucketStart(label, filters.tz, bucket)), ...usageJson(s?.total ?? emptySum()) };
    if (groupBy !== "none") point.groups = Object.fromEntries([...(s?.groups ?? new Map<string, UsageSum>())].map(([g, v]) => [g, usageJson(v)]));
    return point;
  });
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    report: "timeseries",
    generatedAt: new Date(opts.generatedAt).toISOString(),
    filters: filtersJson(filters),
    bucket,
    groupBy,
    groups,
    points,
    totals: usageJson(total),
  };
}
