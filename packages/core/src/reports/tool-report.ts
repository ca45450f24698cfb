/** `report tools`: calls, errors and sizes per tool. */
import { REPORT_SCHEMA_VERSION, filtersJson, type ReportFilters } from "./usage.ts";

export type ToolAggregate = {
  name: string;
  calls: number;
  /** Calls whose result is stored (a call still running, or whose result was lost, has none). */
  withResult: number;
  errors: number;
  argsBytes: number;
  resultBytes: number;
  maxResultBytes: number;
};

export type ToolRow = ToolAggregate & { errorRate: number | null; avgResultBytes: number | null };

export type ToolsReport = {
  schemaVersion: number;
  report: "tools";
  generatedAt: string;
  filters: ReturnType<typeof filtersJson>;
  tools: ToolRow[];
  totals: { calls: number; errors: number; resultBytes: number };
};

export function buildToolsReport(rows: ToolAggregate[], filters: ReportFilters, generatedAt: number): ToolsReport {
  const tools = rows
    .map((r) => ({
      ...r,
      errorRate: r.withResult === 0 ? null : r.errors / r.withResult,
      avgResultBytes: r.withResult === 0 ? null : Math.round(r.resultBytes / r.withResult),
    }))
    .sort((a, b) => b.calls - a.calls || (a.name < b.name ? -1 : 1));
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    report: "tools",
    generatedAt: new Date(generatedAt).toISOString(),
    filters: filtersJson(filters),
    tools,
    totals: {
      calls: rows.reduce((a, r) => a + r.calls, 0),
      errors: rows.reduce((a, r) => a + r.errors, 0),
      resultBytes: rows.reduce((a, r) => a + r.resultBytes, 0),
    },
  };
}
