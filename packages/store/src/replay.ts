/**
 * A session's full transcript for replay: read in place from the OpenClaw home for local sessions (every
 * part the ledger knows, archives included), from stored raw events for pushed ones; merged, de-duplicated
 * and joined with the accounted cost of each call.
 */
import { buildReplay, readPartTexts, sessionRow, type ReplayEntry, type ReplayTurn, type SessionHealth, type SessionRow } from "@clawtower/core";
import type { StoreConnection } from "./connection.ts";
import type { SessionRef } from "./refs.ts";
import { sessionAggregates } from "./report-queries.ts";
import { healthKey, sessionHealthOf } from "./insights/session-health.ts";

export type SessionReplay = {
  schemaVersion: 1;
  session: SessionRow & { health: SessionHealth };
  entries: ReplayEntry[];
  turns: ReplayTurn[];
  page: { offset: number; limit: number; total: number };
  sources: { locator: string; kind: string; events: number; error: string | null }[];
};

export async function sessionReplay(conn: StoreConnection, ref: SessionRef, page: { offset: number; limit: number }): Promise<SessionReplay | null> {
  const found = await sessionAggregates(
    conn,
    { since: null, until: null, tz: "UTC", agent: ref.agentId, deployment: ref.deploymentId },
    { sessionId: ref.sessionId, limit: 1 },
  );
  const session = found.rows[0];
  if (!session) return null;

  const parts = await conn.db
    .selectFrom("parts")
    .select(["kind", "locator", "present"])
    .where("deployment_id", "=", ref.deploymentId)
    .where("agent_id", "=", ref.agentId)
    .where("session_id", "=", ref.sessionId)
    .orderBy("part_id")
    .execute();
  const texts: string[] = [];
  const sources: SessionReplay["sources"] = [];
  for (const p of parts) {
    if (p.kind === "ingest") continue;
    try {
      const list = readPartTexts(p.kind, p.locator);
      texts.push(...list.map((t) => t.text));
      sources.push({ locator: p.locator, kind: p.kind, events: list.length, error: null });
    } catch (e) {
      sources.push({ locator: p.locator, kind: p.kind, events: 0, error: Number(p.present) === 0 ? "no longer in the OpenClaw home" : (e as Error).message });
    }
  }
  const raw = await conn.db
    .selectFrom("raw_events")
    .select(["payload"])
    .where("deployment_id", "=", ref.deploymentId)
    .where("agent_id", "=", ref.agentId)
    .where("session_id", "=", ref.sessionId)
    .orderBy("seq")
    .execute();
  if (raw.length > 0) sources.push({ locator: "ingest", kind: "ingest", events: raw.length, error: null });
  texts.push(...raw.map((r) => r.payload));

  const events: unknown[] = [];
  for (const t of texts) {
    try {
      events.push(JSON.parse(t));
    } catch {
      // bad lines are accounted as problems elsewhere; replay shows what parses
    }
  }
  const costs = new Map(
    (
      await conn.db
        .selectFrom("llm_calls")
        .select(["event_id", "cost_source", "cost_nanos"])
        .where("deployment_id", "=", ref.deploymentId)
        .where("agent_id", "=", ref.agentId)
        .where("session_id", "=", ref.sessionId)
        .execute()
    ).map((r) => [r.event_id, { source: r.cost_source, nanos: Number(r.cost_nanos) }]),
  );
  const { entries, turns } = buildReplay(events, costs);
  return {
    schemaVersion: 1,
    session: { ...sessionRow(session), health: (await sessionHealthOf(conn, [session])).get(healthKey(session))! },
    entries: entries.slice(page.offset, page.offset + page.limit),
    turns,
    page: { offset: page.offset, limit: page.limit, total: entries.length },
    sources,
  };
}
