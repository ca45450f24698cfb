/**
 * `clawtower report … --csv`: each report's rows as one CSV table, the same numbers as its --json (costs in
 * USD as the JSON has them). A report's totals are the sums of its rows, so no totals row is mixed in.
 */
import { toCsv, type AgentRow, type CsvCell, type ModelRow, type PeriodReport, type SessionsReport, type SummaryReport, type ToolsReport, type UsageJson } from "@clawtower/core";

const USAGE_HEADER = [
  "llm_calls",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_write_tokens",
  "total_tokens",
  "cost_recorded_usd",
  "cost_estimated_usd",
  "cost_usd",
  "unpriced_calls",
  "unpriced_tokens",
];

function usageCells(u: UsageJson): CsvCell[] {
  return [u.llmCalls, u.tokens.input, u.tokens.output, u.tokens.cacheRead, u.tokens.cacheWrite, u.tokens.total, u.cost.recorded, u.cost.estimated, u.cost.total, u.unpricedCalls, u.unpricedTokens];
}

const SHARE_HEADER = ["cost_share", "cost_per_1k_tokens_usd", "cache_hit_rate", "sessions"];
const shareCells = (r: ModelRow | AgentRow): CsvCell[] => [r.costShare, r.costPer1kTokens, r.cacheHitRate, r.sessions];

export function summaryCsv(r: SummaryReport): string {
  return toCsv(["provider", "model", ...USAGE_HEADER], r.byModel.map((m) => [m.provider, m.model, ...usageCells(m)]));
}

export function periodsCsv(r: PeriodReport): string {
  return toCsv([r.bucket, ...USAGE_HEADER], r.periods.map((p) => [p.period, ...usageCells(p)]));
}

export function modelsCsv(rows: ModelRow[]): string {
  return toCsv(["provider", "model", ...USAGE_HEADER, ...SHARE_HEADER], rows.map((m) => [m.provider, m.model, ...usageCells(m), ...shareCells(m)]));
}

export function agentsCsv(rows: AgentRow[]): string {
  return toCsv(["agent", ...USAGE_HEADER, ...SHARE_HEADER], rows.map((a) => [a.agentId, ...usageCells(a), ...shareCells(a)]));
}

export function sessionsCsv(r: SessionsReport): string {
  return toCsv(
    [
      "deployment",
      "agent",
      "session_id",
      "session_key",
      "kind",
      "channel",
      "label",
      "first_activity",
      "last_activity",
      ...USAGE_HEADER,
      "tool_calls",
      "tool_errors",
      "errors",
      "aborts",
      "compactions",
      "models",
      "ended",
    ],
    r.sessions.map((s) => [
      s.deploymentId,
      s.agentId,
      s.sessionId,
      s.sessionKey,
      s.kind,
      s.channel,
      s.label,
      s.firstActivity,
      s.lastActivity,
      ...usageCells(s),
      s.toolCalls,
      s.toolErrors,
      s.errors,
      s.aborts,
      s.compactions,
      s.models.join(" "),
      s.ended,
    ]),
  );
}

export function toolsCsv(r: ToolsReport): string {
  return toCsv(
    ["tool", "calls", "with_result", "errors", "error_rate", "args_bytes", "result_bytes", "max_result_bytes", "avg_result_bytes"],
    r.tools.map((t) => [t.name, t.calls, t.withResult, t.errors, t.errorRate, t.argsBytes, t.resultBytes, t.maxResultBytes, t.avgResultBytes]),
  );
}
