/**
 * Writes ledger records (one read of one transcript part) into the store, idempotently.
 *
 * - events and LLM calls: insert, ignoring rows whose (session, event id) already exists — so the same
 *   event found in two stores (migration copies, archives) counts once, and a re-read changes nothing;
 * - tool calls: the call half and the result half are upserted into one row by (session, tool call id);
 * - a rewritten part is replaced: its rows are deleted before the part is read again;
 * - session aggregates are recomputed from the rows, so they always equal the sum of what is stored.
 */
import { sql, type Kysely, type Transaction } from "kysely";
import { costOfCall, type PriceBook } from "@clawtower/core";
import type { LlmCallRecord, PartLedger, Problem } from "@clawtower/core";
import type { Database, Dialect } from "./schema.ts";

export type SessionRef = { deploymentId: string; agentId: string; sessionId: string };

export type PartRef = SessionRef & { kind: string; locator: string };

export type SessionMeta = SessionRef & {
  sessionKey?: string | null;
  kind?: string | null;
  channel?: string | null;
  chatType?: string | null;
  label?: string | null;
  parentSessionKey?: string | null;
  spawnedBy?: string | null;
  createdVia?: string | null;
  status?: string | null;
  windowReason?: string | null;
  previousSessionId?: string | null;
  cwd?: string | null;
  skills?: string[] | null;
};

export type Db = Kysely<Database> | Transaction<Database>;

const CHUNK = 400;

function chunks<T>(rows: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** Tool call ids are unique within a session; a block without one gets a name derived from its event. */
function toolCallId(callId: string, eventId: string, index: number): string {
  return callId !== "" ? callId : `~${eventId}#${index}`;
}

export function llmCallRow(ref: SessionRef, partId: number, c: LlmCallRecord, prices: PriceBook) {
  const cost = costOfCall(c, prices);
  return {
    deployment_id: ref.deploymentId,
    agent_id: ref.agentId,
    session_id: ref.sessionId,
    event_id: c.eventId,
    part_id: partId,
    ts: c.ts,
    provider: c.provider,
    model: c.model,
    api: c.api,
    input_tokens: c.tokens.input,
    output_tokens: c.tokens.output,
    cache_read_tokens: c.tokens.cacheRead,
    cache_write_tokens: c.tokens.cacheWrite,
    cost_source: cost.source,
    cost_nanos: cost.nanos,
    recorded_cost_usd: c.recordedCostUsd,
    price_ref: cost.priceRef,
    stop_reason: c.stopReason,
    run_id: c.runId,
    response_id: c.responseId,
    latency_ms: c.latencyMs,
    tool_call_count: c.toolCallCount,
  };
}

export async function writePartLedger(
  db: Db,
  ref: SessionRef,
  partId: number,
  ledger: PartLedger,
  prices: PriceBook,
): Promise<void> {
  const base = { deployment_id: ref.deploymentId, agent_id: ref.agentId, session_id: ref.sessionId };
  for (const rows of chunks(ledger.events)) {
    await db
      .insertInto("events")
      .values(
        rows.map((e) => ({ ...base, event_id: e.eventId, part_id: partId, ts: e.ts, type: e.type, role: e.role, flags: e.flags, bytes: e.bytes })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  for (const rows of chunks(ledger.llmCalls)) {
    await db
      .insertInto("llm_calls")
      .values(rows.map((c) => llmCallRow(ref, partId, c, prices)))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  const calls = ledger.toolCalls.map((t, i) => ({
    ...base,
    call_id: toolCallId(t.callId, t.eventId, i),
    part_id: partId,
    call_event_id: t.eventId,
    ts: t.ts,
    name: t.name,
    via: t.via,
    args_bytes: t.argsBytes,
  }));
  for (const rows of chunks(dedupeBy(calls, (r) => r.call_id))) {
    await db
      .insertInto("tool_calls")
      .values(rows)
      .onConflict((oc) =>
        oc
          .columns(["deployment_id", "agent_id", "session_id", "call_id"])
          .doUpdateSet((eb) => ({
            call_event_id: eb.ref("excluded.call_event_id"),
            ts: eb.ref("excluded.ts"),
            name: eb.ref("excluded.name"),
            via: eb.ref("excluded.via"),
            args_bytes: eb.ref("excluded.args_bytes"),
          }))
          .where("tool_calls.call_event_id", "is", null),
      )
      .execute();
  }
  const results = ledger.toolResults.map((r, i) => ({
    ...base,
    call_id: toolCallId(r.callId, r.eventId, i),
    part_id: partId,
    ts: r.ts,
    name: r.toolName,
    result_event_id: r.eventId,
    result_ts: r.ts,
    result_bytes: r.resultBytes,
    is_error: r.isError ? 1 : 0,
  }));
  for (const rows of chunks(dedupeBy(results, (r) => r.call_id))) {
    await db
      .insertInto("tool_calls")
      .values(rows)
      .onConflict((oc) =>
        oc
          .columns(["deployment_id", "agent_id", "session_id", "call_id"])
          .doUpdateSet((eb) => ({
            result_event_id: eb.ref("excluded.result_event_id"),
            result_ts: eb.ref("excluded.result_ts"),
            result_bytes: eb.ref("excluded.result_bytes"),
            is_error: eb.ref("excluded.is_error"),
          }))
          .where("tool_calls.result_event_id", "is", null),
      )
      .execute();
  }
  await writeProblems(db, ref.deploymentId, partId, ledger.problems);
}

/** Keeps the first row per key: one statement must not touch the same conflict target twice. */
function dedupeBy<T>(rows: T[], key: (r: T) => string): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const k = key(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export async function writeProblems(db: Db, deploymentId: string, partId: number | null, problems: Problem[]): Promise<void> {
  for (const rows of chunks(problems)) {
    await db
      .insertInto("problems")
      .values(
        rows.map((p) => ({
          deployment_id: deploymentId,
          part_id: partId,
          kind: p.kind,
          source: p.at.source,
          line: p.at.line ?? null,
          session_id: p.at.sessionId ?? null,
          seq: p.at.seq ?? null,
          detail: p.detail,
        })),
      )
      .execute();
  }
}

/** Removes what the given parts contributed (before re-reading a rewritten session). */
export async function deletePartRows(db: Db, ref: SessionRef, partIds: number[]): Promise<void> {
  if (partIds.length === 0) return;
  for (const table of ["events", "llm_calls", "tool_calls"] as const) {
    await db
      .deleteFrom(table)
      .where("deployment_id", "=", ref.deploymentId)
      .where("agent_id", "=", ref.agentId)
      .where("session_id", "=", ref.sessionId)
      .where("part_id", "in", partIds)
      .execute();
  }
  await db.deleteFrom("problems").where("deployment_id", "=", ref.deploymentId).where("part_id", "in", partIds).execute();
}

export async function upsertSessionMeta(db: Db, meta: SessionMeta, now: number): Promise<void> {
  const set = {
    session_key: meta.sessionKey ?? null,
    kind: meta.kind ?? "unknown",
    channel: meta.channel ?? null,
    chat_type: meta.chatType ?? null,
    label: meta.label ?? null,
    parent_session_key: meta.parentSessionKey ?? null,
    spawned_by: meta.spawnedBy ?? null,
    created_via: meta.createdVia ?? null,
    status: meta.status ?? null,
    window_reason: meta.windowReason ?? null,
    previous_session_id: meta.previousSessionId ?? null,
    cwd: meta.cwd ?? null,
    skills: meta.skills ? JSON.stringify(meta.skills) : null,
  };
  await db
    .insertInto("sessions")
    .values({
      deployment_id: meta.deploymentId,
      agent_id: meta.agentId,
      session_id: meta.sessionId,
      ...set,
      first_ts: null,
      last_ts: null,
      messages_user: 0,
      messages_assistant: 0,
      messages_tool_result: 0,
      messages_other: 0,
      events: 0,
      llm_calls: 0,
      tool_calls: 0,
      tool_errors: 0,
      errors: 0,
      aborts: 0,
      compactions: 0,
      resets: 0,
      input_tokens: 0,
      output_tokens: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_recorded_nanos: 0,
      cost_estimated_nanos: 0,
      unpriced_calls: 0,
      models: null,
      present: 1,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(["deployment_id", "agent_id", "session_id"]).doUpdateSet((eb) => ({
        // Keep what we knew when a later source knows less (a legacy file has no session key, say).
        session_key: eb.fn.coalesce(eb.ref("excluded.session_key"), eb.ref("sessions.session_key")),
        kind: sql<string>`CASE WHEN excluded.kind = 'unknown' THEN sessions.kind ELSE excluded.kind END`,
        channel: eb.fn.coalesce(eb.ref("excluded.channel"), eb.ref("sessions.channel")),
        chat_type: eb.fn.coalesce(eb.ref("excluded.chat_type"), eb.ref("sessions.chat_type")),
        label: eb.fn.coalesce(eb.ref("excluded.label"), eb.ref("sessions.label")),
        parent_session_key: eb.fn.coalesce(eb.ref("excluded.parent_session_key"), eb.ref("sessions.parent_session_key")),
        spawned_by: eb.fn.coalesce(eb.ref("excluded.spawned_by"), eb.ref("sessions.spawned_by")),
        created_via: eb.fn.coalesce(eb.ref("excluded.created_via"), eb.ref("sessions.created_via")),
        status: eb.fn.coalesce(eb.ref("excluded.status"), eb.ref("sessions.status")),
        window_reason: eb.fn.coalesce(eb.ref("excluded.window_reason"), eb.ref("sessions.window_reason")),
        previous_session_id: eb.fn.coalesce(eb.ref("excluded.previous_session_id"), eb.ref("sessions.previous_session_id")),
        cwd: eb.fn.coalesce(eb.ref("excluded.cwd"), eb.ref("sessions.cwd")),
        skills: eb.fn.coalesce(eb.ref("excluded.skills"), eb.ref("sessions.skills")),
        present: 1,
        updated_at: now,
      })),
    )
    .execute();
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
  const models =
    dialect === "postgres"
      ? sql`(SELECT json_agg(DISTINCT c.provider || '/' || c.model)::text FROM llm_calls c WHERE c.deployment_id = sessions.deployment_id AND c.agent_id = sessions.agent_id AND c.session_id = sessions.session_id)`
      : sql`(SELECT json_group_array(DISTINCT c.provider || '/' || c.model) FROM llm_calls c WHERE c.deployment_id = sessions.deployment_id AND c.agent_id = sessions.agent_id AND c.session_id = sessions.session_id)`;
  let scope = sql`sessions.deployment_id = ${deploymentId}`;
  if (sessions !== "all") {
    const keys = sessions.map((s) => `${s.agentId}\u0000${s.sessionId}`);
    // Bound the statement size; a long list goes through several statements.
    for (let i = 0; i < keys.length; i += 500) {
      const slice = keys.slice(i, i + 500);
      await recomputeScope(db, sql`${scope} AND (sessions.agent_id || ${"\u0000"} || sessions.session_id) IN (${sql.join(slice)})`, models, now);
    }
    return;
  }
  await recomputeScope(db, scope, models, now);
}

async function recomputeScope(db: Db, scope: ReturnType<typeof sql>, models: ReturnType<typeof sql>, now: number): Promise<void> {
  const same = (alias: string) =>
    sql.raw(
      `${alias}.deployment_id = sessions.deployment_id AND ${alias}.agent_id = sessions.agent_id AND ${alias}.session_id = sessions.session_id`,
    );
  await sql`
    UPDATE sessions SET
      (first_ts, last_ts, events, messages_user, messages_assistant, messages_tool_result, messages_other, errors, aborts, compactions, resets) =
      (SELECT min(e.ts), max(e.ts), count(*),
              count(*) FILTER (WHERE e.role = 'user'),
              count(*) FILTER (WHERE e.role = 'assistant'),
              count(*) FILTER (WHERE e.role = 'toolResult'),
              count(*) FILTER (WHERE e.type = 'message' AND (e.role IS NULL OR e.role NOT IN ('user', 'assistant', 'toolResult'))),
              count(*) FILTER (WHERE (e.flags & 1) <> 0),
              count(*) FILTER (WHERE (e.flags & 2) <> 0),
              count(*) FILTER (WHERE e.type = 'compaction'),
              count(*) FILTER (WHERE e.type = 'reset')
         FROM events e WHERE ${same("e")}),
      (llm_calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_recorded_nanos, cost_estimated_nanos, unpriced_calls) =
      (SELECT count(*), coalesce(sum(c.input_tokens), 0), coalesce(sum(c.output_tokens), 0), coalesce(sum(c.cache_read_tokens), 0),
              coalesce(sum(c.cache_write_tokens), 0),
              coalesce(sum(c.cost_nanos) FILTER (WHERE c.cost_source = 'recorded'), 0),
              coalesce(sum(c.cost_nanos) FILTER (WHERE c.cost_source = 'estimated'), 0),
              count(*) FILTER (WHERE c.cost_source = 'unknown')
         FROM llm_calls c WHERE ${same("c")}),
      (tool_calls, tool_errors) =
      (SELECT count(*) FILTER (WHERE t.call_event_id IS NOT NULL), count(*) FILTER (WHERE t.is_error = 1)
         FROM tool_calls t WHERE ${same("t")}),
      models = ${models},
      updated_at = ${now}
    WHERE ${scope}`.execute(db);
}
