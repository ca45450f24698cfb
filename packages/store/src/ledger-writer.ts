/**
 * Writes ledger records (one read of one transcript part) into the store, idempotently.
 *
 * - events and LLM calls: insert, ignoring rows whose (session, event id) already exists — so the same
 *   event found in two stores (migration copies, archives) counts once, and a re-read changes nothing;
 * - tool calls: the call half and the result half are upserted into one row by (session, tool call id);
 * - a rewritten part is replaced: its rows are deleted before the part is read again;
 * - session aggregates are recomputed from the rows, so they always equal the sum of what is stored.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { CompiledQuery, sql, type Kysely, type Transaction } from "kysely";
import { costOfCall, type PriceBook } from "@clawtower/core";
import type { LlmCallRecord, PartLedger, Problem } from "@clawtower/core";
import { dropForkCopies, type ForkIndex } from "./forks.ts";
import { slotsOfParts, type Touched } from "./rollups.ts";
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
  forkSourceSessionId?: string | null;
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

type Param = string | number | null;

/** Rows of one part read, as positional parameters for the statements above. */
function ledgerRows(ref: SessionRef, partId: number, ledger: PartLedger, prices: PriceBook) {
  const { deploymentId: d, agentId: a, sessionId: s } = ref;
  const events: Param[][] = ledger.events.map((e) => [d, a, s, e.eventId, partId, e.ts, e.type, e.role, e.flags, e.bytes]);
  const llmCalls: Param[][] = ledger.llmCalls.map((c) => {
    const r = llmCallRow(ref, partId, c, prices);
    return [d, a, s, r.event_id, partId, r.ts, r.provider, r.model, r.api, r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, r.cost_source, r.cost_nanos, r.recorded_cost_usd, r.price_ref, r.stop_reason, r.run_id, r.response_id, r.latency_ms, r.tool_call_count];
  });
  const toolCalls: Param[][] = dedupeBy(
    [
      ...ledger.toolCalls.map((t, i): Param[] => {
        const r = t.result;
        return [d, a, s, toolCallId(t.callId, t.eventId, i), partId, t.eventId, t.ts, t.name, t.via, t.argsBytes, r?.eventId ?? null, r?.ts ?? null, r?.resultBytes ?? null, r ? (r.isError ? 1 : 0) : null];
      }),
      ...ledger.toolResults.map((r, i): Param[] => [d, a, s, toolCallId(r.callId, r.eventId, i), partId, null, r.ts, r.toolName, null, null, r.eventId, r.ts, r.resultBytes, r.isError ? 1 : 0]),
    ],
    (r) => r[3] as string,
  );
  return { events, llmCalls, toolCalls };
}

const statementCache = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/** Prepared statements are reused per connection: preparing costs more than running a small insert. */
export function prepared(raw: DatabaseSync, text: string): StatementSync {
  let cache = statementCache.get(raw);
  if (!cache) {
    cache = new Map();
    statementCache.set(raw, cache);
  }
  let st = cache.get(text);
  if (!st) {
    st = raw.prepare(text);
    cache.set(text, st);
  }
  return st;
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

/**
 * Writes what one read of a part contributed. On SQLite the rows go through cached prepared statements on
 * the connection's own handle (inside the caller's transaction); on PostgreSQL as multi-row statements.
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
  const rows = ledgerRows(ref, partId, ledger, prices);
  touched.session(ref);
  for (const c of ledger.llmCalls) touched.slot(ref.deploymentId, c.ts);
  for (const t of ledger.toolCalls) touched.slot(ref.deploymentId, t.ts);
  if (conn.sqlite) {
    const st = sqliteStatements(conn.sqlite);
    for (const r of rows.events) st.event.run(...r);
    for (const r of rows.llmCalls) st.llmCall.run(...r);
    for (const r of rows.toolCalls) st.toolCall.run(...r);
  } else {
    const plan: [keyof typeof SQL, Param[][]][] = [
      ["event", rows.events],
      ["llmCall", rows.llmCalls],
      ["toolCall", rows.toolCalls],
    ];
    for (const [key, list] of plan) {
      const size = Math.max(1, Math.floor(30_000 / (list[0]?.length ?? 1)));
      for (const batch of chunks(list, size)) {
        const q = multiRow(SQL[key], batch);
        await db.executeQuery(CompiledQuery.raw(q.text, q.values));
      }
    }
  }
  // A result whose call came in an earlier read changes the call's row: its slot is the call's.
  for (const [i, r] of ledger.toolResults.entries()) {
    const row = await sql<{ ts: number }>`SELECT ts FROM tool_calls WHERE deployment_id = ${ref.deploymentId} AND agent_id = ${ref.agentId}
      AND session_id = ${ref.sessionId} AND call_id = ${toolCallId(r.callId, r.eventId, i)}`.execute(db);
    for (const x of row.rows) touched.slot(ref.deploymentId, Number(x.ts));
  }
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

