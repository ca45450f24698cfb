/**
 * Rollups keep dashboards fast at millions of LLM calls: usage and tool counts per 15-minute slot, and the
 * models each session used. They are derived data, kept equal to the rows in two ways:
 *   - rows a write adds (new calls, a tool call gaining its result) are added to the rollup rows they
 *     count in, as increments applied in the writer's transaction — re-aggregating a live slot on every
 *     ingest batch would cost as much as the slot holds;
 *   - slots and sessions whose rows were deleted or changed otherwise (rewritten parts, fork copies,
 *     re-pricing) are re-aggregated from the rows (delete + re-aggregate).
 */
import { sql } from "kysely";
import { SLOT_MS } from "@clawtower/core";
import { SESSION_TOTALS, callMeasures, callTotals, eventTotals, mergeSql, toolTotals, type CallRow, type EventRow, type Merge, type ToolRow } from "./measures.ts";
import { sessionPairs, type Db, type SessionRef } from "./refs.ts";
import type { UsageMeasures } from "./schema.ts";

// New code imports these from measures.ts; the re-export keeps older imports compiling.
export { callMeasures, mergeSql, type CallRow, type EventRow, type Merge, type ToolRow } from "./measures.ts";

/**
 * `ts / 900000` as SQL with the divisor inlined: a bound parameter would make SQLite divide in floating point
 * (node:sqlite binds numbers as REAL) and group by fractional "slots".
 */
export const SLOT_OF_TS = sql<number>`ts / ${sql.lit(SLOT_MS)}`;

type Key = (string | number)[];
/** A measure's increment; null for an extreme (min / max) that has no value to merge. */
type Value = number | null;

/**
 * Pending increments for one derived table: per key, each measure merged the way it will be merged into
 * the stored row (sums add; extremes keep the smaller / larger, a null changing nothing).
 */
export class Increments {
  readonly rows = new Map<string, { key: Key; values: Value[] }>();
  readonly table: string;
  readonly keyColumns: readonly string[];
  readonly measures: readonly (readonly [string, Merge])[];
  constructor(table: string, keyColumns: readonly string[], measures: readonly (readonly [string, Merge])[]) {
    this.table = table;
    this.keyColumns = keyColumns;
    this.measures = measures;
  }

  /** `sign` -1 takes a row's earlier contribution back; extremes cannot be taken back (see Touched.toolRow). */
  add(key: Key, values: Value[], sign: 1 | -1 = 1): void {
    const k = key.join("\u0000");
    let row = this.rows.get(k);
    if (!row) {
      row = { key, values: this.measures.map(([, m]) => (m === "sum" ? 0 : null)) };
      this.rows.set(k, row);
    }
    // A plain loop: this runs several times per stored row.
    const stored = row.values;
    for (let i = 0; i < stored.length; i++) {
      const merge = this.measures[i]![1];
      const v = values[i]!;
      const had = stored[i]!;
      if (merge === "sum") stored[i] = (had as number) + sign * (v as number);
      else if (sign === 1 && v !== null) stored[i] = had === null ? v : merge === "min" ? Math.min(had, v) : Math.max(had, v);
    }
  }

  /** The same increments for a coarser level: key column `bucketAt` divided by `factor` (merges are associative). */
  coarser(table: string, bucketAt: number, factor: number): Increments {
    const keyColumns = this.keyColumns.map((c, i) => (i === bucketAt ? "bucket" : c));
    const out = new Increments(table, keyColumns, this.measures);
    for (const { key, values } of this.rows.values()) {
      out.add(key.map((v, i) => (i === bucketAt ? Math.trunc((v as number) / factor) : v)), values);
    }
    return out;
  }

  /** Upserts the increments, in key order (concurrent writers then lock rollup rows in the same order). */
  async apply(db: Db, skipDeployments: ReadonlySet<string>): Promise<void> {
    const rows = [...this.rows.entries()]
      .filter(([, r]) => !skipDeployments.has(r.key[0] as string) && r.values.some((v) => v !== 0 && v !== null))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, r]) => r);
    const table = sql.table(this.table);
    const columns = sql.raw([...this.keyColumns, ...this.measures.map(([c]) => c)].join(", "));
    const merged = sql.raw(this.measures.map(([c, m]) => `${c} = ${mergeSql(`${this.table}.${c}`, `excluded.${c}`, m)}`).join(", "));
    for (let i = 0; i < rows.length; i += 500) {
      const tuples = rows.slice(i, i + 500).map((r) => sql`(${sql.join([...r.key, ...r.values])})`);
      await sql`INSERT INTO ${table} (${columns}) VALUES ${sql.join(tuples)}
        ON CONFLICT (${sql.raw(this.keyColumns.join(", "))}) DO UPDATE SET ${merged}`.execute(db);
    }
  }
}

const USAGE_MEASURES = [
  "calls",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_write_tokens",
  "recorded_nanos",
  "estimated_nanos",
  "unpriced_calls",
  "unpriced_tokens",
].map((c) => [c, "sum"] as const);
const TOOL_MEASURES = [...["calls", "with_result", "errors", "args_bytes", "result_bytes"].map((c) => [c, "sum"] as const), ["max_result_bytes", "max"] as const];

function callUsage(c: CallRow): number[] {
  const m = callMeasures(c);
  return USAGE_MEASURES.map(([col]) => m[col as keyof UsageMeasures]);
}

/**
 * Where a tool_calls row counts in tool_rollup, and for what: TOOL_SELECT for a single row (keep them in
 * step). A row counts only once its call half is known.
 */
function toolUsage(t: ToolRow): { slot: number; name: string; values: number[] } | null {
  if (t.call_event_id === null) return null;
  const result = t.result_bytes ?? 0;
  return {
    slot: slotOf(t.ts),
    name: t.name ?? "(unknown)",
    values: [1, t.result_event_id !== null ? 1 : 0, t.is_error === 1 ? 1 : 0, t.args_bytes ?? 0, result, result],
  };
}

function sessionKey(ref: SessionRef): Key {
  return [ref.deploymentId, ref.agentId, ref.sessionId];
}

/** `ts / SLOT_MS` as SQL computes it (integer division truncates toward zero). */
function slotOf(ts: number): number {
  return Math.trunc(ts / SLOT_MS);
}

/**
 * What a batch of writes touched, per deployment: slots and sessions to re-aggregate from the rows, and
 * increments for what new rows added. Increments must be recorded by the transaction that wrote the rows
 * and applied (by {@link refreshRollups}) before anything else changes those rows.
 */
export class Touched {
  readonly slots = new Map<string, Set<number>>();
  readonly sessions = new Map<string, SessionRef>();
  readonly allSlots = new Set<string>();
  readonly usage = new Increments("usage_rollup", ["deployment_id", "slot", "agent_id", "provider", "model"], USAGE_MEASURES);
  readonly tools = new Increments("tool_rollup", ["deployment_id", "slot", "agent_id", "name"], TOOL_MEASURES);
  readonly sessionHours = new Increments("session_hour_usage", ["deployment_id", "hour", "agent_id", "session_id"], USAGE_MEASURES);
  readonly sessionModels = new Increments("session_models", ["deployment_id", "agent_id", "session_id", "provider", "model"], [
    ["calls", "sum"],
    ["first_ts", "min"],
    ["last_ts", "max"],
  ]);
  /** What new rows add to their sessions' aggregates: applied by applySessionTotals, or ignored by a caller that recomputes sessions. */
  readonly sessionTotals = new Increments("sessions", ["deployment_id", "agent_id", "session_id"], SESSION_TOTALS);
  /** Sessions that gained rows, per deployment (they need no re-aggregation: their increments are recorded). */
  readonly written = new Map<string, Set<string>>();
  /** Deployments whose rollups and session rollups will be rebuilt whole: no increments are recorded for them. */
  readonly rebuilt = new Set<string>();

  /**
   * The caller will re-aggregate everything of the deployment from the rows (a first import): recording
   * increments for it would only cost time and memory (tens of MiB for a 1 GB home).
   */
  rebuildAll(deploymentId: string): void {
    this.rebuilt.add(deploymentId);
    this.allSlots.add(deploymentId);
  }

  /** Whether writes to the deployment must record what they add (see {@link rebuildAll}). */
  recording(deploymentId: string): boolean {
    return !this.rebuilt.has(deploymentId);
  }

  /** An events row was inserted. */
  event(ref: SessionRef, e: EventRow): void {
    if (this.rebuilt.has(ref.deploymentId)) return;
    this.sessionTotals.add(sessionKey(ref), eventTotals(e));
  }

  /** A call row was inserted. */
  call(ref: SessionRef, c: CallRow): void {
    if (this.rebuilt.has(ref.deploymentId)) return;
    const usage = callUsage(c);
    this.usage.add([ref.deploymentId, slotOf(c.ts), ref.agentId, c.provider, c.model], usage);
    this.sessionHours.add([ref.deploymentId, Math.trunc(c.ts / 3_600_000), ref.agentId, ref.sessionId], usage);
    this.sessionModels.add([ref.deploymentId, ref.agentId, ref.sessionId, c.provider, c.model], [1, c.ts, c.ts]);
    this.sessionTotals.add(sessionKey(ref), callTotals(c));
    this.#wrote(ref);
  }

  /**
   * A tool_calls row went from `before` (null: absent) to `after`: its old contribution is taken back and
   * its new one added. A maximum cannot be taken back, so a counted row that moves to another group or
   * whose result shrinks has its slots re-aggregated instead. (The writer only completes rows: a call half,
   * once known, fixes the row's slot and name, and a result half its size — so this is for odd input only.)
   */
  toolRow(ref: SessionRef, before: ToolRow | null, after: ToolRow): void {
    if (this.rebuilt.has(ref.deploymentId)) return;
    const was = before ? toolUsage(before) : null;
    const now = toolUsage(after);
    if (was && (!now || was.slot !== now.slot || was.name !== now.name || (before!.result_bytes ?? 0) > (after.result_bytes ?? 0))) {
      this.slot(ref.deploymentId, before!.ts);
      this.slot(ref.deploymentId, after.ts);
    }
    if (was) this.tools.add([ref.deploymentId, was.slot, ref.agentId, was.name], was.values, -1);
    if (now) this.tools.add([ref.deploymentId, now.slot, ref.agentId, now.name], now.values);
    // The session's first and last timestamps cannot be taken back either: a row whose counted times move
    // has its session recomputed from the rows.
    if (before && ((before.call_event_id !== null && before.ts !== after.ts) || (before.result_ts !== null && before.result_ts !== after.result_ts))) {
      this.session(ref);
    }
    if (before) this.sessionTotals.add(sessionKey(ref), toolTotals(before), -1);
    this.sessionTotals.add(sessionKey(ref), toolTotals(after));
  }

  #wrote(ref: SessionRef): void {
    let set = this.written.get(ref.deploymentId);
    if (!set) {
      set = new Set();
      this.written.set(ref.deploymentId, set);
    }
    set.add(`${ref.agentId}\u0000${ref.sessionId}`);
  }

  slot(deploymentId: string, ts: number): void {
    let set = this.slots.get(deploymentId);
    if (!set) {
      set = new Set();
      this.slots.set(deploymentId, set);
    }
    set.add(Math.floor(ts / SLOT_MS));
  }

  session(ref: SessionRef): void {
    this.sessions.set(`${ref.deploymentId}\u0000${ref.agentId}\u0000${ref.sessionId}`, ref);
  }

  everything(deploymentId: string): void {
    this.allSlots.add(deploymentId);
  }

  get empty(): boolean {
    return this.slots.size === 0 && this.sessions.size === 0 && this.allSlots.size === 0;
  }
}

/** Contiguous runs of slots, so that one statement re-aggregates a whole run. */
export function slotRanges(slots: Iterable<number>): [number, number][] {
  const sorted = [...slots].sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const s of sorted) {
    const last = ranges.at(-1);
    if (last && s <= last[1] + 1) last[1] = s;
    else ranges.push([s, s]);
  }
  return ranges;
}

const USAGE_COLUMNS = sql.raw(`deployment_id, slot, agent_id, provider, model, calls, input_tokens, output_tokens, cache_read_tokens,
  cache_write_tokens, recorded_nanos, estimated_nanos, unpriced_calls, unpriced_tokens`);
const USAGE_SELECT = sql.raw(`deployment_id, ts / ${SLOT_MS}, agent_id, provider, model, count(*), sum(input_tokens), sum(output_tokens),
  sum(cache_read_tokens), sum(cache_write_tokens),
  coalesce(sum(cost_nanos) FILTER (WHERE cost_source = 'recorded'), 0),
  coalesce(sum(cost_nanos) FILTER (WHERE cost_source = 'estimated'), 0),
  count(*) FILTER (WHERE cost_source = 'unknown'),
  coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) FILTER (WHERE cost_source = 'unknown'), 0)`);
const TOOL_COLUMNS = sql.raw(`deployment_id, slot, agent_id, name, calls, with_result, errors, args_bytes, result_bytes, max_result_bytes`);
const TOOL_SELECT = sql.raw(`deployment_id, ts / ${SLOT_MS}, agent_id, coalesce(name, '(unknown)'), count(*), count(result_event_id),
  count(*) FILTER (WHERE is_error = 1), coalesce(sum(args_bytes), 0), coalesce(sum(result_bytes), 0), coalesce(max(result_bytes), 0)`);

/** Beyond this many separate runs, re-aggregating the whole deployment is cheaper than run by run. */
const MAX_RANGES = 64;

const USAGE_SUMS = sql.raw(`sum(calls), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
  sum(recorded_nanos), sum(estimated_nanos), sum(unpriced_calls), sum(unpriced_tokens)`);
const TOOL_SUMS = sql.raw(`sum(calls), sum(with_result), sum(errors), sum(args_bytes), sum(result_bytes), max(max_result_bytes)`);

/** The levels above 15-minute slots, each built from the one below (the factor is inlined: see SLOT_OF_TS). */
const COARSER_LEVELS = [
  { name: "hour", usage: "usage_rollup_hour", tools: "tool_rollup_hour", usageBelow: "usage_rollup", toolsBelow: "tool_rollup", belowColumn: "slot", factor: 4 },
  { name: "day", usage: "usage_rollup_day", tools: "tool_rollup_day", usageBelow: "usage_rollup_hour", toolsBelow: "tool_rollup_hour", belowColumn: "bucket", factor: 24 },
] as const;

/**
 * Re-aggregates one deployment's rollups for slot runs [a, b] (or everything): slots from the rows, hours
 * from the slots, days from the hours — each level from the one below it.
 */
async function refreshDeployment(db: Db, dep: string, ranges: [number, number][] | "all"): Promise<void> {
  // Each run: its slots, the hours that contain them, the days that contain those (null bounds = everything).
  type Run = { slot: [number, number] | null; hour: [number, number] | null; day: [number, number] | null };
  const runs: Run[] =
    ranges === "all"
      ? [{ slot: null, hour: null, day: null }]
      : ranges.map(([a, b]) => ({ slot: [a, b], hour: [Math.floor(a / 4), Math.floor(b / 4)], day: [Math.floor(a / 96), Math.floor(b / 96)] }));
  const within = (col: string, r: [number, number] | null, scale = 1) =>
    r === null ? sql`TRUE` : sql`${sql.ref(col)} >= ${r[0] * scale} AND ${sql.ref(col)} < ${(r[1] + 1) * scale}`;
  for (const run of runs) {
    const slots = within("slot", run.slot);
    const slotTs = within("ts", run.slot, SLOT_MS);
    await sql`DELETE FROM usage_rollup WHERE deployment_id = ${dep} AND ${slots}`.execute(db);
    await sql`DELETE FROM tool_rollup WHERE deployment_id = ${dep} AND ${slots}`.execute(db);
    await sql`INSERT INTO usage_rollup (${USAGE_COLUMNS}) SELECT ${USAGE_SELECT} FROM llm_calls
      WHERE deployment_id = ${dep} AND ${slotTs} GROUP BY deployment_id, ${SLOT_OF_TS}, agent_id, provider, model`.execute(db);
    await sql`INSERT INTO tool_rollup (${TOOL_COLUMNS}) SELECT ${TOOL_SELECT} FROM tool_calls
      WHERE deployment_id = ${dep} AND call_event_id IS NOT NULL AND ${slotTs}
      GROUP BY deployment_id, ${SLOT_OF_TS}, agent_id, coalesce(name, '(unknown)')`.execute(db);
    // Hours and days touched by the run are rebuilt whole, each from the level below.
    for (const level of COARSER_LEVELS) {
      const range = run[level.name];
      const mine = within("bucket", range);
      const below = within(level.belowColumn, range, level.factor);
      const key = sql.raw(`${level.belowColumn} / ${level.factor}`);
      await sql`DELETE FROM ${sql.table(level.usage)} WHERE deployment_id = ${dep} AND ${mine}`.execute(db);
      await sql`DELETE FROM ${sql.table(level.tools)} WHERE deployment_id = ${dep} AND ${mine}`.execute(db);
      await sql`INSERT INTO ${sql.table(level.usage)} SELECT deployment_id, ${key}, agent_id, provider, model, ${USAGE_SUMS} FROM ${sql.table(level.usageBelow)}
        WHERE deployment_id = ${dep} AND ${below} GROUP BY deployment_id, ${key}, agent_id, provider, model`.execute(db);
      await sql`INSERT INTO ${sql.table(level.tools)} SELECT deployment_id, ${key}, agent_id, name, ${TOOL_SUMS} FROM ${sql.table(level.toolsBelow)}
        WHERE deployment_id = ${dep} AND ${below} GROUP BY deployment_id, ${key}, agent_id, name`.execute(db);
    }
  }
}

const HOUR_OF_TS = sql.raw(`ts / 3600000`);
const SESSION_HOUR_SELECT = sql.raw(`deployment_id, ts / 3600000, agent_id, session_id, count(*), sum(input_tokens), sum(output_tokens),
  sum(cache_read_tokens), sum(cache_write_tokens),
  coalesce(sum(cost_nanos) FILTER (WHERE cost_source = 'recorded'), 0), coalesce(sum(cost_nanos) FILTER (WHERE cost_source = 'estimated'), 0),
  count(*) FILTER (WHERE cost_source = 'unknown'),
  coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) FILTER (WHERE cost_source = 'unknown'), 0)`);

async function refreshSessionModels(db: Db, sessions: SessionRef[]): Promise<void> {
  const byDeployment = new Map<string, SessionRef[]>();
  for (const s of sessions) {
    const list = byDeployment.get(s.deploymentId);
    if (list) list.push(s);
    else byDeployment.set(s.deploymentId, [s]);
  }
  for (const [dep, list] of byDeployment) {
    for (let i = 0; i < list.length; i += 400) {
      const inKeys = sql`(agent_id, session_id) IN (${sessionPairs(list.slice(i, i + 400))})`;
      await sql`DELETE FROM session_models WHERE deployment_id = ${dep} AND ${inKeys}`.execute(db);
      await sql`INSERT INTO session_models (deployment_id, agent_id, session_id, provider, model, calls, first_ts, last_ts)
        SELECT deployment_id, agent_id, session_id, provider, model, count(*), min(ts), max(ts) FROM llm_calls
        WHERE deployment_id = ${dep} AND ${inKeys} GROUP BY deployment_id, agent_id, session_id, provider, model`.execute(db);
      await sql`DELETE FROM session_hour_usage WHERE deployment_id = ${dep} AND ${inKeys}`.execute(db);
      await sql`INSERT INTO session_hour_usage SELECT ${SESSION_HOUR_SELECT} FROM llm_calls
        WHERE deployment_id = ${dep} AND ${inKeys} GROUP BY deployment_id, ${HOUR_OF_TS}, agent_id, session_id`.execute(db);
    }
  }
}

async function refreshAllSessionModels(db: Db, deploymentId: string): Promise<void> {
  await sql`DELETE FROM session_models WHERE deployment_id = ${deploymentId}`.execute(db);
  await sql`INSERT INTO session_models (deployment_id, agent_id, session_id, provider, model, calls, first_ts, last_ts)
    SELECT deployment_id, agent_id, session_id, provider, model, count(*), min(ts), max(ts) FROM llm_calls
    WHERE deployment_id = ${deploymentId} GROUP BY deployment_id, agent_id, session_id, provider, model`.execute(db);
  await sql`DELETE FROM session_hour_usage WHERE deployment_id = ${deploymentId}`.execute(db);
  await sql`INSERT INTO session_hour_usage SELECT ${SESSION_HOUR_SELECT} FROM llm_calls WHERE deployment_id = ${deploymentId}
    GROUP BY deployment_id, ${HOUR_OF_TS}, agent_id, session_id`.execute(db);
}

/**
 * Brings the rollups up to date with the rows: first the increments of new rows (except where everything is
 * re-aggregated anyway), then the re-aggregation of what was touched otherwise — which reads the rows, so
 * it is right whatever increments were applied to those rollup rows before it.
 */
export async function refreshRollups(db: Db, touched: Touched): Promise<void> {
  const sessions = [...touched.sessions.values()];
  const sessionCount = (dep: string) => (touched.written.get(dep)?.size ?? 0) + sessions.filter((s) => s.deploymentId === dep).length;
  const whole = new Set([...touched.allSlots].filter((dep) => touched.rebuilt.has(dep) || sessionCount(dep) > 1000));
  await applyIncrements(db, touched, whole);
  const deployments = new Set([...touched.slots.keys(), ...touched.allSlots]);
  for (const dep of deployments) {
    const ranges = touched.allSlots.has(dep) ? "all" : slotRanges(touched.slots.get(dep) ?? []);
    await refreshDeployment(db, dep, ranges !== "all" && ranges.length > MAX_RANGES ? "all" : ranges);
  }
  for (const dep of whole) await refreshAllSessionModels(db, dep);
  await refreshSessionModels(
    db,
    sessions.filter((s) => !whole.has(s.deploymentId)),
  );
}

/** Applies the increments to slots, hours and days (each level from the one below), and to session rollups. */
async function applyIncrements(db: Db, touched: Touched, wholeSessions: ReadonlySet<string>): Promise<void> {
  for (const kind of ["usage", "tools"] as const) {
    let level = touched[kind];
    await level.apply(db, touched.allSlots);
    for (const coarser of COARSER_LEVELS) {
      level = level.coarser(coarser[kind], 1, coarser.factor);
      await level.apply(db, touched.allSlots);
    }
  }
  await touched.sessionHours.apply(db, wholeSessions);
  await touched.sessionModels.apply(db, wholeSessions);
}

/** Slots of the rows a set of parts contributed (read before those rows are deleted). */
export async function slotsOfParts(db: Db, ref: SessionRef, partIds: number[], touched: Touched): Promise<void> {
  if (partIds.length === 0) return;
  for (const table of ["llm_calls", "tool_calls"] as const) {
    const rows = await sql<{ slot: number }>`SELECT DISTINCT ${SLOT_OF_TS} AS slot FROM ${sql.table(table)}
      WHERE deployment_id = ${ref.deploymentId} AND agent_id = ${ref.agentId} AND session_id = ${ref.sessionId}
      AND part_id IN (${sql.join(partIds)})`.execute(db);
    for (const r of rows.rows) touched.slot(ref.deploymentId, Number(r.slot) * SLOT_MS);
  }
}
