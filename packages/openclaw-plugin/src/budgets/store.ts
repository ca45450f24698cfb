/**
 * The guard's tables in the plugin's SQLite (`<stateDir>/clawtower/usage.sqlite`, beside the usage ledger):
 *   budget_calls   each counted call with the scope it was counted in (run attribution the ledger lacks)
 *   budget_runs    finished runs' cost and tokens (the p95 reservations)
 *   budget_events  warn / block / downgrade / reset
 *   budget_alerts  one row per (budget, period, threshold): the once-per-period key and the delivery outbox
 *   budget_fleet   the hub's last answer of fleet budgets (a process that cannot reach the hub enforces with it)
 *   budget_ship    how far budget_events were shipped to the hub (the last event id it accepted)
 * Spend at start = budget_calls of the current periods + ledger calls (llm_calls) not among them, priced
 * the ledger's way (recorded cost, else the price book).
 */
import fs from "node:fs";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { costOfCall, type PriceBook } from "@clawtower/core";
import type { BudgetAlert, BudgetEvent, FinishedRun, SpendCall } from "./book.ts";
import { callScopeOf, type RunScope } from "./run-scope.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS budget_calls (
  agent_id TEXT NOT NULL, event_id TEXT NOT NULL, ts INTEGER NOT NULL, run_id TEXT,
  agent TEXT, channel TEXT, kind TEXT, cron_job TEXT, provider TEXT, model TEXT,
  cost_nanos INTEGER, tokens INTEGER NOT NULL,
  PRIMARY KEY (agent_id, event_id)
);
CREATE INDEX IF NOT EXISTS budget_calls_ts ON budget_calls (ts);
CREATE TABLE IF NOT EXISTS budget_runs (
  run_id TEXT PRIMARY KEY, at INTEGER NOT NULL,
  agent TEXT, channel TEXT, kind TEXT, cron_job TEXT, provider TEXT, model TEXT,
  cost_nanos INTEGER NOT NULL, tokens INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS budget_runs_at ON budget_runs (at);
CREATE TABLE IF NOT EXISTS budget_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, kind TEXT NOT NULL, budget_id TEXT NOT NULL,
  period_start INTEGER NOT NULL, run_id TEXT, session_key TEXT, agent_id TEXT, spent_usd REAL, spent_tokens INTEGER, detail TEXT
);
CREATE INDEX IF NOT EXISTS budget_events_at ON budget_events (at);
CREATE TABLE IF NOT EXISTS budget_ship (name TEXT PRIMARY KEY, last_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS budget_fleet (name TEXT PRIMARY KEY, fetched_at INTEGER NOT NULL, answer TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS budget_alerts (
  budget_id TEXT NOT NULL, period_start INTEGER NOT NULL, threshold TEXT NOT NULL, at INTEGER NOT NULL,
  payload TEXT NOT NULL, delivered_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, claimed_at INTEGER,
  PRIMARY KEY (budget_id, period_start, threshold)
);
`;

export type CountedCall = SpendCall & { agentId: string; eventId: string };

export type StoredAlert = { budgetId: string; periodStart: number; threshold: string; at: number; payload: BudgetAlert; deliveredAt: number | null; attempts: number; lastError: string | null };

export type StoredEvent = BudgetEvent & { id: number };

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const s = (v: unknown): string | null => (typeof v === "string" ? v : null);

function scopeFromRow(r: Record<string, unknown>): RunScope {
  return { agent: s(r["agent"]), channel: s(r["channel"]), kind: s(r["kind"]), cronJob: s(r["cron_job"]), provider: s(r["provider"]), model: s(r["model"]) };
}

export class BudgetStore {
  readonly #db: DatabaseSync;
  readonly #insertCall: StatementSync;
  readonly #insertRun: StatementSync;
  readonly #insertEvent: StatementSync;
  readonly #insertAlert: StatementSync;

  constructor(file: string) {
    const existed = fs.existsSync(file);
    this.#db = new DatabaseSync(file, { timeout: 5000 });
    if (!existed) fs.chmodSync(file, 0o600);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    this.#db.exec(SCHEMA);
    this.#insertCall = this.#db.prepare(
      `INSERT INTO budget_calls (agent_id, event_id, ts, run_id, agent, channel, kind, cron_job, provider, model, cost_nanos, tokens)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.#insertRun = this.#db.prepare(
      `INSERT INTO budget_runs (run_id, at, agent, channel, kind, cron_job, provider, model, cost_nanos, tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.#insertEvent = this.#db.prepare(
      `INSERT INTO budget_events (at, kind, budget_id, period_start, run_id, session_key, agent_id, spent_usd, spent_tokens, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#insertAlert = this.#db.prepare(`INSERT INTO budget_alerts (budget_id, period_start, threshold, at, payload) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
  }

  /** Every call counted since `since`: the guard's own rows, then ledger rows it has not seen (priced here). */
  callsSince(since: number, prices: PriceBook): CountedCall[] {
    const out: CountedCall[] = [];
    for (const r of this.#db.prepare(`SELECT * FROM budget_calls WHERE ts >= ?`).all(since) as Record<string, unknown>[]) {
      const agentId = String(r["agent_id"]);
      const eventId = String(r["event_id"]);
      out.push({ agentId, eventId, key: `${agentId}\u0000${eventId}`, ts: Number(r["ts"]), runId: s(r["run_id"]), scope: scopeFromRow(r), nanos: num(r["cost_nanos"]), tokens: Number(r["tokens"]) });
    }
    const rows = this.#db
      .prepare(
        `SELECT l.agent_id, l.event_id, l.ts, l.run_id, l.session_key, l.provider, l.model, l.input_tokens, l.output_tokens, l.cache_read_tokens, l.cache_write_tokens, l.cost_usd
         FROM llm_calls l WHERE l.ts >= ? AND l.success = 1 AND NOT EXISTS (SELECT 1 FROM budget_calls b WHERE b.agent_id = l.agent_id AND b.event_id = l.event_id)`,
      )
      .all(since) as Record<string, unknown>[];
    for (const r of rows) {
      const agentId = String(r["agent_id"]);
      const eventId = String(r["event_id"]);
      const tokens = { input: Number(r["input_tokens"] ?? 0), output: Number(r["output_tokens"] ?? 0), cacheRead: Number(r["cache_read_tokens"] ?? 0), cacheWrite: Number(r["cache_write_tokens"] ?? 0) };
      const provider = s(r["provider"]);
      const model = s(r["model"]);
      const cost = costOfCall({ provider: provider ?? "", model: model ?? "", tokens, recordedCostUsd: num(r["cost_usd"]) }, prices);
      out.push({
        agentId,
        eventId,
        key: `${agentId}\u0000${eventId}`,
        ts: Number(r["ts"]),
        runId: s(r["run_id"]),
        scope: callScopeOf(agentId, s(r["session_key"]), provider, model),
        nanos: cost.source === "unknown" ? null : cost.nanos,
        tokens: tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite,
      });
    }
    return out;
  }

  /** The most recent finished runs (for the p95 reservations), oldest first. */
  recentRuns(limit: number): { scope: RunScope; nanos: number; tokens: number }[] {
    const rows = this.#db.prepare(`SELECT * FROM budget_runs ORDER BY at DESC LIMIT ?`).all(limit) as Record<string, unknown>[];
    return rows.reverse().map((r) => ({ scope: scopeFromRow(r), nanos: Number(r["cost_nanos"]), tokens: Number(r["tokens"]) }));
  }

  /** Alert keys already taken for periods starting at or after `since`. */
  alertKeys(since: number): { budgetId: string; periodStart: number; threshold: number | "blocked" }[] {
    const rows = this.#db.prepare(`SELECT budget_id, period_start, threshold FROM budget_alerts WHERE period_start >= ?`).all(since) as Record<string, unknown>[];
    return rows.map((r) => ({ budgetId: String(r["budget_id"]), periodStart: Number(r["period_start"]), threshold: r["threshold"] === "blocked" ? "blocked" : Number(r["threshold"]) }));
  }

  /** Writes one batch of the guard's effects in one transaction; returns the alerts this process inserted (to send). */
  write(batch: { calls: CountedCall[]; runs: FinishedRun[]; events: BudgetEvent[]; alerts: BudgetAlert[] }): BudgetAlert[] {
    const fresh: BudgetAlert[] = [];
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const c of batch.calls) {
        const sc = c.scope;
        this.#insertCall.run(c.agentId, c.eventId, c.ts, c.runId, sc.agent, sc.channel, sc.kind, sc.cronJob, sc.provider, sc.model, c.nanos, c.tokens);
      }
      for (const r of batch.runs) {
        const sc = r.scope;
        this.#insertRun.run(r.runId, r.at, sc.agent, sc.channel, sc.kind, sc.cronJob, sc.provider, sc.model, r.nanos, r.tokens);
      }
      for (const e of batch.events) this.#insertEvent.run(e.at, e.kind, e.budgetId, e.periodStart, e.runId, e.sessionKey, e.agentId, e.spentUsd, e.spentTokens, e.detail);
      // Another process (a local turn, the Gateway) may have taken the same threshold: only the inserter sends.
      for (const a of batch.alerts) if (Number(this.#insertAlert.run(a.budgetId, a.periodStart, String(a.threshold), a.at, JSON.stringify(a)).changes) > 0) fresh.push(a);
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
    return fresh;
  }

  /** Claims undelivered alerts (not claimed in the last `leaseMs`) for this sender. */
  claimUndelivered(now: number, leaseMs: number, maxAttempts: number): StoredAlert[] {
    const rows = this.#db
      .prepare(
        `UPDATE budget_alerts SET claimed_at = ? WHERE delivered_at IS NULL AND attempts < ? AND (claimed_at IS NULL OR claimed_at < ?)
         RETURNING budget_id, period_start, threshold, at, payload, delivered_at, attempts, last_error`,
      )
      .all(now, maxAttempts, now - leaseMs) as Record<string, unknown>[];
    return rows.map((r) => ({
      budgetId: String(r["budget_id"]),
      periodStart: Number(r["period_start"]),
      threshold: String(r["threshold"]),
      at: Number(r["at"]),
      payload: JSON.parse(String(r["payload"])) as BudgetAlert,
      deliveredAt: num(r["delivered_at"]),
      attempts: Number(r["attempts"]),
      lastError: s(r["last_error"]),
    }));
  }

  markDelivery(a: { budgetId: string; periodStart: number; threshold: string }, result: { deliveredAt: number } | { error: string; attempts: number }): void {
    if ("deliveredAt" in result) {
      this.#db.prepare(`UPDATE budget_alerts SET delivered_at = ?, last_error = NULL, claimed_at = NULL WHERE budget_id = ? AND period_start = ? AND threshold = ?`).run(result.deliveredAt, a.budgetId, a.periodStart, a.threshold);
    } else {
      this.#db
        .prepare(`UPDATE budget_alerts SET attempts = attempts + ?, last_error = ?, claimed_at = NULL WHERE budget_id = ? AND period_start = ? AND threshold = ?`)
        .run(result.attempts, result.error, a.budgetId, a.periodStart, a.threshold);
    }
  }

  /** For status: the latest alert per budget, and recent events. */
  lastAlerts(): Map<string, StoredAlert> {
    const rows = this.#db.prepare(`SELECT * FROM budget_alerts ORDER BY at`).all() as Record<string, unknown>[];
    const m = new Map<string, StoredAlert>();
    for (const r of rows) {
      m.set(String(r["budget_id"]), {
        budgetId: String(r["budget_id"]),
        periodStart: Number(r["period_start"]),
        threshold: String(r["threshold"]),
        at: Number(r["at"]),
        payload: JSON.parse(String(r["payload"])) as BudgetAlert,
        deliveredAt: num(r["delivered_at"]),
        attempts: Number(r["attempts"]),
        lastError: s(r["last_error"]),
      });
    }
    return m;
  }

  saveFleetAnswer(answer: unknown, fetchedAt: number): void {
    this.#db.prepare(`INSERT INTO budget_fleet (name, fetched_at, answer) VALUES ('hub', ?, ?) ON CONFLICT (name) DO UPDATE SET fetched_at = excluded.fetched_at, answer = excluded.answer`).run(fetchedAt, JSON.stringify(answer));
  }

  lastFleetAnswer(): { answer: unknown; fetchedAt: number } | null {
    const r = this.#db.prepare(`SELECT fetched_at, answer FROM budget_fleet WHERE name = 'hub'`).get() as { fetched_at: number; answer: string } | undefined;
    if (!r) return null;
    try {
      return { answer: JSON.parse(r.answer), fetchedAt: Number(r.fetched_at) };
    } catch {
      return null;
    }
  }

  /** The last budget event id the hub accepted (0: none yet). */
  shippedThrough(): number {
    const r = this.#db.prepare(`SELECT last_id FROM budget_ship WHERE name = 'hub'`).get() as { last_id?: number } | undefined;
    return Number(r?.last_id ?? 0);
  }

  markShipped(lastId: number): void {
    this.#db.prepare(`INSERT INTO budget_ship (name, last_id) VALUES ('hub', ?) ON CONFLICT (name) DO UPDATE SET last_id = max(last_id, excluded.last_id)`).run(lastId);
  }

  /** Events after an id, oldest first (what the hub has not accepted yet). */
  eventsAfter(id: number, limit: number): StoredEvent[] {
    return this.#eventRows(this.#db.prepare(`SELECT * FROM budget_events WHERE id > ? ORDER BY id ASC LIMIT ?`).all(id, limit) as Record<string, unknown>[]);
  }

  events(since: number, limit = 200): StoredEvent[] {
    return this.#eventRows(this.#db.prepare(`SELECT * FROM budget_events WHERE at >= ? ORDER BY id DESC LIMIT ?`).all(since, limit) as Record<string, unknown>[]);
  }

  #eventRows(rows: Record<string, unknown>[]): StoredEvent[] {
    return rows.map((r) => ({
      id: Number(r["id"]),
      kind: String(r["kind"]) as BudgetEvent["kind"],
      budgetId: String(r["budget_id"]),
      periodStart: Number(r["period_start"]),
      at: Number(r["at"]),
      runId: s(r["run_id"]),
      sessionKey: s(r["session_key"]),
      agentId: s(r["agent_id"]),
      spentUsd: Number(r["spent_usd"] ?? 0),
      spentTokens: Number(r["spent_tokens"] ?? 0),
      detail: s(r["detail"]),
    }));
  }

  close(): void {
    this.#db.close();
  }
}
