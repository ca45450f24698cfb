/**
 * Ingest of transcript events pushed by gateways (the Clawtower plugin, Influxion-compatible uploaders…).
 *
 * Each line carries one transcript event and names its deployment, agent and session. The event's identity
 * is (deployment, agent, session, event id) — or its sequence number when the event has no id — so a line
 * sent twice (a retry after a timeout, a client restarted mid-batch) is answered `duplicate` and counted
 * once. A line is acknowledged only after the transaction that wrote it committed (concurrent requests
 * share one: see GroupCommit), so a hub killed mid-request loses nothing a client will not resend.
 */
import { CompiledQuery } from "kysely";
import {
  PartAccumulator,
  classifySessionKind,
  extractEventFacts,
  ingestLineProblem,
  isExtractFailure,
  newPartCursor,
  parentSessionId,
  type EventFacts,
  type PartCursor,
  type PriceBook,
} from "@clawtower/core";
import type { StoreConnection } from "./connection.ts";
import { durableTransaction } from "./durable-commit.ts";
import { savePart, writePartLedger } from "./ledger-writer.ts";
import type { Db, SessionMeta, SessionRef } from "./refs.ts";
import { prepared } from "./statements.ts";
import { applySessionTotals, upsertSessionMeta } from "./session-aggregates.ts";
import { refreshRollups, Touched } from "./rollups.ts";
import { PlannerStatistics } from "./planner-statistics.ts";

/** What a sender may say about a session besides its events (the session's key, kind, lineage…). */
export type SessionMetaInput = Omit<SessionMeta, keyof SessionRef>;

export type IngestLine = {
  /** Position in the request, echoed in the answer. */
  index: number;
  deploymentId: string;
  agentId: string;
  sessionId: string;
  /** Line index / row sequence in the source; names events that have no id. */
  seq: number | null;
  /** The sender's idempotency key; names events that have neither an id nor a seq. */
  idempotencyKey?: string | null;
  /** The transcript event's JSON text. */
  event: string;
  /** `extractEventFacts(event)`, when the caller already has it (the hub reads it while checking the line). */
  facts?: EventFacts | undefined;
  session?: SessionMetaInput | undefined;
};

export type IngestLineResult = { index: number; status: "accepted" | "duplicate" | "rejected"; eventId?: string; reason?: string };

export type IngestSummary = { results: IngestLineResult[]; accepted: number; duplicates: number; rejected: number; deployments: string[] };

type Parsed = { line: IngestLine; facts: EventFacts; eventId: string; ts: number };

/** One request, parsed: lines that cannot be stored are answered already; the others grouped by session. */
type Request = { rejected: IngestLineResult[]; groups: Parsed[][]; prices: PriceBook; now: number };

export async function ingestLines(conn: StoreConnection, lines: IngestLine[], prices: PriceBook, now: number): Promise<IngestSummary> {
  const request = parseRequest(lines, prices, now);
  const written = await groupCommit(conn).submit(request);
  const results = [...request.rejected, ...written.results].sort((a, b) => a.index - b.index);
  const count = (status: IngestLineResult["status"]) => results.filter((r) => r.status === status).length;
  return { results, accepted: count("accepted"), duplicates: count("duplicate"), rejected: count("rejected"), deployments: written.deployments };
}

/** Parsing happens before any transaction: bad lines are answered without touching the store. */
function parseRequest(lines: IngestLine[], prices: PriceBook, now: number): Request {
  const rejected: IngestLineResult[] = [];
  const groups = new Map<string, Parsed[]>();
  for (const line of lines) {
    const facts = line.facts ?? extractEventFacts(line.event);
    if (isExtractFailure(facts)) {
      rejected.push({ index: line.index, status: "rejected", reason: `${facts.failed}: ${facts.detail}` });
      continue;
    }
    // One set of rules for every route and both stores (core's ingest-line.ts), before anything is written.
    const problem = ingestLineProblem(line, facts, now);
    if (problem) {
      rejected.push({ index: line.index, status: "rejected", reason: problem });
      continue;
    }
    const eventId = facts.id ?? (line.seq !== null ? `~seq:${line.seq}` : line.idempotencyKey ? `~key:${line.idempotencyKey}` : null);
    if (eventId === null) {
      rejected.push({ index: line.index, status: "rejected", reason: "event has no id: send its seq (line index) or an idempotencyKey so that retries can be recognised" });
      continue;
    }
    const ts = facts.timestamp ?? facts.message?.timestamp ?? now;
    const key = `${line.deploymentId}\u0000${line.agentId}\u0000${line.sessionId}`;
    const list = groups.get(key) ?? [];
    list.push({ line, facts, eventId, ts });
    groups.set(key, list);
  }
  for (const list of groups.values()) list.sort((a, b) => (a.line.seq ?? a.line.index) - (b.line.seq ?? b.line.index));
  return { rejected, groups: [...groups.values()], prices, now };
}

type Written = { results: IngestLineResult[]; deployments: string[] };
/** A request waiting for its sessions (`groups`) to be written; `written` collects what earlier transactions answered. */
type Pending = { request: Request; groups: Parsed[][]; written: Written; resolve: (w: Written) => void; reject: (e: unknown) => void };

/**
 * Group commit: requests that arrive while a transaction is running wait, and the next transaction writes
 * all of them. Each request is answered once the transactions that hold its lines have committed, so an
 * acknowledged line is durable, as with one transaction per request — but the per-transaction work (commit,
 * session aggregates, rollups) is shared by every request that came in meanwhile instead of repeated.
 * A request with more than GROUP_SESSIONS sessions or GROUP_LINES lines is written a piece at a time, its
 * remainder queued behind the requests that arrived meanwhile, and the event loop is yielded between
 * transactions: other clients (readers waiting for SQLite's one connection included) are served between the
 * pieces instead of after the whole request. A client that resends after a failure finds the pieces already
 * written answered as duplicates.
 */
class GroupCommit {
  readonly #conn: StoreConnection;
  readonly #statistics = new PlannerStatistics();
  #queue: Pending[] = [];
  #running = false;
  constructor(conn: StoreConnection) {
    this.#conn = conn;
  }

  submit(request: Request): Promise<Written> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, groups: request.groups, written: { results: [], deployments: [] }, resolve, reject });
      if (this.#running) return;
      this.#running = true;
      // Starting on the next turn of the event loop lets requests that have already arrived join this transaction.
      setImmediate(() => void this.#drain());
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const pieces = this.#nextPieces();
      try {
        const written = await writeRequests(this.#conn, pieces.map((p) => p.piece));
        pieces.forEach((p, i) => this.#settle(p.pending, written[i]!));
      } catch (e) {
        // One request's failure must not fail the others: alone, each succeeds or fails on its own.
        for (const { pending, piece } of pieces) {
          if (pieces.length === 1) pending.reject(e);
          else await writeRequests(this.#conn, [piece]).then(([w]) => this.#settle(pending, w!), pending.reject);
        }
      }
      const groups = pieces.flatMap((p) => p.piece.groups);
      await this.#statistics.wrote(this.#conn, groups.length, groups.reduce((a, g) => a + g.length, 0));
      if (this.#queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    this.#running = false;
  }

  /** Records a piece's answers; a request with sessions left goes to the back of the queue, else it is answered. */
  #settle(p: Pending, w: Written): void {
    p.written.results.push(...w.results);
    for (const d of w.deployments) if (!p.written.deployments.includes(d)) p.written.deployments.push(d);
    if (p.groups.length > 0) this.#queue.push(p);
    else p.resolve(p.written);
  }

  /**
   * What the next transaction writes: queued requests in order, whole while they fit in GROUP_LINES lines and
   * GROUP_SESSIONS sessions — and at least the first sessions of the first request. Taken groups leave the queue.
   */
  #nextPieces(): { pending: Pending; piece: Request }[] {
    const out: { pending: Pending; piece: Request }[] = [];
    let lines = 0;
    let sessions = 0;
    while (this.#queue.length > 0) {
      const p = this.#queue[0]!;
      let n = 0;
      let pieceLines = 0;
      while (n < p.groups.length) {
        const size = p.groups[n]!.length;
        const fits = lines + pieceLines + size <= GROUP_LINES && sessions + n + 1 <= GROUP_SESSIONS;
        if (!fits && (out.length > 0 || n > 0)) break;
        pieceLines += size;
        n++;
      }
      if (n === 0 && p.groups.length > 0) break;
      out.push({ pending: p, piece: { ...p.request, groups: p.groups.slice(0, n) } });
      p.groups = p.groups.slice(n);
      lines += pieceLines;
      sessions += n;
      this.#queue.shift();
      if (p.groups.length > 0) break; // the rest of a split request waits for the next transaction
    }
    return out;
  }
}

/** Lines per shared transaction, beyond which a request waits for the next one (bounds memory and latency). */
const GROUP_LINES = 10_000;
/** Sessions per shared transaction: each costs a dozen statements, so this bounds how long others wait. */
const GROUP_SESSIONS = 100;

const groupCommits = new WeakMap<StoreConnection, GroupCommit>();

function groupCommit(conn: StoreConnection): GroupCommit {
  let g = groupCommits.get(conn);
  if (!g) {
    g = new GroupCommit(conn);
    groupCommits.set(conn, g);
  }
  return g;
}

/** Writes requests in one transaction, in order, as if one after the other; one answer list per request. */
async function writeRequests(conn: StoreConnection, requests: Request[]): Promise<Written[]> {
  return durableTransaction(conn, async (trx) => {
    const touched = new Touched();
    const sessions = new Map<string, Set<string>>();
    const written: Written[] = [];
    for (const request of requests) {
      const results: IngestLineResult[] = [];
      const deployments = new Set<string>();
      for (const list of request.groups) {
        const ref = await writeSession(trx, conn, list, request, touched, results);
        deployments.add(ref.deploymentId);
        sessions.set(ref.deploymentId, (sessions.get(ref.deploymentId) ?? new Set()).add(`${ref.agentId}\u0000${ref.sessionId}`));
      }
      written.push({ results, deployments: [...deployments] });
    }
    const now = Math.max(...requests.map((r) => r.now));
    await applySessionTotals(trx, conn, touched, now);
    for (const [dep, mine] of sessions) {
      await trx.insertInto("changes").values({ deployment_id: dep, at: now, kind: "ingest", detail: JSON.stringify({ sessions: mine.size }) }).execute();
    }
    await refreshRollups(trx, touched);
    return written;
  });
}

/** Writes one session's lines of one request (raw events, then what they add to the ledger); answers each line. */
async function writeSession(trx: Db, conn: StoreConnection, list: Parsed[], request: Request, touched: Touched, results: IngestLineResult[]): Promise<SessionRef> {
  const { now, prices } = request;
  const first = list[0]!.line;
  const ref: SessionRef = { deploymentId: first.deploymentId, agentId: first.agentId, sessionId: first.sessionId };
  await ensureDeploymentAndAgent(trx, ref, now);
  const metaLine = list.find((p) => p.line.session)?.line.session;
  await upsertSessionMeta(trx, sessionMeta(ref, metaLine), now, conn.sqlite);

  const locator = `ingest:${ref.agentId}:${ref.sessionId}`;
  const part = await trx
    .selectFrom("parts")
    .select(["part_id", "cursor"])
    .where("deployment_id", "=", ref.deploymentId)
    .where("locator", "=", locator)
    .executeTakeFirst();
  const cursor = part ? (JSON.parse(part.cursor) as { cursor?: PartCursor }).cursor ?? newPartCursor() : newPartCursor();

  const fresh = await insertRawEvents(trx, conn, ref, list);
  const acc = new PartAccumulator(`ingest:${ref.deploymentId}/${ref.agentId}/${ref.sessionId}`, ref.sessionId, cursor);
  for (const p of list) {
    if (!fresh.has(p.eventId)) {
      results.push({ index: p.line.index, status: "duplicate", eventId: p.eventId });
      continue;
    }
    fresh.delete(p.eventId); // a second copy of the same event inside one request is a duplicate
    acc.add(p.facts, p.line.seq !== null ? { seq: p.line.seq, eventId: p.eventId } : { eventId: p.eventId });
    results.push({ index: p.line.index, status: "accepted", eventId: p.eventId });
  }
  const ledger = acc.result();
  const partId = await savePart(
    trx,
    conn,
    {
      deploymentId: ref.deploymentId,
      agentId: ref.agentId,
      sessionId: ref.sessionId,
      kind: "ingest",
      locator,
      fingerprint: "{}",
      cursor: JSON.stringify({ position: { type: "whole" }, cursor: ledger.cursor }),
      scannedAt: now,
    },
    part ? Number(part.part_id) : undefined,
    false,
  );
  const forkSource = metaLine?.forkSourceSessionId ?? parentSessionId(ledger.header?.parentSession) ?? null;
  if (forkSource) await upsertSessionMeta(trx, { ...ref, forkSourceSessionId: forkSource }, now, conn.sqlite);
  await writePartLedger(trx, ref, partId, ledger, prices, conn, touched, null);
  return ref;
}

function sessionMeta(ref: SessionRef, m: SessionMetaInput | undefined): SessionMeta {
  const key = m?.sessionKey ?? null;
  return {
    ...ref,
    sessionKey: key,
    kind: m?.kind ?? classifySessionKind(key, { createdVia: m?.createdVia ?? null, chatType: m?.chatType ?? null, spawnedBy: m?.spawnedBy ?? null }),
    channel: m?.channel ?? null,
    chatType: m?.chatType ?? null,
    label: m?.label ?? null,
    parentSessionKey: m?.parentSessionKey ?? null,
    spawnedBy: m?.spawnedBy ?? null,
    createdVia: m?.createdVia ?? null,
    skills: m?.skills ?? null,
    forkSourceSessionId: m?.forkSourceSessionId ?? null,
  };
}

export async function ensureDeploymentAndAgent(db: Db, ref: SessionRef, now: number): Promise<void> {
  await db
    .insertInto("deployments")
    .values({ deployment_id: ref.deploymentId, name: ref.deploymentId, kind: "remote", openclaw_home: null, created_at: now, last_seen_at: now })
    .onConflict((oc) => oc.column("deployment_id").doUpdateSet({ last_seen_at: now }))
    .execute();
  await db.insertInto("agents").values({ deployment_id: ref.deploymentId, agent_id: ref.agentId, first_seen_at: now }).onConflict((oc) => oc.doNothing()).execute();
}

/** Stores the raw events for replay; returns the ids that were new (the others are duplicates). */
async function insertRawEvents(db: Db, conn: StoreConnection, ref: SessionRef, list: Parsed[]): Promise<Set<string>> {
  const fresh = new Set<string>();
  if (conn.sqlite) {
    const st = prepared(
      conn.sqlite,
      `INSERT INTO raw_events (deployment_id, agent_id, session_id, event_id, seq, ts, payload) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    for (const p of list) {
      const r = st.run(ref.deploymentId, ref.agentId, ref.sessionId, p.eventId, p.line.seq ?? p.line.index, p.ts, p.line.event);
      if (Number(r.changes) > 0) fresh.add(p.eventId);
    }
    return fresh;
  }
  // PostgreSQL: one statement per chunk; RETURNING lists only the rows that were inserted.
  const unique = new Map(list.map((p) => [p.eventId, p]));
  const rows = [...unique.values()];
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    const values: unknown[] = [];
    const tuples = chunk.map((p, k) => {
      values.push(ref.deploymentId, ref.agentId, ref.sessionId, p.eventId, p.line.seq ?? p.line.index, p.ts, p.line.event);
      return `(${Array.from({ length: 7 }, (_, j) => `$${k * 7 + j + 1}`).join(", ")})`;
    });
    const r = await db.executeQuery<{ event_id: string }>(
      CompiledQuery.raw(
        `INSERT INTO raw_events (deployment_id, agent_id, session_id, event_id, seq, ts, payload) VALUES ${tuples.join(", ")} ON CONFLICT DO NOTHING RETURNING event_id`,
        values,
      ),
    );
    for (const row of r.rows) fresh.add(row.event_id);
  }
  return fresh;
}

export type SkillInput = {
  skillKey: string;
  name: string;
  source?: string | null;
  available?: boolean;
  contentHash?: string | null;
  content?: string | null;
  metadata?: unknown;
};

/**
 * Upserts a skills inventory. Content is kept when a later sync omits it (the uploader sends content only
 * when it changed); with `fullSync`, skills missing from the list are marked unavailable.
 */
export async function ingestSkills(
  conn: StoreConnection,
  ref: { deploymentId: string; agentId: string },
  skills: SkillInput[],
  fullSync: boolean,
  now: number,
): Promise<number> {
  await durableTransaction(conn, async (trx) => {
    await ensureDeploymentAndAgent(trx, { ...ref, sessionId: "" }, now);
    for (const s of skills) {
      await trx
        .insertInto("skills")
        .values({
          deployment_id: ref.deploymentId,
          agent_id: ref.agentId,
          skill_key: s.skillKey,
          name: s.name,
          source: s.source ?? null,
          available: s.available === false ? 0 : 1,
          content_hash: s.contentHash ?? null,
          content: s.content ?? null,
          metadata: s.metadata === undefined ? null : JSON.stringify(s.metadata),
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.columns(["deployment_id", "agent_id", "skill_key"]).doUpdateSet((eb) => ({
            name: eb.ref("excluded.name"),
            source: eb.ref("excluded.source"),
            available: eb.ref("excluded.available"),
            content_hash: eb.fn.coalesce(eb.ref("excluded.content_hash"), eb.ref("skills.content_hash")),
            content: eb.fn.coalesce(eb.ref("excluded.content"), eb.ref("skills.content")),
            metadata: eb.fn.coalesce(eb.ref("excluded.metadata"), eb.ref("skills.metadata")),
            updated_at: now,
          })),
        )
        .execute();
    }
    if (fullSync) {
      const keys = skills.map((s) => s.skillKey);
      let q = trx.updateTable("skills").set({ available: 0, updated_at: now }).where("deployment_id", "=", ref.deploymentId).where("agent_id", "=", ref.agentId);
      if (keys.length > 0) q = q.where("skill_key", "not in", keys);
      await q.execute();
    }
    await trx.insertInto("changes").values({ deployment_id: ref.deploymentId, at: now, kind: "skills", detail: null }).execute();
  });
  return skills.length;
}
