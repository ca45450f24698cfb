/**
 * Builds OpenClaw homes for tests, in both store formats, and knows their expected totals *from its own
 * inputs*: every LLM call the builder writes adds its tokens and cost to `expected` as it is declared, so
 * the expectations never come from the code under test.
 *
 *   const home = new FixtureHome();
 *   const s = home.agent("main").session({ store: "sqlite", sessionKey: "agent:main:main" });
 *   s.user("hi"); s.assistant({ input: 10, output: 5, cost: 0.001 });
 *   home.write(dir);   // then compare `clawtower report summary --json` with home.expected
 *
 * The SQLite schema is OpenClaw 2026.9.6's own DDL for the tables a transcript reader touches (copied from
 * a store the real host wrote), so CHECK constraints hold us to the real shapes.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import zlib from "node:zlib";

export const AGENT_DB_DDL = [
  `CREATE TABLE session_nodes (
  session_key TEXT NOT NULL PRIMARY KEY, current_session_id TEXT NOT NULL, entry_json TEXT NOT NULL,
  legacy_acp_migration_json TEXT, entry_valid INTEGER NOT NULL DEFAULT 0 CHECK (entry_valid IN (-1, 0, 1)),
  updated_at INTEGER NOT NULL, status TEXT CHECK (status IS NULL OR status IN ('running', 'done', 'failed', 'killed', 'timeout')),
  created_at INTEGER, created_via TEXT CHECK (created_via IS NULL OR created_via IN ('operator', 'spawn', 'channel', 'cron', 'talk', 'run', 'plugin', 'internal')),
  created_actor_type TEXT, created_actor_id TEXT, owner_actor_type TEXT, owner_actor_id TEXT, owner_assigned_by_type TEXT,
  owner_assigned_by_id TEXT, owner_assigned_at INTEGER, project_id TEXT, parent_session_key TEXT, spawned_by TEXT,
  fork_source_session_key TEXT, fork_source_session_id TEXT, fork_source_entry_id TEXT, label TEXT, display_name TEXT,
  category TEXT, icon TEXT, pinned_at INTEGER, archived_at INTEGER, last_read_at INTEGER, last_interaction_at INTEGER, last_activity_at INTEGER
) STRICT`,
  `CREATE TABLE session_windows (
  session_id TEXT NOT NULL PRIMARY KEY, session_key TEXT NOT NULL, previous_session_id TEXT,
  reason TEXT CHECK (reason IS NULL OR reason IN ('initial', 'reset', 'rollover', 'fork', 'rewind', 'switch', 'recovery', 'compaction')),
  session_scope TEXT NOT NULL DEFAULT 'conversation' CHECK (session_scope IN ('conversation', 'shared-main', 'group', 'channel')),
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, transcript_updated_at INTEGER DEFAULT NULL, transcript_observed_at INTEGER DEFAULT NULL,
  session_entry_provenance INTEGER NOT NULL DEFAULT 0 CHECK (session_entry_provenance IN (0, 1)), acp_owned INTEGER NOT NULL DEFAULT 0 CHECK (acp_owned IN (0, 1)),
  plugin_owner_id TEXT, hook_external_content_source TEXT, started_at INTEGER, ended_at INTEGER,
  status TEXT CHECK (status IS NULL OR status IN ('running', 'done', 'failed', 'killed', 'timeout')),
  chat_type TEXT CHECK (chat_type IS NULL OR chat_type IN ('direct', 'group', 'channel')), channel TEXT, account_id TEXT,
  primary_conversation_id TEXT, model_provider TEXT, model TEXT, agent_harness_id TEXT, parent_session_key TEXT, spawned_by TEXT, display_name TEXT,
  FOREIGN KEY (session_key) REFERENCES session_nodes(session_key) ON DELETE CASCADE
) STRICT`,
  `CREATE TABLE transcript_events (
  session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER NOT NULL, event_zstd BLOB,
  event_utf8_bytes INTEGER CHECK (event_utf8_bytes IS NULL OR event_utf8_bytes >= 0), navigation_json TEXT,
  PRIMARY KEY (session_id, seq), FOREIGN KEY (session_id) REFERENCES "session_windows"(session_id) ON DELETE CASCADE,
  CHECK ((event_json IS NOT NULL AND event_zstd IS NULL) OR (event_json IS NULL AND event_zstd IS NOT NULL AND event_utf8_bytes IS NOT NULL
    AND event_utf8_bytes BETWEEN 1 AND 4194304 AND length(event_zstd) BETWEEN 1 AND 4194304 AND navigation_json IS NOT NULL))
) STRICT`,
  `CREATE TABLE transcript_rewrite_watermarks (
  session_id TEXT NOT NULL PRIMARY KEY, generation TEXT NOT NULL, updated_at INTEGER NOT NULL,
  FOREIGN KEY (session_id) REFERENCES "session_windows"(session_id) ON DELETE CASCADE
) STRICT`,
  `CREATE TABLE session_transcript_archives (
  session_id TEXT NOT NULL, generation TEXT NOT NULL, session_key TEXT NOT NULL, reason TEXT NOT NULL CHECK (reason IN ('deleted', 'reset')),
  encoding TEXT NOT NULL CHECK (encoding IN ('identity', 'zstd')), archive_blob BLOB NOT NULL,
  archive_sha256 TEXT NOT NULL CHECK (length(archive_sha256) = 64), archive_name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
  published_at INTEGER, publish_attempts INTEGER NOT NULL DEFAULT 0 CHECK (publish_attempts >= 0), last_publish_attempt_at INTEGER, last_publish_error TEXT,
  PRIMARY KEY (session_id, generation)
) STRICT`,
  `CREATE TABLE session_transcript_cold_archives (
  session_id TEXT NOT NULL PRIMARY KEY, generation TEXT NOT NULL, archive_name TEXT NOT NULL UNIQUE,
  archive_sha256 TEXT NOT NULL CHECK (length(archive_sha256) = 64), event_count INTEGER NOT NULL CHECK (event_count >= 1),
  raw_bytes INTEGER NOT NULL CHECK (raw_bytes >= 0), archive_bytes INTEGER NOT NULL CHECK (archive_bytes >= 0), last_seq INTEGER NOT NULL,
  archived_at INTEGER NOT NULL, storage TEXT NOT NULL CHECK (storage IN ('file', 'sqlite')), archive_blob BLOB,
  FOREIGN KEY (session_id) REFERENCES "session_windows"(session_id) ON DELETE CASCADE,
  CHECK ((storage = 'file' AND archive_blob IS NULL) OR (storage = 'sqlite' AND archive_blob IS NOT NULL))
) STRICT`,
];

/** A minimal navigation document that satisfies the CHECK on compressed rows. */
const NAVIGATION_JSON = JSON.stringify({
  version: 1,
  report: { kind: "canonical" },
  navigation: {},
  reset: {},
  model: {},
  modelBytes: 0,
  modelWithoutCheckpointBytes: 0,
  withoutCustomDataBytes: 0,
});

export type ExpectedTotals = {
  sessions: number;
  llmCalls: number;
  toolCalls: number;
  toolErrors: number;
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number; total: number };
  /** Sum of recorded `usage.cost.total` of counted calls, in USD. */
  recordedCost: number;
  /** Calls without a recorded cost (their cost comes from prices, or they are unpriced). */
  callsWithoutRecordedCost: number;
  byModel: Map<string, { calls: number; tokens: number; recordedCost: number }>;
  byDay: Map<string, { calls: number; tokens: number }>;
  /** Bad-input problems the fixture contains, by kind. */
  problems: Record<string, number>;
};

function newExpected(): ExpectedTotals {
  return {
    sessions: 0,
    llmCalls: 0,
    toolCalls: 0,
    toolErrors: 0,
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
    recordedCost: 0,
    callsWithoutRecordedCost: 0,
    byModel: new Map(),
    byDay: new Map(),
    problems: {},
  };
}

export type SessionStore =
  | "sqlite" // live transcript_events rows
  | "legacy" // agents/<id>/sessions/<sid>.jsonl
  | "legacy-reset" // <sid>.jsonl.reset.<ts>
  | "legacy-deleted" // <sid>.jsonl.deleted.<ts>
  | "sqlite-archive" // session_transcript_archives blob (+ derived .zst export file)
  | "cold"; // session_transcript_cold_archives + sessions/cold/<sha>.jsonl.zst

export type SessionOptions = {
  store: SessionStore;
  sessionId?: string;
  sessionKey?: string;
  /** Compress every row of ≥ this many bytes with zstd (sqlite store). Default 1024, like OpenClaw. */
  zstdFrom?: number;
  channel?: string;
  chatType?: "direct" | "group" | "channel";
  createdVia?: string;
  spawnedBy?: string;
  label?: string;
  skills?: string[];
  /** Start time of the session, epoch ms. */
  start?: number;
  /** Seconds between consecutive events. Default 7. */
  stepSeconds?: number;
  /** Also write a copy of this session into these stores (counted once). */
  copies?: SessionStore[];
  /**
   * A fork of this session (OpenClaw `sessions.create {fork:true}`): its transcript starts with verbatim
   * copies of the source's events (same ids and usage), which must not count again.
   */
  forkOf?: FixtureSession;
};

export type AssistantSpec = {
  provider?: string;
  model?: string;
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
  /** Recorded `usage.cost.total`; omit for no recorded cost. */
  cost?: number;
  toolCalls?: { name: string; args?: unknown; id?: string }[];
  stopReason?: string;
  text?: string;
  /** Raw `usage` JSON text instead of the numbers above (NaN, negatives, strings…). */
  rawUsage?: string;
  /** Omit the usage member entirely. */
  noUsage?: boolean;
  /** Write as a transcript artifact (openclaw/delivery-mirror with zero usage). */
  deliveryMirror?: boolean;
};

export type FixtureEvent = { text: string; countsAs?: "call" | "toolCall" | "toolResult" };

type ExpectedCall = { provider: string; model: string; tokens: [number, number, number, number]; cost: number | undefined; ts: number; toolCalls: number };

export class FixtureSession {
  readonly agentId: string;
  readonly sessionId: string;
  readonly options: SessionOptions;
  readonly lines: string[] = [];
  readonly calls: ExpectedCall[] = [];
  toolCalls = 0;
  toolErrors = 0;
  readonly problems: Record<string, number> = {};
  #t: number;
  #last: string | null = null;
  #n = 0;

  constructor(agentId: string, options: SessionOptions) {
    this.agentId = agentId;
    this.options = options;
    this.sessionId = options.sessionId ?? crypto.randomUUID();
    this.#t = options.start ?? Date.UTC(2026, 10, 20, 9, 0, 0);
    const header: Record<string, unknown> = { type: "session", version: 4, id: this.sessionId, timestamp: new Date(this.#t).toISOString(), cwd: "/home/op/.openclaw/workspace" };
    if (options.forkOf) header["parentSession"] = `sqlite:${agentId}:${options.forkOf.sessionId}:/home/op/.openclaw/agents/${agentId}/agent/openclaw-agent.sqlite`;
    this.#push(header, false);
    if (options.forkOf) {
      // Verbatim copies: they keep their ids, usage and timestamps, and add nothing to the expected totals.
      for (const line of options.forkOf.lines.slice(1)) this.lines.push(line);
      this.#last = (JSON.parse(options.forkOf.lines.at(-1)!) as { id?: string }).id ?? null;
    }
  }

  #tick(): number {
    this.#t += (this.options.stepSeconds ?? 7) * 1000;
    return this.#t;
  }

  get now(): number {
    return this.#t;
  }

  /** Moves the session clock to an instant (for events on other days). */
  at(ms: number): this {
    this.#t = ms;
    return this;
  }

  #push(event: Record<string, unknown>, chain = true): string {
    const id = (event["id"] as string | undefined) ?? `${this.sessionId.slice(0, 8)}-e${++this.#n}`;
    const full = chain ? { ...event, id, parentId: this.#last } : event;
    this.lines.push(JSON.stringify(full));
    this.#last = id;
    return id;
  }

  modelChange(provider: string, modelId: string): this {
    this.#push({ type: "model_change", provider, modelId, timestamp: new Date(this.#tick()).toISOString() });
    return this;
  }

  user(content: string): this {
    const ts = this.#tick();
    this.#push({ type: "message", timestamp: new Date(ts).toISOString(), message: { role: "user", content, timestamp: ts - 50 } });
    return this;
  }

  assistant(spec: AssistantSpec = {}): string[] {
    const ts = this.#tick();
    const provider = spec.deliveryMirror ? "openclaw" : (spec.provider ?? "anthropic");
    const model = spec.deliveryMirror ? "delivery-mirror" : (spec.model ?? "claude-sonnet-4-5");
    const t = spec.deliveryMirror ? [0, 0, 0, 0] : [spec.input ?? 100, spec.output ?? 20, spec.cacheRead ?? 0, spec.cacheWrite ?? 0];
    const toolIds = (spec.toolCalls ?? []).map((c, i) => c.id ?? `call_${this.sessionId.slice(0, 6)}_${this.#n}_${i}`);
    const content: unknown[] = [];
    if (spec.text !== undefined || !spec.toolCalls?.length) content.push({ type: "text", text: spec.text ?? `answer ${this.#n}` });
    (spec.toolCalls ?? []).forEach((c, i) => content.push({ type: "toolCall", id: toolIds[i], name: c.name, arguments: c.args ?? {} }));
    const usage: Record<string, unknown> = { input: t[0], output: t[1], cacheRead: t[2], cacheWrite: t[3], totalTokens: t.reduce((a, b) => a + b, 0) };
    if (spec.cost !== undefined) usage["cost"] = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: spec.cost };
    const message: Record<string, unknown> = {
      role: "assistant",
      content,
      api: "anthropic-messages",
      provider,
      model,
      stopReason: spec.stopReason ?? (spec.toolCalls?.length ? "toolUse" : "stop"),
      timestamp: ts - 1200,
      responseId: `resp_${this.#n}`,
    };
    if (!spec.noUsage && spec.rawUsage === undefined) message["usage"] = usage;
    let text = JSON.stringify({ type: "message", id: `${this.sessionId.slice(0, 8)}-e${++this.#n}`, parentId: this.#last, timestamp: new Date(ts).toISOString(), message });
    if (spec.rawUsage !== undefined) text = text.replace(/,"stopReason"/, `,"usage":${spec.rawUsage},"stopReason"`);
    this.#last = `${this.sessionId.slice(0, 8)}-e${this.#n}`;
    this.lines.push(text);
    const counted = !spec.noUsage && !spec.deliveryMirror && spec.rawUsage === undefined && t.some((x) => x > 0);
    if (counted) this.calls.push({ provider, model, tokens: t as [number, number, number, number], cost: spec.cost, ts, toolCalls: toolIds.length });
    if (spec.noUsage) this.problems["assistant-without-usage"] = (this.problems["assistant-without-usage"] ?? 0) + 1;
    this.toolCalls += toolIds.length;
    return toolIds;
  }

  /** An assistant call whose usage JSON has bad fields; `tokens` is what it must count as. */
  assistantRawUsage(rawUsage: string, counted: { provider?: string; model?: string; tokens: [number, number, number, number]; invalidFields: number }): this {
    this.assistant({ rawUsage, ...(counted.provider ? { provider: counted.provider } : {}), ...(counted.model ? { model: counted.model } : {}) });
    const ts = this.#t;
    if (counted.tokens.some((x) => x > 0)) {
      this.calls.push({ provider: counted.provider ?? "anthropic", model: counted.model ?? "claude-sonnet-4-5", tokens: counted.tokens, cost: undefined, ts, toolCalls: 0 });
    }
    if (counted.invalidFields > 0) this.problems["invalid-usage-field"] = (this.problems["invalid-usage-field"] ?? 0) + counted.invalidFields;
    return this;
  }

  toolResult(callId: string, name: string, opts: { isError?: boolean; text?: string; bytes?: number } = {}): this {
    const ts = this.#tick();
    const text = opts.text ?? (opts.bytes ? "r".repeat(opts.bytes) : `result of ${name}`);
    this.#push({
      type: "message",
      timestamp: new Date(ts).toISOString(),
      message: { role: "toolResult", toolCallId: callId, toolName: name, content: [{ type: "text", text }], details: { status: opts.isError ? "error" : "ok" }, isError: opts.isError === true, timestamp: ts },
    });
    if (opts.isError) this.toolErrors++;
    return this;
  }

  custom(type: string, extra: Record<string, unknown> = {}): this {
    this.#push({ type, timestamp: new Date(this.#tick()).toISOString(), ...extra });
    if (!["session", "message", "model_change", "thinking_level_change", "custom", "custom_message", "compaction", "branch_summary", "reset", "label", "session_info"].includes(type)) {
      this.problems["unknown-event-type"] = (this.problems["unknown-event-type"] ?? 0) + 1;
    }
    return this;
  }

  /** Written after the last line without a newline (a line a writer has not finished). */
  tail: string | null = null;

  /**
   * A raw line, written as is; `problem` names the problem kind it must produce. A "truncated-line" goes
   * last, without its newline, as a writer that stopped mid-line leaves it.
   */
  raw(line: string, problem?: string): this {
    if (problem === "truncated-line") this.tail = line;
    else this.lines.push(line);
    if (problem) this.problems[problem] = (this.problems[problem] ?? 0) + 1;
    return this;
  }

  jsonl(): string {
    return this.lines.map((l) => `${l}\n`).join("") + (this.tail ?? "");
  }
}

export class FixtureAgent {
  readonly agentId: string;
  readonly sessions: FixtureSession[] = [];
  /** Extra files to write under the agent directory (relative path → content or null for a dangling link). */
  readonly extraFiles = new Map<string, string | Buffer | { symlinkTo: string }>();
  corruptDatabase = false;

  constructor(agentId: string) {
    this.agentId = agentId;
  }

  session(options: SessionOptions): FixtureSession {
    const s = new FixtureSession(this.agentId, options);
    this.sessions.push(s);
    return s;
  }
}

function sha256(buf: Buffer | string): string {
  return crypto.createHash("sha256").update(buf).digest("hex");
}

export class FixtureHome {
  readonly agents = new Map<string, FixtureAgent>();
  /** `models.providers` written into openclaw.json. */
  providers: Record<string, unknown> = {};
  /** Problems that come from files rather than lines (unreadable file, corrupt database…). */
  readonly fileProblems: Record<string, number> = {};

  agent(agentId: string): FixtureAgent {
    let a = this.agents.get(agentId);
    if (!a) {
      a = new FixtureAgent(agentId);
      this.agents.set(agentId, a);
    }
    return a;
  }

  /** Totals a correct reader must report, from the builder's inputs. */
  get expected(): ExpectedTotals {
    const e = newExpected();
    const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    for (const a of this.agents.values()) {
      if (a.corruptDatabase) continue;
      for (const s of a.sessions) {
        if (s.lines.length > 1) e.sessions++;
        e.toolCalls += s.toolCalls;
        e.toolErrors += s.toolErrors;
        for (const [k, v] of Object.entries(s.problems)) e.problems[k] = (e.problems[k] ?? 0) + v;
        for (const c of s.calls) {
          const [i, o, r, w] = c.tokens;
          e.llmCalls++;
          e.tokens.input += i;
          e.tokens.output += o;
          e.tokens.cacheRead += r;
          e.tokens.cacheWrite += w;
          e.tokens.total += i + o + r + w;
          if (c.cost !== undefined && (c.cost > 0 || i + o + r + w === 0)) e.recordedCost += c.cost;
          else e.callsWithoutRecordedCost++;
          const mk = `${c.provider}/${c.model}`;
          const m = e.byModel.get(mk) ?? { calls: 0, tokens: 0, recordedCost: 0 };
          m.calls++;
          m.tokens += i + o + r + w;
          m.recordedCost += c.cost !== undefined && c.cost > 0 ? c.cost : 0;
          e.byModel.set(mk, m);
          const d = e.byDay.get(dayOf(c.ts)) ?? { calls: 0, tokens: 0 };
          d.calls++;
          d.tokens += i + o + r + w;
          e.byDay.set(dayOf(c.ts), d);
        }
      }
    }
    for (const [k, v] of Object.entries(this.fileProblems)) e.problems[k] = (e.problems[k] ?? 0) + v;
    return e;
  }

  write(home: string): void {
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(path.join(home, "openclaw.json"), JSON.stringify({ models: { mode: "merge", providers: this.providers } }, null, 2));
    for (const a of this.agents.values()) this.#writeAgent(home, a);
  }

  #writeAgent(home: string, a: FixtureAgent): void {
    const agentDir = path.join(home, "agents", a.agentId);
    const sessionsDir = path.join(agentDir, "sessions");
    const dbPath = path.join(agentDir, "agent", "openclaw-agent.sqlite");
    const needsDb = a.corruptDatabase || a.sessions.some((s) => [s.options.store, ...(s.options.copies ?? [])].some((x) => x === "sqlite" || x === "sqlite-archive" || x === "cold"));
    fs.mkdirSync(sessionsDir, { recursive: true });
    const index: Record<string, unknown> = {};
    let db: DatabaseSync | null = null;
    if (needsDb) {
      fs.mkdirSync(path.dirname(dbPath), { recursive: true });
      if (a.corruptDatabase) {
        fs.writeFileSync(dbPath, Buffer.concat([Buffer.from("SQLite format 3\0"), crypto.randomBytes(4096)]));
      } else {
        fs.rmSync(dbPath, { force: true });
        db = new DatabaseSync(dbPath);
        db.exec("PRAGMA journal_mode = WAL;");
        for (const ddl of AGENT_DB_DDL) db.exec(ddl);
      }
    }
    for (const s of a.sessions) {
      const stores = [s.options.store, ...(s.options.copies ?? [])];
      const key = s.options.sessionKey ?? `agent:${a.agentId}:explicit:${s.sessionId.slice(0, 8)}`;
      if (db && stores.some((x) => x === "sqlite" || x === "sqlite-archive" || x === "cold")) this.#writeWindow(db, s, key);
      for (const store of stores) {
        switch (store) {
          case "sqlite":
            if (db) this.#writeRows(db, s);
            break;
          case "legacy":
            fs.writeFileSync(path.join(sessionsDir, `${s.sessionId}.jsonl`), s.jsonl());
            index[key] = this.#legacyEntry(s);
            break;
          case "legacy-reset":
            fs.writeFileSync(path.join(sessionsDir, `${s.sessionId}.jsonl.reset.2026-11-19T10-00-00.000Z`), s.jsonl());
            break;
          case "legacy-deleted":
            fs.writeFileSync(path.join(sessionsDir, `${s.sessionId}.jsonl.deleted.2026-11-19T11-00-00.000Z`), s.jsonl());
            break;
          case "sqlite-archive": {
            if (!db) break;
            const raw = Buffer.from(s.jsonl());
            const blob = zlib.zstdCompressSync(raw);
            const name = `${s.sessionId}.jsonl.deleted.2026-11-21T08-00-00.000Z.zst`;
            db.prepare(
              `INSERT INTO session_transcript_archives (session_id, generation, session_key, reason, encoding, archive_blob, archive_sha256, archive_name, created_at, published_at) VALUES (?, ?, ?, 'deleted', 'zstd', ?, ?, ?, ?, ?)`,
            ).run(s.sessionId, "gen-archive-1", key, blob, sha256(blob), name, s.now, s.now);
            // OpenClaw also publishes a derived copy of the archive as a file; it must not count twice.
            fs.writeFileSync(path.join(sessionsDir, name), blob);
            break;
          }
          case "cold": {
            if (!db) break;
            // OpenClaw's restore format: a header record, one event record per row, then identity records.
            const records = [
              JSON.stringify({ kind: "header", version: 1, sessionId: s.sessionId, generation: "gen-cold-1" }),
              ...s.lines.map((line, seq) => JSON.stringify({ kind: "event", row: { seq, event_json: line, created_at: s.now } })),
              ...s.lines.map((line, seq) => JSON.stringify({ kind: "identity", row: { event_id: (JSON.parse(line) as { id?: string }).id ?? null, seq, created_at: s.now } })),
            ];
            const raw = Buffer.from(`${records.join("\n")}\n`);
            const blob = zlib.zstdCompressSync(raw);
            const hash = sha256(blob);
            const name = `${hash}.jsonl.zst`;
            fs.mkdirSync(path.join(sessionsDir, "cold"), { recursive: true });
            fs.writeFileSync(path.join(sessionsDir, "cold", name), blob);
            db.prepare(
              `INSERT INTO session_transcript_cold_archives (session_id, generation, archive_name, archive_sha256, event_count, raw_bytes, archive_bytes, last_seq, archived_at, storage) VALUES (?, 'gen-cold-1', ?, ?, ?, ?, ?, ?, ?, 'file')`,
            ).run(s.sessionId, name, hash, s.lines.length, raw.length, blob.length, s.lines.length - 1, s.now);
            break;
          }
        }
      }
    }
    if (Object.keys(index).length > 0) fs.writeFileSync(path.join(sessionsDir, "sessions.json"), JSON.stringify(index, null, 2));
    for (const [rel, content] of a.extraFiles) {
      const p = path.join(agentDir, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      if (typeof content === "object" && !Buffer.isBuffer(content)) fs.symlinkSync(content.symlinkTo, p);
      else fs.writeFileSync(p, content);
    }
    if (db) {
      db.exec("PRAGMA wal_checkpoint(TRUNCATE);");
      db.close();
    }
  }

  #legacyEntry(s: FixtureSession): Record<string, unknown> {
    return {
      sessionId: s.sessionId,
      updatedAt: s.now,
      chatType: s.options.chatType ?? "direct",
      ...(s.options.channel ? { channel: s.options.channel } : {}),
      ...(s.options.label ? { label: s.options.label } : {}),
      ...(s.options.spawnedBy ? { spawnedBy: s.options.spawnedBy } : {}),
      ...(s.options.skills ? { skillsSnapshot: { prompt: "…", skills: s.options.skills.map((name) => ({ name, skillKey: name })) } } : {}),
    };
  }

  #writeWindow(db: DatabaseSync, s: FixtureSession, key: string): void {
    const entry = {
      sessionId: s.sessionId,
      updatedAt: s.now,
      ...(s.options.chatType ? { chatType: s.options.chatType } : {}),
      ...(s.options.skills ? { skillsSnapshot: { prompt: "…", skills: s.options.skills.map((name) => ({ name, skillKey: name })), version: 1 } } : {}),
    };
    // An upsert, not INSERT OR REPLACE: with foreign keys on, a replace cascades into the key's older windows.
    db.prepare(
      `INSERT INTO session_nodes (session_key, current_session_id, entry_json, entry_valid, updated_at, created_via, spawned_by, label, fork_source_session_id) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)
       ON CONFLICT (session_key) DO UPDATE SET current_session_id = excluded.current_session_id, entry_json = excluded.entry_json, updated_at = excluded.updated_at`,
    ).run(key, s.sessionId, JSON.stringify(entry), s.now, s.options.createdVia ?? null, s.options.spawnedBy ?? null, s.options.label ?? null, s.options.forkOf?.sessionId ?? null);
    db.prepare(
      `INSERT INTO session_windows (session_id, session_key, reason, created_at, updated_at, chat_type, channel, spawned_by, model_provider, model) VALUES (?, ?, 'initial', ?, ?, ?, ?, ?, 'anthropic', 'claude-sonnet-4-5')`,
    ).run(s.sessionId, key, s.options.start ?? s.now, s.now, s.options.chatType ?? null, s.options.channel ?? null, s.options.spawnedBy ?? null);
    db.prepare(`INSERT INTO transcript_rewrite_watermarks (session_id, generation, updated_at) VALUES (?, 'gen-1', ?)`).run(s.sessionId, s.now);
  }

  #writeRows(db: DatabaseSync, s: FixtureSession): void {
    const zstdFrom = s.options.zstdFrom ?? 1024;
    const insert = db.prepare(`INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_zstd, event_utf8_bytes, navigation_json) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    s.lines.forEach((line, seq) => {
      const bytes = Buffer.byteLength(line);
      if (bytes >= zstdFrom) {
        insert.run(s.sessionId, seq, null, s.now, zlib.zstdCompressSync(Buffer.from(line)), bytes, NAVIGATION_JSON);
      } else {
        insert.run(s.sessionId, seq, line, s.now, null, null, null);
      }
    });
  }
}

/** Appends events to a session's live rows in an existing fixture database (a Gateway writing concurrently). */
export function appendRows(dbPath: string, sessionId: string, lines: string[]): void {
  const db = new DatabaseSync(dbPath);
  try {
    const max = db.prepare(`SELECT coalesce(max(seq), -1) AS m FROM transcript_events WHERE session_id = ?`).get(sessionId) as { m: number };
    const insert = db.prepare(`INSERT INTO transcript_events (session_id, seq, event_json, created_at) VALUES (?, ?, ?, ?)`);
    lines.forEach((line, i) => insert.run(sessionId, max.m + 1 + i, line, Date.now()));
  } finally {
    db.close();
  }
}
