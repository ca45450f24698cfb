/**
 * Fleet budgets: their definitions (validated by core's FleetBudgetSchema, kept as JSON), the fleet's spend in
 * a budget's scope for a period, and the budget events gateways ship. Spend is priced as the ledger prices:
 * recorded cost, else estimated, in integer nano-dollars; unpriced calls add tokens, never money.
 *
 * Where it comes from: scopes of agent / provider / model only are answered from the usage rollups (whole days,
 * hours and 15-minute slots) with raw calls for the edges; scopes naming channel, kind or cronJob need each
 * call's session (its kind, channel and key), so they join raw calls of the period with sessions.
 */
import { sql } from "kysely";
import {
  ALL_DEPLOYMENTS,
  BudgetEventSchema,
  FleetBudgetSchema,
  LEVEL_MS,
  budgetPeriodOf,
  budgetScopeCovers,
  budgetState,
  channelOf,
  cronJobOf,
  decomposeBuckets,
  describeBudgetIssues,
  type BudgetEvent,
  type BudgetSpend,
  type EffectiveBudget,
  type EffectiveBudgets,
  type FleetBudget,
  type PieceLevel,
  type SpendScope,
  type StoredBudgetEvent,
} from "@clawtower/core";
import type { StoreConnection } from "./connection.ts";

export class BudgetValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BudgetValidationError";
  }
}

/** Validates a fleet budget; a bad field is named by its path (`scope.agent: …`). */
export function parseFleetBudget(input: unknown): FleetBudget {
  const r = FleetBudgetSchema.safeParse(input);
  if (!r.success) throw new BudgetValidationError(`invalid budget: ${describeBudgetIssues(r.error)}`);
  return r.data;
}

/** Creates or replaces the budget with the same id. */
export async function setBudget(conn: StoreConnection, input: unknown, now: number): Promise<FleetBudget> {
  const b = parseFleetBudget(input);
  const definition = JSON.stringify(b);
  await conn.db
    .insertInto("budgets")
    .values({ budget_id: b.id, deployment_id: b.deployment, definition, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column("budget_id").doUpdateSet({ deployment_id: b.deployment, definition, updated_at: now }))
    .execute();
  return b;
}

function fromRow(r: { budget_id: string; definition: string }): FleetBudget {
  // Stored definitions were validated on the way in; parsing again keeps defaults of later versions.
  const parsed = FleetBudgetSchema.safeParse(JSON.parse(r.definition));
  if (!parsed.success) throw new Error(`stored budget ${r.budget_id} no longer validates: ${describeBudgetIssues(parsed.error)}`);
  return parsed.data;
}

export async function listBudgets(conn: StoreConnection): Promise<FleetBudget[]> {
  const rows = await conn.db.selectFrom("budgets").select(["budget_id", "definition"]).orderBy("budget_id").execute();
  return rows.map(fromRow);
}

export async function getBudget(conn: StoreConnection, id: string): Promise<FleetBudget | null> {
  const r = await conn.db.selectFrom("budgets").select(["budget_id", "definition"]).where("budget_id", "=", id).executeTakeFirst();
  return r ? fromRow(r) : null;
}

export async function removeBudget(conn: StoreConnection, id: string): Promise<boolean> {
  const r = await conn.db.deleteFrom("budgets").where("budget_id", "=", id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Budgets that apply to a deployment: its own and those for every deployment ("*"). */
export async function budgetsForDeployment(conn: StoreConnection, deployment: string): Promise<FleetBudget[]> {
  const rows = await conn.db
    .selectFrom("budgets")
    .select(["budget_id", "definition"])
    .where("deployment_id", "in", [deployment, ALL_DEPLOYMENTS])
    .orderBy("budget_id")
    .execute();
  return rows.map(fromRow);
}

export type ScopeSpend = { spend: BudgetSpend; byDeployment: (BudgetSpend & { deployment: string })[]; unsupported: [] };

const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const s = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const zero = (): BudgetSpend => ({ nanos: 0, tokens: 0, calls: 0, unpricedCalls: 0, unpricedTokens: 0 });

const ROLLUP_TABLES: Record<Exclude<PieceLevel, "raw">, { table: string; column: string; unit: number }> = {
  day: { table: "usage_rollup_day", column: "bucket", unit: LEVEL_MS.day },
  hour: { table: "usage_rollup_hour", column: "bucket", unit: LEVEL_MS.hour },
  slot: { table: "usage_rollup", column: "slot", unit: LEVEL_MS.slot },
};

const ROLLUP_SUMS = sql.raw(`sum(r.calls) AS calls, sum(r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_tokens) AS tokens,
  sum(r.recorded_nanos + r.estimated_nanos) AS nanos, sum(r.unpriced_calls) AS unpriced, sum(r.unpriced_tokens) AS unpriced_tokens`);
const CALL_SUMS = sql.raw(`count(*) AS calls, sum(r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_tokens) AS tokens,
  coalesce(sum(r.cost_nanos) FILTER (WHERE r.cost_source <> 'unknown'), 0) AS nanos,
  count(*) FILTER (WHERE r.cost_source = 'unknown') AS unpriced,
  coalesce(sum(r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_tokens) FILTER (WHERE r.cost_source = 'unknown'), 0) AS unpriced_tokens`);

type SpendRow = Record<string, unknown>;

function where(budget: FleetBudget) {
  const parts = [];
  if (budget.deployment !== ALL_DEPLOYMENTS) parts.push(sql`r.deployment_id = ${budget.deployment}`);
  if (budget.scope.agent !== undefined) parts.push(sql`r.agent_id = ${budget.scope.agent}`);
  if (budget.scope.provider !== undefined) parts.push(sql`r.provider = ${budget.scope.provider}`);
  return parts.length ? sql.join(parts, sql` AND `) : sql`TRUE`;
}

/** Calls of [from, to) by deployment, agent, provider and model, from the rollups where whole units fit. */
async function rollupSpendRows(conn: StoreConnection, budget: FleetBudget, from: number, to: number): Promise<SpendRow[]> {
  const rows: SpendRow[] = [];
  const byLevel = new Map<PieceLevel, [number, number][]>();
  for (const p of decomposeBuckets([from, to])) byLevel.set(p.level, [...(byLevel.get(p.level) ?? []), [p.from, p.to]]);
  for (const [level, ranges] of byLevel) {
    if (level === "raw") {
      const inRange = sql.join(ranges.map(([lo, hi]) => sql`(r.ts >= ${lo} AND r.ts < ${hi})`), sql` OR `);
      const r = await sql<SpendRow>`SELECT r.deployment_id, r.agent_id, r.provider, r.model, ${CALL_SUMS} FROM llm_calls r
        WHERE (${inRange}) AND ${where(budget)} GROUP BY r.deployment_id, r.agent_id, r.provider, r.model`.execute(conn.db);
      rows.push(...r.rows);
      continue;
    }
    const src = ROLLUP_TABLES[level];
    const col = sql.ref(`r.${src.column}`);
    const inRange = sql.join(ranges.map(([lo, hi]) => sql`(${col} >= ${lo / src.unit} AND ${col} < ${hi / src.unit})`), sql` OR `);
    const r = await sql<SpendRow>`SELECT r.deployment_id, r.agent_id, r.provider, r.model, ${ROLLUP_SUMS} FROM ${sql.table(src.table)} r
      WHERE (${inRange}) AND ${where(budget)} GROUP BY r.deployment_id, r.agent_id, r.provider, r.model`.execute(conn.db);
    rows.push(...r.rows);
  }
  return rows;
}

/** Calls of [from, to) with their session's kind, channel and key (for scopes that name those). */
async function sessionSpendRows(conn: StoreConnection, budget: FleetBudget, from: number, to: number): Promise<SpendRow[]> {
  const kind = budget.scope.kind !== undefined ? sql`AND s.kind = ${budget.scope.kind}` : sql``;
  const r = await sql<SpendRow>`SELECT r.deployment_id, r.agent_id, r.provider, r.model, s.kind, s.channel, s.session_key, ${CALL_SUMS}
    FROM llm_calls r JOIN sessions s ON s.deployment_id = r.deployment_id AND s.agent_id = r.agent_id AND s.session_id = r.session_id
    WHERE r.ts >= ${from} AND r.ts < ${to} AND ${where(budget)} ${kind}
    GROUP BY r.deployment_id, r.agent_id, r.provider, r.model, s.kind, s.channel, s.session_key`.execute(conn.db);
  return r.rows;
}

function add(into: BudgetSpend, r: SpendRow): void {
  into.nanos += n(r["nanos"]);
  into.tokens += n(r["tokens"]);
  into.calls += n(r["calls"]);
  into.unpricedCalls += n(r["unpriced"]);
  into.unpricedTokens += n(r["unpriced_tokens"]);
}

/**
 * The spend in a budget's scope over [from, to), in all and per deployment: only the budget's deployment, or
 * every one for "*". Every scope key can be evaluated from the store (`unsupported` stays empty): channel is the
 * session's channel, else the one in its key; cronJob comes from the session key (`…:cron:<job>`).
 */
export async function budgetScopeSpend(conn: StoreConnection, budget: FleetBudget, from: number, to: number): Promise<ScopeSpend> {
  const bySession = budget.scope.channel !== undefined || budget.scope.kind !== undefined || budget.scope.cronJob !== undefined;
  const rows = bySession ? await sessionSpendRows(conn, budget, from, to) : await rollupSpendRows(conn, budget, from, to);
  const total = zero();
  const per = new Map<string, BudgetSpend & { deployment: string }>();
  for (const r of rows) {
    const key = s(r["session_key"]);
    const who: SpendScope = {
      agent: s(r["agent_id"]),
      channel: bySession ? (s(r["channel"]) ?? channelOf(key)) : null,
      kind: bySession ? s(r["kind"]) : null,
      cronJob: bySession ? cronJobOf(key) : null,
      provider: s(r["provider"]),
      model: s(r["model"]),
    };
    if (!budgetScopeCovers(budget.scope, who)) continue;
    const dep = String(r["deployment_id"]);
    let d = per.get(dep);
    if (!d) per.set(dep, (d = { deployment: dep, ...zero() }));
    add(d, r);
    add(total, r);
  }
  return { spend: total, byDeployment: [...per.values()].sort((a, b) => a.deployment.localeCompare(b.deployment)), unsupported: [] };
}

/** A budget's current period at `now` with the fleet's spend in it. */
export async function effectiveBudget(conn: StoreConnection, budget: FleetBudget, now: number): Promise<EffectiveBudget> {
  const period = budgetPeriodOf(now, budget.period, budget.timeZone);
  const spent = await budgetScopeSpend(conn, budget, period.start, period.end);
  return {
    budget,
    periodStart: period.start,
    periodEnd: period.end,
    resetsAt: period.end,
    ...spent,
    state: budgetState(budget, spent.spend.nanos, spent.spend.tokens),
  };
}

/** `GET /api/v1/budgets/effective`: the budgets that apply to `deployment` (null: every budget) with their spend. */
export async function effectiveBudgets(conn: StoreConnection, deployment: string | null, now: number): Promise<EffectiveBudgets> {
  const budgets = deployment === null ? await listBudgets(conn) : await budgetsForDeployment(conn, deployment);
  const out: EffectiveBudget[] = [];
  for (const b of budgets) out.push(await effectiveBudget(conn, b, now));
  return { schemaVersion: 1, deployment, generatedAt: now, budgets: out };
}

export class BudgetEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BudgetEventError";
  }
}

/**
 * Stores budget events of one deployment (each event's `deployment`, when given, must be it). Idempotent: an
 * event id already stored for the deployment is counted as a duplicate and left as it was.
 */
export async function recordBudgetEvents(conn: StoreConnection, deployment: string, input: unknown[], now: number): Promise<{ accepted: number; duplicates: number }> {
  const events: BudgetEvent[] = input.map((e, i) => {
    const r = BudgetEventSchema.safeParse(e);
    if (!r.success) throw new BudgetEventError(describeBudgetIssues(r.error, `events[${i}]`));
    if (r.data.deployment !== undefined && r.data.deployment !== deployment) throw new BudgetEventError(`events[${i}].deployment: "${r.data.deployment}" is not this key's deployment "${deployment}"`);
    return r.data;
  });
  return conn.db.transaction().execute(async (tx) => {
    let accepted = 0;
    for (const e of events) {
      const r = await tx
        .insertInto("budget_events")
        .values({
          deployment_id: deployment,
          event_id: e.eventId,
          budget_id: e.budgetId,
          kind: e.kind,
          at: e.at,
          period_start: e.periodStart,
          run_id: e.runId,
          session_key: e.sessionKey,
          session_id: e.sessionId,
          agent_id: e.agentId,
          spent_usd: e.spentUsd,
          spent_tokens: e.spentTokens,
          limit_usd: e.limitUsd,
          limit_tokens: e.limitTokens,
          threshold: e.threshold === null ? null : String(e.threshold),
          detail: e.detail,
          received_at: now,
        })
        .onConflict((oc) => oc.columns(["deployment_id", "event_id"]).doNothing())
        .executeTakeFirst();
      accepted += Number(r.numInsertedOrUpdatedRows ?? 0n);
    }
    return { accepted, duplicates: events.length - accepted };
  });
}

export type BudgetEventQuery = { deployment?: string | null; budgetId?: string | null; kinds?: string[] | null; since?: number | null; limit?: number };

/**
 * Stored budget events, newest first. An event that names only its session key gets the session id of the
 * session with that key which had started by the event's time (a key's sessions follow one another on resets).
 */
export async function listBudgetEvents(conn: StoreConnection, q: BudgetEventQuery = {}): Promise<StoredBudgetEvent[]> {
  let query = conn.db.selectFrom("budget_events").selectAll();
  if (q.deployment) query = query.where("deployment_id", "=", q.deployment);
  if (q.budgetId) query = query.where("budget_id", "=", q.budgetId);
  if (q.kinds?.length) query = query.where("kind", "in", q.kinds);
  if (q.since !== undefined && q.since !== null) query = query.where("at", ">=", q.since);
  const rows = await query.orderBy("at", "desc").orderBy("event_id").limit(Math.min(Math.max(q.limit ?? 200, 1), 1000)).execute();
  const out: StoredBudgetEvent[] = [];
  for (const r of rows) {
    let sessionId = r.session_id;
    if (sessionId === null && r.session_key !== null && r.agent_id !== null) {
      const found = await conn.db
        .selectFrom("sessions")
        .select("session_id")
        .where("deployment_id", "=", r.deployment_id)
        .where("agent_id", "=", r.agent_id)
        .where("session_key", "=", r.session_key)
        .where((eb) => eb.or([eb("first_ts", "<=", n(r.at)), eb("first_ts", "is", null)]))
        .orderBy("first_ts", "desc")
        .limit(1)
        .executeTakeFirst();
      sessionId = found?.session_id ?? null;
    }
    const threshold = r.threshold === null ? null : r.threshold === "blocked" ? "blocked" : Number(r.threshold);
    out.push({
      eventId: r.event_id,
      deployment: r.deployment_id,
      kind: r.kind as StoredBudgetEvent["kind"],
      budgetId: r.budget_id,
      periodStart: n(r.period_start),
      at: n(r.at),
      runId: r.run_id,
      sessionKey: r.session_key,
      sessionId,
      agentId: r.agent_id,
      spentUsd: Number(r.spent_usd),
      spentTokens: n(r.spent_tokens),
      limitUsd: r.limit_usd === null ? null : Number(r.limit_usd),
      limitTokens: r.limit_tokens === null ? null : n(r.limit_tokens),
      threshold,
      detail: r.detail,
      receivedAt: n(r.received_at),
    });
  }
  return out;
}
