/**
 * What `clawtower export otlp` reads and where it stands, for SQLite and PostgreSQL.
 *
 * The cursor: per destination and session, the last LLM call and the last tool call sent, in (ts, id) order
 * (export_marks), plus the sessions' `updated_at` the last pass started from (meta). A pass re-reads every
 * session updated since that instant minus a margin (writers stamp `updated_at` with their own clocks) and
 * sends what lies beyond the session's marks; marks are saved after the destination acknowledged the spans.
 * Rows that arrive later with a time before a session's mark are not sent (a session's rows arrive in order
 * from one transcript; an older part imported later would be the exception).
 */
import { sql } from "kysely";
import type { StoreConnection } from "./connection.ts";

export type SessionKey = { deploymentId: string; agentId: string; sessionId: string };
export type ExportMark = { callTs: number | null; callId: string | null; toolTs: number | null; toolId: string | null };
export type ChangedSession = SessionKey & { kind: string; updatedAt: number };

export type SpanCallRow = {
  eventId: string;
  ts: number;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costSource: string;
  costNanos: number;
  stopReason: string | null;
  responseId: string | null;
  latencyMs: number | null;
};

export type SpanToolRow = {
  callId: string;
  callEventId: string | null;
  ts: number;
  name: string | null;
  resultTs: number | null;
  isError: number | null;
};

/** A session's rows beyond its marks, and its user messages (which delimit turns). */
export type SessionSpanRows = { calls: SpanCallRow[]; tools: SpanToolRow[]; userMessages: { eventId: string; ts: number }[] };

const n = (v: unknown): number => Number(v);
const nn = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const WATERMARK_KEY = (exporter: string) => `export:${exporter}:updated_at`;

/** Sessions updated at or after `since`, in (updated_at, key) order, after `after` (paging). */
export async function changedSessions(conn: StoreConnection, since: number, after: (SessionKey & { updatedAt: number }) | null, limit: number): Promise<ChangedSession[]> {
  const page = after
    ? sql`AND (updated_at, deployment_id, agent_id, session_id) > (${after.updatedAt}, ${after.deploymentId}, ${after.agentId}, ${after.sessionId})`
    : sql``;
  const r = await sql<Record<string, unknown>>`SELECT deployment_id, agent_id, session_id, kind, updated_at FROM sessions
    WHERE updated_at >= ${since} AND llm_calls + tool_calls > 0 ${page}
    ORDER BY updated_at, deployment_id, agent_id, session_id LIMIT ${limit}`.execute(conn.db);
  return r.rows.map((x) => ({ deploymentId: String(x["deployment_id"]), agentId: String(x["agent_id"]), sessionId: String(x["session_id"]), kind: String(x["kind"]), updatedAt: n(x["updated_at"]) }));
}

/**
 * The session's calls and tool calls beyond `mark` with ts >= `since`. A tool call without its result yet is
 * held back (with everything after it) until `settledBefore`, so it is sent once, complete.
 */
export async function sessionSpanRows(conn: StoreConnection, s: SessionKey, mark: ExportMark, since: number, settledBefore: number): Promise<SessionSpanRows> {
  const where = sql`deployment_id = ${s.deploymentId} AND agent_id = ${s.agentId} AND session_id = ${s.sessionId} AND ts >= ${since}`;
  const callAfter = mark.callTs === null ? sql`` : sql`AND (ts, event_id) > (${mark.callTs}, ${mark.callId})`;
  const toolAfter = mark.toolTs === null ? sql`` : sql`AND (ts, call_id) > (${mark.toolTs}, ${mark.toolId})`;
  const [calls, tools, users] = await Promise.all([
    sql<Record<string, unknown>>`SELECT event_id, ts, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
        cost_source, cost_nanos, stop_reason, response_id, latency_ms FROM llm_calls WHERE ${where} ${callAfter} ORDER BY ts, event_id`.execute(conn.db),
    sql<Record<string, unknown>>`SELECT call_id, call_event_id, ts, name, result_ts, is_error FROM tool_calls
        WHERE ${where} AND call_event_id IS NOT NULL ${toolAfter} ORDER BY ts, call_id`.execute(conn.db),
    sql<Record<string, unknown>>`SELECT event_id, ts FROM events WHERE deployment_id = ${s.deploymentId} AND agent_id = ${s.agentId}
        AND session_id = ${s.sessionId} AND role = 'user' ORDER BY ts, event_id`.execute(conn.db),
  ]);
  const toolRows: SpanToolRow[] = [];
  for (const x of tools.rows) {
    const t = { callId: String(x["call_id"]), callEventId: x["call_event_id"] === null ? null : String(x["call_event_id"]), ts: n(x["ts"]), name: x["name"] === null ? null : String(x["name"]), resultTs: nn(x["result_ts"]), isError: nn(x["is_error"]) };
    if (t.resultTs === null && t.ts >= settledBefore) break;
    toolRows.push(t);
  }
  return {
    calls: calls.rows.map((x) => ({
      eventId: String(x["event_id"]),
      ts: n(x["ts"]),
      provider: String(x["provider"]),
      model: String(x["model"]),
      inputTokens: n(x["input_tokens"]),
      outputTokens: n(x["output_tokens"]),
      cacheReadTokens: n(x["cache_read_tokens"]),
      cacheWriteTokens: n(x["cache_write_tokens"]),
      costSource: String(x["cost_source"]),
      costNanos: n(x["cost_nanos"]),
      stopReason: x["stop_reason"] === null ? null : String(x["stop_reason"]),
      responseId: x["response_id"] === null ? null : String(x["response_id"]),
      latencyMs: nn(x["latency_ms"]),
    })),
    tools: toolRows,
    userMessages: users.rows.map((x) => ({ eventId: String(x["event_id"]), ts: n(x["ts"]) })),
  };
}

export async function loadExportMarks(conn: StoreConnection, exporter: string, sessions: SessionKey[]): Promise<Map<string, ExportMark>> {
  const out = new Map<string, ExportMark>();
  for (let i = 0; i < sessions.length; i += 300) {
    const chunk = sessions.slice(i, i + 300);
    const keys = sql.join(chunk.map((s) => sql`(${s.deploymentId}, ${s.agentId}, ${s.sessionId})`));
    const r = await sql<Record<string, unknown>>`SELECT deployment_id, agent_id, session_id, call_ts, call_id, tool_ts, tool_id FROM export_marks
      WHERE exporter = ${exporter} AND (deployment_id, agent_id, session_id) IN (${keys})`.execute(conn.db);
    for (const x of r.rows) {
      out.set(sessionKeyString({ deploymentId: String(x["deployment_id"]), agentId: String(x["agent_id"]), sessionId: String(x["session_id"]) }), {
        callTs: nn(x["call_ts"]),
        callId: x["call_id"] === null ? null : String(x["call_id"]),
        toolTs: nn(x["tool_ts"]),
        toolId: x["tool_id"] === null ? null : String(x["tool_id"]),
      });
    }
  }
  return out;
}

export function sessionKeyString(s: SessionKey): string {
  return `${s.deploymentId}\u0000${s.agentId}\u0000${s.sessionId}`;
}

/** Saves marks (after the destination acknowledged what they cover) in one transaction, with the watermark if given. */
export async function saveExportMarks(conn: StoreConnection, exporter: string, marks: (SessionKey & ExportMark)[], watermark: number | null): Promise<void> {
  await conn.db.transaction().execute(async (trx) => {
    for (let i = 0; i < marks.length; i += 200) {
      const rows = marks.slice(i, i + 200).map((m) => ({
        exporter,
        deployment_id: m.deploymentId,
        agent_id: m.agentId,
        session_id: m.sessionId,
        call_ts: m.callTs,
        call_id: m.callId,
        tool_ts: m.toolTs,
        tool_id: m.toolId,
      }));
      await trx
        .insertInto("export_marks")
        .values(rows)
        .onConflict((oc) =>
          oc.columns(["exporter", "deployment_id", "agent_id", "session_id"]).doUpdateSet((eb) => ({
            call_ts: eb.ref("excluded.call_ts"),
            call_id: eb.ref("excluded.call_id"),
            tool_ts: eb.ref("excluded.tool_ts"),
            tool_id: eb.ref("excluded.tool_id"),
          })),
        )
        .execute();
    }
    if (watermark !== null) {
      await trx
        .insertInto("meta")
        .values({ key: WATERMARK_KEY(exporter), value: String(watermark) })
        .onConflict((oc) => oc.column("key").doUpdateSet({ value: String(watermark) }))
        .execute();
    }
  });
}

export async function loadExportWatermark(conn: StoreConnection, exporter: string): Promise<number | null> {
  const r = await conn.db.selectFrom("meta").select("value").where("key", "=", WATERMARK_KEY(exporter)).executeTakeFirst();
  return r ? Number(r.value) : null;
}
