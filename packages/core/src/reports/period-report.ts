/** `report daily|weekly|monthly`: one row per calendar period in the report's time zone, with its models. */
import { slotBucketer, type Bucket } from "../time/zone.ts";
import {
  REPORT_SCHEMA_VERSION,
  byCostDesc,
  emptySum,
  filtersJson,
  groupSums,
  addInto,
  usageJson,
  type ReportFilters,
  type UsageAggregate,
  type UsageJson,
} from "./usage.ts";

export type PeriodRow = UsageJson & { period: string; models: (UsageJson & { provider: string; model: string })[] };

export type PeriodReport = {
  schemaVersion: number;
  report: "daily" | "weekly" | "monthly";
  generatedAt: string;
  filters: ReturnType<typeof filtersJson>;
  bucket: Bucket;
  periods: PeriodRow[];
  totals: UsageJson;
};

const REPORT_OF: Record<"day" | "week" | "month", PeriodReport["report"]> = { day: "daily", week: "weekly", month: "monthly" };

export function buildPeriodReport(rows: UsageAggregate[], bucket: "day" | "week" | "month", filters: ReportFilters, generatedAt: number): PeriodReport {
  const keyOf = slotBucketer(filters.tz, bucket);
  const byPeriod = new Map<string, UsageAggregate[]>();
  for (const r of rows) {
    const k = keyOf(r.slot);
    const list = byPeriod.get(k) ?? [];
    list.push(r);
    byPeriod.set(k, list);
  }
  const periods = [...byPeriod]
    .map(([period, list]) => {
      const sum = emptySum();
      for (const r of list) addInto(sum, r);
      const models = [...groupSums(list, (r) => `${r.provider}\u0000${r.model}`)]
        .map(([k, s]) => {
          const [provider, model] = k.split("\u0000") as [string, string];
          return { provider, model, ...usageJson(s) };
        })
        .sort(byCostDesc);
      return { period, ...usageJson(sum), models };
    })
    .sort((a, b) => (a.period < b.period ? -1 : 1));
  const total = emptySum();
  for (const r of rows) addInto(total, r);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    report: REPORT_OF[bucket],
    generatedAt: new Date(generatedAt).toISOString(),
    filters: filtersJson(filters),
    bucket,
    periods,
    totals: usageJson(total),
  };
}
