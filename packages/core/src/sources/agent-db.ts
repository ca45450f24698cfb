/**
 * Reads an agent's OpenClaw SQLite store (`agents/<id>/agent/openclaw-agent.sqlite`, 2026.7+), read-only.
 *
 * Never writes, migrates or locks it: the database is opened with `readOnly`, a busy timeout, and short
 * read transactions, so a Gateway can keep writing (WAL) while we read. Where events live:
 *   transcript_events                 one row per event, `event_json` TEXT or `event_zstd` BLOB (zstd frame)
 *   session_transcript_archives       reset/deleted history as a blob (encoding identity|zstd)
 *   session_transcript_cold_archives  inactive history moved to `sessions/cold/<sha>.jsonl.zst` (or a blob)
 *   transcript_rewrite_watermarks     a generation that changes when a session's rows are rewritten
 * Session metadata comes from `session_windows` (one row per session id) and `session_nodes` (one row per
 * session key, with the skills snapshot in `entry_json`).
 */
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import zlib from "node:zlib";
import { classifySessionKind, type SessionKind } from "./session-kind.ts";
import type { DiscoveredPart } from "./parts.ts";

export type DbSessionMeta = {
  sessionId: string;
  sessionKey: string | null;
  kind: SessionKind;
  channel: string | null;
  chatType: string | null;
  label: string | null;
  parentSessionKey: string | null;
  spawnedBy: string | null;
  createdVia: string | null;
  status: string | null;
  windowReason: string | null;
  previousSessionId: string | null;
  skills: string[] | null;
  /** The session this one was forked from (forks copy the source's events verbatim, ids included). */
  forkSourceSessionId: string | null;
};

export type AgentDbListing = {
  parts: DiscoveredPart[];
  sessions: DbSessionMeta[];
  /** Names of archive blobs the store holds; files of those names in `sessions/` are derived copies. */
  archiveNames: Set<string>;
};

export class AgentDbError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AgentDbError";
  }
}

/**
 * Opens an agent database read-only. On a WAL-mode database that no OpenClaw connection has open, SQLite
 * creates its -shm index (and an empty -wal) beside it: a reader needs them, they hold no data, and OpenClaw
 * uses them as its own (README, Configuration). Lock-free reading (`immutable=1`) would avoid them but could
 * read torn pages should a gateway start and checkpoint meanwhile.
 */
export function openAgentDb(dbPath: string): DatabaseSync {
  try {
    const db = new DatabaseSync(dbPath, { readOnly: true, timeout: 5000 });
    // Fails fast on a file that is not a database (SQLITE_NOTADB) before any real query.
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    // Reads are one sequential pass per session: a small page cache per connection is enough (there is one
    // connection per agent database per reader thread).
    db.exec("PRAGMA cache_size = -1024");
    return db;
  } catch (e) {
    throw new AgentDbError(`cannot open ${dbPath}: ${(e as Error).message}`, { cause: e });
  }
}

type Row = Record<string, unknown>;

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

function num(v: unknown): number {
  return typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : 0;
}

function tableColumns(db: DatabaseSync, table: string): Set<string> {
  const cols = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[];
  return new Set(cols.map((c) => c.name));
}

/** The cold archive directory: a database in a directory named `agent` uses the sibling `sessions/cold/`. */
export function coldArchiveDir(dbPath: string): string {
  const dir = path.dirname(dbPath);
  return path.basename(dir) === "agent" ? path.join(path.dirname(dir), "sessions", "cold") : path.join(dir, "cold");
}

function parseSkills(v: unknown): string[] | null {
  if (typeof v !== "string") return null;
  try {
    const arr = JSON.parse(v) as unknown;
    if (!Array.isArray(arr)) return null;
    return arr
      .map((s) => (typeof s === "string" ? s : s && typeof s === "object" && "name" in s ? String((s as { name: unknown }).name) : null))
      .filter((s): s is string => s !== null);
  } catch {
    return null;
  }
}

export function listAgentDb(agentId: string, dbPath: string, db: DatabaseSync): AgentDbListing {
  const listing: AgentDbListing = { parts: [], sessions: [], archiveNames: new Set() };
  db.exec("BEGIN");
  try {
    const tables = new Set((db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((t) => t.name));
    if (!tables.has("transcript_events")) throw new AgentDbError(`${dbPath} has no transcript_events table (not an OpenClaw agent store?)`);

    const generations = new Map<string, string>();
    const archiveKeys = new Map<string, string>();
    if (tables.has("transcript_rewrite_watermarks")) {
      for (const r of db.prepare(`SELECT session_id, generation FROM transcript_rewrite_watermarks`).all() as Row[]) {
        generations.set(String(r["session_id"]), String(r["generation"]));
      }
    }
    // count/min/max come from the primary-key index alone; touching event_json or event_utf8_bytes would read
    // every row's payload (the whole database). Sizes are estimated from the file size, for progress only.
    const stats = db.prepare(`SELECT session_id, count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM transcript_events GROUP BY session_id`).all() as Row[];
    const totalRows = stats.reduce((a, r) => a + num(r["n"]), 0);
    let fileBytes = 0;
    try {
      fileBytes = fs.statSync(dbPath).size;
    } catch {
      fileBytes = totalRows * 2048;
    }
    const bytesPerRow = totalRows > 0 ? fileBytes / totalRows : 0;
    for (const r of stats) {
      const sessionId = String(r["session_id"]);
      listing.parts.push({
        agentId,
        sessionId,
        kind: "sqlite",
        locator: `${dbPath}#${sessionId}`,
        source: {
          type: "sqlite-rows",
          db: dbPath,
          sessionId,
          fingerprint: { count: num(r["n"]), minSeq: num(r["lo"]), maxSeq: num(r["hi"]), generation: generations.get(sessionId) ?? null },
        },
        sizeHint: Math.round(num(r["n"]) * bytesPerRow),
      });
    }

    if (tables.has("session_transcript_archives")) {
      const rows = db
        .prepare(
          `SELECT session_id, generation, encoding, archive_sha256, archive_name, length(archive_blob) AS bytes, ${tableColumns(db, "session_transcript_archives").has("session_key") ? "session_key" : "NULL AS session_key"} FROM session_transcript_archives`,
        )
        .all() as Row[];
      for (const r of rows) {
        const sessionId = String(r["session_id"]);
        const archivedKey = str(r["session_key"]);
        if (archivedKey) archiveKeys.set(sessionId, archivedKey);
        const generation = String(r["generation"]);
        const name = String(r["archive_name"]);
        listing.archiveNames.add(name);
        // The exported file may carry a `.zst` suffix the row's name does not (or the reverse).
        listing.archiveNames.add(name.endsWith(".zst") ? name.slice(0, -4) : `${name}.zst`);
        listing.parts.push({
          agentId,
          sessionId,
          kind: "sqlite-archive",
          locator: `${dbPath}#archive:${sessionId}:${generation}`,
          source: {
            type: "sqlite-archive",
            db: dbPath,
            sessionId,
            generation,
            encoding: String(r["encoding"]),
            fingerprint: { sha256: String(r["archive_sha256"]), bytes: num(r["bytes"]) },
          },
          sizeHint: num(r["bytes"]) * (r["encoding"] === "zstd" ? 5 : 1),
        });
      }
    }

    if (tables.has("session_transcript_cold_archives")) {
      const coldDir = coldArchiveDir(dbPath);
      const rows = db
        .prepare(
          `SELECT session_id, generation, archive_name, archive_sha256, raw_bytes, archive_bytes, storage FROM session_transcript_cold_archives`,
        )
        .all() as Row[];
      for (const r of rows) {
        const sessionId = String(r["session_id"]);
        const sha256 = String(r["archive_sha256"]);
        const fingerprint = { sha256, bytes: num(r["archive_bytes"]) };
        if (r["storage"] === "sqlite") {
          listing.parts.push({
            agentId,
            sessionId,
            kind: "cold-archive",
            locator: `${dbPath}#cold:${sessionId}:${String(r["generation"])}`,
            source: { type: "sqlite-cold-blob", db: dbPath, sessionId, fingerprint },
            sizeHint: num(r["raw_bytes"]),
          });
        } else {
          const file = path.join(coldDir, String(r["archive_name"]));
          listing.parts.push({
            agentId,
            sessionId,
            kind: "cold-archive",
            locator: file,
            // The row's hash identifies the content; size/mtime/ino are filled in by the caller's stat.
            source: { type: "file", path: file, compressed: true, fingerprint: { size: num(r["archive_bytes"]), mtimeMs: 0, ino: 0 }, expectSha256: sha256 },
            sizeHint: num(r["raw_bytes"]),
          });
        }
      }
    }

    listing.sessions = listSessionMeta(db, tables);
    // Deleting a session drops its window and node rows: its archive row is all that still names its key.
    const known = new Set(listing.sessions.map((m) => m.sessionId));
    for (const [sessionId, sessionKey] of archiveKeys) {
      if (!known.has(sessionId)) listing.sessions.push(archivedSessionMeta(sessionId, sessionKey));
    }
  } finally {
    db.exec("COMMIT");
  }
  return listing;
}

function archivedSessionMeta(sessionId: string, sessionKey: string): DbSessionMeta {
  return {
    sessionId,
    sessionKey,
    kind: classifySessionKind(sessionKey),
    channel: null,
    chatType: null,
    label: null,
    parentSessionKey: null,
    spawnedBy: null,
    createdVia: null,
    status: null,
    windowReason: null,
    previousSessionId: null,
    skills: null,
    forkSourceSessionId: null,
  };
}

function listSessionMeta(db: DatabaseSync, tables: Set<string>): DbSessionMeta[] {
  if (!tables.has("session_windows")) return [];
  const nodeCols = tables.has("session_nodes") ? tableColumns(db, "session_nodes") : new Set<string>();
  const pick = (c: string) => (nodeCols.has(c) ? `n.${c}` : "NULL");
  const join = tables.has("session_nodes") ? `LEFT JOIN session_nodes n ON n.session_key = w.session_key` : "";
  const nodeSelect = tables.has("session_nodes")
    ? `, ${pick("created_via")} AS n_created_via, ${pick("parent_session_key")} AS n_parent, ${pick("spawned_by")} AS n_spawned,
       ${pick("label")} AS n_label, ${pick("display_name")} AS n_display, ${pick("status")} AS n_status,
       CASE WHEN n.current_session_id = w.session_id THEN ${pick("fork_source_session_id")} END AS n_fork_source,
       CASE WHEN n.current_session_id = w.session_id AND json_valid(n.entry_json)
            THEN json_extract(n.entry_json, '$.skillsSnapshot.skills') END AS n_skills,
       CASE WHEN json_valid(n.entry_json) THEN json_extract(n.entry_json, '$.chatType') END AS n_chat_type,
       CASE WHEN json_valid(n.entry_json) THEN coalesce(json_extract(n.entry_json, '$.channel'), json_extract(n.entry_json, '$.lastChannel')) END AS n_channel`
    : "";
  const rows = db.prepare(`SELECT w.* ${nodeSelect} FROM session_windows w ${join}`).all() as Row[];
  return rows.map((r) => {
    const sessionKey = str(r["session_key"]);
    const createdVia = str(r["n_created_via"]);
    const chatType = str(r["chat_type"]) ?? str(r["n_chat_type"]);
    const spawnedBy = str(r["spawned_by"]) ?? str(r["n_spawned"]);
    return {
      sessionId: String(r["session_id"]),
      sessionKey,
      kind: classifySessionKind(sessionKey, { createdVia, chatType, spawnedBy }),
      channel: str(r["channel"]) ?? str(r["n_channel"]),
      chatType,
      label: str(r["n_label"]) ?? str(r["display_name"]) ?? str(r["n_display"]),
      parentSessionKey: str(r["parent_session_key"]) ?? str(r["n_parent"]),
      spawnedBy,
      createdVia,
      status: str(r["status"]) ?? str(r["n_status"]),
      windowReason: str(r["reason"]),
      previousSessionId: str(r["previous_session_id"]),
      skills: parseSkills(r["n_skills"]),
      forkSourceSessionId: str(r["n_fork_source"]),
    };
  });
}

export type TranscriptRow = { seq: number; bytes: Buffer | null; createdAt: number | undefined; error?: string };

/** A row's (or an archive's) UTF-8 bytes as latin1 text, for readers that hand events on as text. */
export function latin1Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1", 0, bytes.byteLength);
}

/** Decodes one `transcript_events` row to the event's UTF-8 bytes: `event_json`, or the zstd frame in `event_zstd`. */
export function decodeRow(eventJson: unknown, eventZstd: unknown): { bytes: Buffer | null; error?: string } {
  if (eventJson instanceof Uint8Array) return { bytes: Buffer.from(eventJson.buffer, eventJson.byteOffset, eventJson.byteLength) };
  if (typeof eventJson === "string") return { bytes: Buffer.from(eventJson, "utf8") };
  if (eventZstd instanceof Uint8Array) {
    try {
      return { bytes: zlib.zstdDecompressSync(eventZstd) };
    } catch (e) {
      return { bytes: null, error: `zstd: ${(e as Error).message}` };
    }
  }
  return { bytes: null, error: "row has neither event_json nor event_zstd" };
}

/** One prepared row query per open database: preparing it for each of thousands of sessions cost ~0.3 s. */
const rowStatements = new WeakMap<DatabaseSync, StatementSync>();

function sessionRowsStatement(db: DatabaseSync): StatementSync {
  let st = rowStatements.get(db);
  if (!st) {
    // event_json is fetched as a BLOB: the parser reads its raw UTF-8 bytes (json-bytes.ts), and SQLite's
    // UTF-8 → JS string conversion is skipped. Rows come back as arrays, which node:sqlite builds ~25 %
    // faster than objects.
    st = db.prepare(
      `SELECT seq, CAST(event_json AS BLOB) AS event_json, event_zstd, created_at FROM transcript_events WHERE session_id = ? AND seq > ? AND seq <= ? ORDER BY seq`,
    );
    st.setReturnArrays(true);
    rowStatements.set(db, st);
  }
  return st;
}

/** Iterates a session's rows with `afterSeq < seq ≤ uptoSeq`, in order. */
export function* iterateSessionRows(db: DatabaseSync, sessionId: string, afterSeq: number, uptoSeq: number): Generator<TranscriptRow> {
  for (const [seq, eventJson, eventZstd, createdAt] of sessionRowsStatement(db).iterate(sessionId, afterSeq, uptoSeq) as Iterable<unknown[]>) {
    const decoded = decodeRow(eventJson, eventZstd);
    const row: TranscriptRow = { seq: num(seq), bytes: decoded.bytes, createdAt: typeof createdAt === "number" ? createdAt : undefined };
    if (decoded.error !== undefined) row.error = decoded.error;
    yield row;
  }
}

export function readArchiveBlob(db: DatabaseSync, sessionId: string, generation: string): { bytes: Buffer | null; error?: string } {
  const r = db
    .prepare(`SELECT encoding, archive_blob FROM session_transcript_archives WHERE session_id = ? AND generation = ?`)
    .get(sessionId, generation) as Row | undefined;
  if (!r) return { bytes: null, error: "archive row is gone" };
  return decodeBlob(r["archive_blob"], r["encoding"] === "zstd");
}

export function readColdBlob(db: DatabaseSync, sessionId: string): { bytes: Buffer | null; error?: string } {
  const r = db.prepare(`SELECT archive_blob FROM session_transcript_cold_archives WHERE session_id = ?`).get(sessionId) as Row | undefined;
  if (!r) return { bytes: null, error: "cold archive row is gone" };
  return decodeBlob(r["archive_blob"], true);
}

/** An archive blob's JSONL bytes (decompressed when `compressed`). */
export function decodeBlob(blob: unknown, compressed: boolean): { bytes: Buffer | null; error?: string } {
  if (!(blob instanceof Uint8Array)) return { bytes: null, error: "archive has no blob" };
  if (!compressed) return { bytes: Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength) };
  try {
    return { bytes: zlib.zstdDecompressSync(blob) };
  } catch (e) {
    return { bytes: null, error: `zstd: ${(e as Error).message}` };
  }
}

export type AgentDbStats = {
  schemaVersion: number | null;
  sessionWindows: number;
  transcriptSessions: number;
  rows: number;
  zstdRows: number;
  archives: { reason: string; encoding: string; count: number }[];
  coldArchives: { storage: string; count: number }[];
};

/** Counts for `clawtower doctor`: what the store holds, read-only. */
export function describeAgentDb(db: DatabaseSync): AgentDbStats {
  const tables = new Set((db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((t) => t.name));
  const one = (q: string) => num((db.prepare(q).get() as Row | undefined)?.["n"]);
  let schemaVersion: number | null = null;
  if (tables.has("schema_meta")) {
    try {
      const r = db.prepare(`SELECT value FROM schema_meta WHERE key IN ('agent_schema_version', 'schema_version', 'version') LIMIT 1`).get() as Row | undefined;
      schemaVersion = r ? Number(r["value"]) : null;
    } catch {
      schemaVersion = null;
    }
  }
  return {
    schemaVersion,
    sessionWindows: tables.has("session_windows") ? one(`SELECT count(*) AS n FROM session_windows`) : 0,
    transcriptSessions: one(`SELECT count(DISTINCT session_id) AS n FROM transcript_events`),
    rows: one(`SELECT count(*) AS n FROM transcript_events`),
    zstdRows: one(`SELECT count(*) AS n FROM transcript_events WHERE event_zstd IS NOT NULL`),
    archives: tables.has("session_transcript_archives")
      ? (db.prepare(`SELECT reason, encoding, count(*) AS n FROM session_transcript_archives GROUP BY reason, encoding`).all() as Row[]).map((r) => ({
          reason: String(r["reason"]),
          encoding: String(r["encoding"]),
          count: num(r["n"]),
        }))
      : [],
    coldArchives: tables.has("session_transcript_cold_archives")
      ? (db.prepare(`SELECT storage, count(*) AS n FROM session_transcript_cold_archives GROUP BY storage`).all() as Row[]).map((r) => ({
          storage: String(r["storage"]),
          count: num(r["n"]),
        }))
      : [],
  };
}
