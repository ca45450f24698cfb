/** `report summary`: totals, by model, by day (in the report's time zone) and bad-input counts. */
import type { ProblemCounts } from "../model/problems.ts";
import { slotBucketer } from "../time/zone.ts";
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

export type SummaryInput = {
  /** Usage over the whole range (one bucket): totals and by model. */
  rows: UsageAggregate[];
  /** Usage split by day of the report's time zone: by day. */
  dayRows: UsageAggregate[];
  sessions: number;
  toolCalls: number;
  problems: ProblemCounts;
  filters: ReportFilters;
  generatedAt: number;
};

export type ModelUsageJson = UsageJson & { provider: string; model: string };
export type DayUsageJson = UsageJson & { day: string };

export type SummaryReport = {
  schemaVersion: number;
  report: "summary";
  generatedAt: string;
  filters: ReturnType<typeof filtersJson>;
  totals: UsageJson & { sessions: number; toolCalls: number };
  byModel: ModelUsageJson[];
  byDay: DayUsageJson[];
  problems: ProblemCounts;
};

export function buildSummaryReport(input: SummaryInput): SummaryReport {
  const total = emptySum();
  for (const r of input.rows) addInto(total, r);
  const byModel = [...groupSums(input.rows, (r) => `${r.provider}\u0000${r.model}`)].map(([k, s]) => {
    const [provider, model] = k.split("\u0000") as [string, string];
    return { provider, model, ...usageJson(s) };
  });
  byModel.sort((a, b) => byCostDesc(a, b) || (a.provider + a.model < b.provider + b.model ? -1 : 1));
  const dayOf = slotBucketer(input.filters.tz, "day");
  const byDay = [...groupSums(input.dayRows, (r) => dayOf(r.slot))]
    .map(([day, s]) => ({ day, ...usageJson(s) }))
    .sort((a, b) => (a.day < b.day ? -1 : 1));
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    report: "summary",
    generatedAt: new Date(input.generatedAt).toISOString(),
    filters: filtersJson(input.filters),
    totals: { sessions: input.sessions, toolCalls: input.toolCalls, ...usageJson(total) },
    byModel,
    byDay,
    problems: input.problems,
  };
}
