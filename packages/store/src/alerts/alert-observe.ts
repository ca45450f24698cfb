/**
 * What the evaluator measures, per rule kind, from the store — only for what changed: the sessions written since
 * the evaluator's cursor (session kinds), or the rule's current window from the rollups (window kinds). The
 * numbers go to the pure condition functions in @clawtower/core.
 */
import { sql } from "kysely";
import {
  SLOT_MS,
  bucketKey,
  bucketStart,
  contextBloatMet,
  errorRateMet,
  sessionConditionMet,
  spendSpikeMet,
  stuckMet,
  trailingRepeats,
  windowSpendMet,
  type AlertRule,
  type AlertScope,
  type AlertWindow,
  type Observation,
} from "@clawtower/core";
import type { StoreConnection } from "../connection.ts";
import { usageAggregates } from "../report-queries.ts";
import type { AlertCursor } from "./alert-store.ts";

type Db = StoreConnection["db"];

export type TouchedSession = {
  deploymentId: string;
  agentId: string;
  sessionId: string;
  kind: string;
  channel: string | null;
  models: string[];
  costNanos: number;
  tokens: number;
  lastTs: number | null;
  ended: boolean;
};

export const sessionKey = (s: Pick<TouchedSession, "deploymentId" | "agentId" | "sessionId">) => `${s.deploymentId}/${s.agentId}/${s.sessionId}`;
const sessionLabels = (s: TouchedSession) => ({ deployment: s.deploymentId, agent: s.agentId, session: s.sessionId });

/** New changes after the cursor: the new cursor, and since when sessions may have been written. */
export async function changesAfter(db: Db, cursor: AlertCursor | null): Promise<{ head: AlertCursor; sinceAt: number; deployments: Set<string | null> } | null> {
  if (!cursor) {
    // The first pass ever starts at the head: alerting watches what is written from now on, it does not replay the store.
    const head = await db.selectFrom("changes").select(["change_id", "at"]).orderBy("change_id", "desc").limit(1).executeTakeFirst();
    return { head: { changeId: Number(head?.change_id ?? 0), at: Number(head?.at ?? 0) }, sinceAt: Number.MAX_SAFE_INTEGER, deployments: new Set() };
  }
  const rows = await db.selectFrom("changes").select(["change_id", "deployment_id", "at"]).where("change_id", ">", cursor.changeId).orderBy("change_id").limit(5000).execute();
  if (rows.length === 0) return null;
  const last = rows.at(-1)!;
  // A session written after the previous change row has updated_at > that change's time (one clock per writer).
  return { head: { changeId: Number(last.change_id), at: Number(last.at) }, sinceAt: cursor.at, deployments: new Set(rows.map((r) => r.deployment_id)) };
}

const SESSION_COLUMNS = sql.raw(`deployment_id, agent_id, session_id, kind, channel, models, last_ts, present,
  cost_recorded_nanos + cost_estimated_nanos AS cost, input_tokens + output_tokens + cache_read_tokens + cache_write_tokens AS tokens`);

type SessionRow = { deployment_id: string; agent_id: string; session_id: string; kind: string; channel: string | null; models: string | null; last_ts: number | null; present: number; cost: number; tokens: number };

function touchedOf(r: SessionRow): TouchedSession {
  let models: string[] = [];
  try {
    models = r.models ? (JSON.parse(r.models) as string[]) : [];
  } catch {
    models = [];
  }
  return {
    deploymentId: r.deployment_id,
    agentId: r.agent_id,
    sessionId: r.session_id,
    kind: r.kind,
    channel: r.channel,
    models,
    costNanos: Number(r.cost),
    tokens: Number(r.tokens),
    lastTs: r.last_ts === null ? null : Number(r.last_ts),
    ended: Number(r.present) === 0,
  };
}

/** Sessions written after `sinceAt` (the sessions_updated index). */
export async function sessionsUpdatedSince(db: Db, sinceAt: number): Promise<TouchedSession[]> {
  const r = await sql<SessionRow>`SELECT ${SESSION_COLUMNS} FROM sessions WHERE updated_at > ${sinceAt}`.execute(db);
  return r.rows.map(touchedOf);
}

/** Sessions whose last event lies in [from, to) (the sessions_last_ts index): stuck-session candidates. */
export async function sessionsLastBetween(db: Db, from: number, to: number): Promise<TouchedSession[]> {
  const r = await sql<SessionRow>`SELECT ${SESSION_COLUMNS} FROM sessions WHERE last_ts >= ${from} AND last_ts < ${to}`.execute(db);
  return r.rows.map(touchedOf);
}

export async function sessionsByKeys(db: Db, keys: readonly string[]): Promise<TouchedSession[]> {
  const out: TouchedSession[] = [];
  for (const k of keys) {
    const [d, a, ...s] = k.split("/");
    const r = await sql<SessionRow>`SELECT ${SESSION_COLUMNS} FROM sessions WHERE deployment_id = ${d} AND agent_id = ${a} AND session_id = ${s.join("/")}`.execute(db);
    if (r.rows[0]) out.push(touchedOf(r.rows[0]));
  }
  return out;
}

const modelMatches = (m: string, want: string) => m === want || m.endsWith(`/${want}`);

export function sessionInScope(s: TouchedSession, scope: AlertScope): boolean {
  if (scope.deployment && s.deploymentId !== scope.deployment) return false;
  if (scope.agent && s.agentId !== scope.agent) return false;
  if (scope.channel && s.channel !== scope.channel) return false;
  if (scope.sessionKind && s.kind !== scope.sessionKind) return false;
  if (scope.model && !s.models.some((m) => modelMatches(m, scope.model!))) return false;
  return true;
}

/** Can a change to this deployment (null: unknown) move a window rule of this scope? */
export function deploymentInScope(dep: string | null, scope: AlertScope): boolean {
  return !scope.deployment || dep === null || dep === scope.deployment;
}

/** The window of a rule containing `at`: [start, end) in its time zone. */
export function windowAt(window: AlertWindow, tz: string, at: number): { start: number; end: number } {
  const start = bucketStart(bucketKey(at, tz, window), tz, window);
  // The next window's start: one step past the longest possible window lands inside the next one.
  const step = window === "hour" ? 3_600_000 : window === "day" ? 26 * 3_600_000 : 32 * 86_400_000;
  const end = window === "hour" ? start + step : bucketStart(bucketKey(start + step, tz, window), tz, window);
  return { start, end };
}

/** Spend (nano-dollars) in [from, to) for a scope. Deployment/agent/model from the rollups; channel/kind from the calls. */
export async function spendBetween(conn: StoreConnection, scope: AlertScope, boundaries: number[]): Promise<number[]> {
  const out = new Array<number>(boundaries.length - 1).fill(0);
  if (!scope.channel && !scope.sessionKind) {
    const rows = await usageAggregates(conn, { since: boundaries[0]!, until: boundaries.at(-1)!, tz: "UTC", agent: scope.agent ?? null, deployment: scope.deployment ?? null }, boundaries, !!scope.model);
    for (const r of rows) {
      if (scope.model && !modelMatches(`${r.provider}/${r.model}`, scope.model)) continue;
      const idx = bucketIndexOf(r, boundaries);
      if (idx >= 0) out[idx] = out[idx]! + Number(r.recordedNanos) + Number(r.estimatedNanos);
    }
    return out;
  }
  for (let i = 0; i < boundaries.length - 1; i++) {
    const r = await sql<{ cost: number | null }>`SELECT sum(c.cost_nanos) AS cost FROM llm_calls c JOIN sessions s
      ON s.deployment_id = c.deployment_id AND s.agent_id = c.agent_id AND s.session_id = c.session_id
      WHERE c.ts >= ${boundaries[i]} AND c.ts < ${boundaries[i + 1]} AND c.cost_source <> 'unknown' AND ${callScope(scope)}`.execute(conn.db);
    out[i] = Number(r.rows[0]?.cost ?? 0);
  }
  return out;
}

/** Rows carry the slot of their bucket's start. */
function bucketIndexOf(r: { slot: number }, boundaries: number[]): number {
  const at = r.slot * SLOT_MS;
  for (let j = boundaries.length - 2; j >= 0; j--) if (at >= boundaries[j]!) return j;
  return -1;
}

/** The scope as SQL over llm_calls `c` joined with sessions `s`. */
function callScope(scope: AlertScope, tools = false) {
  const parts = [sql`TRUE`];
  if (scope.deployment) parts.push(sql`c.deployment_id = ${scope.deployment}`);
  if (scope.agent) parts.push(sql`c.agent_id = ${scope.agent}`);
  if (scope.channel) parts.push(sql`s.channel = ${scope.channel}`);
  if (scope.sessionKind) parts.push(sql`s.kind = ${scope.sessionKind}`);
  if (scope.model && !tools) parts.push(sql`(c.model = ${scope.model} OR c.provider || '/' || c.model = ${scope.model})`);
  return sql.join(parts, sql` AND `);
}

async function callErrors(conn: StoreConnection, scope: AlertScope, from: number, to: number): Promise<{ calls: number; errors: number }> {
  // The join with sessions only when the scope needs a session's channel or kind.
  const join = scope.channel || scope.sessionKind ? sql`JOIN sessions s ON s.deployment_id = c.deployment_id AND s.agent_id = c.agent_id AND s.session_id = c.session_id` : sql``;
  const r = await sql<{ calls: number; errors: number | null }>`SELECT count(*) AS calls, sum(CASE WHEN c.stop_reason = 'error' THEN 1 ELSE 0 END) AS errors
    FROM llm_calls c ${join} WHERE c.ts >= ${from} AND c.ts < ${to} AND ${callScope(scope)}`.execute(conn.db);
  return { calls: Number(r.rows[0]?.calls ?? 0), errors: Number(r.rows[0]?.errors ?? 0) };
}

async function toolErrors(conn: StoreConnection, scope: AlertScope, from: number, to: number): Promise<{ calls: number; errors: number }> {
  const join = scope.channel || scope.sessionKind ? sql`JOIN sessions s ON s.deployment_id = c.deployment_id AND s.agent_id = c.agent_id AND s.session_id = c.session_id` : sql``;
  const r = await sql<{ calls: number; errors: number | null }>`SELECT count(*) AS calls, sum(CASE WHEN c.is_error = 1 THEN 1 ELSE 0 END) AS errors
    FROM tool_calls c ${join} WHERE c.ts >= ${from} AND c.ts < ${to} AND c.is_error IS NOT NULL AND ${callScope(scope, true)}`.execute(conn.db);
  return { calls: Number(r.rows[0]?.calls ?? 0), errors: Number(r.rows[0]?.errors ?? 0) };
}

/** Window kinds: one instance per rule (key ""), measured whole each time. Null for the other kinds. */
export async function observeWindowRule(conn: StoreConnection, rule: AlertRule, now: number, m?: PassMemo): Promise<Observation | null> {
  const c = rule.condition;
  const spendBetweenMemo = (scope: AlertScope, b: number[]) => memo(m, `spend/${JSON.stringify(scope)}/${b.join(",")}`, () => spendBetween(conn, scope, b));
  if (c.kind === "window-spend") {
    const w = windowAt(c.window, c.tz, now);
    const [spend] = await spendBetweenMemo(rule.scope, [w.start, w.end]);
    return { key: "", labels: { window: new Date(w.start).toISOString() }, ...windowSpendMet(c.aboveUsd, spend ?? 0) };
  }
  if (c.kind === "spend-spike") {
    const bounds = [windowAt(c.window, c.tz, now).start];
    for (let i = 0; i < c.baselineWindows; i++) bounds.unshift(windowAt(c.window, c.tz, bounds[0]! - 1).start);
    bounds.push(windowAt(c.window, c.tz, now).end);
    const spend = await spendBetweenMemo(rule.scope, bounds);
    const current = spend.at(-1) ?? 0;
    return { key: "", labels: { window: new Date(bounds.at(-2)!).toISOString() }, ...spendSpikeMet(c.factor, c.minUsd, current, spend.slice(0, -1)) };
  }
  if (c.kind === "error-rate" || c.kind === "tool-error-rate") {
    const from = now - c.windowMinutes * 60_000;
    const r = await memo(m, `${c.kind}/${JSON.stringify(rule.scope)}/${from}`, () => (c.kind === "error-rate" ? callErrors(conn, rule.scope, from, now + 1) : toolErrors(conn, rule.scope, from, now + 1)));
    return { key: "", labels: { calls: String(r.calls), errors: String(r.errors) }, ...errorRateMet(c.aboveRatio, c.minCalls, r.calls, r.errors) };
  }
  return null;
}

export const isWindowKind = (k: string) => k === "window-spend" || k === "spend-spike" || k === "error-rate" || k === "tool-error-rate";
export const isSessionKind = (k: string) => k === "session-cost" || k === "session-tokens" || k === "tool-loop" || k === "context-bloat" || k === "stuck-session";

/** Query answers shared by the rules of one pass (rules of the same kind, scope or window ask the same question). */
export type PassMemo = Map<string, Promise<unknown>>;

function memo<T>(m: PassMemo | undefined, key: string, f: () => Promise<T>): Promise<T> {
  if (!m) return f();
  let p = m.get(key) as Promise<T> | undefined;
  if (!p) {
    p = f();
    m.set(key, p);
  }
  return p;
}

/** Session kinds: one instance per session, for the given (touched) sessions in the rule's scope. */
export async function observeSessions(conn: StoreConnection, rule: AlertRule, sessions: readonly TouchedSession[], now: number, m?: PassMemo): Promise<Observation[]> {
  const c = rule.condition;
  const out: Observation[] = [];
  for (const s of sessions) {
    if (!sessionInScope(s, rule.scope)) continue;
    const key = sessionKey(s);
    const labels = sessionLabels(s);
    if (c.kind === "session-cost" || c.kind === "session-tokens") {
      out.push({ key, labels, ...sessionConditionMet(c, s)! });
    } else if (c.kind === "tool-loop") {
      const r = await memo(m, `loop/${key}/${c.repeats}`, () => sql<{ name: string | null; args_bytes: number | null }>`SELECT name, args_bytes FROM tool_calls
        WHERE deployment_id = ${s.deploymentId} AND agent_id = ${s.agentId} AND session_id = ${s.sessionId} ORDER BY ts DESC, call_id DESC LIMIT ${c.repeats}`.execute(conn.db));
      const calls = [...r.rows].reverse().map((x) => ({ name: x.name, argsKey: x.args_bytes === null ? null : String(x.args_bytes) }));
      const n = trailingRepeats(calls);
      out.push({ key, labels: { ...labels, tool: calls.at(-1)?.name ?? "" }, value: n, active: n >= c.repeats });
    } else if (c.kind === "context-bloat") {
      const take = Math.max(c.growingCalls ?? 1, 1);
      const r = await memo(m, `bloat/${key}/${take}`, () => sql<{ ts: number; prompt: number }>`SELECT ts, input_tokens + cache_read_tokens + cache_write_tokens AS prompt FROM llm_calls
        WHERE deployment_id = ${s.deploymentId} AND agent_id = ${s.agentId} AND session_id = ${s.sessionId} ORDER BY ts DESC, event_id DESC LIMIT ${take}`.execute(conn.db));
      const calls = [...r.rows].reverse().map((x) => ({ ts: Number(x.ts), prompt: Number(x.prompt) }));
      const since = calls[0]?.ts;
      const compactions =
        since === undefined
          ? []
          : (
              await memo(m, `compactions/${key}/${since}`, () => sql<{ ts: number }>`SELECT ts FROM events WHERE deployment_id = ${s.deploymentId} AND agent_id = ${s.agentId} AND session_id = ${s.sessionId}
              AND type = 'compaction' AND ts >= ${since}`.execute(conn.db))
            ).rows.map((x) => Number(x.ts));
      const withCompaction = calls.map((x, i) => ({ promptTokens: x.prompt, compactedBefore: i > 0 && compactions.some((t) => t > calls[i - 1]!.ts && t <= x.ts) }));
      out.push({ key, labels, ...contextBloatMet(c, withCompaction) });
    } else if (c.kind === "stuck-session") {
      const running = !s.ended && (await memo(m, `midturn/${key}`, () => midTurn(conn.db, s)));
      out.push({ key, labels, ...stuckMet(c.idleMinutes, s.lastTs ?? now, !running, now) });
    }
  }
  return out;
}

/**
 * Is the session in the middle of a turn — its latest message a user message or tool result the agent has not
 * answered, or an LLM call that asked for tools? A session whose last call answered is idle, not stuck. (LLM calls
 * and tool results have tables of their own; `events` holds the other messages.)
 */
async function midTurn(db: Db, s: TouchedSession): Promise<boolean> {
  const key = sql`deployment_id = ${s.deploymentId} AND agent_id = ${s.agentId} AND session_id = ${s.sessionId}`;
  const r = await sql<{ user_ts: number | null; result_ts: number | null; call_ts: number | null; call_tools: number | null }>`SELECT
    (SELECT max(ts) FROM events WHERE ${key} AND type = 'message' AND role = 'user') AS user_ts,
    (SELECT max(result_ts) FROM tool_calls WHERE ${key}) AS result_ts,
    (SELECT max(ts) FROM llm_calls WHERE ${key}) AS call_ts,
    (SELECT tool_call_count FROM llm_calls WHERE ${key} ORDER BY ts DESC, event_id DESC LIMIT 1) AS call_tools`.execute(db);
  const row = r.rows[0];
  if (!row) return false;
  const asked = Math.max(Number(row.user_ts ?? -1), Number(row.result_ts ?? -1));
  const answered = row.call_ts === null ? -1 : Number(row.call_ts);
  if (asked > answered) return true;
  return answered >= 0 && Number(row.call_tools ?? 0) > 0;
}
