/**
 * The aggregates behind `clawtower insights`, written once for SQLite and PostgreSQL: per session and model
 * (what-ifs, cache, cron, context), per session and tool (error hot spots) and per session the spend of LLM
 * calls whose tool calls failed. Integers only; the arithmetic is @clawtower/core's buildInsightsReport.
 */
import { sql } from "kysely";
import {
  buildInsightsReport,
  type InsightErrorTurnRow,
  type InsightSessionModelRow,
  type InsightToolRow,
  type InsightsReport,
  type PriceBook,
  type PriceEntry,
  type ReportFilters,
} from "@clawtower/core";
import type { StoreConnection } from "../connection.ts";

const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

function scope(alias: string, f: ReportFilters) {
  const parts = [sql`TRUE`];
  if (f.deployment !== null) parts.push(sql`${sql.ref(`${alias}.deployment_id`)} = ${f.deployment}`);
  if (f.agent !== null) parts.push(sql`${sql.ref(`${alias}.agent_id`)} = ${f.agent}`);
  if (f.since !== null) parts.push(sql`${sql.ref(`${alias}.ts`)} >= ${f.since}`);
  if (f.until !== null) parts.push(sql`${sql.ref(`${alias}.ts`)} < ${f.until}`);
  return sql.join(parts, sql` AND `);
}

/**
 * Calls are numbered within their session (time, then event id); `last_read` is the position of the session's
 * last call that read from the cache, so a call at or after it wrote cache nobody read back.
 */
export async function insightSessionModels(conn: StoreConnection, f: ReportFilters): Promise<InsightSessionModelRow[]> {
  const r = await sql<Record<string, unknown>>`
    WITH c AS (
      SELECT l.deployment_id, l.agent_id, l.session_id, l.provider, l.model, l.input_tokens AS i, l.output_tokens AS o,
        l.cache_read_tokens AS cr, l.cache_write_tokens AS cw, l.cost_source, l.cost_nanos, l.stop_reason,
        l.input_tokens + l.cache_read_tokens + l.cache_write_tokens AS prompt,
        row_number() OVER (PARTITION BY l.deployment_id, l.agent_id, l.session_id ORDER BY l.ts, l.event_id) AS pos,
        first_value(l.input_tokens + l.cache_read_tokens + l.cache_write_tokens)
          OVER (PARTITION BY l.deployment_id, l.agent_id, l.session_id ORDER BY l.ts, l.event_id) AS p0
      FROM llm_calls l WHERE ${scope("l", f)}
    ), d AS (
      SELECT c.*, max(CASE WHEN c.cr > 0 THEN c.pos END) OVER (PARTITION BY c.deployment_id, c.agent_id, c.session_id) AS last_read,
        CASE WHEN c.prompt > c.p0 THEN c.prompt - c.p0 ELSE 0 END AS ex
      FROM c
    ), g AS (
      SELECT deployment_id, agent_id, session_id, provider, model, count(*) AS calls,
        sum(i) AS i, sum(o) AS o, sum(cr) AS cr, sum(cw) AS cw,
        coalesce(sum(i) FILTER (WHERE cost_source <> 'unknown'), 0) AS pi,
        coalesce(sum(o) FILTER (WHERE cost_source <> 'unknown'), 0) AS po,
        coalesce(sum(cr) FILTER (WHERE cost_source <> 'unknown'), 0) AS pcr,
        coalesce(sum(cw) FILTER (WHERE cost_source <> 'unknown'), 0) AS pcw,
        coalesce(sum(cost_nanos) FILTER (WHERE cost_source = 'recorded'), 0) AS recorded,
        coalesce(sum(cost_nanos) FILTER (WHERE cost_source = 'estimated'), 0) AS estimated,
        count(*) FILTER (WHERE cost_source = 'unknown') AS unpriced,
        coalesce(sum(cw) FILTER (WHERE pos >= coalesce(last_read, 0)), 0) AS unread,
        coalesce(sum(i) FILTER (WHERE pos > 1), 0) AS after_first,
        sum(CASE WHEN ex < cr THEN ex ELSE cr END) AS ex_cr,
        sum(ex - CASE WHEN ex < cr THEN ex ELSE cr END) AS ex_in,
        max(prompt) AS max_prompt, max(p0) AS p0,
        count(*) FILTER (WHERE stop_reason = 'error') AS errored,
        count(*) FILTER (WHERE stop_reason = 'aborted') AS aborted
      FROM d GROUP BY deployment_id, agent_id, session_id, provider, model
    )
    SELECT g.*, s.session_key, s.kind, s.status, s.compactions FROM g
    JOIN sessions s ON s.deployment_id = g.deployment_id AND s.agent_id = g.agent_id AND s.session_id = g.session_id
    ORDER BY g.deployment_id, g.agent_id, g.session_id, g.provider, g.model`.execute(conn.db);
  return r.rows.map((x) => ({
    deploymentId: String(x["deployment_id"]),
    agentId: String(x["agent_id"]),
    sessionId: String(x["session_id"]),
    sessionKey: (x["session_key"] as string | null) ?? null,
    kind: String(x["kind"]),
    status: (x["status"] as string | null) ?? null,
    compactions: n(x["compactions"]),
    provider: String(x["provider"]),
    model: String(x["model"]),
    calls: n(x["calls"]),
    input: n(x["i"]),
    output: n(x["o"]),
    cacheRead: n(x["cr"]),
    cacheWrite: n(x["cw"]),
    pricedInput: n(x["pi"]),
    pricedOutput: n(x["po"]),
    pricedCacheRead: n(x["pcr"]),
    pricedCacheWrite: n(x["pcw"]),
    recordedNanos: n(x["recorded"]),
    estimatedNanos: n(x["estimated"]),
    unpricedCalls: n(x["unpriced"]),
    unreadCacheWrite: n(x["unread"]),
    inputAfterFirst: n(x["after_first"]),
    excessCacheRead: n(x["ex_cr"]),
    excessInput: n(x["ex_in"]),
    maxPrompt: n(x["max_prompt"]),
    firstPrompt: n(x["p0"]),
    errored: n(x["errored"]),
    aborted: n(x["aborted"]),
  }));
}

export async function insightTools(conn: StoreConnection, f: ReportFilters): Promise<InsightToolRow[]> {
  const r = await sql<Record<string, unknown>>`
    SELECT t.deployment_id, t.agent_id, t.session_id, coalesce(t.name, '(unnamed)') AS tool, count(*) AS calls,
      count(*) FILTER (WHERE t.is_error = 1) AS errors
    FROM tool_calls t WHERE ${scope("t", f)}
    GROUP BY t.deployment_id, t.agent_id, t.session_id, coalesce(t.name, '(unnamed)')
    ORDER BY t.deployment_id, t.agent_id, t.session_id, tool`.execute(conn.db);
  return r.rows.map((x) => ({ deploymentId: String(x["deployment_id"]), agentId: String(x["agent_id"]), sessionId: String(x["session_id"]), tool: String(x["tool"]), calls: n(x["calls"]), errors: n(x["errors"]) }));
}

export async function insightErrorTurns(conn: StoreConnection, f: ReportFilters): Promise<InsightErrorTurnRow[]> {
  const r = await sql<Record<string, unknown>>`
    SELECT l.deployment_id, l.agent_id, l.session_id, count(*) AS calls, coalesce(sum(l.cost_nanos), 0) AS cost
    FROM llm_calls l WHERE ${scope("l", f)} AND EXISTS (
      SELECT 1 FROM tool_calls t WHERE t.deployment_id = l.deployment_id AND t.agent_id = l.agent_id
        AND t.session_id = l.session_id AND t.call_event_id = l.event_id AND t.is_error = 1)
    GROUP BY l.deployment_id, l.agent_id, l.session_id
    ORDER BY l.deployment_id, l.agent_id, l.session_id`.execute(conn.db);
  return r.rows.map((x) => ({ deploymentId: String(x["deployment_id"]), agentId: String(x["agent_id"]), sessionId: String(x["session_id"]), calls: n(x["calls"]), costNanos: n(x["cost"]) }));
}

/** The insights report: what `clawtower insights --json` prints and `GET /api/v1/insights` returns. */
export async function insightsReport(conn: StoreConnection, f: ReportFilters, prices: PriceBook, catalog: readonly PriceEntry[], now: number): Promise<InsightsReport> {
  const sessionModels = await insightSessionModels(conn, f);
  const tools = await insightTools(conn, f);
  const errorTurns = await insightErrorTurns(conn, f);
  return buildInsightsReport({ sessionModels, tools, errorTurns, prices, catalog, filters: f, generatedAt: now });
}
