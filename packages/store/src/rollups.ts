/**
 * Rollups keep dashboards fast at millions of LLM calls: usage and tool counts per 15-minute slot, and the
 * models each session used. They are derived data, refreshed from the rows for exactly the slots and
 * sessions a write touched (delete + re-aggregate), so they can never drift from the ledger.
 */
import { sql } from "kysely";
import { SLOT_MS } from "@clawtower/core";
import type { Db, SessionRef } from "./ledger-writer.ts";
import { sessionPairs } from "./session-aggregates.ts";

/**
 * `ts / 900000` as SQL with the divisor inlined: a bound parameter would make SQLite divide in floating point
 * (node:sqlite binds numbers as REAL) and group by fractional "slots".
 */
export const SLOT_OF_TS = sql<number>`ts / ${sql.lit(SLOT_MS)}`;

/** What a batch of writes touched, per deployment. */
export class Touched {
  readonly slots = new Map<string, Set<number>>();
  readonly sessions = new Map<string, SessionRef>();
  readonly allSlots = new Set<string>();

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
  for (const s of sessions) byDeployment.set(s.deploymentId, [...(byDeployment.get(s.deploymentId) ?? []), s]);
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

export async function refreshRollups(db: Db, touched: Touched): Promise<void> {
  const deployments = new Set([...touched.slots.keys(), ...touched.allSlots]);
  for (const dep of deployments) {
    const ranges = touched.allSlots.has(dep) ? "all" : slotRanges(touched.slots.get(dep) ?? []);
    await refreshDeployment(db, dep, ranges !== "all" && ranges.length > MAX_RANGES ? "all" : ranges);
  }
  const sessions = [...touched.sessions.values()];
  const whole = new Set([...touched.allSlots].filter((dep) => sessions.filter((s) => s.deploymentId === dep).length > 1000));
  for (const dep of whole) await refreshAllSessionModels(db, dep);
  await refreshSessionModels(
    db,
    sessions.filter((s) => !whole.has(s.deploymentId)),
  );
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
