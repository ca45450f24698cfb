/**
 * Forks copy their source session's events verbatim — same event ids, same usage — into the new session
 * (OpenClaw `sessions.create {fork:true}` and `sessions.fork`). Those copies are not new spend: an event is
 * accounted in the session it was first written in. Whichever of source and fork is read first, the copies
 * end up counted once, in the source:
 *   - writing a fork: events its source already holds are dropped from the fork's records;
 *   - writing a source: copies already recorded in its forks are deleted from them.
 */
import { sql } from "kysely";
import type { PartLedger } from "@clawtower/core";
import type { Db, SessionRef } from "./refs.ts";
import type { Touched } from "./rollups.ts";

function eventIds(ledger: PartLedger): string[] {
  const ids = new Set<string>();
  for (const c of ledger.llmCalls) ids.add(c.eventId);
  for (const e of ledger.events) ids.add(e.eventId);
  for (const t of ledger.toolCalls) {
    ids.add(t.eventId);
    if (t.result) ids.add(t.result.eventId);
  }
  for (const r of ledger.toolResults) ids.add(r.eventId);
  // Synthetic ids (events without an id of their own) cannot be recognised as copies.
  return [...ids].filter((id) => !id.startsWith("~"));
}

function chunked<T>(xs: T[], n = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

async function idsHeldBy(db: Db, ref: SessionRef, sessionId: string, ids: string[]): Promise<Set<string>> {
  const held = new Set<string>();
  for (const part of chunked(ids)) {
    const list = sql.join(part);
    const rows = await sql<{ id: string }>`
      SELECT event_id AS id FROM llm_calls WHERE deployment_id = ${ref.deploymentId} AND agent_id = ${ref.agentId} AND session_id = ${sessionId} AND event_id IN (${list})
      UNION SELECT event_id AS id FROM events WHERE deployment_id = ${ref.deploymentId} AND agent_id = ${ref.agentId} AND session_id = ${sessionId} AND event_id IN (${list})
      UNION SELECT call_event_id AS id FROM tool_calls WHERE deployment_id = ${ref.deploymentId} AND agent_id = ${ref.agentId} AND session_id = ${sessionId} AND call_event_id IN (${list})
      UNION SELECT result_event_id AS id FROM tool_calls WHERE deployment_id = ${ref.deploymentId} AND agent_id = ${ref.agentId} AND session_id = ${sessionId} AND result_event_id IN (${list})`.execute(db);
    for (const r of rows.rows) held.add(r.id);
  }
  return held;
}

function without(ledger: PartLedger, drop: Set<string>): PartLedger {
  if (drop.size === 0) return ledger;
  return {
    ...ledger,
    llmCalls: ledger.llmCalls.filter((c) => !drop.has(c.eventId)),
    events: ledger.events.filter((e) => !drop.has(e.eventId)),
    toolCalls: ledger.toolCalls.filter((t) => !drop.has(t.eventId)),
    toolResults: ledger.toolResults.filter((r) => !drop.has(r.eventId)),
  };
}

/**
 * Which sessions are forks of which, per deployment — loaded once per import so that the common case (a
 * session that is neither a fork nor forked) costs no query at all.
 */
export class ForkIndex {
  readonly #sourceOf = new Map<string, string>();
  readonly #sources = new Set<string>();

  static async load(db: Db, deploymentId: string): Promise<ForkIndex> {
    const index = new ForkIndex();
    const rows = await db
      .selectFrom("sessions")
      .select(["agent_id", "session_id", "fork_source_session_id"])
      .where("deployment_id", "=", deploymentId)
      .where("fork_source_session_id", "is not", null)
      .execute();
    for (const r of rows) index.add(r.agent_id, r.session_id, r.fork_source_session_id!);
    return index;
  }

  add(agentId: string, sessionId: string, sourceSessionId: string): void {
    this.#sourceOf.set(`${agentId}\u0000${sessionId}`, sourceSessionId);
    this.#sources.add(`${agentId}\u0000${sourceSessionId}`);
  }

  sourceOf(agentId: string, sessionId: string): string | null {
    return this.#sourceOf.get(`${agentId}\u0000${sessionId}`) ?? null;
  }

  isSource(agentId: string, sessionId: string): boolean {
    return this.#sources.has(`${agentId}\u0000${sessionId}`);
  }
}

export async function dropForkCopies(db: Db, ref: SessionRef, ledger: PartLedger, forks: ForkIndex | null, touched: Touched): Promise<PartLedger> {
  const forkSource = forks ? forks.sourceOf(ref.agentId, ref.sessionId) : await storedForkSource(db, ref);
  const isSource = forks ? forks.isSource(ref.agentId, ref.sessionId) : true;
  if (!forkSource && !isSource) return ledger;
  const ids = eventIds(ledger);
  if (ids.length === 0) return ledger;
  let kept = ledger;
  if (forkSource && forkSource !== ref.sessionId) {
    kept = without(ledger, await idsHeldBy(db, ref, forkSource, ids));
  }
  if (!isSource) return kept;
  const children = await db
    .selectFrom("sessions")
    .select("session_id")
    .where("deployment_id", "=", ref.deploymentId)
    .where("agent_id", "=", ref.agentId)
    .where("fork_source_session_id", "=", ref.sessionId)
    .execute();
  for (const f of children) {
    const fork = { ...ref, sessionId: f.session_id };
    for (const part of chunked(ids)) {
      const list = sql.join(part);
      const same = sql`deployment_id = ${fork.deploymentId} AND agent_id = ${fork.agentId} AND session_id = ${fork.sessionId}`;
      const a = await sql`DELETE FROM llm_calls WHERE ${same} AND event_id IN (${list})`.execute(db);
      const b = await sql`DELETE FROM events WHERE ${same} AND event_id IN (${list})`.execute(db);
      const c = await sql`DELETE FROM tool_calls WHERE ${same} AND (call_event_id IN (${list}) OR result_event_id IN (${list}))`.execute(db);
      if (Number(a.numAffectedRows ?? 0) + Number(b.numAffectedRows ?? 0) + Number(c.numAffectedRows ?? 0) > 0) {
        touched.session(fork);
        // Copies carry the source's timestamps: the slots they occupied are the source's own.
        for (const x of ledger.llmCalls) touched.slot(ref.deploymentId, x.ts);
        for (const x of ledger.toolCalls) touched.slot(ref.deploymentId, x.ts);
      }
    }
  }
  return kept;
}

async function storedForkSource(db: Db, ref: SessionRef): Promise<string | null> {
  const row = await db
    .selectFrom("sessions")
    .select("fork_source_session_id")
    .where("deployment_id", "=", ref.deploymentId)
    .where("agent_id", "=", ref.agentId)
    .where("session_id", "=", ref.sessionId)
    .executeTakeFirst();
  return row?.fork_source_session_id ?? null;
}
