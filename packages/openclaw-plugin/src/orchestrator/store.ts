/**
 * Orchestrator state in the plugin's SQLite (`<stateDir>/clawtower/usage.sqlite`, beside the ledger and
 * the spend guard's tables), so a binding survives a Gateway restart and each `agent --local` process:
 *   orch_bindings  front session → its hidden orchestrator
 *   orch_workers   workers per orchestrator: status, task key, attempt
 *   orch_retries   retries used per stable task key
 *   orch_blocks    blocked attempts per (run, session, tool) — the bypass counter
 *   orch_events    audit: bind, block, bypass, retry, retry-exhausted, end, expire
 * Every change is one small transaction, written when it happens (spawns and ends are rare).
 */
import fs from "node:fs";
import { DatabaseSync } from "node:sqlite";
import type { Binding, SpawnSpec, Worker, WorkerStatus } from "./policy.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS orch_bindings (
  front_key TEXT PRIMARY KEY, orchestrator_key TEXT NOT NULL UNIQUE, label TEXT NOT NULL, created_at INTEGER NOT NULL, last_active_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orch_workers (
  child_key TEXT PRIMARY KEY, orchestrator_key TEXT NOT NULL, label TEXT, task_key TEXT NOT NULL, task_preview TEXT NOT NULL, spec_json TEXT NOT NULL,
  status TEXT NOT NULL, attempt INTEGER NOT NULL, started_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orch_workers_orchestrator ON orch_workers (orchestrator_key);
CREATE TABLE IF NOT EXISTS orch_retries (task_key TEXT PRIMARY KEY, orchestrator_key TEXT NOT NULL, used INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orch_blocks (block_key TEXT PRIMARY KEY, session_key TEXT NOT NULL, attempts INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orch_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, kind TEXT NOT NULL, session_key TEXT, tool TEXT, detail TEXT
);
CREATE INDEX IF NOT EXISTS orch_events_at ON orch_events (at);
`;

export type OrchEventKind = "bind" | "block" | "bypass" | "retry" | "retry-exhausted" | "worker-end" | "orchestrator-end" | "expire" | "session-end";
export type OrchEvent = { at: number; kind: OrchEventKind; sessionKey: string | null; tool: string | null; detail: string | null };
export type StoredOrchEvent = OrchEvent & { id: number };

export type LoadedState = { bindings: Binding[]; workers: Worker[]; retries: Map<string, number>; retryOwners: Map<string, string>; blocks: Map<string, number> };

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** Events kept: the newest this many. */
const MAX_EVENTS = 10_000;

export class OrchestratorStore {
  readonly #db: DatabaseSync;

  constructor(file: string) {
    const existed = fs.existsSync(file);
    this.#db = new DatabaseSync(file, { timeout: 5000 });
    if (!existed) fs.chmodSync(file, 0o600);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    this.#db.exec(SCHEMA);
  }

  load(): LoadedState {
    const bindings = (this.#db.prepare(`SELECT * FROM orch_bindings`).all() as Record<string, unknown>[]).map((r) => ({
      frontKey: String(r["front_key"]),
      orchestratorKey: String(r["orchestrator_key"]),
      label: String(r["label"]),
      createdAt: Number(r["created_at"]),
      lastActiveAt: Number(r["last_active_at"]),
    }));
    const workers = (this.#db.prepare(`SELECT * FROM orch_workers`).all() as Record<string, unknown>[]).map((r) => ({
      childKey: String(r["child_key"]),
      orchestratorKey: String(r["orchestrator_key"]),
      label: str(r["label"]),
      taskKey: String(r["task_key"]),
      taskPreview: String(r["task_preview"]),
      spec: JSON.parse(String(r["spec_json"])) as SpawnSpec,
      status: String(r["status"]) as WorkerStatus,
      attempt: Number(r["attempt"]),
      startedAt: Number(r["started_at"]),
      updatedAt: Number(r["updated_at"]),
    }));
    const retryRows = this.#db.prepare(`SELECT task_key, orchestrator_key, used FROM orch_retries`).all() as Record<string, unknown>[];
    const retries = new Map(retryRows.map((r) => [String(r["task_key"]), Number(r["used"])]));
    const retryOwners = new Map(retryRows.map((r) => [String(r["task_key"]), String(r["orchestrator_key"])]));
    const blocks = new Map((this.#db.prepare(`SELECT block_key, attempts FROM orch_blocks`).all() as Record<string, unknown>[]).map((r) => [String(r["block_key"]), Number(r["attempts"])]));
    return { bindings, workers, retries, retryOwners, blocks };
  }

  #tx(fn: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      fn();
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  #event(e: OrchEvent): void {
    this.#db.prepare(`INSERT INTO orch_events (at, kind, session_key, tool, detail) VALUES (?, ?, ?, ?, ?)`).run(e.at, e.kind, e.sessionKey, e.tool, e.detail);
  }

  bind(b: Binding, event: OrchEvent): void {
    this.#tx(() => {
      // A front session rebinding drops its old orchestrator's row (orchestrator_key is unique).
      this.#db.prepare(`DELETE FROM orch_bindings WHERE front_key = ? OR orchestrator_key = ?`).run(b.frontKey, b.orchestratorKey);
      this.#db.prepare(`INSERT INTO orch_bindings (front_key, orchestrator_key, label, created_at, last_active_at) VALUES (?, ?, ?, ?, ?)`).run(b.frontKey, b.orchestratorKey, b.label, b.createdAt, b.lastActiveAt);
      this.#event(event);
    });
  }

  touch(frontKey: string, at: number): void {
    this.#db.prepare(`UPDATE orch_bindings SET last_active_at = MAX(last_active_at, ?) WHERE front_key = ?`).run(at, frontKey);
  }

  putWorker(w: Worker, evicted: readonly string[]): void {
    this.#tx(() => {
      for (const k of evicted) this.#db.prepare(`DELETE FROM orch_workers WHERE child_key = ?`).run(k);
      this.#db
        .prepare(
          `INSERT INTO orch_workers (child_key, orchestrator_key, label, task_key, task_preview, spec_json, status, attempt, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (child_key) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
        )
        .run(w.childKey, w.orchestratorKey, w.label, w.taskKey, w.taskPreview, JSON.stringify(w.spec), w.status, w.attempt, w.startedAt, w.updatedAt);
    });
  }

  /** A worker's end, its retry accounting and the audit events, in one transaction. */
  endWorker(childKey: string, status: WorkerStatus, at: number, retry: { taskKey: string; orchestratorKey: string; used: number } | null, events: readonly OrchEvent[]): void {
    this.#tx(() => {
      this.#db.prepare(`UPDATE orch_workers SET status = ?, updated_at = ? WHERE child_key = ?`).run(status, at, childKey);
      if (retry) {
        this.#db
          .prepare(`INSERT INTO orch_retries (task_key, orchestrator_key, used, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (task_key) DO UPDATE SET used = excluded.used, updated_at = excluded.updated_at`)
          .run(retry.taskKey, retry.orchestratorKey, retry.used, at);
      }
      for (const e of events) this.#event(e);
    });
  }

  block(blockKey: string, sessionKey: string, attempts: number, event: OrchEvent): void {
    this.#tx(() => {
      this.#db
        .prepare(`INSERT INTO orch_blocks (block_key, session_key, attempts, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (block_key) DO UPDATE SET attempts = excluded.attempts, updated_at = excluded.updated_at`)
        .run(blockKey, sessionKey, attempts, event.at);
      this.#event(event);
    });
  }

  record(event: OrchEvent): void {
    this.#event(event);
  }

  /** Forgets front sessions' bindings and everything of their orchestrators (and those orchestrators' own sessions). */
  forget(bindings: readonly Binding[], orphanSessions: readonly string[], events: readonly OrchEvent[]): void {
    this.#tx(() => {
      for (const b of bindings) {
        this.#db.prepare(`DELETE FROM orch_bindings WHERE front_key = ?`).run(b.frontKey);
        this.#forgetSession(b.orchestratorKey);
      }
      for (const s of orphanSessions) this.#forgetSession(s);
      for (const e of events) this.#event(e);
      this.#db.prepare(`DELETE FROM orch_events WHERE id <= (SELECT MAX(id) FROM orch_events) - ?`).run(MAX_EVENTS);
    });
  }

  #forgetSession(key: string): void {
    this.#db.prepare(`DELETE FROM orch_workers WHERE orchestrator_key = ?`).run(key);
    this.#db.prepare(`DELETE FROM orch_retries WHERE orchestrator_key = ?`).run(key);
    this.#db.prepare(`DELETE FROM orch_blocks WHERE session_key = ?`).run(key);
  }

  events(limit = 50): StoredOrchEvent[] {
    return (this.#db.prepare(`SELECT * FROM orch_events ORDER BY id DESC LIMIT ?`).all(limit) as Record<string, unknown>[]).map((r) => ({
      id: Number(r["id"]),
      at: Number(r["at"]),
      kind: String(r["kind"]) as OrchEventKind,
      sessionKey: str(r["session_key"]),
      tool: str(r["tool"]),
      detail: str(r["detail"]),
    }));
  }

  countEvents(kind: OrchEventKind): number {
    return Number((this.#db.prepare(`SELECT COUNT(*) AS n FROM orch_events WHERE kind = ?`).get(kind) as { n: number }).n);
  }

  close(): void {
    this.#db.close();
  }
}
