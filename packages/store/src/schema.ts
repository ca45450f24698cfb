/**
 * The store schema, declared once for both dialects. Row types drive Kysely's query typing; migrations are
 * plain SQL with the few dialect differences (integer widths, identity columns) filled in per dialect.
 *
 * Keys: every row carries (deployment_id, agent_id, session_id) and its own stable id inside the session
 * (event id, tool call id), so re-ingesting the same data changes nothing and copies of one event found
 * in several stores count once.
 */
import type { Generated } from "kysely";

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

export type Database = {
  meta: MetaTable;
  deployments: DeploymentsTable;
  agents: AgentsTable;
  sessions: SessionsTable;
  parts: PartsTable;
  events: EventsTable;
  llm_calls: LlmCallsTable;
  tool_calls: ToolCallsTable;
  problems: ProblemsTable;
};

type Migration = { version: number; name: string; sql: (d: Dialect) => string[] };

const big = (d: Dialect) => (d === "postgres" ? "BIGINT" : "INTEGER");
const identity = (d: Dialect) => (d === "postgres" ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT");
const withoutRowid = (d: Dialect) => (d === "sqlite" ? " WITHOUT ROWID" : "");
const real = (d: Dialect) => (d === "postgres" ? "DOUBLE PRECISION" : "REAL");

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
];
