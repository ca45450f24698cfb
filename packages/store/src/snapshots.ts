/**
 * Cumulative usage snapshots (AgentWatch's TelemetryEvent: a session's input / output tokens so far).
 *
 * A snapshot replaces its session's totals when it is newer than the one stored: ordered by timestamp, then
 * input, then output (so that equal timestamps resolve the same way whatever the arrival order). An equal
 * snapshot is a duplicate and an older one is superseded; neither changes anything. The growth since the
 * stored snapshot becomes one synthetic LLM call at the new snapshot's time and model, so reports spread a
 * session's usage over the times it was observed and summary, daily and models agree with the rows. A newer
 * snapshot with smaller totals (a counter that restarted) replaces the session's snapshot rows with one call
 * carrying its totals.
 *
 * The stored snapshot lives in the cursor of the session's `agentwatch:` part, read and written in one
 * transaction that first upserts that row: PostgreSQL holds the row lock until commit, so a concurrent
 * request (another replica) reads the snapshot this one wrote; SQLite takes its write lock with that first
 * write. Sessions are locked in key order, so two requests never wait for each other.
 */
import { PartAccumulator, SLOT_MS, extractEventFacts, isExtractFailure, newPartCursor, type PriceBook } from "@clawtower/core";
import { sql } from "kysely";
import type { StoreConnection } from "./connection.ts";
import { durableTransaction } from "./durable-commit.ts";
import { ensureDeploymentAndAgent, type SessionMetaInput } from "./ingest.ts";
import { writePartLedger } from "./ledger-writer.ts";
import type { Db, SessionRef } from "./refs.ts";
import { SLOT_OF_TS, Touched, refreshRollups } from "./rollups.ts";
import { applySessionTotals, upsertSessionMeta } from "./session-aggregates.ts";

export type UsageSnapshot = {
  /** Position in the request, echoed in the answer. */
  index: number;
  deploymentId: string;
  agentId: string;
  sessionId: string;
  /** When the totals were observed (epoch ms). */
  ts: number;
  /** The session's cumulative tokens at `ts`. */
  input: number;
  output: number;
  provider: string;
  model: string;
  error: boolean;
  session?: Pick<SessionMetaInput, "kind" | "label" | "channel"> | undefined;
};

export type SnapshotResult = { index: number; status: "accepted" | "duplicate" | "superseded"; eventId?: string };

export type SnapshotSummary = { results: SnapshotResult[]; accepted: number; duplicates: number; superseded: number; deployments: string[] };

type Stored = { ts: number; input: number; output: number };

/** Snapshot order: timestamp, then input, then output. */
function compare(a: Stored, b: Stored): number {
  return a.ts - b.ts || a.input - b.input || a.output - b.output;
}

/** Every synthetic call of this route has an id with this prefix (earlier versions' ones too). */
const ID_PREFIX = "agentwatch:";

export async function ingestSnapshots(conn: StoreConnection, snapshots: UsageSnapshot[], prices: PriceBook, now: number): Promise<SnapshotSummary> {
  const bySession = new Map<string, UsageSnapshot[]>();
  for (const s of snapshots) {
    const key = `${s.deploymentId}\u0000${s.agentId}\u0000${s.sessionId}`;
    const list = bySession.get(key);
    if (list) list.push(s);
    else bySession.set(key, [s]);
  }
  const sessions = [...bySession.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, list]) => list.sort(compare));
  const results = await durableTransaction(conn, async (trx) => {
    const touched = new Touched();
    const out: SnapshotResult[] = [];
    const perDeployment = new Map<string, number>();
    for (const list of sessions) {
      out.push(...(await writeSessionSnapshots(trx, conn, list, prices, now, touched)));
      perDeployment.set(list[0]!.deploymentId, (perDeployment.get(list[0]!.deploymentId) ?? 0) + 1);
    }
    await applySessionTotals(trx, conn, touched, now);
    for (const [dep, n] of perDeployment) {
      await trx.insertInto("changes").values({ deployment_id: dep, at: now, kind: "ingest", detail: JSON.stringify({ sessions: n }) }).execute();
    }
    await refreshRollups(trx, touched);
    return out;
  });
  results.sort((a, b) => a.index - b.index);
  const count = (status: SnapshotResult["status"]) => results.filter((r) => r.status === status).length;
  return { results, accepted: count("accepted"), duplicates: count("duplicate"), superseded: count("superseded"), deployments: [...new Set(snapshots.map((s) => s.deploymentId))] };
}

/** One session's snapshots, in snapshot order, against the stored one. */
async function writeSessionSnapshots(trx: Db, conn: StoreConnection, list: UsageSnapshot[], prices: PriceBook, now: number, touched: Touched): Promise<SnapshotResult[]> {
  const first = list[0]!;
  const ref: SessionRef = { deploymentId: first.deploymentId, agentId: first.agentId, sessionId: first.sessionId };
  await ensureDeploymentAndAgent(trx, ref, now);
  const meta = list.findLast((s) => s.session)?.session;
  await upsertSessionMeta(trx, { ...ref, kind: meta?.kind ?? null, label: meta?.label ?? null, channel: meta?.channel ?? null }, now, conn.sqlite);
  // The upsert takes the row lock (PostgreSQL) and answers the cursor as last committed.
  const part = await trx
    .insertInto("parts")
    .values({ deployment_id: ref.deploymentId, agent_id: ref.agentId, session_id: ref.sessionId, kind: "ingest", locator: `agentwatch:${ref.agentId}:${ref.sessionId}`, fingerprint: "{}", cursor: "{}", present: 1, scanned_at: now })
    .onConflict((oc) => oc.columns(["deployment_id", "locator"]).doUpdateSet({ scanned_at: now, present: 1 }))
    .returning(["part_id", "cursor"])
    .executeTakeFirstOrThrow();
  const partId = Number(part.part_id);
  let stored = (JSON.parse(part.cursor) as { snapshot?: Stored }).snapshot ?? (await earlierCalls(trx, ref));

  const results: SnapshotResult[] = [];
  const calls: { id: string; ts: number; json: string }[] = [];
  let replace = false;
  for (const s of list) {
    const snap: Stored = { ts: s.ts, input: s.input, output: s.output };
    const order = stored ? compare(snap, stored) : 1;
    if (order <= 0) {
      results.push({ index: s.index, status: order === 0 ? "duplicate" : "superseded" });
      continue;
    }
    const restarted = stored !== null && (s.input < stored.input || s.output < stored.output);
    if (restarted) {
      replace = true;
      calls.length = 0;
    }
    const base = stored && !restarted ? stored : { input: 0, output: 0 };
    const id = `${ID_PREFIX}snapshot:${s.ts}:${s.input}:${s.output}`;
    if (s.input - base.input > 0 || s.output - base.output > 0) calls.push({ id, ts: s.ts, json: syntheticCall(id, s, s.input - base.input, s.output - base.output) });
    results.push({ index: s.index, status: "accepted", eventId: id });
    stored = snap;
  }
  if (replace) await dropSnapshotRows(trx, ref, touched);
  if (calls.length > 0) {
    const acc = new PartAccumulator(`agentwatch:${ref.deploymentId}/${ref.agentId}/${ref.sessionId}`, ref.sessionId, newPartCursor());
    for (const c of calls) {
      const facts = extractEventFacts(c.json);
      if (isExtractFailure(facts)) throw new Error(`synthetic snapshot call did not parse: ${facts.failed}`);
      acc.add(facts, { eventId: c.id });
    }
    await writePartLedger(trx, ref, partId, acc.result(), prices, conn, touched, null);
    await trx
      .insertInto("raw_events")
      .values(calls.map((c) => ({ deployment_id: ref.deploymentId, agent_id: ref.agentId, session_id: ref.sessionId, event_id: c.id, seq: c.ts, ts: c.ts, payload: c.json })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  await trx.updateTable("parts").set({ cursor: JSON.stringify({ snapshot: stored }) }).where("part_id", "=", partId).execute();
  return results;
}

function syntheticCall(id: string, s: UsageSnapshot, input: number, output: number): string {
  return JSON.stringify({
    type: "message",
    id,
    timestamp: new Date(s.ts).toISOString(),
    cumulative: { input: s.input, output: s.output },
    message: { role: "assistant", provider: s.provider, model: s.model, content: [], usage: { input, output, cacheRead: 0, cacheWrite: 0 }, stopReason: s.error ? "error" : "stop" },
  });
}

/**
 * A session first seen by an earlier version of this route has growth calls but no stored snapshot: their
 * sums and latest time stand for it, so the next snapshot adds only what is new.
 */
async function earlierCalls(db: Db, ref: SessionRef): Promise<Stored | null> {
  const r = await sql<{ input: number | null; output: number | null; ts: number | null }>`
    SELECT sum(input_tokens) AS input, sum(output_tokens) AS output, max(ts) AS ts FROM llm_calls
    WHERE deployment_id = ${ref.deploymentId} AND agent_id = ${ref.agentId} AND session_id = ${ref.sessionId} AND event_id LIKE ${`${ID_PREFIX}%`}`.execute(db);
  const row = r.rows[0];
  return row && row.ts !== null ? { ts: Number(row.ts), input: Number(row.input), output: Number(row.output) } : null;
}

/** Removes the session's snapshot calls; their slots and the session are re-aggregated from the rows left. */
async function dropSnapshotRows(db: Db, ref: SessionRef, touched: Touched): Promise<void> {
  const same = sql`deployment_id = ${ref.deploymentId} AND agent_id = ${ref.agentId} AND session_id = ${ref.sessionId} AND event_id LIKE ${`${ID_PREFIX}%`}`;
  const slots = await sql<{ slot: number }>`SELECT DISTINCT ${SLOT_OF_TS} AS slot FROM llm_calls WHERE ${same}`.execute(db);
  for (const r of slots.rows) touched.slot(ref.deploymentId, Number(r.slot) * SLOT_MS);
  touched.session(ref);
  await sql`DELETE FROM llm_calls WHERE ${same}`.execute(db);
  await sql`DELETE FROM events WHERE ${same}`.execute(db);
  await sql`DELETE FROM raw_events WHERE ${same}`.execute(db);
}
