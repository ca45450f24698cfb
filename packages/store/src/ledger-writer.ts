/**
 * Writes ledger records (one read of one transcript part) into the store, idempotently.
 *
 * - events and LLM calls: insert, ignoring rows whose (session, event id) already exists — so the same
 *   event found in two stores (migration copies, archives) counts once, and a re-read changes nothing;
 * - tool calls: the call half and the result half are upserted into one row by (session, tool call id);
 * - a rewritten part is replaced: its rows are deleted before the part is read again;
 * - what the new rows add to rollups and session aggregates is recorded in a Touched (see rollups.ts), so
 *   that derived figures always equal the sum of what is stored without re-reading it.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { CompiledQuery } from "kysely";
import { costOfCall, type PriceBook } from "@clawtower/core";
import type { EventRecord, LlmCallRecord, PartLedger, Problem } from "@clawtower/core";
import { dropForkCopies, type ForkIndex } from "./forks.ts";
import type { ToolRow } from "./measures.ts";
import { slotsOfParts, type Touched } from "./rollups.ts";
import type { Db, SessionRef } from "./refs.ts";
import { prepared } from "./statements.ts";
import type { Dialect } from "./schema.ts";

// New code imports these from refs.ts; the re-export keeps older imports compiling.
export type { Db, PartRef, SessionMeta, SessionRef } from "./refs.ts";

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

/** The tool_calls columns that rollups and session aggregates count (see ToolRow), read before and returned after an upsert. */
const TOOL_STATE = "call_id, call_event_id, ts, name, args_bytes, result_event_id, result_ts, result_bytes, is_error";

/** SQL shared by both write paths: insert-or-ignore for events and calls, half-row upserts for tool calls. */
const SQL = {
  event: `INSERT INTO events (deployment_id, agent_id, session_id, event_id, part_id, ts, type, role, flags, bytes)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  llmCall: `INSERT INTO llm_calls (deployment_id, agent_id, session_id, event_id, part_id, ts, provider, model, api, input_tokens,
            output_tokens, cache_read_tokens, cache_write_tokens, cost_source, cost_nanos, recorded_cost_usd, price_ref, stop_reason,
            run_id, response_id, latency_ms, tool_call_count)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  // One statement for both halves of a tool call: a row may arrive with its call, its result, or both, and
  // a later read fills in whichever half is still missing (SET expressions see the row as it was).
  toolCall: `INSERT INTO tool_calls (deployment_id, agent_id, session_id, call_id, part_id, call_event_id, ts, name, via, args_bytes,
            result_event_id, result_ts, result_bytes, is_error)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (deployment_id, agent_id, session_id, call_id) DO UPDATE SET
            call_event_id = coalesce(tool_calls.call_event_id, excluded.call_event_id),
            ts = CASE WHEN tool_calls.call_event_id IS NULL AND excluded.call_event_id IS NOT NULL THEN excluded.ts ELSE tool_calls.ts END,
            name = CASE WHEN tool_calls.call_event_id IS NULL AND excluded.call_event_id IS NOT NULL THEN excluded.name ELSE coalesce(tool_calls.name, excluded.name) END,
            via = CASE WHEN tool_calls.call_event_id IS NULL THEN excluded.via ELSE tool_calls.via END,
            args_bytes = coalesce(tool_calls.args_bytes, excluded.args_bytes),
            result_event_id = coalesce(tool_calls.result_event_id, excluded.result_event_id),
            result_ts = CASE WHEN tool_calls.result_event_id IS NULL THEN excluded.result_ts ELSE tool_calls.result_ts END,
            result_bytes = CASE WHEN tool_calls.result_event_id IS NULL THEN excluded.result_bytes ELSE tool_calls.result_bytes END,
            is_error = CASE WHEN tool_calls.result_event_id IS NULL THEN excluded.is_error ELSE tool_calls.is_error END`,
};

/** The tool call upsert, answering the row as it is after the statement. */
const TOOL_CALL_RETURNING = `${SQL.toolCall} RETURNING ${TOOL_STATE}`;

type Param = string | number | null;

/** Positional parameters of an events row, for SQL.event. */
function eventParams(ref: SessionRef, partId: number, e: EventRecord): Param[] {
  return [ref.deploymentId, ref.agentId, ref.sessionId, e.eventId, partId, e.ts, e.type, e.role, e.flags, e.bytes];
}

/** An llm_calls row, and its positional parameters for SQL.llmCall. */
function llmCallRowParams(ref: SessionRef, partId: number, c: LlmCallRecord, prices: PriceBook): { row: LlmCallRow; params: Param[] } {
  const r = llmCallRow(ref, partId, c, prices);
  const params: Param[] = [ref.deploymentId, ref.agentId, ref.sessionId, r.event_id, partId, r.ts, r.provider, r.model, r.api, r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, r.cost_source, r.cost_nanos, r.recorded_cost_usd, r.price_ref, r.stop_reason, r.run_id, r.response_id, r.latency_ms, r.tool_call_count];
  return { row: r, params };
}

/** The part's tool rows (a call half, a result half, or both), once per call id, with their parameters for SQL.toolCall. */
function toolRows(ref: SessionRef, partId: number, ledger: PartLedger) {
  const { deploymentId: d, agentId: a, sessionId: s } = ref;
  const toolRow = (row: StoredToolRow, via: string | null) => ({
    row,
    params: [d, a, s, row.call_id, partId, row.call_event_id, row.ts, row.name, via, row.args_bytes, row.result_event_id, row.result_ts, row.result_bytes, row.is_error] as Param[],
  });
  return dedupeBy(
    [
      ...ledger.toolCalls.map((t, i) => {
        const r = t.result;
        const row = { call_id: toolCallId(t.callId, t.eventId, i), call_event_id: t.eventId, ts: t.ts, name: t.name, args_bytes: t.argsBytes };
        return toolRow({ ...row, result_event_id: r?.eventId ?? null, result_ts: r?.ts ?? null, result_bytes: r?.resultBytes ?? null, is_error: r ? (r.isError ? 1 : 0) : null }, t.via);
      }),
      ...ledger.toolResults.map((r, i) =>
        toolRow(
          { call_id: toolCallId(r.callId, r.eventId, i), call_event_id: null, ts: r.ts, name: r.toolName, args_bytes: null, result_event_id: r.eventId, result_ts: r.ts, result_bytes: r.resultBytes, is_error: r.isError ? 1 : 0 },
          null,
        ),
      ),
    ],
    (t) => t.row.call_id,
  );
}

function sqliteStatements(raw: DatabaseSync): Record<keyof typeof SQL, StatementSync> {
  return { event: prepared(raw, SQL.event), llmCall: prepared(raw, SQL.llmCall), toolCall: prepared(raw, SQL.toolCall) };
}

/** PostgreSQL placeholders: `?` → `$n`, and one statement carries many rows. */
function multiRow(sqlText: string, rows: Param[][]): { text: string; values: Param[] } {
  const [head, tail] = sqlText.split(/VALUES \([?, ]+\)/) as [string, string];
  const width = rows[0]!.length;
  const values: Param[] = [];
  const tuples = rows.map((r, i) => {
    values.push(...r);
    return `(${Array.from({ length: width }, (_, k) => `$${i * width + k + 1}`).join(", ")})`;
  });
  return { text: `${head}VALUES ${tuples.join(", ")}${tail}`, values };
}

type LlmCallRow = ReturnType<typeof llmCallRow>;
type StoredToolRow = ToolRow & { call_id: string };
type ToolRowParams = ReturnType<typeof toolRows>[number];

/** What a write changed that rollups and session aggregates count: the events and calls that were new, and each tool row as it now is. */
type Written = { events: EventRecord[]; calls: LlmCallRow[]; tools: StoredToolRow[] };

/**
 * SQLite: cached prepared statements on the connection's own handle, one row at a time (inside the caller's
 * transaction). Each row's parameters are built just before it is inserted, not for the whole part first,
 * and what was written is collected only when `record` asks for it (not in a first import): what is alive
 * at a scavenge is promoted to the old generation, which then grows for garbage (see young-generation.ts).
 * A tool row that was not stored before is stored as given; only one that was needs the merged row back
 * (RETURNING costs about a third of the insert).
 */
function writeSqlite(
  raw: DatabaseSync,
  ref: SessionRef,
  partId: number,
  ledger: PartLedger,
  prices: PriceBook,
  tools: ToolRowParams[],
  before: Map<string, StoredToolRow>,
  record: boolean,
): Written {
  const st = sqliteStatements(raw);
  const written: Written = { events: [], calls: [], tools: [] };
  for (const e of ledger.events) {
    if (Number(st.event.run(...eventParams(ref, partId, e)).changes) > 0 && record) written.events.push(e);
  }
  for (const c of ledger.llmCalls) {
    const { row, params } = llmCallRowParams(ref, partId, c, prices);
    if (Number(st.llmCall.run(...params).changes) > 0 && record) written.calls.push(row);
  }
  const merged = prepared(raw, TOOL_CALL_RETURNING);
  for (const t of tools) {
    if (before.has(t.row.call_id)) {
      written.tools.push(merged.get(...t.params) as StoredToolRow);
      continue;
    }
    st.toolCall.run(...t.params);
    written.tools.push(t.row);
  }
  return written;
}

/** PostgreSQL: multi-row statements, as large as the protocol's parameter limit allows. */
async function writePostgres(db: Db, ref: SessionRef, partId: number, ledger: PartLedger, prices: PriceBook, tools: ToolRowParams[]): Promise<Written> {
  const run = async <R>(text: string, list: Param[][]): Promise<R[]> => {
    const out: R[] = [];
    const size = Math.max(1, Math.floor(30_000 / (list[0]?.length ?? 1)));
    for (const batch of chunks(list, size)) {
      const q = multiRow(text, batch);
      out.push(...(await db.executeQuery<R>(CompiledQuery.raw(q.text, q.values))).rows);
    }
    return out;
  };
  // RETURNING lists only the rows that were inserted: the others were already there.
  const inserted = async <T extends { params: Param[] }>(text: string, list: T[], id: (r: T) => string): Promise<T[]> => {
    const ids = new Set((await run<{ event_id: string }>(`${text} RETURNING event_id`, list.map((r) => r.params))).map((r) => r.event_id));
    return list.filter((r) => ids.delete(id(r))); // once per id, as SQLite counts a repeated row once
  };
  const eventRows = ledger.events.map((e) => ({ row: e, params: eventParams(ref, partId, e) }));
  const events = (await inserted(SQL.event, eventRows, (e) => e.row.eventId)).map((e) => e.row);
  const callRows = ledger.llmCalls.map((c) => llmCallRowParams(ref, partId, c, prices));
  const calls = (await inserted(SQL.llmCall, callRows, (c) => c.row.event_id)).map((c) => c.row);
  return { events, calls, tools: await run<StoredToolRow>(TOOL_CALL_RETURNING, tools.map((t) => t.params)) };
}

/** The stored state of the session's tool rows with these ids, before a write changes them. */
async function toolRowsBefore(db: Db, sqlite: DatabaseSync | null, ref: SessionRef, callIds: string[]): Promise<Map<string, StoredToolRow>> {
  const found = new Map<string, StoredToolRow>();
  if (callIds.length === 0) return found;
  if (sqlite) {
    const st = prepared(sqlite, `SELECT ${TOOL_STATE} FROM tool_calls WHERE deployment_id = ? AND agent_id = ? AND session_id = ? AND call_id = ?`);
    for (const id of callIds) {
      const row = st.get(ref.deploymentId, ref.agentId, ref.sessionId, id) as StoredToolRow | undefined;
      if (row) found.set(id, row);
    }
    return found;
  }
  const text = `SELECT ${TOOL_STATE} FROM tool_calls WHERE deployment_id = $1 AND agent_id = $2 AND session_id = $3 AND call_id = ANY($4)`;
  const r = await db.executeQuery<StoredToolRow>(CompiledQuery.raw(text, [ref.deploymentId, ref.agentId, ref.sessionId, callIds]));
  for (const row of r.rows) found.set(row.call_id, row);
  return found;
}

/**
 * Writes what one read of a part contributed, and records in `touched` what that adds to rollups and
 * session aggregates: the events and calls that were new (a duplicate adds nothing), and every tool row's
 * change from its stored state.
 */
export async function writePartLedger(
  db: Db,
  ref: SessionRef,
  partId: number,
  ledger: PartLedger,
  prices: PriceBook,
  conn: { dialect: Dialect; sqlite: DatabaseSync | null },
  touched: Touched,
  /** Fork relations of the deployment; null looks them up for this session (ingest). */
  forks: ForkIndex | null = null,
): Promise<void> {
  ledger = await dropForkCopies(db, ref, ledger, forks, touched);
  const tools = toolRows(ref, partId, ledger);
  const record = touched.recording(ref.deploymentId);
  const before = record ? await toolRowsBefore(db, conn.sqlite, ref, tools.map((t) => t.row.call_id)) : new Map<string, StoredToolRow>();
  const written = conn.sqlite ? writeSqlite(conn.sqlite, ref, partId, ledger, prices, tools, before, record) : await writePostgres(db, ref, partId, ledger, prices, tools);
  for (const e of written.events) touched.event(ref, e);
  for (const c of written.calls) touched.call(ref, c);
  for (const t of written.tools) touched.toolRow(ref, before.get(t.call_id) ?? null, t);
  await writeProblems(db, ref.deploymentId, partId, ledger.problems, conn.sqlite);
}

export type PartRow = {
  deploymentId: string;
  agentId: string;
  sessionId: string;
  kind: string;
  locator: string;
  fingerprint: string;
  cursor: string;
  scannedAt: number;
};

/**
 * Records a part's state after a read (inserting it the first time) and clears the problems of its previous
 * read: all of them after a full read, only `truncated-line` after a tail read (earlier lines stay as they
 * were). Returns the part id.
 */
export async function savePart(db: Db, conn: { sqlite: DatabaseSync | null }, part: PartRow, partId: number | undefined, fullRead: boolean): Promise<number> {
  if (conn.sqlite) {
    const raw = conn.sqlite;
    if (partId === undefined) {
      const r = prepared(
        raw,
          `INSERT INTO parts (deployment_id, agent_id, session_id, kind, locator, fingerprint, cursor, present, scanned_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
           ON CONFLICT (deployment_id, locator) DO UPDATE SET fingerprint = excluded.fingerprint, cursor = excluded.cursor, present = 1, scanned_at = excluded.scanned_at
           RETURNING part_id`,
      ).get(part.deploymentId, part.agentId, part.sessionId, part.kind, part.locator, part.fingerprint, part.cursor, part.scannedAt) as { part_id: number };
      return Number(r.part_id);
    }
    prepared(raw, `UPDATE parts SET fingerprint = ?, cursor = ?, present = 1, scanned_at = ?, session_id = ?, kind = ? WHERE part_id = ?`).run(part.fingerprint, part.cursor, part.scannedAt, part.sessionId, part.kind, partId);
    if (fullRead) prepared(raw, `DELETE FROM problems WHERE deployment_id = ? AND part_id = ?`).run(part.deploymentId, partId);
    else prepared(raw, `DELETE FROM problems WHERE deployment_id = ? AND part_id = ? AND kind = 'truncated-line'`).run(part.deploymentId, partId);
    return partId;
  }
  if (partId === undefined) {
    const row = await db
      .insertInto("parts")
      .values({
        deployment_id: part.deploymentId,
        agent_id: part.agentId,
        session_id: part.sessionId,
        kind: part.kind,
        locator: part.locator,
        fingerprint: part.fingerprint,
        cursor: part.cursor,
        present: 1,
        scanned_at: part.scannedAt,
      })
      .onConflict((oc) => oc.columns(["deployment_id", "locator"]).doUpdateSet({ fingerprint: part.fingerprint, cursor: part.cursor, present: 1, scanned_at: part.scannedAt }))
      .returning("part_id")
      .executeTakeFirstOrThrow();
    return Number(row.part_id);
  }
  await db
    .updateTable("parts")
    .set({ fingerprint: part.fingerprint, cursor: part.cursor, present: 1, scanned_at: part.scannedAt, session_id: part.sessionId, kind: part.kind })
    .where("part_id", "=", partId)
    .execute();
  let del = db.deleteFrom("problems").where("deployment_id", "=", part.deploymentId).where("part_id", "=", partId);
  if (!fullRead) del = del.where("kind", "=", "truncated-line");
  await del.execute();
  return partId;
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

export async function writeProblems(db: Db, deploymentId: string, partId: number | null, problems: Problem[], sqlite: DatabaseSync | null = null): Promise<void> {
  if (sqlite && problems.length > 0) {
    const st = prepared(sqlite, `INSERT INTO problems (deployment_id, part_id, kind, source, line, session_id, seq, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const p of problems) st.run(deploymentId, partId, p.kind, p.at.source, p.at.line ?? null, p.at.sessionId ?? null, p.at.seq ?? null, p.detail);
    return;
  }
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
export async function deletePartRows(db: Db, ref: SessionRef, partIds: number[], touched: Touched): Promise<void> {
  if (partIds.length === 0) return;
  touched.session(ref);
  await slotsOfParts(db, ref, partIds, touched);
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

