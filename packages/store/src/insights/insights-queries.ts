/**
 * The aggregates behind `clawtower insights`, written once for SQLite and PostgreSQL: per session and model
 * (what-ifs, cache, cron, context), per session and tool (error hot spots) and per session the spend of LLM
 * calls whose tool calls failed. Integers only; the arithmetic is @clawtower/core's buildInsightsReport.
 */
import { sql } from "kysely";
import {
  HEALTH_THRESHOLDS,
  SESSIONS_PER_INSIGHT,
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

/** Sessions of the context insight, by most prompt tokens above their first call's (only these are priced). */
export const CONTEXT_SESSIONS = 200;
/** Session candidates per insight: core keeps SESSIONS_PER_INSIGHT of them. */
const TOP = SESSIONS_PER_INSIGHT;

const COLS = sql.raw(`deployment_id, agent_id, session_id, session_key, kind, status, compactions, provider, model, calls, i, o, cr, cw,
  pi, po, pcr, pcw, recorded, estimated, unpriced, unread, after_first, ex_cr, ex_in, max_prompt, p0, errored, aborted`);

/** Ties broken by ids in code-unit order on both databases (PostgreSQL's default collation is the locale's). */
function byId(conn: StoreConnection, col: string) {
  return conn.dialect === "postgres" ? sql`${sql.ref(col)} COLLATE "C"` : sql.ref(col);
}

/**
 * One pass over the range's calls. Calls are numbered within their session (time, then event id); `last_read` is
 * the position of the session's last call that read from the cache, so a call at or after it wrote cache nobody
 * read back. `g` (one row per session and model) is then reduced to what the report needs: totals per (agent,
 * kind, provider, model), the top sessions per list, the cron sessions and the context sessions — tagged `t`.
 */
export async function insightSessionModels(conn: StoreConnection, f: ReportFilters) {
  const dep = byId(conn, "deployment_id");
  const ses = byId(conn, "session_id");
  const agt = byId(conn, "agent_id");
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
    ), sm AS (
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
    ), g AS MATERIALIZED (
      SELECT sm.*, s.session_key, s.kind, s.status, s.compactions FROM sm
      JOIN sessions s ON s.deployment_id = sm.deployment_id AND s.agent_id = sm.agent_id AND s.session_id = sm.session_id
    ), ranked AS (
      SELECT g.*,
        row_number() OVER (PARTITION BY agent_id, kind, provider, model ORDER BY recorded + estimated DESC, ${dep}, ${ses}) AS r_cost,
        row_number() OVER (PARTITION BY agent_id, provider, model ORDER BY unread DESC, ${dep}, ${ses}) AS r_unread,
        row_number() OVER (PARTITION BY agent_id, provider, model ORDER BY after_first DESC, ${dep}, ${ses}) AS r_ideal
      FROM g
    ), sess AS (
      SELECT deployment_id, agent_id, session_id, max(compactions) AS compactions, sum(calls) AS calls, max(max_prompt) AS mp, max(p0) AS p0,
        sum(ex_cr + ex_in) AS ex
      FROM g GROUP BY deployment_id, agent_id, session_id
    ), ctx AS (
      SELECT deployment_id, agent_id, session_id FROM sess
      WHERE compactions = 0 AND calls >= ${HEALTH_THRESHOLDS.contextMinCalls} AND p0 > 0 AND mp >= ${HEALTH_THRESHOLDS.contextGrowth} * p0
      ORDER BY ex DESC, ${dep}, ${agt}, ${ses} LIMIT ${CONTEXT_SESSIONS}
    )
    SELECT 'total' AS t, '' AS deployment_id, agent_id, '' AS session_id, NULL AS session_key, kind, NULL AS status, 0 AS compactions, provider, model,
      sum(calls) AS calls, sum(i) AS i, sum(o) AS o, sum(cr) AS cr, sum(cw) AS cw, sum(pi) AS pi, sum(po) AS po, sum(pcr) AS pcr, sum(pcw) AS pcw,
      sum(recorded) AS recorded, sum(estimated) AS estimated, sum(unpriced) AS unpriced, sum(unread) AS unread, sum(after_first) AS after_first,
      sum(ex_cr) AS ex_cr, sum(ex_in) AS ex_in, max(max_prompt) AS max_prompt, 0 AS p0, sum(errored) AS errored, sum(aborted) AS aborted
      FROM g GROUP BY agent_id, kind, provider, model
    UNION ALL SELECT 'cost' AS t, ${COLS} FROM ranked WHERE r_cost <= ${TOP}
    UNION ALL SELECT 'unread' AS t, ${COLS} FROM ranked WHERE r_unread <= ${TOP} AND unread > 0
    UNION ALL SELECT 'ideal' AS t, ${COLS} FROM ranked WHERE r_ideal <= ${TOP} AND after_first > 0
    UNION ALL SELECT 'cron' AS t, deployment_id, agent_id, session_id, max(session_key), 'cron', max(status), max(compactions), '', '',
      sum(calls), 0, 0, 0, 0, 0, 0, 0, 0, sum(recorded), sum(estimated), sum(unpriced), 0, 0, 0, 0, max(max_prompt), max(p0), sum(errored), sum(aborted)
      FROM g WHERE kind = 'cron' GROUP BY deployment_id, agent_id, session_id
    UNION ALL SELECT 'context' AS t, ${sql.raw(
      "g.deployment_id, g.agent_id, g.session_id, g.session_key, g.kind, g.status, g.compactions, g.provider, g.model, g.calls, g.i, g.o, g.cr, g.cw, g.pi, g.po, g.pcr, g.pcw, g.recorded, g.estimated, g.unpriced, g.unread, g.after_first, g.ex_cr, g.ex_in, g.max_prompt, g.p0, g.errored, g.aborted",
    )}
      FROM g JOIN ctx ON ctx.deployment_id = g.deployment_id AND ctx.agent_id = g.agent_id AND ctx.session_id = g.session_id`.execute(conn.db);
  const out: Record<"total" | "cost" | "unread" | "ideal" | "cron" | "context", InsightSessionModelRow[]> = { total: [], cost: [], unread: [], ideal: [], cron: [], context: [] };
  for (const x of r.rows) out[x["t"] as keyof typeof out].push(rowOf(x));
  return out;
}

function rowOf(x: Record<string, unknown>): InsightSessionModelRow {
  return {
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
  };
}

/** Tool calls and errors per (agent, tool), and the sessions with most errors per (agent, tool). */
export async function insightTools(conn: StoreConnection, f: ReportFilters): Promise<{ totals: InsightToolRow[]; sessions: InsightToolRow[] }> {
  const r = await sql<Record<string, unknown>>`
    WITH ts AS MATERIALIZED (
      SELECT t.deployment_id, t.agent_id, t.session_id, coalesce(t.name, '(unnamed)') AS tool, count(*) AS calls,
        count(*) FILTER (WHERE t.is_error = 1) AS errors
      FROM tool_calls t WHERE ${scope("t", f)}
      GROUP BY t.deployment_id, t.agent_id, t.session_id, coalesce(t.name, '(unnamed)')
    )
    SELECT 'total' AS k, '' AS deployment_id, agent_id, '' AS session_id, tool, sum(calls) AS calls, sum(errors) AS errors FROM ts GROUP BY agent_id, tool
    UNION ALL SELECT 'session' AS k, deployment_id, agent_id, session_id, tool, calls, errors FROM (
      SELECT ts.*, row_number() OVER (PARTITION BY agent_id, tool ORDER BY errors DESC, ${byId(conn, "deployment_id")}, ${byId(conn, "session_id")}) AS r
      FROM ts WHERE errors > 0) x WHERE r <= ${TOP}`.execute(conn.db);
  const rows = r.rows.map((x) => ({ k: String(x["k"]), deploymentId: String(x["deployment_id"]), agentId: String(x["agent_id"]), sessionId: String(x["session_id"]), tool: String(x["tool"]), calls: n(x["calls"]), errors: n(x["errors"]) }));
  const strip = ({ k: _k, ...rest }: (typeof rows)[number]) => rest;
  return { totals: rows.filter((x) => x.k === "total").map(strip), sessions: rows.filter((x) => x.k === "session").map(strip) };
}

/** LLM calls whose tool calls failed: per agent, and the costliest sessions per agent. */
export async function insightErrorTurns(conn: StoreConnection, f: ReportFilters): Promise<{ totals: InsightErrorTurnRow[]; sessions: InsightErrorTurnRow[] }> {
  const r = await sql<Record<string, unknown>>`
    WITH e AS MATERIALIZED (
      SELECT l.deployment_id, l.agent_id, l.session_id, count(*) AS calls, coalesce(sum(l.cost_nanos), 0) AS cost
      FROM llm_calls l WHERE ${scope("l", f)} AND EXISTS (
        SELECT 1 FROM tool_calls t WHERE t.deployment_id = l.deployment_id AND t.agent_id = l.agent_id
          AND t.session_id = l.session_id AND t.call_event_id = l.event_id AND t.is_error = 1)
      GROUP BY l.deployment_id, l.agent_id, l.session_id
    )
    SELECT 'total' AS k, '' AS deployment_id, agent_id, '' AS session_id, sum(calls) AS calls, sum(cost) AS cost FROM e GROUP BY agent_id
    UNION ALL SELECT 'session' AS k, deployment_id, agent_id, session_id, calls, cost FROM (
      SELECT e.*, row_number() OVER (PARTITION BY agent_id ORDER BY cost DESC, ${byId(conn, "deployment_id")}, ${byId(conn, "session_id")}) AS r FROM e) x
      WHERE r <= ${TOP}`.execute(conn.db);
  const rows = r.rows.map((x) => ({ k: String(x["k"]), deploymentId: String(x["deployment_id"]), agentId: String(x["agent_id"]), sessionId: String(x["session_id"]), calls: n(x["calls"]), costNanos: n(x["cost"]) }));
  const strip = ({ k: _k, ...rest }: (typeof rows)[number]) => rest;
  return { totals: rows.filter((x) => x.k === "total").map(strip), sessions: rows.filter((x) => x.k === "session").map(strip) };
}

/** The insights report: what `clawtower insights --json` prints and `GET /api/v1/insights` returns. */
export async function insightsReport(conn: StoreConnection, f: ReportFilters, prices: PriceBook, catalog: readonly PriceEntry[], now: number): Promise<InsightsReport> {
  const sm = await insightSessionModels(conn, f);
  const tools = await insightTools(conn, f);
  const errorTurns = await insightErrorTurns(conn, f);
  return buildInsightsReport({
    totals: sm.total,
    costSessions: sm.cost,
    unreadSessions: sm.unread,
    idealSessions: sm.ideal,
    cronSessions: sm.cron,
    contextSessions: sm.context,
    toolTotals: tools.totals,
    toolSessions: tools.sessions,
    errorTurnTotals: errorTurns.totals,
    errorTurnSessions: errorTurns.sessions,
    prices,
    catalog,
    filters: f,
    generatedAt: now,
  });
}
