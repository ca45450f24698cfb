/**
 * The queries behind every report, written once for SQLite and PostgreSQL. They return integer aggregates;
 * the report builders in @clawtower/core turn them into JSON.
 */
import { sql, type RawBuilder, type Selectable, type SelectQueryBuilder } from "kysely";
import {
  ALL_TIME,
  FUTURE_SKEW_MS,
  INGEST_LIMITS,
  LEVEL_MS,
  SLOT_MS,
  bucketBoundaries,
  decomposeBuckets,
  type Bucket,
  type Piece,
  type PieceLevel,
  buildAgentsReport,
  buildModelsReport,
  buildPeriodReport,
  buildSessionsReport,
  buildSummaryReport,
  buildToolsReport,
  sessionEnding,
  type ProblemCounts,
  type ProblemKind,
  type ReportFilters,
  type SessionAggregate,
  type ToolAggregate,
  type UsageAggregate,
} from "@clawtower/core";
import type { StoreConnection } from "./connection.ts";
import { SLOT_OF_TS } from "./rollups.ts";
import { healthKey, sessionHealthOf } from "./insights/session-health.ts";
import type { Database, SessionsTable } from "./schema.ts";

type TsTable = "llm_calls" | "tool_calls" | "events";

/** Applies deployment / agent / time filters to a query over a table with a `ts` column. */
function scoped<T extends TsTable, O>(qb: SelectQueryBuilder<Database, T, O>, f: ReportFilters): SelectQueryBuilder<Database, T, O> {
  let q = qb;
  if (f.deployment !== null) q = q.where("deployment_id" as never, "=", f.deployment as never);
  if (f.agent !== null) q = q.where("agent_id" as never, "=", f.agent as never);
  if (f.since !== null) q = q.where("ts" as never, ">=", f.since as never);
  if (f.until !== null) q = q.where("ts" as never, "<", f.until as never);
  return q;
}

const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

const USAGE_OF_CALLS = [
  sql<number>`count(*)`.as("calls"),
  sql<number>`sum(input_tokens)`.as("input"),
  sql<number>`sum(output_tokens)`.as("output"),
  sql<number>`sum(cache_read_tokens)`.as("cache_read"),
  sql<number>`sum(cache_write_tokens)`.as("cache_write"),
  sql<number>`coalesce(sum(cost_nanos) FILTER (WHERE cost_source = 'recorded'), 0)`.as("recorded"),
  sql<number>`coalesce(sum(cost_nanos) FILTER (WHERE cost_source = 'estimated'), 0)`.as("estimated"),
  sql<number>`count(*) FILTER (WHERE cost_source = 'unknown')`.as("unpriced"),
  sql<number>`coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) FILTER (WHERE cost_source = 'unknown'), 0)`.as("unpriced_tokens"),
] as const;

/**
 * One SELECT per piece — an index range on its level's table — glued with UNION ALL, each row tagged with
 * its bucket `k`. (A join against a VALUES list of ranges is what we tried first: PostgreSQL plans it as a
 * scan of the whole table.) Empty pieces give no row.
 */
function piecesUnion(
  pieces: Piece[],
  src: { table: string; column: string; unit: number },
  select: RawBuilder<unknown>,
  where: RawBuilder<unknown>,
  groupBy: RawBuilder<unknown> | null,
) {
  const col = sql.ref(`r.${src.column}`);
  return sql.join(
    pieces.map(
      (p) => sql`SELECT CAST(${p.bucket} AS INTEGER) AS k, ${select} FROM ${sql.table(src.table)} r
        WHERE ${col} >= ${Math.floor(p.from / src.unit)} AND ${col} < ${Math.floor(p.to / src.unit)} AND ${where}
        ${groupBy ? sql`GROUP BY ${groupBy}` : sql`HAVING count(*) > 0`}`,
    ),
    sql` UNION ALL `,
  );
}

function scopeOf(alias: string, f: ReportFilters) {
  const parts = [];
  if (f.deployment !== null) parts.push(sql`${sql.ref(`${alias}.deployment_id`)} = ${f.deployment}`);
  if (f.agent !== null) parts.push(sql`${sql.ref(`${alias}.agent_id`)} = ${f.agent}`);
  return parts.length ? sql.join(parts, sql` AND `) : sql`TRUE`;
}

const ROLLUP_SUMS = sql.raw(`sum(r.calls) AS calls, sum(r.input_tokens) AS input, sum(r.output_tokens) AS output,
  sum(r.cache_read_tokens) AS cache_read, sum(r.cache_write_tokens) AS cache_write, sum(r.recorded_nanos) AS recorded,
  sum(r.estimated_nanos) AS estimated, sum(r.unpriced_calls) AS unpriced, sum(r.unpriced_tokens) AS unpriced_tokens`);
const ROW_SUMS = sql.raw(`count(*) AS calls, sum(r.input_tokens) AS input, sum(r.output_tokens) AS output,
  sum(r.cache_read_tokens) AS cache_read, sum(r.cache_write_tokens) AS cache_write,
  coalesce(sum(r.cost_nanos) FILTER (WHERE r.cost_source = 'recorded'), 0) AS recorded,
  coalesce(sum(r.cost_nanos) FILTER (WHERE r.cost_source = 'estimated'), 0) AS estimated,
  count(*) FILTER (WHERE r.cost_source = 'unknown') AS unpriced,
  coalesce(sum(r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_tokens) FILTER (WHERE r.cost_source = 'unknown'), 0) AS unpriced_tokens`);

const USAGE_SOURCES: Record<PieceLevel, { table: string; column: string; unit: number; sums: typeof ROW_SUMS }> = {
  day: { table: "usage_rollup_day", column: "bucket", unit: LEVEL_MS.day, sums: ROLLUP_SUMS },
  hour: { table: "usage_rollup_hour", column: "bucket", unit: LEVEL_MS.hour, sums: ROLLUP_SUMS },
  slot: { table: "usage_rollup", column: "slot", unit: LEVEL_MS.slot, sums: ROLLUP_SUMS },
  raw: { table: "llm_calls", column: "ts", unit: 1, sums: ROW_SUMS },
};

/** The range's bucket boundaries; a single bucket when none are given. Unbounded sides cover all time. */
function rangeBoundaries(f: ReportFilters, boundaries: number[] | null): number[] {
  if (boundaries) return boundaries;
  return [f.since ?? ALL_TIME.from, f.until ?? ALL_TIME.to];
}

/**
 * Usage per (bucket, agent, provider, model) for a range split at `boundaries` (null: one bucket, the whole
 * range). Each bucket is answered from the coarsest rollup whose units fit inside it — days, then hours,
 * then 15-minute slots — and only sub-slot edges from the calls themselves: exact for any instant range,
 * and a few thousand rollup rows even for all time at millions of calls. Rows carry the slot of their
 * bucket's start, so the report builders label them with the bucket they belong to.
 */
export async function usageAggregates(
  conn: StoreConnection,
  f: ReportFilters,
  boundaries: number[] | null = null,
  /** false: one row per bucket (agent, provider and model left empty), for totals over time. */
  perModel = true,
): Promise<UsageAggregate[]> {
  const keys = perModel ? sql.raw("r.agent_id, r.provider, r.model") : sql.raw("'' AS agent_id, '' AS provider, '' AS model");
  const groupKeys = perModel ? sql.raw("r.agent_id, r.provider, r.model") : null;
  const b = rangeBoundaries(f, boundaries);
  const pieces = decomposeBuckets(b);
  const byLevel = new Map<PieceLevel, Piece[]>();
  for (const p of pieces) {
    const list = byLevel.get(p.level);
    if (list) list.push(p);
    else byLevel.set(p.level, [p]);
  }
  const out: UsageAggregate[] = [];
  for (const [level, list] of byLevel) {
    const src = USAGE_SOURCES[level];
    if (list.length > 8) {
      // Many buckets at one level (a daily report over months): one query over the runs of adjacent pieces,
      // grouped by the level's unit, each unit then added to the bucket of the piece that holds it.
      const col = sql.ref(`r.${src.column}`);
      const sorted = [...list].sort((x, y) => x.from - y.from);
      const runs = unitRuns(sorted, src.unit);
      const rows: Record<string, unknown>[] = [];
      // Runs per query bounded: SQLite refuses an expression deeper than 1000 terms (pieces stop merging into
      // runs in zones whose offset is no multiple of 15 minutes, as before ~1972 in some).
      for (let i = 0; i < runs.length; i += MAX_RUNS_PER_QUERY) {
        const chunk = runs.slice(i, i + MAX_RUNS_PER_QUERY);
        const r = await sql<Record<string, unknown>>`SELECT ${col} AS u, ${keys}, ${src.sums} FROM ${sql.table(src.table)} r
          WHERE (${sql.join(chunk.map(([lo, hi]) => sql`(${col} >= ${lo} AND ${col} < ${hi})`), sql` OR `)}) AND ${scopeOf("r", f)}
          GROUP BY r.deployment_id, ${col}${groupKeys ? sql`, ${groupKeys}` : sql``}`.execute(conn.db);
        rows.push(...r.rows);
      }
      const merged = new Map<string, UsageAggregate>();
      for (const r of rows) {
        const piece = pieceAt(sorted, n(r["u"]) * src.unit);
        const row = usageRow({ ...r, slot: Math.floor(b[piece.bucket]! / SLOT_MS) });
        const key = `${piece.bucket}\u0000${row.agentId}\u0000${row.provider}\u0000${row.model}`;
        const prev = merged.get(key);
        if (prev) addUsage(prev, row);
        else merged.set(key, row);
      }
      out.push(...merged.values());
      continue;
    }
    const rows = await sql<Record<string, unknown>>`${piecesUnion(list, src, sql`${keys}, ${src.sums}`, scopeOf("r", f), groupKeys)}`.execute(conn.db);
    for (const r of rows.rows) out.push(usageRow({ ...r, slot: Math.floor(b[n(r["k"])]! / SLOT_MS) }));
  }
  return out;
}

const MAX_RUNS_PER_QUERY = 400;

/** Adjacent pieces (sorted by start) merged into [lo, hi) ranges of the level's units. */
function unitRuns(pieces: Piece[], unit: number): [number, number][] {
  const runs: [number, number][] = [];
  for (const p of pieces) {
    const lo = Math.floor(p.from / unit);
    const hi = Math.floor(p.to / unit);
    const last = runs.at(-1);
    if (last && last[1] === lo) last[1] = hi;
    else runs.push([lo, hi]);
  }
  return runs;
}

/** The piece containing instant `at`, by binary search over pieces sorted by start (they do not overlap). */
function pieceAt(sorted: Piece[], at: number): Piece {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const p = sorted[mid]!;
    if (at < p.from) hi = mid - 1;
    else if (at >= p.to) lo = mid + 1;
    else return p;
  }
  throw new Error(`internal: no piece holds ${at}`);
}

function addUsage(into: UsageAggregate, r: UsageAggregate): void {
  into.calls += r.calls;
  into.input += r.input;
  into.output += r.output;
  into.cacheRead += r.cacheRead;
  into.cacheWrite += r.cacheWrite;
  into.recordedNanos += r.recordedNanos;
  into.estimatedNanos += r.estimatedNanos;
  into.unpricedCalls += r.unpricedCalls;
  into.unpricedTokens += r.unpricedTokens;
}

function usageRow(r: Record<string, unknown>): UsageAggregate {
  return {
    slot: n(r["slot"]),
    agentId: String(r["agent_id"]),
    provider: String(r["provider"]),
    model: String(r["model"]),
    calls: n(r["calls"]),
    input: n(r["input"]),
    output: n(r["output"]),
    cacheRead: n(r["cache_read"]),
    cacheWrite: n(r["cache_write"]),
    recordedNanos: n(r["recorded"]),
    estimatedNanos: n(r["estimated"]),
    unpricedCalls: n(r["unpriced"]),
    unpricedTokens: n(r["unpriced_tokens"]),
  };
}

/**
 * First and last instant with LLM calls in scope, to fill the time axis of an unbounded range: within
 * [2020-01-01, ALL_TIME.to), so that a call dated absurdly (a local file's broken clock; ingest refuses
 * those) cannot stretch the axis over centuries; such calls still count in the range's totals.
 */
export async function dataRange(conn: StoreConnection, f: ReportFilters): Promise<{ first: number; last: number } | null> {
  // Two scalar subqueries, not min() and max() in one select: SQLite answers a lone min/max from the index,
  // but scans the whole table for both at once.
  const inAxis = sql`r.slot >= ${Math.floor(INGEST_LIMITS.earliestTimestampMs / SLOT_MS)} AND r.slot < ${Math.floor(ALL_TIME.to / SLOT_MS)}`;
  const r = await sql<{ lo: number | null; hi: number | null }>`SELECT
    (SELECT min(r.slot) FROM usage_rollup r WHERE ${scopeOf("r", f)} AND ${inAxis}) AS lo,
    (SELECT max(r.slot) FROM usage_rollup r WHERE ${scopeOf("r", f)} AND ${inAxis}) AS hi`.execute(conn.db);
  const row = r.rows[0];
  if (!row || row.lo === null || row.hi === null) return null;
  return { first: n(row.lo) * SLOT_MS, last: (n(row.hi) + 1) * SLOT_MS - 1 };
}

/** Boundaries of day / week / month buckets for a report's range (unbounded sides: the data's range). */
export async function reportBoundaries(conn: StoreConnection, f: ReportFilters, bucket: Bucket): Promise<number[]> {
  let from = f.since;
  let to = f.until;
  if (from === null || to === null) {
    const range = await dataRange(conn, f);
    if (!range) return [];
    from ??= range.first;
    to ??= Math.max(range.last + 1, from + 1);
  }
  return bucketBoundaries(from, to, f.tz, bucket);
}

/**
 * Whether a session (table alias `s`, or session_models `m` with its model's calls) was active in the range:
 * one of its events falls in it. Its first or last event in the range says so; a session that began before
 * the range and went on after it counts only when one of its LLM calls falls in the range (a lifetime that
 * merely overlaps the range is not activity). Callers also require last_ts >= since and first_ts < until.
 */
export function spanningActivity(alias: "s" | "m", f: Pick<ReportFilters, "since" | "until">): RawBuilder<boolean> | null {
  if (f.since === null || f.until === null) return null;
  const a = sql.raw(alias);
  const sameModel = alias === "m" ? sql` AND c.provider = m.provider AND c.model = m.model` : sql``;
  return sql<boolean>`(${a}.first_ts >= ${f.since} OR ${a}.last_ts < ${f.until} OR EXISTS (SELECT 1 FROM llm_calls c
    WHERE c.deployment_id = ${a}.deployment_id AND c.agent_id = ${a}.agent_id AND c.session_id = ${a}.session_id${sameModel}
      AND c.ts >= ${f.since} AND c.ts < ${f.until}))`;
}

/** Sessions active in the range (see spanningActivity). */
export async function countSessions(conn: StoreConnection, f: ReportFilters): Promise<number> {
  // A session's first and last activity are set together; testing last_ts lets an unfiltered count read only
  // the last_ts index.
  let q = conn.db.selectFrom("sessions as s").select(sql<number>`count(*)`.as("n"));
  if (f.deployment !== null) q = q.where("s.deployment_id", "=", f.deployment);
  if (f.agent !== null) q = q.where("s.agent_id", "=", f.agent);
  q = f.since !== null ? q.where("s.last_ts", ">=", f.since) : q.where("s.last_ts", "is not", null);
  if (f.until !== null) q = q.where("s.first_ts", "<", f.until);
  const spanning = spanningActivity("s", f);
  if (spanning) q = q.where(spanning);
  return n((await q.executeTakeFirst())?.n);
}

/** Tool calls in the range, from the tool rollups (see toolAggregates). */
export async function countToolCalls(conn: StoreConnection, f: ReportFilters): Promise<number> {
  return (await toolAggregates(conn, f)).reduce((sum, t) => sum + t.calls, 0);
}

/** Problems stored by imports and ingest, plus sessions dated in the future (relative to `now`, so computed here). */
export async function problemCounts(conn: StoreConnection, f: Pick<ReportFilters, "deployment">, now: number = Date.now()): Promise<ProblemCounts> {
  let q = conn.db.selectFrom("problems").select(["kind", sql<number>`count(*)`.as("n")]).groupBy("kind");
  if (f.deployment !== null) q = q.where("deployment_id", "=", f.deployment);
  const out: ProblemCounts = {};
  for (const r of await q.execute()) out[r.kind as ProblemKind] = n(r.n);
  let future = conn.db.selectFrom("sessions").select(sql<number>`count(*)`.as("n")).where("last_ts", ">", now + FUTURE_SKEW_MS);
  if (f.deployment !== null) future = future.where("deployment_id", "=", f.deployment);
  const ahead = n((await future.executeTakeFirst())?.n);
  if (ahead > 0) out["future-timestamp"] = ahead;
  return out;
}

export type ProblemListing = { kind: string; source: string; line: number | null; sessionId: string | null; seq: number | null; detail: string };

export async function listProblems(conn: StoreConnection, f: Pick<ReportFilters, "deployment">, limit: number, now: number = Date.now()): Promise<ProblemListing[]> {
  let future = conn.db
    .selectFrom("sessions")
    .select(["deployment_id", "agent_id", "session_id", "last_ts"])
    .where("last_ts", ">", now + FUTURE_SKEW_MS)
    .orderBy("last_ts", "desc")
    .limit(limit);
  if (f.deployment !== null) future = future.where("deployment_id", "=", f.deployment);
  const ahead: ProblemListing[] = (await future.execute()).map((r) => ({
    kind: "future-timestamp",
    source: `${r.deployment_id}/${r.agent_id}`,
    line: null,
    sessionId: r.session_id,
    seq: null,
    detail: `last event dated ${new Date(n(r.last_ts)).toISOString()}, ${formatAhead(n(r.last_ts) - now)} after now`,
  }));
  let q = conn.db.selectFrom("problems").select(["kind", "source", "line", "session_id", "seq", "detail"]).orderBy("source").orderBy("line").limit(Math.max(0, limit - ahead.length));
  if (f.deployment !== null) q = q.where("deployment_id", "=", f.deployment);
  return ahead.concat((await q.execute()).map((r) => ({
    kind: r.kind,
    source: r.source,
    line: r.line === null ? null : n(r.line),
    sessionId: r.session_id,
    seq: r.seq === null ? null : n(r.seq),
    detail: r.detail,
  })));
}

function formatAhead(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes < 120 ? `${minutes} min` : minutes < 2 * 1440 ? `${Math.round(minutes / 60)} h` : `${Math.round(minutes / 1440)} days`;
}

/** Sessions per model (from session_models) or per agent (from sessions), active in the range. */
async function distinctSessions(conn: StoreConnection, f: ReportFilters, by: "model" | "agent"): Promise<Map<string, number>> {
  if (by === "agent") {
    let q = conn.db.selectFrom("sessions as s").select(["s.agent_id as k", sql<number>`count(*)`.as("n")]).groupBy("s.agent_id");
    if (f.deployment !== null) q = q.where("s.deployment_id", "=", f.deployment);
    if (f.agent !== null) q = q.where("s.agent_id", "=", f.agent);
    q = f.since !== null ? q.where("s.last_ts", ">=", f.since) : q.where("s.last_ts", "is not", null);
    if (f.until !== null) q = q.where("s.first_ts", "<", f.until);
    const spanning = spanningActivity("s", f);
    if (spanning) q = q.where(spanning);
    return new Map((await q.execute()).map((r) => [r.k, n(r.n)]));
  }
  // The models first, skipping from one to the next in session_models_model (there are a handful), then one
  // count per model over that model's slice of the same index, which holds every column filtered on: a few
  // index-only ranges instead of a pass over every session and model.
  const models = await sessionModelKeys(conn);
  const counts = await Promise.all(
    models.map(async ({ provider, model }) => {
      let q = conn.db.selectFrom("session_models as m").select(sql<number>`count(*)`.as("n")).where("m.provider", "=", provider).where("m.model", "=", model);
      if (f.since !== null) q = q.where("m.last_ts", ">=", f.since);
      if (f.until !== null) q = q.where("m.first_ts", "<", f.until);
      if (f.deployment !== null) q = q.where("m.deployment_id", "=", f.deployment);
      if (f.agent !== null) q = q.where("m.agent_id", "=", f.agent);
      const spanning = spanningActivity("m", f);
      if (spanning) q = q.where(spanning);
      return [`${provider}\u0000${model}`, n((await q.executeTakeFirstOrThrow()).n)] as const;
    }),
  );
  return new Map(counts.filter(([, c]) => c > 0));
}

/**
 * Every (provider, model) in session_models, by seeking from one to the next in session_models_model: the next
 * model of the same provider, else the first model of the next provider (two seeks per model; SQLite cannot
 * seek on a row-value comparison, so (provider, model) > (?, ?) would scan the provider's rows).
 */
async function sessionModelKeys(conn: StoreConnection): Promise<{ provider: string; model: string }[]> {
  const first = () => conn.db.selectFrom("session_models").select(["provider", "model"]).orderBy("provider").orderBy("model").limit(1);
  const out: { provider: string; model: string }[] = [];
  let key = await first().executeTakeFirst();
  while (key) {
    out.push(key);
    const { provider, model } = key;
    key =
      (await first().where("provider", "=", provider).where("model", ">", model).executeTakeFirst()) ??
      (await first().where("provider", ">", provider).executeTakeFirst());
  }
  return out;
}

export type SessionQuery = {
  limit?: number | undefined;
  offset?: number | undefined;
  sort?: "last" | "cost" | "tokens" | "calls" | undefined;
  order?: "asc" | "desc" | undefined;
  sessionId?: string | undefined;
  kind?: string | undefined;
  channel?: string | undefined;
  /** provider/model, or a bare model id */
  model?: string | undefined;
  /** Free text matched against session id, key and label. */
  q?: string | undefined;
};

type UsageCols = { calls: number; input: number; output: number; cache_read: number; cache_write: number; recorded: number; estimated: number; unpriced: number; unpriced_tokens: number };

/**
 * Sessions active in a range, with their usage in that range. Three plans, so that a dashboard stays fast
 * at millions of calls:
 *   - no time range: the sessions' own totals, sorted and paged on the sessions table;
 *   - a range, sorted by activity: page the sessions first, then sum the range's calls of that page only;
 *   - a range, sorted by usage: sum the range's calls per session (bounded by the range), then page.
 */
export async function sessionAggregates(conn: StoreConnection, f: ReportFilters, q: SessionQuery = {}): Promise<{ rows: SessionAggregate[]; total: number }> {
  const found = await sessionAggregatesOnly(conn, f, q);
  return { total: found.total, rows: await withEndings(conn, found.rows) };
}

/** How each listed session ended, from the kinds of its parts (one index range per page of sessions). */
async function withEndings(conn: StoreConnection, rows: SessionAggregate[]): Promise<SessionAggregate[]> {
  if (rows.length === 0) return rows;
  const byKey = new Map<string, { kind: string; locator: string; present: boolean }[]>();
  for (let i = 0; i < rows.length; i += 300) {
    const slice = rows.slice(i, i + 300);
    const parts = await conn.db
      .selectFrom("parts")
      .select(["deployment_id", "agent_id", "session_id", "kind", "locator", "present"])
      .where(sql<boolean>`(deployment_id, agent_id, session_id) IN (${sql.join(slice.map((r) => sql`(${r.deploymentId}, ${r.agentId}, ${r.sessionId})`))})`)
      .execute();
    for (const p of parts) {
      const k = `${p.deployment_id}\u0000${p.agent_id}\u0000${p.session_id}`;
      let list = byKey.get(k);
      if (!list) byKey.set(k, (list = []));
      list.push({ kind: p.kind, locator: p.locator, present: n(p.present) === 1 });
    }
  }
  return rows.map((r) => ({ ...r, ended: sessionEnding(byKey.get(`${r.deploymentId}\u0000${r.agentId}\u0000${r.sessionId}`) ?? []) }));
}

async function sessionAggregatesOnly(conn: StoreConnection, f: ReportFilters, q: SessionQuery): Promise<{ rows: SessionAggregate[]; total: number }> {
  // (first_ts and last_ts are set together; last_ts is in the indexes that serve the list.)
  let base = conn.db.selectFrom("sessions as s").where("s.last_ts", "is not", null);
  if (f.deployment !== null) base = base.where("s.deployment_id", "=", f.deployment);
  if (f.agent !== null) base = base.where("s.agent_id", "=", f.agent);
  if (f.since !== null) base = base.where("s.last_ts", ">=", f.since);
  if (f.until !== null) base = base.where("s.first_ts", "<", f.until);
  const spanning = spanningActivity("s", f);
  if (spanning) base = base.where(spanning);
  if (q.sessionId !== undefined) base = base.where("s.session_id", "=", q.sessionId);
  if (q.kind !== undefined) base = base.where("s.kind", "=", q.kind);
  if (q.channel !== undefined) base = base.where("s.channel", "=", q.channel);
  // A model filter keeps the sessions that called that model inside the range (session_models keeps each
  // session's first and last call per model).
  const slash = q.model === undefined ? -1 : q.model.indexOf("/");
  const modelFilter = q.model === undefined ? null : { provider: slash > 0 ? q.model.slice(0, slash) : null, model: slash > 0 ? q.model.slice(slash + 1) : q.model };
  const sessionModels = (mf: NonNullable<typeof modelFilter>) => {
    let m = conn.db.selectFrom("session_models as m").where("m.model", "=", mf.model);
    if (mf.provider !== null) m = m.where("m.provider", "=", mf.provider);
    if (f.deployment !== null) m = m.where("m.deployment_id", "=", f.deployment);
    if (f.agent !== null) m = m.where("m.agent_id", "=", f.agent);
    if (f.since !== null) m = m.where("m.last_ts", ">=", f.since);
    if (f.until !== null) m = m.where("m.first_ts", "<", f.until);
    const spanningModel = spanningActivity("m", f);
    if (spanningModel) m = m.where(spanningModel);
    return m;
  };
  if (modelFilter) {
    base = base.where((eb) =>
      eb.exists(
        sessionModels(modelFilter)
          .select(sql`1`.as("one"))
          .where(sql<boolean>`m.deployment_id = s.deployment_id AND m.agent_id = s.agent_id AND m.session_id = s.session_id`),
      ),
    );
  }
  if (q.q !== undefined && q.q.trim() !== "") {
    const text = q.q.trim().toLowerCase();
    const like = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const op = conn.dialect === "postgres" ? "ilike" : "like";
    base = base.where((eb) =>
      eb.or([
        // Case-insensitive without lower() on every row: SQLite's LIKE ignores ASCII case (as its lower() only
        // folds ASCII), PostgreSQL has ILIKE.
        eb("s.session_id", op, sql<string>`${like} ESCAPE '\\'`),
        eb("s.session_key", op, sql<string>`${like} ESCAPE '\\'`),
        eb("s.label", op, sql<string>`${like} ESCAPE '\\'`),
      ]),
    );
    // SQLite: narrow the candidates with the trigram index first (PostgreSQL's planner does that by itself
    // with the pg_trgm indexes, see schema.ts). The LIKEs above still decide, so results are the same.
    const match = conn.dialect === "sqlite" ? await sessionSearchMatch(conn, text) : null;
    if (match !== null) {
      base = base.where(
        sql<boolean>`(s.deployment_id, s.agent_id, s.session_id) IN (SELECT k.deployment_id, k.agent_id, k.session_id
          FROM session_search f JOIN session_search_keys k ON k.id = f.rowid WHERE session_search MATCH ${match})`,
      );
    }
  }
  // Counting: with only a model filter, session_models alone answers (an index range instead of a probe per session).
  const onlyModel = modelFilter !== null && q.sessionId === undefined && q.kind === undefined && q.channel === undefined && (q.q === undefined || q.q.trim() === "");
  // A text search counts its matches in the page query's pass: a scan reads every session anyway, and the
  // trigram index (SQLite, when it narrows the search down) hands over few candidates.
  const searching = q.q !== undefined && q.q.trim() !== "";
  const countAll = async () => onlyModel
    ? n(
        (
          await sessionModels(modelFilter)
            .select(modelFilter.provider !== null ? sql<number>`count(*)`.as("n") : sql<number>`count(DISTINCT m.deployment_id || ' ' || m.agent_id || ' ' || m.session_id)`.as("n"))
            .executeTakeFirst()
        )?.n,
      )
    : n((await base.select(sql<number>`count(*)`.as("n")).executeTakeFirst())?.n);
  const totalOf = async (rows: { total_rows?: unknown }[]): Promise<number> => (searching && rows.length > 0 ? n(rows[0]!.total_rows) : await countAll());
  const dir = sql.raw(q.order === "asc" ? "ASC" : "DESC");
  const sort = q.sort ?? "last";
  const ranged = f.since !== null || f.until !== null;
  const page = <T extends { limit: (n: number) => T; offset: (n: number) => T }>(qb: T): T => {
    let r = qb;
    if (q.limit !== undefined) r = r.limit(q.limit);
    if (q.offset !== undefined) r = r.offset(q.offset);
    return r;
  };

  if (!ranged) {
    const order =
      sort === "cost"
        ? sql`(s.cost_recorded_nanos + s.cost_estimated_nanos) ${dir}`
        : sort === "tokens"
          ? sql`(s.input_tokens + s.output_tokens + s.cache_read_tokens + s.cache_write_tokens) ${dir}`
          : sort === "calls"
            ? sql`s.llm_calls ${dir}`
            : sql`s.last_ts ${dir}`;
    const rows = await page(base.selectAll("s").$if(searching, (qb) => qb.select(sql<number>`count(*) OVER ()`.as("total_rows"))).orderBy(order).orderBy("s.session_id")).execute();
    return {
      total: await totalOf(rows),
      rows: rows.map((r) =>
        sessionFromRow(r, {
          calls: r.llm_calls,
          input: r.input_tokens,
          output: r.output_tokens,
          cache_read: r.cache_read_tokens,
          cache_write: r.cache_write_tokens,
          recorded: r.cost_recorded_nanos,
          estimated: r.cost_estimated_nanos,
          unpriced: r.unpriced_calls,
          unpriced_tokens: r.unpriced_tokens,
        }),
      ),
    };
  }


  if (sort === "last") {
    const rows = await page(base.selectAll("s").$if(searching, (qb) => qb.select(sql<number>`count(*) OVER ()`.as("total_rows"))).orderBy("s.last_ts", q.order === "asc" ? "asc" : "desc").orderBy("s.session_id")).execute();
    const total = await totalOf(rows);
    if (rows.length === 0) return { total, rows: [] };
    const usageRows = await sessionUsageInRange(conn, f, rows).execute();
    const byKey = new Map(usageRows.map((u) => [`${u.deployment_id}\u0000${u.agent_id}\u0000${u.session_id}`, u]));
    return { total, rows: rows.map((r) => sessionFromRow(r, byKey.get(`${r.deployment_id}\u0000${r.agent_id}\u0000${r.session_id}`) ?? null)) };
  }

  const usage = sessionUsageInRange(conn, f);
  const order =
    sort === "cost"
      ? sql`coalesce(u.recorded, 0) + coalesce(u.estimated, 0) ${dir}`
      : sort === "tokens"
        ? sql`coalesce(u.input, 0) + coalesce(u.output, 0) + coalesce(u.cache_read, 0) + coalesce(u.cache_write, 0) ${dir}`
        : sql`coalesce(u.calls, 0) ${dir}`;
  const rows = await page(
    base
      .leftJoin(usage.as("u"), (j) => j.onRef("u.deployment_id", "=", "s.deployment_id").onRef("u.agent_id", "=", "s.agent_id").onRef("u.session_id", "=", "s.session_id"))
      .selectAll("s")
      .select(["u.calls", "u.input", "u.output", "u.cache_read", "u.cache_write", "u.recorded", "u.estimated", "u.unpriced", "u.unpriced_tokens"])
      .$if(searching, (qb) => qb.select(sql<number>`count(*) OVER ()`.as("total_rows")))
      .orderBy(order)
      .orderBy("s.session_id"),
  ).execute();
  return { total: await totalOf(rows), rows: rows.map((r) => sessionFromRow(r, r as unknown as UsageCols)) };
}

/** Trigram: the unit of the SQLite session search index. Shorter texts are searched by a scan. */
const TRIGRAM = 3;

/**
 * The FTS5 query that finds the sessions whose session_id, session_key or label may contain `text`
 * (lower-cased) — every session that does, perhaps a few more — or null when a scan of the sessions is the
 * better plan: a text shorter than a trigram, or one whose every trigram is common, so that the index would
 * not narrow the search down much (fetching many candidates one by one costs more than reading every session).
 *
 * Each trigram of the text is counted in the index, up to a cap (an FTS5 term query stops at its LIMIT, so a
 * common trigram costs no more than a rare one), and the query is the rarest few, ANDed: a session holding
 * the text holds all of its trigrams. FTS5 folds the case of each character of the query as it did of the
 * indexed text, and at least as much as LIKE does (ASCII only), so the index never misses a session that
 * LIKE matches; the caller keeps the LIKEs, which decide.
 */
async function sessionSearchMatch(conn: StoreConnection, text: string): Promise<string | null> {
  const chars = [...text];
  if (chars.length < TRIGRAM) return null;
  const trigrams = [...new Set(chars.slice(0, chars.length - TRIGRAM + 1).map((_, i) => chars.slice(i, i + TRIGRAM).join("")))];
  // A long text: a sample of its trigrams narrows the search down as well.
  const step = Math.ceil(trigrams.length / 16);
  const sample = trigrams.filter((_, i) => i % step === 0).map((t) => `"${t.replaceAll('"', '""')}"`);
  // Sessions are about as many as the key ids handed out (max(id): one index seek). Past a tenth of them,
  // or 5,000, candidates cost more than a scan.
  const ids = n((await sql<{ m: number | null }>`SELECT max(id) AS m FROM session_search_keys`.execute(conn.db)).rows[0]?.m);
  const cap = Math.max(100, Math.min(5000, Math.floor(ids / 10)));
  const counts = await sql<Record<string, number>>`SELECT ${sql.join(
    sample.map((t, i) => sql`(SELECT count(*) FROM (SELECT rowid FROM session_search WHERE session_search MATCH ${t} LIMIT ${cap + 1})) AS ${sql.ref(`c${i}`)}`),
  )}`.execute(conn.db);
  const row = counts.rows[0]!;
  const rare = sample
    .map((t, i) => ({ t, count: n(row[`c${i}`]) }))
    .filter((x) => x.count <= cap)
    .sort((a, b) => a.count - b.count);
  if (rare.length === 0) return null;
  return rare
    .slice(0, 3)
    .map((x) => x.t)
    .join(" AND ");
}

const HOUR_MS = LEVEL_MS.hour;
type SessionKey = { deployment_id: string; agent_id: string; session_id: string };

/**
 * Usage per session inside the filter's range: whole hours from session_hour_usage, the sub-hour edges
 * from the calls themselves. Exact for any range, and a week at millions of calls reads hour rows instead
 * of every call.
 */
function sessionUsageInRange(conn: StoreConnection, f: ReportFilters, only: SessionKey[] | null = null) {
  const inKeys = only ? sql<boolean>`(deployment_id, agent_id, session_id) IN (${sql.join(only.map((k) => sql`(${k.deployment_id}, ${k.agent_id}, ${k.session_id})`))})` : sql<boolean>`TRUE`;
  const h0 = f.since === null ? null : Math.ceil(f.since / HOUR_MS);
  const h1 = f.until === null ? null : Math.floor(f.until / HOUR_MS);
  const callsIn = (from: number | null, to: number | null) =>
    scoped(conn.db.selectFrom("llm_calls"), { ...f, since: from, until: to })
      .where(inKeys)
      .select(["deployment_id", "agent_id", "session_id", ...USAGE_OF_CALLS])
      .groupBy(["deployment_id", "agent_id", "session_id"]);
  const wholeHours = h0 === null || h1 === null || h0 < h1;

  // The hour rows as they are: the outer query sums them per session. (Grouping here too made SQLite walk the
  // per-session index over every hour row, for its order, instead of reading the range's hours: ~400 → ~90 ms
  // for a week's costliest sessions on the 5 M-call bench store.)
  let hours = conn.db
    .selectFrom("session_hour_usage")
    .select([
      "deployment_id",
      "agent_id",
      "session_id",
      sql<number>`calls`.as("calls"),
      sql<number>`input_tokens`.as("input"),
      sql<number>`output_tokens`.as("output"),
      sql<number>`cache_read_tokens`.as("cache_read"),
      sql<number>`cache_write_tokens`.as("cache_write"),
      sql<number>`recorded_nanos`.as("recorded"),
      sql<number>`estimated_nanos`.as("estimated"),
      sql<number>`unpriced_calls`.as("unpriced"),
      sql<number>`unpriced_tokens`.as("unpriced_tokens"),
    ])
    .where(inKeys);
  if (!wholeHours) hours = hours.where(sql<boolean>`FALSE`);
  if (f.deployment !== null) hours = hours.where("deployment_id", "=", f.deployment);
  if (f.agent !== null) hours = hours.where("agent_id", "=", f.agent);
  if (h0 !== null) hours = hours.where("hour", ">=", h0);
  if (h1 !== null) hours = hours.where("hour", "<", h1);

  let parts = hours;
  if (!wholeHours) parts = parts.unionAll(callsIn(f.since, f.until));
  else {
    if (h0 !== null && f.since! < h0 * HOUR_MS) parts = parts.unionAll(callsIn(f.since, h0 * HOUR_MS));
    if (h1 !== null && h1 * HOUR_MS < f.until!) parts = parts.unionAll(callsIn(h1 * HOUR_MS, f.until));
  }
  return conn.db
    .selectFrom(parts.as("p"))
    .select([
      "p.deployment_id",
      "p.agent_id",
      "p.session_id",
      sql<number>`sum(p.calls)`.as("calls"),
      sql<number>`sum(p.input)`.as("input"),
      sql<number>`sum(p.output)`.as("output"),
      sql<number>`sum(p.cache_read)`.as("cache_read"),
      sql<number>`sum(p.cache_write)`.as("cache_write"),
      sql<number>`sum(p.recorded)`.as("recorded"),
      sql<number>`sum(p.estimated)`.as("estimated"),
      sql<number>`sum(p.unpriced)`.as("unpriced"),
      sql<number>`sum(p.unpriced_tokens)`.as("unpriced_tokens"),
    ])
    .groupBy(["p.deployment_id", "p.agent_id", "p.session_id"]);
}

function sessionFromRow(r: Selectable<SessionsTable>, u: Partial<UsageCols> | null): SessionAggregate {
  return {
    deploymentId: r.deployment_id,
    agentId: r.agent_id,
    sessionId: r.session_id,
    sessionKey: r.session_key,
    kind: r.kind,
    channel: r.channel,
    label: r.label,
    parentSessionKey: r.parent_session_key,
    firstTs: r.first_ts === null ? null : n(r.first_ts),
    lastTs: r.last_ts === null ? null : n(r.last_ts),
    messages: { user: n(r.messages_user), assistant: n(r.messages_assistant), toolResult: n(r.messages_tool_result), other: n(r.messages_other) },
    toolCalls: n(r.tool_calls),
    toolErrors: n(r.tool_errors),
    errors: n(r.errors),
    aborts: n(r.aborts),
    compactions: n(r.compactions),
    resets: n(r.resets),
    models: r.models ? (JSON.parse(r.models) as (string | null)[]).filter((m): m is string => m !== null) : [],
    skills: r.skills ? (JSON.parse(r.skills) as string[]) : null,
    present: n(r.present) === 1,
    ended: null,
    calls: n(u?.calls),
    input: n(u?.input),
    output: n(u?.output),
    cacheRead: n(u?.cache_read),
    cacheWrite: n(u?.cache_write),
    recordedNanos: n(u?.recorded),
    estimatedNanos: n(u?.estimated),
    unpricedCalls: n(u?.unpriced),
    unpricedTokens: n(u?.unpriced_tokens),
  };
}

const TOOL_ROLLUP_SUMS = sql.raw(`sum(r.calls) AS calls, sum(r.with_result) AS with_result, sum(r.errors) AS errors,
  sum(r.args_bytes) AS args_bytes, sum(r.result_bytes) AS result_bytes, max(r.max_result_bytes) AS max_result_bytes`);
const TOOL_ROW_SUMS = sql.raw(`count(*) AS calls, count(r.result_event_id) AS with_result, count(*) FILTER (WHERE r.is_error = 1) AS errors,
  coalesce(sum(r.args_bytes), 0) AS args_bytes, coalesce(sum(r.result_bytes), 0) AS result_bytes, coalesce(max(r.result_bytes), 0) AS max_result_bytes`);
const TOOL_SOURCES: Record<PieceLevel, { table: string; column: string; unit: number; sums: typeof TOOL_ROW_SUMS; name: ReturnType<typeof sql.raw>; where: ReturnType<typeof sql.raw> }> = {
  day: { table: "tool_rollup_day", column: "bucket", unit: LEVEL_MS.day, sums: TOOL_ROLLUP_SUMS, name: sql.raw("r.name"), where: sql.raw("TRUE") },
  hour: { table: "tool_rollup_hour", column: "bucket", unit: LEVEL_MS.hour, sums: TOOL_ROLLUP_SUMS, name: sql.raw("r.name"), where: sql.raw("TRUE") },
  slot: { table: "tool_rollup", column: "slot", unit: LEVEL_MS.slot, sums: TOOL_ROLLUP_SUMS, name: sql.raw("r.name"), where: sql.raw("TRUE") },
  raw: { table: "tool_calls", column: "ts", unit: 1, sums: TOOL_ROW_SUMS, name: sql.raw("coalesce(r.name, '(unknown)')"), where: sql.raw("r.call_event_id IS NOT NULL") },
};

/** Tool calls per tool over a range, answered like usage: coarsest rollup level that fits, rows at the edges. */
export async function toolAggregates(conn: StoreConnection, f: ReportFilters): Promise<ToolAggregate[]> {
  const pieces = decomposeBuckets(rangeBoundaries(f, null));
  const out = new Map<string, ToolAggregate>();
  for (const level of ["day", "hour", "slot", "raw"] as const) {
    const list = pieces.filter((p) => p.level === level);
    if (list.length === 0) continue;
    const src = TOOL_SOURCES[level];
    const rows = await sql<Record<string, unknown>>`${piecesUnion(list, src, sql`${src.name} AS name, ${src.sums}`, sql`${scopeOf("r", f)} AND ${src.where}`, src.name)}`.execute(conn.db);
    for (const r of rows.rows) {
      const name = String(r["name"]);
      const t = out.get(name) ?? { name, calls: 0, withResult: 0, errors: 0, argsBytes: 0, resultBytes: 0, maxResultBytes: 0 };
      t.calls += n(r["calls"]);
      t.withResult += n(r["with_result"]);
      t.errors += n(r["errors"]);
      t.argsBytes += n(r["args_bytes"]);
      t.resultBytes += n(r["result_bytes"]);
      t.maxResultBytes = Math.max(t.maxResultBytes, n(r["max_result_bytes"]));
      out.set(name, t);
    }
  }
  return [...out.values()];
}

// ---- whole reports --------------------------------------------------------------------------------------

export async function summaryReport(conn: StoreConnection, f: ReportFilters, now: number) {
  const days = await reportBoundaries(conn, f, "day");
  const [rows, dayRows, sessions, toolCalls, problems] = await Promise.all([
    usageAggregates(conn, f),
    usageAggregates(conn, f, days, false),
    countSessions(conn, f),
    countToolCalls(conn, f),
    problemCounts(conn, f, now),
  ]);
  return buildSummaryReport({ rows, dayRows, sessions, toolCalls, problems, filters: f, generatedAt: now });
}

export async function periodReport(conn: StoreConnection, f: ReportFilters, bucket: "day" | "week" | "month", now: number) {
  return buildPeriodReport(await usageAggregates(conn, f, await reportBoundaries(conn, f, bucket)), bucket, f, now);
}

export async function modelsReport(conn: StoreConnection, f: ReportFilters, now: number) {
  const [rows, sessions] = await Promise.all([usageAggregates(conn, f), distinctSessions(conn, f, "model")]);
  return buildModelsReport(rows, sessions, f, now);
}

export async function agentsReport(conn: StoreConnection, f: ReportFilters, now: number) {
  const [rows, sessions] = await Promise.all([usageAggregates(conn, f), distinctSessions(conn, f, "agent")]);
  return buildAgentsReport(rows, sessions, f, now);
}

export async function sessionsReport(conn: StoreConnection, f: ReportFilters, q: SessionQuery, now: number) {
  const { rows, total } = await sessionAggregates(conn, f, q);
  const report = buildSessionsReport(rows, total, f, now);
  const health = await sessionHealthOf(conn, rows);
  return { ...report, sessions: report.sessions.map((s) => ({ ...s, health: health.get(healthKey(s))! })) };
}

export async function toolsReport(conn: StoreConnection, f: ReportFilters, now: number) {
  return buildToolsReport(await toolAggregates(conn, f), f, now);
}

// ---- filter choices ---------------------------------------------------------------------------------------

/**
 * Distinct values of an indexed sessions column, by skipping from one value to the next in the index
 * (a few index seeks per value instead of reading every session).
 */
async function distinctSessionValues(conn: StoreConnection, column: "kind" | "channel", deployment: string | null): Promise<string[]> {
  const col = sql.ref(column);
  const dep = deployment === null ? sql`TRUE` : sql`deployment_id = ${deployment}`;
  const r = await sql<{ v: string | null }>`WITH RECURSIVE k(v) AS (
      SELECT (SELECT min(${col}) FROM sessions WHERE ${col} IS NOT NULL AND ${dep})
      UNION ALL
      SELECT (SELECT min(${col}) FROM sessions WHERE ${col} > k.v AND ${dep}) FROM k WHERE k.v IS NOT NULL)
    SELECT v FROM k WHERE v IS NOT NULL`.execute(conn.db);
  return r.rows.map((x) => x.v!);
}

export type Facets = { agents: string[]; models: string[]; kinds: string[]; channels: string[] };

/** What the dashboard's filters can choose from, in one deployment or all. */
export async function facets(conn: StoreConnection, deployment: string | null): Promise<Facets> {
  let agentsQ = conn.db.selectFrom("agents").select("agent_id").distinct().orderBy("agent_id");
  // Models with calls: the day rollup is thousands of rows where session_models has one per session and model.
  let modelsQ = conn.db.selectFrom("usage_rollup_day").select(["provider", "model"]).distinct().orderBy("provider").orderBy("model");
  if (deployment !== null) {
    agentsQ = agentsQ.where("deployment_id", "=", deployment);
    modelsQ = modelsQ.where("deployment_id", "=", deployment);
  }
  const agents = await agentsQ.execute();
  const models = await modelsQ.execute();
  const kinds = await distinctSessionValues(conn, "kind", deployment);
  const channels = await distinctSessionValues(conn, "channel", deployment);
  return { agents: agents.map((a) => a.agent_id), models: models.map((m) => `${m.provider}/${m.model}`), kinds, channels };
}
