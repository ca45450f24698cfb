/**
 * What one stored row counts for: the usage measures of a call (rollups) and a row's share of its session's
 * figures (session aggregates), with how each is merged. One module so that rollups and session aggregates
 * both build on it without importing each other.
 */
import type { EventsTable, LlmCallsTable, ToolCallsTable, UsageMeasures } from "./schema.ts";

export type Merge = "sum" | "min" | "max";

/** SQL for a stored value merged with an increment (a null increment, or a null stored extreme, yields the other). */
export function mergeSql(stored: string, increment: string, merge: Merge): string {
  if (merge === "sum") return `${stored} + ${increment}`;
  const better = merge === "min" ? "<" : ">";
  return `CASE WHEN ${increment} IS NOT NULL AND (${stored} IS NULL OR ${increment} ${better} ${stored}) THEN ${increment} ELSE ${stored} END`;
}

/** The llm_calls columns a call's contribution to rollups and session aggregates depends on. */
export type CallRow = Pick<
  LlmCallsTable,
  "ts" | "provider" | "model" | "input_tokens" | "output_tokens" | "cache_read_tokens" | "cache_write_tokens" | "cost_source" | "cost_nanos" | "stop_reason"
>;

/** The tool_calls columns a row's contribution depends on (as stored: nulls for halves not yet seen). */
export type ToolRow = Pick<ToolCallsTable, "call_event_id" | "ts" | "name" | "args_bytes" | "result_event_id" | "result_ts" | "result_bytes" | "is_error">;

/** The events columns an event's contribution to its session's aggregates depends on. */
export type EventRow = Pick<EventsTable, "ts" | "type" | "role" | "flags">;

/** What one call adds to a usage rollup row: USAGE_SELECT / SESSION_HOUR_SELECT for a single row (keep them in step). */
export function callMeasures(c: CallRow): UsageMeasures {
  const unknown = c.cost_source === "unknown";
  return {
    calls: 1,
    input_tokens: c.input_tokens,
    output_tokens: c.output_tokens,
    cache_read_tokens: c.cache_read_tokens,
    cache_write_tokens: c.cache_write_tokens,
    recorded_nanos: c.cost_source === "recorded" ? c.cost_nanos : 0,
    estimated_nanos: c.cost_source === "estimated" ? c.cost_nanos : 0,
    unpriced_calls: unknown ? 1 : 0,
    unpriced_tokens: unknown ? c.input_tokens + c.output_tokens + c.cache_read_tokens + c.cache_write_tokens : 0,
  };
}

// Each new row adds to its session's figures what recomputeScope (session-aggregates.ts) would count for it: the
// functions below are recomputeScope's statements for a single row (keep them in step; a test checks the two agree).

const SUMS = [
  "events",
  "messages_user",
  "messages_assistant",
  "messages_tool_result",
  "messages_other",
  "errors",
  "aborts",
  "compactions",
  "resets",
  "llm_calls",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_write_tokens",
  "cost_recorded_nanos",
  "cost_estimated_nanos",
  "unpriced_calls",
  "unpriced_tokens",
  "tool_calls",
  "tool_errors",
] as const;

/** The session columns kept by increments: the sums, then the first and last timestamps. */
export const SESSION_TOTALS: readonly (readonly [string, Merge])[] = [...SUMS.map((c) => [c, "sum"] as const), ["first_ts", "min"], ["last_ts", "max"]];

type Sums = Partial<Record<(typeof SUMS)[number], number | boolean>>;

function totals(sums: Sums, times: (number | null)[]): (number | null)[] {
  const known = times.filter((t): t is number => t !== null);
  return [...SUMS.map((c) => Number(sums[c] ?? 0)), known.length > 0 ? Math.min(...known) : null, known.length > 0 ? Math.max(...known) : null];
}

const COUNTED_ROLES = new Set(["user", "assistant", "toolResult"]);

export function eventTotals(e: EventRow): (number | null)[] {
  return totals(
    {
      events: 1,
      messages_user: e.role === "user",
      messages_assistant: e.role === "assistant",
      messages_other: e.type === "message" && (e.role === null || !COUNTED_ROLES.has(e.role)),
      errors: (e.flags & 1) !== 0,
      aborts: (e.flags & 2) !== 0,
      compactions: e.type === "compaction",
      resets: e.type === "reset",
    },
    [e.ts],
  );
}

export function callTotals(c: CallRow): (number | null)[] {
  const m = callMeasures(c);
  return totals(
    {
      llm_calls: 1,
      input_tokens: m.input_tokens,
      output_tokens: m.output_tokens,
      cache_read_tokens: m.cache_read_tokens,
      cache_write_tokens: m.cache_write_tokens,
      cost_recorded_nanos: m.recorded_nanos,
      cost_estimated_nanos: m.estimated_nanos,
      unpriced_calls: m.unpriced_calls,
      unpriced_tokens: m.unpriced_tokens,
      events: 1,
      messages_assistant: 1,
      errors: c.stop_reason === "error",
      aborts: c.stop_reason === "aborted",
    },
    [c.ts],
  );
}

export function toolTotals(t: ToolRow): (number | null)[] {
  return totals(
    {
      tool_calls: t.call_event_id !== null,
      tool_errors: t.is_error === 1,
      messages_tool_result: t.result_event_id !== null,
      events: t.result_event_id !== null,
    },
    [t.call_event_id !== null ? t.ts : null, t.result_ts],
  );
}
