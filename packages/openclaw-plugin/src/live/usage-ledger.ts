/**
 * The local usage ledger, `<stateDir>/clawtower/usage.sqlite` (node:sqlite, WAL, 0600): exactly one row per
 * LLM call, keyed by the transcript event that recorded it (agent, event id) — so the live path (transcript
 * updates, with latency from `model_call_ended`) and the shipper reading the same event later write one
 * row between them. A model call that failed leaves no assistant message; it gets a row keyed by its call id
 * (`call:<callId>`), without tokens.
 *
 * Also kept: per-run totals from `llm_output` (a cross-check), tool call timings from `after_tool_call`.
 * No message content is ever stored here.
 */
import fs from "node:fs";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { immediateTransaction } from "../state/sqlite-tx.ts";

export type LlmCallRow = {
  agentId: string;
  eventId: string;
  sessionId: string | null;
  sessionKey: string | null;
  ts: number;
  runId: string | null;
  callId: string | null;
  responseId: string | null;
  provider: string | null;
  model: string | null;
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number } | null;
  costUsd: number | null;
  latencyMs: number | null;
  outcome: string | null;
  success: boolean;
  source: "transcript-update" | "transcript" | "model_call_ended";
};

export type RunUsageRow = {
  runId: string;
  agentId: string | null;
  sessionId: string | null;
  sessionKey: string | null;
  ts: number;
  provider: string | null;
  model: string | null;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number | null;
};

export type ToolTimingRow = {
  agentId: string | null;
  sessionId: string | null;
  toolCallId: string;
  runId: string | null;
  toolName: string;
  durationMs: number | null;
  error: boolean;
  ts: number;
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS llm_calls (
  agent_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  session_id TEXT,
  session_key TEXT,
  ts INTEGER NOT NULL,
  run_id TEXT,
  call_id TEXT,
  response_id TEXT,
  provider TEXT,
  model TEXT,
  input_tokens INTEGER,
  output_tokens INTEGER,
  cache_read_tokens INTEGER,
  cache_write_tokens INTEGER,
  total_tokens INTEGER,
  cost_usd REAL,
  latency_ms INTEGER,
  outcome TEXT,
  success INTEGER NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (agent_id, event_id)
);
CREATE INDEX IF NOT EXISTS llm_calls_ts ON llm_calls (ts);
CREATE INDEX IF NOT EXISTS llm_calls_model_ts ON llm_calls (model, ts);
CREATE TABLE IF NOT EXISTS run_usage (
  run_id TEXT PRIMARY KEY,
  agent_id TEXT,
  session_id TEXT,
  session_key TEXT,
  ts INTEGER NOT NULL,
  provider TEXT,
  model TEXT,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cache_read_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  cost_usd REAL
);
CREATE TABLE IF NOT EXISTS tool_timings (
  session_id TEXT,
  tool_call_id TEXT NOT NULL,
  agent_id TEXT,
  run_id TEXT,
  tool_name TEXT NOT NULL,
  duration_ms INTEGER,
  error INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (session_id, tool_call_id)
);
`;

export type LedgerSummary = { calls: number; failedCalls: number; tokens: number; costUsd: number; lastCallAt: number | null };

export class UsageLedger {
  readonly #db: DatabaseSync;
  readonly #insertCall: StatementSync;
  readonly #setLatency: StatementSync;
  readonly #insertRun: StatementSync;
  readonly #insertTool: StatementSync;

  constructor(file: string) {
    const existed = fs.existsSync(file);
    this.#db = new DatabaseSync(file, { timeout: 5000 });
    if (!existed) fs.chmodSync(file, 0o600);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    this.#db.exec(SCHEMA);
    this.#insertCall = this.#db.prepare(
      `INSERT INTO llm_calls (agent_id, event_id, session_id, session_key, ts, run_id, call_id, response_id, provider, model,
         input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, total_tokens, cost_usd, latency_ms, outcome, success, source)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.#setLatency = this.#db.prepare(
      `UPDATE llm_calls SET latency_ms = coalesce(latency_ms, ?), call_id = coalesce(call_id, ?), outcome = coalesce(outcome, ?) WHERE agent_id = ? AND event_id = ?`,
    );
    this.#insertRun = this.#db.prepare(
      `INSERT INTO run_usage (run_id, agent_id, session_id, session_key, ts, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.#insertTool = this.#db.prepare(
      `INSERT INTO tool_timings (session_id, tool_call_id, agent_id, run_id, tool_name, duration_ms, error, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
  }

  /** Writes many rows in one transaction (the drain's and the shipper's unit of work). */
  transaction<T>(fn: () => T): T {
    return immediateTransaction(this.#db, fn);
  }

  /** Inserts a call; false when the event already has its row. */
  recordCall(r: LlmCallRow): boolean {
    const t = r.tokens;
    const res = this.#insertCall.run(
      r.agentId,
      r.eventId,
      r.sessionId,
      r.sessionKey,
      r.ts,
      r.runId,
      r.callId,
      r.responseId,
      r.provider,
      r.model,
      t?.input ?? null,
      t?.output ?? null,
      t?.cacheRead ?? null,
      t?.cacheWrite ?? null,
      t ? t.input + t.output + t.cacheRead + t.cacheWrite : null,
      r.costUsd,
      r.latencyMs,
      r.outcome,
      r.success ? 1 : 0,
      r.source,
    );
    return Number(res.changes) > 0;
  }

  /** Latency and outcome from `model_call_ended`, joined to the call's row after the fact. */
  setLatency(agentId: string, eventId: string, latencyMs: number | null, callId: string | null, outcome: string | null): void {
    this.#setLatency.run(latencyMs, callId, outcome, agentId, eventId);
  }

  recordRun(r: RunUsageRow): void {
    this.#insertRun.run(r.runId, r.agentId, r.sessionId, r.sessionKey, r.ts, r.provider, r.model, r.input, r.output, r.cacheRead, r.cacheWrite, r.costUsd);
  }

  recordTool(r: ToolTimingRow): void {
    this.#insertTool.run(r.sessionId, r.toolCallId, r.agentId, r.runId, r.toolName, r.durationMs, r.error ? 1 : 0, r.ts);
  }

  summary(sinceMs: number | null = null): LedgerSummary {
    const row = this.#db
      .prepare(
        `SELECT count(*) FILTER (WHERE success = 1) AS calls, count(*) FILTER (WHERE success = 0) AS failed,
                coalesce(sum(total_tokens), 0) AS tokens, coalesce(sum(cost_usd), 0) AS cost, max(ts) AS last
         FROM llm_calls WHERE ts >= ?`,
      )
      .get(sinceMs ?? Number.MIN_SAFE_INTEGER) as { calls: number; failed: number; tokens: number; cost: number; last: number | null };
    return { calls: Number(row.calls), failedCalls: Number(row.failed), tokens: Number(row.tokens), costUsd: Number(row.cost), lastCallAt: row.last === null ? null : Number(row.last) };
  }

  /** Rows for tests and `status --json`: the calls of one session, oldest first. */
  calls(where: { sessionId?: string } = {}): Record<string, unknown>[] {
    return where.sessionId
      ? (this.#db.prepare(`SELECT * FROM llm_calls WHERE session_id = ? ORDER BY ts`).all(where.sessionId) as Record<string, unknown>[])
      : (this.#db.prepare(`SELECT * FROM llm_calls ORDER BY ts`).all() as Record<string, unknown>[]);
  }

  close(): void {
    this.#db.close();
  }
}
