/**
 * Session rows: metadata from the stores (key, kind, lineage…) and aggregates recomputed from the ledger
 * rows, so a session's figures always equal the sum of what is stored for it.
 */
import type { DatabaseSync } from "node:sqlite";
import { CompiledQuery, sql } from "kysely";
import { SESSION_TOTALS, mergeSql } from "./measures.ts";
import { sessionPairs, type Db, type SessionMeta, type SessionRef } from "./refs.ts";
import type { Touched } from "./rollups.ts";
import { prepared } from "./statements.ts";
import type { Dialect } from "./schema.ts";

// New code imports these from measures.ts and refs.ts; the re-export keeps older imports compiling.
export { SESSION_TOTALS, callTotals, eventTotals, toolTotals } from "./measures.ts";
export { sessionPairs } from "./refs.ts";

type Param = string | number | null;

const SESSION_META_SQL = `
  INSERT INTO sessions (deployment_id, agent_id, session_id, session_key, kind, channel, chat_type, label, parent_session_key, spawned_by,
    created_via, status, window_reason, previous_session_id, cwd, skills, fork_source_session_id, present, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
  ON CONFLICT (deployment_id, agent_id, session_id) DO UPDATE SET
    session_key = coalesce(excluded.session_key, sessions.session_key),
    kind = CASE WHEN excluded.kind = 'unknown' THEN sessions.kind ELSE excluded.kind END,
    channel = coalesce(excluded.channel, sessions.channel),
    chat_type = coalesce(excluded.chat_type, sessions.chat_type),
    label = coalesce(excluded.label, sessions.label),
    parent_session_key = coalesce(excluded.parent_session_key, sessions.parent_session_key),
    spawned_by = coalesce(excluded.spawned_by, sessions.spawned_by),
    created_via = coalesce(excluded.created_via, sessions.created_via),
    status = coalesce(excluded.status, sessions.status),
    window_reason = coalesce(excluded.window_reason, sessions.window_reason),
    previous_session_id = coalesce(excluded.previous_session_id, sessions.previous_session_id),
    cwd = coalesce(excluded.cwd, sessions.cwd),
    skills = coalesce(excluded.skills, sessions.skills),
    fork_source_session_id = coalesce(excluded.fork_source_session_id, sessions.fork_source_session_id),
    present = 1,
    updated_at = excluded.updated_at`;

/**
 * Creates or refreshes a session's metadata. A later source that knows less (a legacy file has no session
 * key, say) never erases what an earlier one knew. Aggregates are left to {@link recomputeSessions}.
 */
export async function upsertSessionMeta(db: Db, meta: SessionMeta, now: number, sqlite: DatabaseSync | null = null): Promise<void> {
  const params: Param[] = [
    meta.deploymentId,
    meta.agentId,
    meta.sessionId,
    meta.sessionKey ?? null,
    meta.kind ?? "unknown",
    meta.channel ?? null,
    meta.chatType ?? null,
    meta.label ?? null,
    meta.parentSessionKey ?? null,
    meta.spawnedBy ?? null,
    meta.createdVia ?? null,
    meta.status ?? null,
    meta.windowReason ?? null,
    meta.previousSessionId ?? null,
    meta.cwd ?? null,
    meta.skills ? JSON.stringify(meta.skills) : null,
    meta.forkSourceSessionId ?? null,
    now,
  ];
  if (sqlite) {
    prepared(sqlite, SESSION_META_SQL).run(...params);
    return;
  }
  let i = 0;
  await db.executeQuery(CompiledQuery.raw(SESSION_META_SQL.replace(/\?/g, () => `$${++i}`), params));
}

/**
 * Recomputes the aggregates of the given sessions from their stored rows (or of every session of the
 * deployment when `sessions` is "all"). One statement per table, whatever the number of sessions.
 */
export async function recomputeSessions(
  db: Db,
  dialect: Dialect,
  deploymentId: string,
  sessions: SessionRef[] | "all",
  now: number,
): Promise<void> {
  if (sessions !== "all" && sessions.length === 0) return;
  const models = modelsOf(dialect);
  for (const scope of scopes(dialect, deploymentId, sessions)) await recomputeScope(db, scope, models, now);
}

/** A session's models (`provider/model`, JSON), from its calls. */
function modelsOf(dialect: Dialect): ReturnType<typeof sql> {
  return dialect === "postgres"
    ? sql`(SELECT json_agg(DISTINCT c.provider || '/' || c.model)::text FROM llm_calls c WHERE c.deployment_id = sessions.deployment_id AND c.agent_id = sessions.agent_id AND c.session_id = sessions.session_id)`
    : sql`(SELECT json_group_array(DISTINCT c.provider || '/' || c.model) FROM llm_calls c WHERE c.deployment_id = sessions.deployment_id AND c.agent_id = sessions.agent_id AND c.session_id = sessions.session_id)`;
}

/**
 * WHERE clauses over `sessions` for these sessions of a deployment (or all of them). SQLite: row-value IN
 * lists of 500 sessions, which it looks up in the primary key. PostgreSQL: one statement joined with two
 * arrays — it planned the IN lists as scans of the whole table (statistics of a table filled in the same
 * transaction are stale), so a request with n new sessions read n²/500 rows.
 */
function scopes(dialect: Dialect, deploymentId: string, sessions: SessionRef[] | "all"): ReturnType<typeof sql>[] {
  const scope = sql`sessions.deployment_id = ${deploymentId}`;
  if (sessions === "all") return [scope];
  if (dialect === "postgres") {
    const agents = sessions.map((s) => s.agentId);
    const ids = sessions.map((s) => s.sessionId);
    return [sql`${scope} AND (sessions.agent_id, sessions.session_id) IN (SELECT * FROM unnest(${agents}::text[], ${ids}::text[]))`];
  }
  const out: ReturnType<typeof sql>[] = [];
  for (let i = 0; i < sessions.length; i += 500) {
    out.push(sql`${scope} AND (sessions.agent_id, sessions.session_id) IN (${sessionPairs(sessions.slice(i, i + 500))})`);
  }
  return out;
}

async function recomputeScope(db: Db, scope: ReturnType<typeof sql>, models: ReturnType<typeof sql>, now: number): Promise<void> {
  const same = (alias: string) =>
    sql.raw(
      `${alias}.deployment_id = sessions.deployment_id AND ${alias}.agent_id = sessions.agent_id AND ${alias}.session_id = sessions.session_id`,
    );
  // Every event is in exactly one table (see model/ledger.ts), so the session's figures are sums over the
  // three; each statement adds its table's share to what the previous one set.
  await sql`
    UPDATE sessions SET
      (events, messages_user, messages_assistant, messages_tool_result, messages_other, errors, aborts, compactions, resets) =
      (SELECT count(*),
              count(*) FILTER (WHERE e.role = 'user'),
              count(*) FILTER (WHERE e.role = 'assistant'),
              0,
              count(*) FILTER (WHERE e.type = 'message' AND (e.role IS NULL OR e.role NOT IN ('user', 'assistant', 'toolResult'))),
              count(*) FILTER (WHERE (e.flags & 1) <> 0),
              count(*) FILTER (WHERE (e.flags & 2) <> 0),
              count(*) FILTER (WHERE e.type = 'compaction'),
              count(*) FILTER (WHERE e.type = 'reset')
         FROM events e WHERE ${same("e")}),
      updated_at = ${now}
    WHERE ${scope}`.execute(db);
  await sql`
    UPDATE sessions SET
      (llm_calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_recorded_nanos, cost_estimated_nanos, unpriced_calls,
       unpriced_tokens, events, messages_assistant, errors, aborts) =
      (SELECT count(*), coalesce(sum(c.input_tokens), 0), coalesce(sum(c.output_tokens), 0), coalesce(sum(c.cache_read_tokens), 0),
              coalesce(sum(c.cache_write_tokens), 0),
              coalesce(sum(c.cost_nanos) FILTER (WHERE c.cost_source = 'recorded'), 0),
              coalesce(sum(c.cost_nanos) FILTER (WHERE c.cost_source = 'estimated'), 0),
              count(*) FILTER (WHERE c.cost_source = 'unknown'),
              coalesce(sum(c.input_tokens + c.output_tokens + c.cache_read_tokens + c.cache_write_tokens) FILTER (WHERE c.cost_source = 'unknown'), 0),
              sessions.events + count(*),
              sessions.messages_assistant + count(*),
              sessions.errors + count(*) FILTER (WHERE c.stop_reason = 'error'),
              sessions.aborts + count(*) FILTER (WHERE c.stop_reason = 'aborted')
         FROM llm_calls c WHERE ${same("c")}),
      models = ${models}
    WHERE ${scope}`.execute(db);
  await sql`
    UPDATE sessions SET
      (tool_calls, tool_errors, messages_tool_result, events) =
      (SELECT count(*) FILTER (WHERE t.call_event_id IS NOT NULL), count(*) FILTER (WHERE t.is_error = 1), count(t.result_event_id),
              sessions.events + count(t.result_event_id)
         FROM tool_calls t WHERE ${same("t")})
    WHERE ${scope}`.execute(db);
  await sql`
    UPDATE sessions SET
      (first_ts, last_ts) =
      (SELECT min(x.ts), max(x.ts) FROM (
          SELECT e.ts FROM events e WHERE ${same("e")}
          UNION ALL SELECT c.ts FROM llm_calls c WHERE ${same("c")}
          UNION ALL SELECT t.ts FROM tool_calls t WHERE ${same("t")} AND t.call_event_id IS NOT NULL
          UNION ALL SELECT t.result_ts FROM tool_calls t WHERE ${same("t")} AND t.result_ts IS NOT NULL) x)
    WHERE ${scope}`.execute(db);
}

const ADD_TOTALS_SQL = `UPDATE sessions SET ${SESSION_TOTALS.map(([c, m]) => `${c} = ${mergeSql(c, "?", m).replaceAll("?", `CAST(? AS BIGINT)`)}`).join(", ")}, updated_at = ?
  WHERE deployment_id = ? AND agent_id = ? AND session_id = ? RETURNING models`;

/**
 * Brings the sessions a write touched up to date: adds what new rows contributed (the increments `touched`
 * recorded) instead of recomputing each session from all its rows, refreshes the models of sessions that
 * used a model new to them, and recomputes from the rows the sessions whose rows changed otherwise.
 */
export async function applySessionTotals(db: Db, conn: { dialect: Dialect; sqlite: DatabaseSync | null }, touched: Touched, now: number): Promise<void> {
  const newModels = new Map<string, Set<string>>();
  for (const { key } of touched.sessionModels.rows.values()) {
    const k = key.slice(0, 3).join("\u0000");
    newModels.set(k, (newModels.get(k) ?? new Set()).add(`${key[3]}/${key[4]}`));
  }
  const refresh: SessionRef[] = [];
  const rows = [...touched.sessionTotals.rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, { key, values }] of rows) {
    const params = [...SESSION_TOTALS.flatMap(([, m], i) => (m === "sum" ? [values[i]!] : [values[i]!, values[i]!, values[i]!])), now, ...key];
    const models = await addTotals(db, conn.sqlite, params);
    const known = new Set<string>(models ? (JSON.parse(models) as string[]) : []);
    if ([...(newModels.get(k) ?? [])].some((m) => !known.has(m))) refresh.push({ deploymentId: key[0] as string, agentId: key[1] as string, sessionId: key[2] as string });
  }
  for (const [dep, list] of byDeployment(refresh)) {
    for (const scope of scopes(conn.dialect, dep, list)) await sql`UPDATE sessions SET models = ${modelsOf(conn.dialect)} WHERE ${scope}`.execute(db);
  }
  for (const [dep, list] of byDeployment([...touched.sessions.values()])) await recomputeSessions(db, conn.dialect, dep, list, now);
}

/** Adds one session's increments; returns its models as stored. */
async function addTotals(db: Db, sqlite: DatabaseSync | null, params: (string | number | null)[]): Promise<string | null | undefined> {
  if (sqlite) return (prepared(sqlite, ADD_TOTALS_SQL).get(...params) as { models: string | null } | undefined)?.models;
  let i = 0;
  const r = await db.executeQuery<{ models: string | null }>(CompiledQuery.raw(ADD_TOTALS_SQL.replace(/\?/g, () => `$${++i}`), params));
  return r.rows[0]?.models;
}

function byDeployment(sessions: SessionRef[]): Map<string, SessionRef[]> {
  const out = new Map<string, SessionRef[]>();
  for (const s of sessions) {
    const list = out.get(s.deploymentId);
    if (list) list.push(s);
    else out.set(s.deploymentId, [s]);
  }
  return out;
}
