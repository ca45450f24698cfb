/**
 * All-time totals for the hub's Prometheus endpoint, read from the day rollups (which the writer keeps equal
 * to the rows, the current day included), so a scrape at millions of calls reads tens of thousands of rollup
 * rows instead of the calls, and the totals survive restarts. Written once for SQLite and PostgreSQL.
 *
 * The rollups are keyed by deployment, agent, provider and model (tools by deployment, agent and tool name):
 * they carry no session kind, so the counters cannot be split by it exactly without scanning every call;
 * session kind labels the active-sessions gauge, which reads the sessions table.
 */
import { sql } from "kysely";
import type { StoreConnection } from "./connection.ts";

/** All-time LLM usage of one (deployment, agent, provider, model). Tokens are counts, costs nano-dollars. */
export type UsageTotalsRow = {
  deploymentId: string;
  agentId: string;
  provider: string;
  model: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  recordedNanos: number;
  estimatedNanos: number;
};

/** All-time tool calls of one (deployment, agent). */
export type ToolTotalsRow = { deploymentId: string; agentId: string; calls: number; errors: number };

/** Sessions of one (deployment, agent, kind) whose last event is at or after `since`. */
export type ActiveSessionsRow = { deploymentId: string; agentId: string; kind: string; sessions: number };

export type MetricsTotals = { usage: UsageTotalsRow[]; tools: ToolTotalsRow[]; active: ActiveSessionsRow[] };

/** The largest instant a JavaScript Date holds. */
const MAX_TIME_MS = 8.64e15;

const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/**
 * Totals for /metrics, of every deployment or only `deployment`. `activeSince`: the instant (ms) from which a session counts as active — the store knows
 * a session's last event, not whether its agent is still running, so "active" means "had activity since".
 */
export async function metricsTotals(conn: StoreConnection, activeSince: number, deployment: string | null = null): Promise<MetricsTotals> {
  const { db } = conn;
  const only = deployment === null ? sql`` : sql`WHERE deployment_id = ${deployment}`;
  const andOnly = deployment === null ? sql`` : sql`AND deployment_id = ${deployment}`;
  const [usage, tools, active] = await Promise.all([
    sql<Record<string, unknown>>`SELECT deployment_id, agent_id, provider, model, sum(calls) AS calls, sum(input_tokens) AS input,
        sum(output_tokens) AS output, sum(cache_read_tokens) AS cache_read, sum(cache_write_tokens) AS cache_write,
        sum(recorded_nanos) AS recorded, sum(estimated_nanos) AS estimated
      FROM usage_rollup_day ${only} GROUP BY deployment_id, agent_id, provider, model`.execute(db),
    sql<Record<string, unknown>>`SELECT deployment_id, agent_id, sum(calls) AS calls, sum(errors) AS errors
      FROM tool_rollup_day ${only} GROUP BY deployment_id, agent_id`.execute(db),
    // Bounded on both sides: SQLite guesses a one-sided range to hold a quarter of the rows and scans the
    // table (~30 ms at 250,000 sessions) rather than reading the few recent ones from sessions_last_ts.
    sql<Record<string, unknown>>`SELECT deployment_id, agent_id, kind, count(*) AS sessions FROM sessions
      WHERE last_ts >= ${activeSince} AND last_ts <= ${MAX_TIME_MS} ${andOnly} GROUP BY deployment_id, agent_id, kind`.execute(db),
  ]);
  return {
    usage: usage.rows.map((r) => ({
      deploymentId: String(r["deployment_id"]),
      agentId: String(r["agent_id"]),
      provider: String(r["provider"]),
      model: String(r["model"]),
      calls: n(r["calls"]),
      inputTokens: n(r["input"]),
      outputTokens: n(r["output"]),
      cacheReadTokens: n(r["cache_read"]),
      cacheWriteTokens: n(r["cache_write"]),
      recordedNanos: n(r["recorded"]),
      estimatedNanos: n(r["estimated"]),
    })),
    tools: tools.rows.map((r) => ({ deploymentId: String(r["deployment_id"]), agentId: String(r["agent_id"]), calls: n(r["calls"]), errors: n(r["errors"]) })),
    active: active.rows.map((r) => ({ deploymentId: String(r["deployment_id"]), agentId: String(r["agent_id"]), kind: String(r["kind"]), sessions: n(r["sessions"]) })),
  };
}
