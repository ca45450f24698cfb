/**
 * A 5-million-call store for dashboard latency benchmarks, generated inside the database (recursive CTE on
 * SQLite, generate_series on PostgreSQL) from deterministic arithmetic: 250,000 sessions over 180 days,
 * 3 deployments, 8 agents, 7 models, 2.5 M tool calls, a cost split recorded/estimated/unknown. Session
 * aggregates, rollups and session models are then derived by the store's own refresh code.
 */
import { sql } from "kysely";
import { Touched, refreshRollups, type StoreConnection } from "@clawtower/store";

export const HUB_DATASET_VERSION = 3;

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 4, 26); // 180 days before 2026-11-22

/** Integer expressions shared by both dialects, in terms of the row number `i`. */
function callColumns(calls: number) {
  const perSession = 20;
  return {
    session: `(i / ${perSession})`,
    ts: `(${T0} + ((i / ${perSession}) * 7919 % ${180 * 86400}) * 1000 + (i % ${perSession}) * 45000)`,
    calls,
  };
}

export async function generateHubDataset(conn: StoreConnection, calls = 5_000_000, log: (s: string) => void = () => {}): Promise<void> {
  const { db } = conn;
  const c = callColumns(calls);
  const series = conn.dialect === "postgres" ? `generate_series(0, ${calls - 1}) AS g(i)` : `n`;
  const withSeries = (count: number) =>
    conn.dialect === "postgres" ? "" : `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${count - 1}) `;
  const big = (x: string) => (conn.dialect === "postgres" ? `(${x})::bigint` : x);
  const models = `CASE (i * 31) % 7 WHEN 0 THEN 'anthropic' WHEN 1 THEN 'anthropic' WHEN 2 THEN 'openai' WHEN 3 THEN 'openai' WHEN 4 THEN 'xai' WHEN 5 THEN 'openrouter' ELSE 'local' END`;
  const model = `CASE (i * 31) % 7 WHEN 0 THEN 'claude-sonnet-5' WHEN 1 THEN 'claude-opus-5' WHEN 2 THEN 'gpt-6-sol' WHEN 3 THEN 'gpt-5.4-mini' WHEN 4 THEN 'grok-4.5' WHEN 5 THEN 'moonshotai/kimi-k2' ELSE 'qwen3-coder-30b' END`;
  const t = performance.now();
  const i = conn.dialect === "postgres" ? "i::bigint" : "i";
  await sql
    .raw(
      `${withSeries(calls)}INSERT INTO llm_calls (deployment_id, agent_id, session_id, event_id, part_id, ts, provider, model, api, input_tokens,
        output_tokens, cache_read_tokens, cache_write_tokens, cost_source, cost_nanos, recorded_cost_usd, price_ref, stop_reason, run_id, response_id,
        latency_ms, tool_call_count)
      SELECT 'dep-' || (${c.session} % 3), 'agent' || (${c.session} % 8), 'sess-' || ${c.session}, 'ev-' || i, 0, ${big(c.ts)},
        ${models}, ${model}, 'openai-completions',
        100 + (i * 37) % 5000, 20 + (i * 53) % 800, (i * 97) % 50000, CASE WHEN i % 10 = 0 THEN 2000 ELSE 0 END,
        CASE WHEN i % 20 = 0 THEN 'unknown' WHEN i % 20 < 3 THEN 'estimated' ELSE 'recorded' END,
        CASE WHEN i % 20 = 0 THEN 0 ELSE ${big(`(100 + (i * 37) % 5000) * 3000 + (20 + (i * 53) % 800) * 15000 + ((i * 97) % 50000) * 300`)} END,
        NULL, NULL, CASE WHEN i % 50 = 0 THEN 'error' ELSE 'stop' END, NULL, NULL, 200 + (i * 13) % 9000, (i % 3)
      FROM (SELECT ${i} AS i FROM ${series}) x`,
    )
    .execute(db);
  log(`  llm_calls: ${calls.toLocaleString("en-US")} rows in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  const tools = Math.floor(calls / 2);
  const t2 = performance.now();
  const toolSeries = conn.dialect === "postgres" ? `generate_series(0, ${tools - 1}) AS g(i)` : `n`;
  await sql
    .raw(
      `${withSeries(tools)}INSERT INTO tool_calls (deployment_id, agent_id, session_id, call_id, part_id, call_event_id, ts, name, via, args_bytes,
        result_event_id, result_ts, result_bytes, is_error)
      SELECT 'dep-' || (s % 3), 'agent' || (s % 8), 'sess-' || s, 'call-' || i, 0, 'ev-' || (i * 2), ${big(`${T0} + (s * 7919 % ${180 * 86400}) * 1000 + (i % 10) * 90000 + 1000`)},
        CASE i % 10 WHEN 0 THEN 'read' WHEN 1 THEN 'exec' WHEN 2 THEN 'write' WHEN 3 THEN 'edit' WHEN 4 THEN 'web_search' WHEN 5 THEN 'web_fetch'
          WHEN 6 THEN 'browser' WHEN 7 THEN 'memory_search' WHEN 8 THEN 'sessions_spawn' ELSE 'message' END,
        NULL, 50 + (i * 7) % 3000, 'res-' || i, ${big(`${T0} + (s * 7919 % ${180 * 86400}) * 1000 + (i % 10) * 90000 + 5000`)},
        200 + (i * 7919) % 190000, CASE WHEN i % 23 = 0 THEN 1 ELSE 0 END
      FROM (SELECT ${i} AS i, ${i} / 10 AS s FROM ${toolSeries}) x`,
    )
    .execute(db);
  log(`  tool_calls: ${tools.toLocaleString("en-US")} rows in ${((performance.now() - t2) / 1000).toFixed(0)} s`);

  const t3 = performance.now();
  await sql
    .raw(
      `INSERT INTO sessions (deployment_id, agent_id, session_id, session_key, kind, channel, chat_type, label, parent_session_key, spawned_by,
        created_via, status, window_reason, previous_session_id, cwd, skills, first_ts, last_ts, messages_user, messages_assistant,
        messages_tool_result, messages_other, events, llm_calls, tool_calls, tool_errors, errors, aborts, compactions, resets, input_tokens,
        output_tokens, cache_read_tokens, cache_write_tokens, cost_recorded_nanos, cost_estimated_nanos, unpriced_calls, unpriced_tokens,
        models, present, updated_at)
      SELECT deployment_id, agent_id, session_id, 'agent:' || agent_id || ':explicit:' || session_id,
        CASE WHEN length(session_id) % 5 = 0 THEN 'cron' WHEN length(session_id) % 5 = 1 THEN 'subagent' WHEN length(session_id) % 5 = 2 THEN 'group' ELSE 'main' END,
        CASE WHEN length(session_id) % 5 = 2 THEN 'telegram' ELSE NULL END, NULL, 'session ' || session_id, NULL, NULL, NULL, NULL, 'initial', NULL, NULL, NULL,
        min(ts), max(ts), count(*) / 2, count(*), count(*) / 2, 0, count(*) * 2, count(*), count(*) / 2, 0,
        count(*) FILTER (WHERE stop_reason = 'error'), 0, 0, 0, sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
        coalesce(sum(cost_nanos) FILTER (WHERE cost_source = 'recorded'), 0), coalesce(sum(cost_nanos) FILTER (WHERE cost_source = 'estimated'), 0),
        count(*) FILTER (WHERE cost_source = 'unknown'),
        coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) FILTER (WHERE cost_source = 'unknown'), 0),
        NULL, 1, ${Date.now()}
      FROM llm_calls GROUP BY deployment_id, agent_id, session_id`,
    )
    .execute(db);
  for (const dep of ["dep-0", "dep-1", "dep-2"]) {
    await db
      .insertInto("deployments")
      .values({ deployment_id: dep, name: dep, kind: "remote", openclaw_home: null, created_at: T0, last_seen_at: T0 + 180 * DAY })
      .execute();
    for (let a = 0; a < 8; a++) await db.insertInto("agents").values({ deployment_id: dep, agent_id: `agent${a}`, first_seen_at: T0 }).execute();
  }
  // Every rollup, session_models and session_hour_usage from the rows, as after a first import.
  const touched = new Touched();
  for (const dep of ["dep-0", "dep-1", "dep-2"]) touched.rebuildAll(dep);
  await refreshRollups(db, touched);
  await db.insertInto("meta").values({ key: "bench:hub-dataset", value: String(HUB_DATASET_VERSION) }).execute();
  // As autovacuum would leave a store that has been running for a while (index-only scans need the visibility map).
  const tables = "llm_calls, tool_calls, sessions, session_models, session_hour_usage, usage_rollup, usage_rollup_hour, usage_rollup_day, tool_rollup, tool_rollup_hour, tool_rollup_day";
  await sql.raw(conn.dialect === "postgres" ? `VACUUM ANALYZE ${tables}` : "ANALYZE").execute(db);
  log(`  sessions, session models, rollups in ${((performance.now() - t3) / 1000).toFixed(0)} s`);
}
