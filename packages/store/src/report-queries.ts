/**
 * The queries behind every report, written once for SQLite and PostgreSQL. They return integer aggregates;
 * the report builders in @clawtower/core turn them into JSON.
 */
import { sql, type Selectable, type SelectQueryBuilder } from "kysely";
import {
  SLOT_MS,
  buildAgentsReport,
  buildModelsReport,
  buildPeriodReport,
  buildSessionsReport,
  buildSummaryReport,
  buildToolsReport,
  type ProblemCounts,
  type ProblemKind,
  type ReportFilters,
  type SessionAggregate,
  type ToolAggregate,
  type UsageAggregate,
} from "@clawtower/core";
import type { StoreConnection } from "./connection.ts";
import { SLOT_OF_TS } from "./rollups.ts";
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

/** LLM calls aggregated per slot straight from the rows, for the partial slots at the edges of a range. */
async function rawUsage(conn: StoreConnection, f: ReportFilters, from: number, to: number): Promise<UsageAggregate[]> {
  if (from >= to) return [];
  const slot = SLOT_OF_TS;
  const rows = await scoped(conn.db.selectFrom("llm_calls"), { ...f, since: from, until: to })
    .select([slot.as("slot"), "agent_id", "provider", "model", ...USAGE_OF_CALLS])
    .groupBy([slot, "agent_id", "provider", "model"])
    .execute();
  return rows.map(usageRow);
}

/** Whole slots of a range read from the rollup; `firstSlot`/`endSlot` null means unbounded. */
async function rolledUsage(conn: StoreConnection, f: ReportFilters, firstSlot: number | null, endSlot: number | null): Promise<UsageAggregate[]> {
  let q = conn.db
    .selectFrom("usage_rollup")
    .select([
      "slot",
      "agent_id",
      "provider",
      "model",
      "calls",
      "input_tokens as input",
      "output_tokens as output",
      "cache_read_tokens as cache_read",
      "cache_write_tokens as cache_write",
      "recorded_nanos as recorded",
      "estimated_nanos as estimated",
      "unpriced_calls as unpriced",
      "unpriced_tokens",
    ]);
  if (f.deployment !== null) q = q.where("deployment_id", "=", f.deployment);
  if (f.agent !== null) q = q.where("agent_id", "=", f.agent);
  if (firstSlot !== null) q = q.where("slot", ">=", firstSlot);
  if (endSlot !== null) q = q.where("slot", "<", endSlot);
  return (await q.execute()).map((r) => usageRow(r as Record<string, unknown>));
}

/**
 * Usage per (slot, agent, provider, model) for a range: whole 15-minute slots come from the rollup, the
 * partial slots at either end from the calls themselves, so any instant range is exact and fast.
 */
export async function usageAggregates(conn: StoreConnection, f: ReportFilters): Promise<UsageAggregate[]> {
  const firstSlot = f.since === null ? null : Math.ceil(f.since / SLOT_MS);
  const endSlot = f.until === null ? null : Math.floor(f.until / SLOT_MS);
  if (firstSlot !== null && endSlot !== null && firstSlot >= endSlot) return rawUsage(conn, f, f.since!, f.until!);
  const parts = await Promise.all([
    rolledUsage(conn, f, firstSlot, endSlot),
    f.since !== null ? rawUsage(conn, f, f.since, firstSlot! * SLOT_MS) : Promise.resolve([]),
    f.until !== null ? rawUsage(conn, f, endSlot! * SLOT_MS, f.until) : Promise.resolve([]),
  ]);
  return parts.flat();
}

/** Sessions whose activity overlaps the range (first event before `until`, last event at or after `since`). */
export async function countSessions(conn: StoreConnection, f: ReportFilters): Promise<number> {
  let q = conn.db.selectFrom("sessions").select(sql<number>`count(*)`.as("n")).where("first_ts", "is not", null);
  if (f.deployment !== null) q = q.where("deployment_id", "=", f.deployment);
  if (f.agent !== null) q = q.where("agent_id", "=", f.agent);
  if (f.since !== null) q = q.where("last_ts", ">=", f.since);
  if (f.until !== null) q = q.where("first_ts", "<", f.until);
  return n((await q.executeTakeFirst())?.n);
}

export async function countToolCalls(conn: StoreConnection, f: ReportFilters): Promise<number> {
  const r = await scoped(conn.db.selectFrom("tool_calls"), f)
    .select(sql<number>`count(*)`.as("n"))
    .where("call_event_id", "is not", null)
    .executeTakeFirst();
  return n(r?.n);
}

export async function problemCounts(conn: StoreConnection, f: Pick<ReportFilters, "deployment">): Promise<ProblemCounts> {
  let q = conn.db.selectFrom("problems").select(["kind", sql<number>`count(*)`.as("n")]).groupBy("kind");
  if (f.deployment !== null) q = q.where("deployment_id", "=", f.deployment);
  const out: ProblemCounts = {};
  for (const r of await q.execute()) out[r.kind as ProblemKind] = n(r.n);
  return out;
}

export type ProblemListing = { kind: string; source: string; line: number | null; sessionId: string | null; seq: number | null; detail: string };

export async function listProblems(conn: StoreConnection, f: Pick<ReportFilters, "deployment">, limit: number): Promise<ProblemListing[]> {
  let q = conn.db.selectFrom("problems").select(["kind", "source", "line", "session_id", "seq", "detail"]).orderBy("source").orderBy("line").limit(limit);
  if (f.deployment !== null) q = q.where("deployment_id", "=", f.deployment);
  return (await q.execute()).map((r) => ({
    kind: r.kind,
    source: r.source,
    line: r.line === null ? null : n(r.line),
    sessionId: r.session_id,
    seq: r.seq === null ? null : n(r.seq),
    detail: r.detail,
  }));
}

/** Sessions per model (from session_models) or per agent (from sessions), active in the range. */
async function distinctSessions(conn: StoreConnection, f: ReportFilters, by: "model" | "agent"): Promise<Map<string, number>> {
  if (by === "agent") {
    let q = conn.db.selectFrom("sessions").select(["agent_id as k", sql<number>`count(*)`.as("n")]).where("first_ts", "is not", null).groupBy("agent_id");
    if (f.deployment !== null) q = q.where("deployment_id", "=", f.deployment);
    if (f.agent !== null) q = q.where("agent_id", "=", f.agent);
    if (f.since !== null) q = q.where("last_ts", ">=", f.since);
    if (f.until !== null) q = q.where("first_ts", "<", f.until);
    return new Map((await q.execute()).map((r) => [r.k, n(r.n)]));
  }
  let q = conn.db.selectFrom("session_models").select(["provider", "model", sql<number>`count(*)`.as("n")]).groupBy(["provider", "model"]);
  if (f.deployment !== null) q = q.where("deployment_id", "=", f.deployment);
  if (f.agent !== null) q = q.where("agent_id", "=", f.agent);
  if (f.since !== null) q = q.where("last_ts", ">=", f.since);
  if (f.until !== null) q = q.where("first_ts", "<", f.until);
  return new Map((await q.execute()).map((r) => [`${r.provider}\u0000${r.model}`, n(r.n)]));
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
  let base = conn.db.selectFrom("sessions as s").where("s.first_ts", "is not", null);
  if (f.deployment !== null) base = base.where("s.deployment_id", "=", f.deployment);
  if (f.agent !== null) base = base.where("s.agent_id", "=", f.agent);
  if (f.since !== null) base = base.where("s.last_ts", ">=", f.since);
  if (f.until !== null) base = base.where("s.first_ts", "<", f.until);
  if (q.sessionId !== undefined) base = base.where("s.session_id", "=", q.sessionId);
  if (q.kind !== undefined) base = base.where("s.kind", "=", q.kind);
  if (q.channel !== undefined) base = base.where("s.channel", "=", q.channel);
  if (q.model !== undefined) {
    const slash = q.model.indexOf("/");
    const provider = slash > 0 ? q.model.slice(0, slash) : null;
    const model = slash > 0 ? q.model.slice(slash + 1) : q.model;
    base = base.where((eb) =>
      eb.exists(
        eb
          .selectFrom("session_models as m")
          .select(sql`1`.as("one"))
          .whereRef("m.deployment_id", "=", "s.deployment_id")
          .whereRef("m.agent_id", "=", "s.agent_id")
          .whereRef("m.session_id", "=", "s.session_id")
          .where("m.model", "=", model)
          .$if(provider !== null, (qb) => qb.where("m.provider", "=", provider!)),
      ),
    );
  }
  if (q.q !== undefined && q.q.trim() !== "") {
    const like = `%${q.q.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    base = base.where((eb) =>
      eb.or([
        eb(sql`lower(s.session_id)`, "like", sql`${like} ESCAPE '\\'`),
        eb(sql`lower(coalesce(s.session_key, ''))`, "like", sql`${like} ESCAPE '\\'`),
        eb(sql`lower(coalesce(s.label, ''))`, "like", sql`${like} ESCAPE '\\'`),
      ]),
    );
  }
  const total = n((await base.select(sql<number>`count(*)`.as("n")).executeTakeFirst())?.n);
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
    const rows = await page(base.selectAll("s").orderBy(order).orderBy("s.session_id")).execute();
    return {
      total,
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

  const usage = scoped(conn.db.selectFrom("llm_calls"), f)
    .select(["deployment_id", "agent_id", "session_id", ...USAGE_OF_CALLS])
    .groupBy(["deployment_id", "agent_id", "session_id"]);

  if (sort === "last") {
    const rows = await page(base.selectAll("s").orderBy("s.last_ts", q.order === "asc" ? "asc" : "desc").orderBy("s.session_id")).execute();
    if (rows.length === 0) return { total, rows: [] };
    const usageRows = await usage.where(sql<boolean>`(deployment_id, agent_id, session_id) IN (${sql.join(rows.map((r) => sql`(${r.deployment_id}, ${r.agent_id}, ${r.session_id})`))})`).execute();
    const byKey = new Map(usageRows.map((u) => [`${u.deployment_id}\u0000${u.agent_id}\u0000${u.session_id}`, u]));
    return { total, rows: rows.map((r) => sessionFromRow(r, byKey.get(`${r.deployment_id}\u0000${r.agent_id}\u0000${r.session_id}`) ?? null)) };
  }

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
      .orderBy(order)
      .orderBy("s.session_id"),
  ).execute();
  return { total, rows: rows.map((r) => sessionFromRow(r, r as unknown as UsageCols)) };
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

/** Tool calls per tool; whole slots from the rollup, partial edge slots from the rows. */
export async function toolAggregates(conn: StoreConnection, f: ReportFilters): Promise<ToolAggregate[]> {
  const firstSlot = f.since === null ? null : Math.ceil(f.since / SLOT_MS);
  const endSlot = f.until === null ? null : Math.floor(f.until / SLOT_MS);
  const out = new Map<string, ToolAggregate>();
  const add = (r: Record<string, unknown>) => {
    const name = String(r["name"]);
    const t = out.get(name) ?? { name, calls: 0, withResult: 0, errors: 0, argsBytes: 0, resultBytes: 0, maxResultBytes: 0 };
    t.calls += n(r["calls"]);
    t.withResult += n(r["with_result"]);
    t.errors += n(r["errors"]);
    t.argsBytes += n(r["args_bytes"]);
    t.resultBytes += n(r["result_bytes"]);
    t.maxResultBytes = Math.max(t.maxResultBytes, n(r["max_result_bytes"]));
    out.set(name, t);
  };
  const raw = async (from: number, to: number) => {
    if (from >= to) return;
    const rows = await scoped(conn.db.selectFrom("tool_calls"), { ...f, since: from, until: to })
      .where("call_event_id", "is not", null)
      .select([
        sql<string>`coalesce(name, '(unknown)')`.as("name"),
        sql<number>`count(*)`.as("calls"),
        sql<number>`count(result_event_id)`.as("with_result"),
        sql<number>`count(*) FILTER (WHERE is_error = 1)`.as("errors"),
        sql<number>`coalesce(sum(args_bytes), 0)`.as("args_bytes"),
        sql<number>`coalesce(sum(result_bytes), 0)`.as("result_bytes"),
        sql<number>`coalesce(max(result_bytes), 0)`.as("max_result_bytes"),
      ])
      .groupBy(sql`coalesce(name, '(unknown)')`)
      .execute();
    rows.forEach((r) => add(r as Record<string, unknown>));
  };
  if (firstSlot !== null && endSlot !== null && firstSlot >= endSlot) {
    await raw(f.since!, f.until!);
  } else {
    let q = conn.db
      .selectFrom("tool_rollup")
      .select([
        "name",
        sql<number>`sum(calls)`.as("calls"),
        sql<number>`sum(with_result)`.as("with_result"),
        sql<number>`sum(errors)`.as("errors"),
        sql<number>`sum(args_bytes)`.as("args_bytes"),
        sql<number>`sum(result_bytes)`.as("result_bytes"),
        sql<number>`max(max_result_bytes)`.as("max_result_bytes"),
      ])
      .groupBy("name");
    if (f.deployment !== null) q = q.where("deployment_id", "=", f.deployment);
    if (f.agent !== null) q = q.where("agent_id", "=", f.agent);
    if (firstSlot !== null) q = q.where("slot", ">=", firstSlot);
    if (endSlot !== null) q = q.where("slot", "<", endSlot);
    (await q.execute()).forEach((r) => add(r as Record<string, unknown>));
    if (f.since !== null) await raw(f.since, firstSlot! * SLOT_MS);
    if (f.until !== null) await raw(endSlot! * SLOT_MS, f.until);
  }
  return [...out.values()];
}

// ---- whole reports --------------------------------------------------------------------------------------

export async function summaryReport(conn: StoreConnection, f: ReportFilters, now: number) {
  const [rows, sessions, toolCalls, problems] = await Promise.all([
    usageAggregates(conn, f),
    countSessions(conn, f),
    countToolCalls(conn, f),
    problemCounts(conn, f),
  ]);
  return buildSummaryReport({ rows, sessions, toolCalls, problems, filters: f, generatedAt: now });
}

export async function periodReport(conn: StoreConnection, f: ReportFilters, bucket: "day" | "week" | "month", now: number) {
  return buildPeriodReport(await usageAggregates(conn, f), bucket, f, now);
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
  return buildSessionsReport(rows, total, f, now);
}

export async function toolsReport(conn: StoreConnection, f: ReportFilters, now: number) {
  return buildToolsReport(await toolAggregates(conn, f), f, now);
}
