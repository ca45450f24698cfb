/**
 * The store schema, declared once for both dialects. Row types drive Kysely's query typing; migrations are
 * plain SQL with the few dialect differences (integer widths, identity columns) filled in per dialect.
 *
 * Keys: every row carries (deployment_id, agent_id, session_id) and its own stable id inside the session
 * (event id, tool call id), so re-ingesting the same data changes nothing and copies of one event found
 * in several stores count once.
 */
import type { Generated } from "kysely";
import { STORE_SCHEMA_VERSION } from "./schema-version.ts";
import { alertTablesSql, type AlertTables } from "./alerts/alert-tables.ts";

export type Dialect = "sqlite" | "postgres";

export type MetaTable = { key: string; value: string };

export type DeploymentsTable = {
  deployment_id: string;
  name: string;
  /** `local` (imported from an OpenClaw home on this machine) or `remote` (pushed through the ingest API). */
  kind: string;
  openclaw_home: string | null;
  created_at: number;
  last_seen_at: number;
  /** The OpenClaw home this deployment is (core's openclawHomeId): at most one deployment per home. */
  home_id: string | null;
};

/** Through which path a deployment's data arrives: `local` import, `watch` (serve's live import), `plugin`, `ingest` API. */
export type DeploymentPathsTable = {
  deployment_id: string;
  via: string;
  /** What that path calls it: `host:/path` for an import, the sender's deployment id for a plugin / ingest key. */
  name: string;
  first_seen_at: number;
  last_seen_at: number;
};

export type AgentsTable = {
  deployment_id: string;
  agent_id: string;
  first_seen_at: number;
};

export type SessionsTable = {
  deployment_id: string;
  agent_id: string;
  session_id: string;
  session_key: string | null;
  kind: string;
  channel: string | null;
  chat_type: string | null;
  label: string | null;
  parent_session_key: string | null;
  spawned_by: string | null;
  created_via: string | null;
  status: string | null;
  window_reason: string | null;
  previous_session_id: string | null;
  cwd: string | null;
  /** JSON array of skill names from the session's skills snapshot. */
  skills: string | null;
  first_ts: number | null;
  last_ts: number | null;
  messages_user: number;
  messages_assistant: number;
  messages_tool_result: number;
  messages_other: number;
  events: number;
  llm_calls: number;
  tool_calls: number;
  tool_errors: number;
  errors: number;
  aborts: number;
  compactions: number;
  resets: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_recorded_nanos: number;
  cost_estimated_nanos: number;
  unpriced_calls: number;
  unpriced_tokens: number;
  /** The session this one was forked from; its copied events are counted there, not here. */
  fork_source_session_id: string | null;
  /** JSON array of "provider/model" used by the session's LLM calls. */
  models: string | null;
  /** 0 once every part the session was read from has disappeared from the OpenClaw home (pruned, deleted). */
  present: number;
  updated_at: number;
};

export type PartsTable = {
  part_id: Generated<number>;
  deployment_id: string;
  agent_id: string;
  session_id: string;
  /** jsonl | jsonl-reset | jsonl-deleted | jsonl-zst | sqlite | sqlite-archive | cold-archive | ingest */
  kind: string;
  /** Where the part lives: a file path, or `<db path>#<session id>` for SQLite rows. */
  locator: string;
  /** JSON: what was true of the part when it was last read (size, mtime, hashes, max seq…). */
  fingerprint: string;
  /** JSON: where the next tail read continues (byte offset / seq) and the accumulator cursor. */
  cursor: string;
  present: number;
  scanned_at: number;
};

export type EventsTable = {
  deployment_id: string;
  agent_id: string;
  session_id: string;
  event_id: string;
  part_id: number;
  ts: number;
  type: string;
  role: string | null;
  flags: number;
  bytes: number;
};

export type LlmCallsTable = {
  deployment_id: string;
  agent_id: string;
  session_id: string;
  event_id: string;
  part_id: number;
  ts: number;
  provider: string;
  model: string;
  api: string | null;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** recorded | estimated | unknown */
  cost_source: string;
  cost_nanos: number;
  recorded_cost_usd: number | null;
  price_ref: string | null;
  stop_reason: string | null;
  run_id: string | null;
  response_id: string | null;
  latency_ms: number | null;
  tool_call_count: number;
};

export type ToolCallsTable = {
  deployment_id: string;
  agent_id: string;
  session_id: string;
  call_id: string;
  part_id: number;
  call_event_id: string | null;
  ts: number;
  name: string | null;
  via: string | null;
  args_bytes: number | null;
  result_event_id: string | null;
  result_ts: number | null;
  result_bytes: number | null;
  is_error: number | null;
};

export type ProblemsTable = {
  deployment_id: string;
  part_id: number | null;
  kind: string;
  source: string;
  line: number | null;
  session_id: string | null;
  seq: number | null;
  detail: string;
};

/** The usage measures every rollup keeps (integer tokens and nano-dollars, so sums stay exact). */
export type UsageMeasures = {
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  recorded_nanos: number;
  estimated_nanos: number;
  unpriced_calls: number;
  unpriced_tokens: number;
};

/** LLM usage per 15-minute slot, agent, provider and model: what dashboards at millions of calls read. */
export type UsageRollupTable = { deployment_id: string; slot: number; agent_id: string; provider: string; model: string } & UsageMeasures;

/** The same measures per UTC hour / UTC day (`bucket` = floor(ts / unit)): what long ranges read. */
export type UsageRollupLevelTable = Omit<UsageRollupTable, "slot"> & { bucket: number };

/** A session's usage per UTC hour: usage "within a range" per session, without scanning its calls. */
export type SessionHourUsageTable = { deployment_id: string; hour: number; agent_id: string; session_id: string } & UsageMeasures;

export type ToolRollupTable = {
  deployment_id: string;
  slot: number;
  agent_id: string;
  name: string;
  calls: number;
  with_result: number;
  errors: number;
  args_bytes: number;
  result_bytes: number;
  max_result_bytes: number;
};

export type ToolRollupLevelTable = Omit<ToolRollupTable, "slot"> & { bucket: number };

/** Which models each session used, and when (sessions per model without scanning every call). */
export type SessionModelsTable = {
  deployment_id: string;
  agent_id: string;
  session_id: string;
  provider: string;
  model: string;
  calls: number;
  first_ts: number;
  last_ts: number;
};

/** `clawtower export otlp`'s progress per destination and session (see span-export.ts). */
export type ExportMarksTable = {
  exporter: string;
  deployment_id: string;
  agent_id: string;
  session_id: string;
  call_ts: number | null;
  call_id: string | null;
  tool_ts: number | null;
  tool_id: string | null;
};

export type ApiKeysTable = {
  key_id: string;
  name: string | null;
  project_id: string | null;
  deployment_id: string | null;
  /** sha256 of the secret; the secret itself is shown once and never stored. */
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
  /** Comma-separated scopes: `ingest`, `read`, `admin` (migration 11; keys made before it are `ingest`). */
  scopes: Generated<string>;
};

/** A dashboard sign-in: only sha256 of the cookie's random id is stored, so a copy of the store opens nothing. */
export type AuthSessionsTable = {
  session_hash: string;
  /** `admin` (signed in with the admin token) or `key` (with an API key that may read). */
  principal: string;
  key_id: string | null;
  /** For admin sessions: a hash of the admin token they were made with, so a new token ends them. */
  admin_fingerprint: string | null;
  client: string | null;
  created_at: number;
  last_seen_at: number;
  /** The absolute end, whatever the activity. */
  expires_at: number;
};

/** Sign-in attempts per client address, shared by every replica (see login-throttle.ts). */
export type LoginAttemptsTable = {
  client: string;
  failures: number;
  last_attempt_at: number;
  /** No attempt from this client is checked before this instant. */
  next_allowed_at: number;
};

export type IngestBatchesTable = {
  batch_id: string;
  deployment_id: string | null;
  key_id: string | null;
  format: string;
  received_at: number;
  lines: number;
  accepted: number;
  rejected: number;
  duplicates: number;
};

/** Transcript events pushed through the ingest APIs, kept for session replay (local ones are read in place). */
export type RawEventsTable = {
  deployment_id: string;
  agent_id: string;
  session_id: string;
  event_id: string;
  seq: number;
  ts: number;
  payload: string;
};

export type SkillsTable = {
  deployment_id: string;
  agent_id: string;
  skill_key: string;
  name: string;
  source: string | null;
  available: number;
  content_hash: string | null;
  content: string | null;
  metadata: string | null;
  updated_at: number;
};

/** A change feed: every write that changes what dashboards show appends a row, so replicas can follow. */
export type ChangesTable = {
  change_id: Generated<number>;
  deployment_id: string | null;
  at: number;
  kind: string;
  detail: string | null;
};

/** One observed state of a live gateway session, pushed by `clawtower watch` (session-snapshots.ts). */
export type SessionSnapshotsTable = {
  deployment_id: string;
  session_id: string;
  fingerprint: string;
  session_key: string;
  agent_id: string;
  kind: string | null;
  label: string | null;
  channel: string | null;
  status: string;
  provider: string | null;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cache_write_tokens: number | null;
  context_tokens: number | null;
  context_window: number | null;
  cost_usd: number | null;
  last_activity_at: number | null;
  observed_at: number;
  progress_at: number;
  received_at: number;
};

/** Fleet budgets (`clawtower budgets set`): the validated definition as JSON, with the columns lookups need. */
export type BudgetsTable = {
  budget_id: string;
  /** A deployment id, or "*" for every deployment. */
  deployment_id: string;
  definition: string;
  created_at: number;
  updated_at: number;
};

/** Budget events gateways ship (warn, block, downgrade, reset, alert); one per (deployment, event id). */
export type BudgetEventsTable = {
  deployment_id: string;
  event_id: string;
  budget_id: string;
  kind: string;
  at: number;
  period_start: number;
  run_id: string | null;
  session_key: string | null;
  session_id: string | null;
  agent_id: string | null;
  spent_usd: number;
  spent_tokens: number;
  limit_usd: number | null;
  limit_tokens: number | null;
  threshold: string | null;
  detail: string | null;
  received_at: number;
};

export type Database = {
  meta: MetaTable;
  budgets: BudgetsTable;
  budget_events: BudgetEventsTable;
  deployments: DeploymentsTable;
  deployment_paths: DeploymentPathsTable;
  agents: AgentsTable;
  sessions: SessionsTable;
  parts: PartsTable;
  events: EventsTable;
  llm_calls: LlmCallsTable;
  tool_calls: ToolCallsTable;
  problems: ProblemsTable;
  usage_rollup: UsageRollupTable;
  export_marks: ExportMarksTable;
  tool_rollup: ToolRollupTable;
  usage_rollup_hour: UsageRollupLevelTable;
  usage_rollup_day: UsageRollupLevelTable;
  tool_rollup_hour: ToolRollupLevelTable;
  tool_rollup_day: ToolRollupLevelTable;
  session_hour_usage: SessionHourUsageTable;
  session_models: SessionModelsTable;
  api_keys: ApiKeysTable;
  auth_sessions: AuthSessionsTable;
  login_attempts: LoginAttemptsTable;
  ingest_batches: IngestBatchesTable;
  raw_events: RawEventsTable;
  skills: SkillsTable;
  changes: ChangesTable;
  session_snapshots: SessionSnapshotsTable;
} & AlertTables;

type Migration = { version: number; name: string; sql: (d: Dialect) => string[] };

const big = (d: Dialect) => (d === "postgres" ? "BIGINT" : "INTEGER");
const identity = (d: Dialect) => (d === "postgres" ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT");
const withoutRowid = (d: Dialect) => (d === "sqlite" ? " WITHOUT ROWID" : "");
const real = (d: Dialect) => (d === "postgres" ? "DOUBLE PRECISION" : "REAL");

/** The session search columns' key, as SQL over a sessions row called `r` (for the SQLite triggers). */
const searchKey = (r: string) => `deployment_id = ${r}.deployment_id AND agent_id = ${r}.agent_id AND session_id = ${r}.session_id`;

/**
 * Indexes each inserted session for search (migration 8; migration 10 adds the WHEN clause that a bulk import
 * uses to defer it). Delete, then insert: no conflict clause here, which an outer INSERT OR … would override.
 */
const sessionSearchInsertTrigger = (when: string) => `CREATE TRIGGER sessions_search_insert AFTER INSERT ON sessions ${when} BEGIN
      DELETE FROM session_search WHERE rowid IN (SELECT id FROM session_search_keys WHERE ${searchKey("new")});
      DELETE FROM session_search_keys WHERE ${searchKey("new")};
      INSERT INTO session_search_keys (deployment_id, agent_id, session_id) VALUES (new.deployment_id, new.agent_id, new.session_id);
      INSERT INTO session_search (rowid, session_id, session_key, label) VALUES (last_insert_rowid(), new.session_id, new.session_key, new.label);
    END`;

/**
 * Trigram indexes for the session search (report-queries.ts, `q`), which matches a case-insensitive
 * substring of session_id, session_key or label:
 *   - SQLite: an FTS5 trigram table over the three columns, contentless (the text stays in sessions only),
 *     its rowids mapped to session keys by session_search_keys (sessions is WITHOUT ROWID), kept in step by
 *     triggers on sessions whatever writes them;
 *   - PostgreSQL: pg_trgm GIN indexes on the three columns, which ILIKE uses as they are (the planner picks
 *     them when the pattern is selective). pg_trgm is a trusted extension, but creating it can still be
 *     refused (no CREATE privilege on the database or on schema public, extension not installed on the
 *     server): then the migration goes on without it and searches scan sessions, as before. To add the
 *     indexes later, once an administrator has run `CREATE EXTENSION pg_trgm`, run the CREATE INDEX
 *     statements below in the store's schema. The extension goes into schema public, not the store's own
 *     schema: it is one per database, and dropping a store's schema must not drop it under other stores.
 */
const SESSION_SEARCH_SQL: Record<Dialect, string[]> = {
  sqlite: [
    `CREATE TABLE session_search_keys (id INTEGER PRIMARY KEY, deployment_id TEXT NOT NULL, agent_id TEXT NOT NULL, session_id TEXT NOT NULL,
      UNIQUE (deployment_id, agent_id, session_id))`,
    `CREATE VIRTUAL TABLE session_search USING fts5(session_id, session_key, label, content='', contentless_delete=1, tokenize='trigram')`,
    `INSERT INTO session_search_keys (deployment_id, agent_id, session_id) SELECT deployment_id, agent_id, session_id FROM sessions`,
    `INSERT INTO session_search (rowid, session_id, session_key, label)
      SELECT k.id, s.session_id, s.session_key, s.label FROM session_search_keys k
      JOIN sessions s ON s.deployment_id = k.deployment_id AND s.agent_id = k.agent_id AND s.session_id = k.session_id`,
    sessionSearchInsertTrigger(""),
    // Ingest updates sessions all the time; the index only when the searched text (or the key) changes.
    `CREATE TRIGGER sessions_search_update AFTER UPDATE OF deployment_id, agent_id, session_id, session_key, label ON sessions
    WHEN old.session_key IS NOT new.session_key OR old.label IS NOT new.label OR old.session_id IS NOT new.session_id
      OR old.agent_id IS NOT new.agent_id OR old.deployment_id IS NOT new.deployment_id
    BEGIN
      DELETE FROM session_search WHERE rowid IN (SELECT id FROM session_search_keys WHERE ${searchKey("old")});
      DELETE FROM session_search_keys WHERE ${searchKey("old")};
      DELETE FROM session_search WHERE rowid IN (SELECT id FROM session_search_keys WHERE ${searchKey("new")});
      DELETE FROM session_search_keys WHERE ${searchKey("new")};
      INSERT INTO session_search_keys (deployment_id, agent_id, session_id) VALUES (new.deployment_id, new.agent_id, new.session_id);
      INSERT INTO session_search (rowid, session_id, session_key, label) VALUES (last_insert_rowid(), new.session_id, new.session_key, new.label);
    END`,
    `CREATE TRIGGER sessions_search_delete AFTER DELETE ON sessions BEGIN
      DELETE FROM session_search WHERE rowid IN (SELECT id FROM session_search_keys WHERE ${searchKey("old")});
      DELETE FROM session_search_keys WHERE ${searchKey("old")};
    END`,
  ],
  postgres: [
    // In a subtransaction (the migration runs in one transaction): a refusal is a notice, not a failure.
    `DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        BEGIN
          CREATE EXTENSION pg_trgm SCHEMA public;
        EXCEPTION WHEN OTHERS THEN
          RAISE NOTICE 'clawtower: pg_trgm unavailable (%): session search will scan the sessions table', SQLERRM;
        END;
      END IF;
    END $$`,
    // Wherever the extension lives, its operator class by its qualified name.
    `DO $$ DECLARE ext TEXT; BEGIN
      SELECT n.nspname INTO ext FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
      IF ext IS NOT NULL THEN
        EXECUTE format('CREATE INDEX sessions_search_id ON sessions USING gin (session_id %I.gin_trgm_ops)', ext);
        EXECUTE format('CREATE INDEX sessions_search_key ON sessions USING gin (session_key %I.gin_trgm_ops)', ext);
        EXECUTE format('CREATE INDEX sessions_search_label ON sessions USING gin (label %I.gin_trgm_ops)', ext);
      END IF;
    END $$`,
  ],
};

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "ledger",
    sql: (d) => [
      `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
      `CREATE TABLE deployments (
        deployment_id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, openclaw_home TEXT,
        created_at ${big(d)} NOT NULL, last_seen_at ${big(d)} NOT NULL)`,
      `CREATE TABLE agents (deployment_id TEXT NOT NULL, agent_id TEXT NOT NULL, first_seen_at ${big(d)} NOT NULL,
        PRIMARY KEY (deployment_id, agent_id))${withoutRowid(d)}`,
      `CREATE TABLE sessions (
        deployment_id TEXT NOT NULL, agent_id TEXT NOT NULL, session_id TEXT NOT NULL,
        session_key TEXT, kind TEXT NOT NULL, channel TEXT, chat_type TEXT, label TEXT, parent_session_key TEXT,
        spawned_by TEXT, created_via TEXT, status TEXT, window_reason TEXT, previous_session_id TEXT, cwd TEXT, skills TEXT,
        first_ts ${big(d)}, last_ts ${big(d)},
        messages_user INTEGER NOT NULL DEFAULT 0, messages_assistant INTEGER NOT NULL DEFAULT 0,
        messages_tool_result INTEGER NOT NULL DEFAULT 0, messages_other INTEGER NOT NULL DEFAULT 0,
        events INTEGER NOT NULL DEFAULT 0, llm_calls INTEGER NOT NULL DEFAULT 0, tool_calls INTEGER NOT NULL DEFAULT 0,
        tool_errors INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0, aborts INTEGER NOT NULL DEFAULT 0,
        compactions INTEGER NOT NULL DEFAULT 0, resets INTEGER NOT NULL DEFAULT 0,
        input_tokens ${big(d)} NOT NULL DEFAULT 0, output_tokens ${big(d)} NOT NULL DEFAULT 0,
        cache_read_tokens ${big(d)} NOT NULL DEFAULT 0, cache_write_tokens ${big(d)} NOT NULL DEFAULT 0,
        cost_recorded_nanos ${big(d)} NOT NULL DEFAULT 0, cost_estimated_nanos ${big(d)} NOT NULL DEFAULT 0,
        unpriced_calls INTEGER NOT NULL DEFAULT 0, models TEXT, present INTEGER NOT NULL DEFAULT 1,
        updated_at ${big(d)} NOT NULL,
        PRIMARY KEY (deployment_id, agent_id, session_id))${withoutRowid(d)}`,
      `CREATE INDEX sessions_last_ts ON sessions (last_ts)`,
      `CREATE TABLE parts (
        part_id ${identity(d)}, deployment_id TEXT NOT NULL, agent_id TEXT NOT NULL, session_id TEXT NOT NULL,
        kind TEXT NOT NULL, locator TEXT NOT NULL, fingerprint TEXT NOT NULL, cursor TEXT NOT NULL,
        present INTEGER NOT NULL DEFAULT 1, scanned_at ${big(d)} NOT NULL,
        UNIQUE (deployment_id, locator))`,
      `CREATE INDEX parts_session ON parts (deployment_id, agent_id, session_id)`,
      `CREATE TABLE events (
        deployment_id TEXT NOT NULL, agent_id TEXT NOT NULL, session_id TEXT NOT NULL, event_id TEXT NOT NULL,
        part_id ${big(d)} NOT NULL, ts ${big(d)} NOT NULL, type TEXT NOT NULL, role TEXT, flags INTEGER NOT NULL,
        bytes ${big(d)} NOT NULL,
        PRIMARY KEY (deployment_id, agent_id, session_id, event_id))${withoutRowid(d)}`,
      `CREATE TABLE llm_calls (
        deployment_id TEXT NOT NULL, agent_id TEXT NOT NULL, session_id TEXT NOT NULL, event_id TEXT NOT NULL,
        part_id ${big(d)} NOT NULL, ts ${big(d)} NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, api TEXT,
        input_tokens ${big(d)} NOT NULL, output_tokens ${big(d)} NOT NULL, cache_read_tokens ${big(d)} NOT NULL,
        cache_write_tokens ${big(d)} NOT NULL, cost_source TEXT NOT NULL, cost_nanos ${big(d)} NOT NULL,
        recorded_cost_usd ${real(d)}, price_ref TEXT, stop_reason TEXT, run_id TEXT, response_id TEXT,
        latency_ms ${big(d)}, tool_call_count INTEGER NOT NULL,
        PRIMARY KEY (deployment_id, agent_id, session_id, event_id))${withoutRowid(d)}`,
      `CREATE INDEX llm_calls_ts ON llm_calls (ts)`,
      `CREATE TABLE tool_calls (
        deployment_id TEXT NOT NULL, agent_id TEXT NOT NULL, session_id TEXT NOT NULL, call_id TEXT NOT NULL,
        part_id ${big(d)} NOT NULL, call_event_id TEXT, ts ${big(d)} NOT NULL, name TEXT, via TEXT, args_bytes ${big(d)},
        result_event_id TEXT, result_ts ${big(d)}, result_bytes ${big(d)}, is_error INTEGER,
        PRIMARY KEY (deployment_id, agent_id, session_id, call_id))${withoutRowid(d)}`,
      `CREATE INDEX tool_calls_ts ON tool_calls (ts)`,
      `CREATE TABLE problems (
        deployment_id TEXT NOT NULL, part_id ${big(d)}, kind TEXT NOT NULL, source TEXT NOT NULL, line ${big(d)},
        session_id TEXT, seq ${big(d)}, detail TEXT NOT NULL)`,
      `CREATE INDEX problems_part ON problems (deployment_id, part_id)`,
    ],
  },
  {
    version: 2,
    name: "hub",
    sql: (d) => [
      `CREATE TABLE usage_rollup (
        deployment_id TEXT NOT NULL, slot ${big(d)} NOT NULL, agent_id TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
        calls ${big(d)} NOT NULL, input_tokens ${big(d)} NOT NULL, output_tokens ${big(d)} NOT NULL, cache_read_tokens ${big(d)} NOT NULL,
        cache_write_tokens ${big(d)} NOT NULL, recorded_nanos ${big(d)} NOT NULL, estimated_nanos ${big(d)} NOT NULL,
        unpriced_calls ${big(d)} NOT NULL, unpriced_tokens ${big(d)} NOT NULL,
        PRIMARY KEY (deployment_id, slot, agent_id, provider, model))${withoutRowid(d)}`,
      `CREATE INDEX usage_rollup_slot ON usage_rollup (slot)`,
      `CREATE TABLE tool_rollup (
        deployment_id TEXT NOT NULL, slot ${big(d)} NOT NULL, agent_id TEXT NOT NULL, name TEXT NOT NULL,
        calls ${big(d)} NOT NULL, with_result ${big(d)} NOT NULL, errors ${big(d)} NOT NULL, args_bytes ${big(d)} NOT NULL,
        result_bytes ${big(d)} NOT NULL, max_result_bytes ${big(d)} NOT NULL,
        PRIMARY KEY (deployment_id, slot, agent_id, name))${withoutRowid(d)}`,
      `CREATE INDEX tool_rollup_slot ON tool_rollup (slot)`,
      `CREATE TABLE session_models (
        deployment_id TEXT NOT NULL, agent_id TEXT NOT NULL, session_id TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
        calls ${big(d)} NOT NULL, first_ts ${big(d)} NOT NULL, last_ts ${big(d)} NOT NULL,
        PRIMARY KEY (deployment_id, agent_id, session_id, provider, model))${withoutRowid(d)}`,
      `CREATE INDEX session_models_model ON session_models (provider, model, last_ts)`,
      `CREATE INDEX llm_calls_dep_ts ON llm_calls (deployment_id, ts)`,
      `CREATE INDEX tool_calls_dep_ts ON tool_calls (deployment_id, ts)`,
      `CREATE INDEX sessions_dep_last ON sessions (deployment_id, last_ts)`,
      `CREATE INDEX sessions_cost ON sessions ((cost_recorded_nanos + cost_estimated_nanos))`,
      `CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY, name TEXT, project_id TEXT, deployment_id TEXT, secret_hash TEXT NOT NULL,
        created_at ${big(d)} NOT NULL, revoked_at ${big(d)}, last_used_at ${big(d)})`,
      `CREATE TABLE ingest_batches (
        batch_id TEXT PRIMARY KEY, deployment_id TEXT, key_id TEXT, format TEXT NOT NULL, received_at ${big(d)} NOT NULL,
        lines ${big(d)} NOT NULL, accepted ${big(d)} NOT NULL, rejected ${big(d)} NOT NULL, duplicates ${big(d)} NOT NULL)`,
      `CREATE TABLE raw_events (
        deployment_id TEXT NOT NULL, agent_id TEXT NOT NULL, session_id TEXT NOT NULL, event_id TEXT NOT NULL,
        seq ${big(d)} NOT NULL, ts ${big(d)} NOT NULL, payload TEXT NOT NULL,
        PRIMARY KEY (deployment_id, agent_id, session_id, event_id))${withoutRowid(d)}`,
      `CREATE TABLE skills (
        deployment_id TEXT NOT NULL, agent_id TEXT NOT NULL, skill_key TEXT NOT NULL, name TEXT NOT NULL, source TEXT,
        available INTEGER NOT NULL, content_hash TEXT, content TEXT, metadata TEXT, updated_at ${big(d)} NOT NULL,
        PRIMARY KEY (deployment_id, agent_id, skill_key))`,
      `CREATE TABLE changes (
        change_id ${identity(d)}, deployment_id TEXT, at ${big(d)} NOT NULL, kind TEXT NOT NULL, detail TEXT)`,
    ],
  },
  {
    version: 3,
    name: "session-unpriced-tokens",
    sql: (d) => [
      `ALTER TABLE sessions ADD COLUMN unpriced_tokens ${big(d)} NOT NULL DEFAULT 0`,
      `UPDATE sessions SET unpriced_tokens = (SELECT coalesce(sum(c.input_tokens + c.output_tokens + c.cache_read_tokens + c.cache_write_tokens), 0)
         FROM llm_calls c WHERE c.deployment_id = sessions.deployment_id AND c.agent_id = sessions.agent_id
         AND c.session_id = sessions.session_id AND c.cost_source = 'unknown')`,
      `CREATE INDEX sessions_tokens ON sessions ((input_tokens + output_tokens + cache_read_tokens + cache_write_tokens))`,
    ],
  },
  {
    version: 4,
    name: "forks",
    sql: () => [
      `ALTER TABLE sessions ADD COLUMN fork_source_session_id TEXT`,
      `CREATE INDEX sessions_fork_source ON sessions (deployment_id, agent_id, fork_source_session_id)`,
      `CREATE INDEX tool_calls_events ON tool_calls (deployment_id, agent_id, session_id, call_event_id)`,
    ],
  },
  {
    version: 5,
    name: "rollup-levels",
    sql: (d) => {
      const usage = (table: string) => `CREATE TABLE ${table} (
        deployment_id TEXT NOT NULL, bucket ${big(d)} NOT NULL, agent_id TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
        calls ${big(d)} NOT NULL, input_tokens ${big(d)} NOT NULL, output_tokens ${big(d)} NOT NULL, cache_read_tokens ${big(d)} NOT NULL,
        cache_write_tokens ${big(d)} NOT NULL, recorded_nanos ${big(d)} NOT NULL, estimated_nanos ${big(d)} NOT NULL,
        unpriced_calls ${big(d)} NOT NULL, unpriced_tokens ${big(d)} NOT NULL,
        PRIMARY KEY (deployment_id, bucket, agent_id, provider, model))${withoutRowid(d)}`;
      const tools = (table: string) => `CREATE TABLE ${table} (
        deployment_id TEXT NOT NULL, bucket ${big(d)} NOT NULL, agent_id TEXT NOT NULL, name TEXT NOT NULL,
        calls ${big(d)} NOT NULL, with_result ${big(d)} NOT NULL, errors ${big(d)} NOT NULL, args_bytes ${big(d)} NOT NULL,
        result_bytes ${big(d)} NOT NULL, max_result_bytes ${big(d)} NOT NULL,
        PRIMARY KEY (deployment_id, bucket, agent_id, name))${withoutRowid(d)}`;
      return [
        usage("usage_rollup_hour"),
        usage("usage_rollup_day"),
        tools("tool_rollup_hour"),
        tools("tool_rollup_day"),
        `CREATE INDEX usage_rollup_hour_bucket ON usage_rollup_hour (bucket)`,
        `CREATE INDEX usage_rollup_day_bucket ON usage_rollup_day (bucket)`,
        `CREATE TABLE session_hour_usage (
          deployment_id TEXT NOT NULL, hour ${big(d)} NOT NULL, agent_id TEXT NOT NULL, session_id TEXT NOT NULL,
          calls ${big(d)} NOT NULL, input_tokens ${big(d)} NOT NULL, output_tokens ${big(d)} NOT NULL, cache_read_tokens ${big(d)} NOT NULL,
          cache_write_tokens ${big(d)} NOT NULL, recorded_nanos ${big(d)} NOT NULL, estimated_nanos ${big(d)} NOT NULL,
          unpriced_calls ${big(d)} NOT NULL, unpriced_tokens ${big(d)} NOT NULL,
          PRIMARY KEY (deployment_id, hour, agent_id, session_id))${withoutRowid(d)}`,
        `CREATE INDEX session_hour_usage_session ON session_hour_usage (deployment_id, agent_id, session_id)`,
        `CREATE INDEX session_hour_usage_hour ON session_hour_usage (hour)`,
        // Existing stores: derive the new levels from what is already there.
        `INSERT INTO usage_rollup_hour SELECT deployment_id, slot / 4, agent_id, provider, model, sum(calls), sum(input_tokens), sum(output_tokens),
          sum(cache_read_tokens), sum(cache_write_tokens), sum(recorded_nanos), sum(estimated_nanos), sum(unpriced_calls), sum(unpriced_tokens)
          FROM usage_rollup GROUP BY deployment_id, slot / 4, agent_id, provider, model`,
        `INSERT INTO usage_rollup_day SELECT deployment_id, bucket / 24, agent_id, provider, model, sum(calls), sum(input_tokens), sum(output_tokens),
          sum(cache_read_tokens), sum(cache_write_tokens), sum(recorded_nanos), sum(estimated_nanos), sum(unpriced_calls), sum(unpriced_tokens)
          FROM usage_rollup_hour GROUP BY deployment_id, bucket / 24, agent_id, provider, model`,
        `INSERT INTO tool_rollup_hour SELECT deployment_id, slot / 4, agent_id, name, sum(calls), sum(with_result), sum(errors), sum(args_bytes),
          sum(result_bytes), max(max_result_bytes) FROM tool_rollup GROUP BY deployment_id, slot / 4, agent_id, name`,
        `INSERT INTO tool_rollup_day SELECT deployment_id, bucket / 24, agent_id, name, sum(calls), sum(with_result), sum(errors), sum(args_bytes),
          sum(result_bytes), max(max_result_bytes) FROM tool_rollup_hour GROUP BY deployment_id, bucket / 24, agent_id, name`,
        `INSERT INTO session_hour_usage SELECT deployment_id, ts / 3600000, agent_id, session_id, count(*), sum(input_tokens), sum(output_tokens),
          sum(cache_read_tokens), sum(cache_write_tokens),
          coalesce(sum(cost_nanos) FILTER (WHERE cost_source = 'recorded'), 0), coalesce(sum(cost_nanos) FILTER (WHERE cost_source = 'estimated'), 0),
          count(*) FILTER (WHERE cost_source = 'unknown'),
          coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) FILTER (WHERE cost_source = 'unknown'), 0)
          FROM llm_calls GROUP BY deployment_id, ts / 3600000, agent_id, session_id`,
      ];
    },
  },
  {
    version: 6,
    name: "report-indexes",
    // Sessions per agent and the filter choices (kinds, channels) from indexes instead of scanning sessions;
    // time ranges on the coarser tool rollups.
    sql: () => [
      `CREATE INDEX sessions_agent_last ON sessions (agent_id, last_ts)`,
      `CREATE INDEX sessions_kind ON sessions (kind, last_ts)`,
      `CREATE INDEX sessions_channel ON sessions (channel, last_ts)`,
      `CREATE INDEX tool_rollup_hour_bucket ON tool_rollup_hour (bucket)`,
      `CREATE INDEX tool_rollup_day_bucket ON tool_rollup_day (bucket)`,
    ],
  },
  {
    version: 7,
    name: "raw-events-rowid",
    // SQLite: raw events as an ordinary (rowid) table with its key as a unique index. In a WITHOUT ROWID
    // table a row longer than ~1 KiB spills into an overflow page of its own, mostly empty: tool results made
    // raw_events 3× larger than its payloads, and ingest wrote (and checkpointed) ~4 pages per event.
    sql: (d) =>
      d === "sqlite"
        ? [
            `CREATE TABLE raw_events_rowid (
              deployment_id TEXT NOT NULL, agent_id TEXT NOT NULL, session_id TEXT NOT NULL, event_id TEXT NOT NULL,
              seq INTEGER NOT NULL, ts INTEGER NOT NULL, payload TEXT NOT NULL,
              PRIMARY KEY (deployment_id, agent_id, session_id, event_id))`,
            `INSERT INTO raw_events_rowid (deployment_id, agent_id, session_id, event_id, seq, ts, payload)
              SELECT deployment_id, agent_id, session_id, event_id, seq, ts, payload FROM raw_events`,
            `DROP TABLE raw_events`,
            `ALTER TABLE raw_events_rowid RENAME TO raw_events`,
          ]
        : [],
  },
  {
    version: 8,
    name: "session-search",
    // The dashboard's session search (a case-insensitive substring of session id, key or label) from a
    // trigram index instead of a scan of every session; see SESSION_SEARCH_SQL.
    sql: (d) => SESSION_SEARCH_SQL[d],
  },
  {
    version: 9,
    name: "session-models-covering",
    // Sessions per model in a range are counted one model at a time from this index alone (an index-only
    // range per model instead of reading every session_models row): it carries every column the count
    // filters on. PostgreSQL had scanned the whole table, ~150 ms at 5 M calls.
    sql: () => [
      `DROP INDEX session_models_model`,
      `CREATE INDEX session_models_model ON session_models (provider, model, last_ts, first_ts, deployment_id, agent_id)`,
    ],
  },
  {
    version: 10,
    name: "session-search-deferrable",
    // SQLite: a bulk import defers indexing inserted sessions one by one and indexes them at the end in one
    // statement (session-search-bulk.ts): the insert trigger skips while the flag row exists.
    sql: (d) =>
      d === "sqlite"
        ? [
            `CREATE TABLE session_search_deferred (id INTEGER PRIMARY KEY CHECK (id = 1))`,
            `DROP TRIGGER sessions_search_insert`,
            sessionSearchInsertTrigger("WHEN NOT EXISTS (SELECT 1 FROM session_search_deferred)"),
          ]
        : [],
  },
  {
    version: 11,
    name: "auth-sessions-key-scopes",
    // Keys get scopes; the keys already there were only ever meant for ingest, so they stay ingest-only (bound to
    // the deployment they had). Dashboard sign-ins become server-side sessions; failed sign-ins are counted per
    // client in the store, so replicas share one lockout.
    sql: (d) => [
      `ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'ingest'`,
      `CREATE TABLE auth_sessions (
        session_hash TEXT PRIMARY KEY, principal TEXT NOT NULL, key_id TEXT, admin_fingerprint TEXT, client TEXT,
        created_at ${big(d)} NOT NULL, last_seen_at ${big(d)} NOT NULL, expires_at ${big(d)} NOT NULL)`,
      `CREATE INDEX auth_sessions_expires ON auth_sessions (expires_at)`,
      `CREATE TABLE login_attempts (
        client TEXT PRIMARY KEY, failures ${big(d)} NOT NULL, last_attempt_at ${big(d)} NOT NULL, next_allowed_at ${big(d)} NOT NULL)`,
      `CREATE INDEX login_attempts_last ON login_attempts (last_attempt_at)`,
    ],
  },
  {
    version: 12,
    name: "deployment-homes",
    sql: (d) => [
      `ALTER TABLE deployments ADD COLUMN home_id TEXT`,
      `CREATE UNIQUE INDEX deployments_home ON deployments (home_id)`,
      `CREATE TABLE deployment_paths (deployment_id TEXT NOT NULL, via TEXT NOT NULL, name TEXT NOT NULL,
        first_seen_at ${big(d)} NOT NULL, last_seen_at ${big(d)} NOT NULL, PRIMARY KEY (deployment_id, via, name))${withoutRowid(d)}`,
    ],
  },
  {
    version: 13,
    name: "session-snapshots",
    // Idempotent per (deployment, session, fingerprint): a re-sent snapshot is a duplicate. The second index
    // finds a session's latest snapshot; the third, the sessions active in a recent window.
    sql: (d) => [
      `CREATE TABLE session_snapshots (
        deployment_id TEXT NOT NULL, session_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
        session_key TEXT NOT NULL, agent_id TEXT NOT NULL, kind TEXT, label TEXT, channel TEXT, status TEXT NOT NULL,
        provider TEXT, model TEXT, input_tokens ${big(d)}, output_tokens ${big(d)}, cache_read_tokens ${big(d)},
        cache_write_tokens ${big(d)}, context_tokens ${big(d)}, context_window ${big(d)}, cost_usd ${real(d)},
        last_activity_at ${big(d)}, observed_at ${big(d)} NOT NULL, progress_at ${big(d)} NOT NULL, received_at ${big(d)} NOT NULL,
        PRIMARY KEY (deployment_id, session_id, fingerprint))${withoutRowid(d)}`,
      `CREATE INDEX session_snapshots_latest ON session_snapshots (deployment_id, session_id, observed_at)`,
      `CREATE INDEX session_snapshots_observed ON session_snapshots (observed_at)`,
    ],
  },
  {
    version: 14,
    name: "fleet-budgets",
    sql: (d) => [
      `CREATE TABLE budgets (budget_id TEXT PRIMARY KEY, deployment_id TEXT NOT NULL, definition TEXT NOT NULL,
        created_at ${big(d)} NOT NULL, updated_at ${big(d)} NOT NULL)`,
      `CREATE INDEX budgets_deployment ON budgets (deployment_id)`,
      `CREATE TABLE budget_events (
        deployment_id TEXT NOT NULL, event_id TEXT NOT NULL, budget_id TEXT NOT NULL, kind TEXT NOT NULL, at ${big(d)} NOT NULL,
        period_start ${big(d)} NOT NULL, run_id TEXT, session_key TEXT, session_id TEXT, agent_id TEXT,
        spent_usd ${real(d)} NOT NULL, spent_tokens ${big(d)} NOT NULL, limit_usd ${real(d)}, limit_tokens ${big(d)},
        threshold TEXT, detail TEXT, received_at ${big(d)} NOT NULL,
        PRIMARY KEY (deployment_id, event_id))`,
      `CREATE INDEX budget_events_at ON budget_events (at)`,
      `CREATE INDEX budget_events_budget ON budget_events (budget_id, at)`,
    ],
  },
  {
    version: 15,
    name: "metrics-series",
    // /metrics sums the day rollups per series (deployment, agent, provider, model) over all time: with the
    // series first and the measures in the index, both dialects aggregate in index order instead of sorting
    // every day row (SQLite spent ~20 ms of a scrape at 5 M calls on that sort).
    sql: () => [
      `CREATE INDEX usage_rollup_day_series ON usage_rollup_day (deployment_id, agent_id, provider, model, calls, input_tokens, output_tokens,
        cache_read_tokens, cache_write_tokens, recorded_nanos, estimated_nanos)`,
      `CREATE INDEX tool_rollup_day_agent ON tool_rollup_day (deployment_id, agent_id, calls, errors)`,
    ],
  },
  {
    version: 16,
    name: "export-marks",
    // Where `clawtower export otlp` stands per destination and session: the last LLM call and tool call sent
    // (ordered by time, then id), so a restarted export sends nothing twice.
    sql: (d) => [
      `CREATE TABLE export_marks (
        exporter TEXT NOT NULL, deployment_id TEXT NOT NULL, agent_id TEXT NOT NULL, session_id TEXT NOT NULL,
        call_ts ${big(d)}, call_id TEXT, tool_ts ${big(d)}, tool_id TEXT,
        PRIMARY KEY (exporter, deployment_id, agent_id, session_id))${withoutRowid(d)}`,
      `CREATE INDEX sessions_updated ON sessions (updated_at)`,
    ],
  },
  { version: 17, name: "alerts", sql: (d) => alertTablesSql(d) },
];

// One number for `clawtower --version`, /api/v1/info and the migrations: adding a migration means raising it.
if (MIGRATIONS.at(-1)?.version !== STORE_SCHEMA_VERSION) {
  throw new Error(`schema-version.ts says ${STORE_SCHEMA_VERSION}, the last migration is ${MIGRATIONS.at(-1)?.version}`);
}
