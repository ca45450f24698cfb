/**
 * The persisted transcript event behind a transcript update, read back from the agent database by its
 * event id (`transcript_event_identities` → `transcript_events`, zstd rows decoded). Forwarding that exact
 * text — with its parent link, timestamp and row seq — makes the shipper's later copy of the same event a
 * duplicate the hub recognises. Read-only; returns null when the row is not there (legacy stores, races).
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import type { DbHandles } from "@clawtower/core";

export type PersistedEvent = { text: string; seq: number };

export function agentDbPath(stateDir: string, agentId: string): string {
  return path.join(stateDir, "agents", agentId, "agent", "openclaw-agent.sqlite");
}

export function lookupEvent(dbs: DbHandles, stateDir: string, agentId: string, sessionId: string, eventId: string): PersistedEvent | null {
  const file = agentDbPath(stateDir, agentId);
  if (!fs.existsSync(file)) return null;
  try {
    const row = dbs
      .get(file)
      .prepare(
        `SELECT e.seq AS seq, e.event_json AS json, e.event_zstd AS zstd FROM transcript_event_identities i
         JOIN transcript_events e ON e.session_id = i.session_id AND e.seq = i.seq WHERE i.session_id = ? AND i.event_id = ?`,
      )
      .get(sessionId, eventId) as { seq: number | bigint; json: string | null; zstd: Uint8Array | null } | undefined;
    if (!row) return null;
    const text = typeof row.json === "string" ? row.json : row.zstd ? zlib.zstdDecompressSync(row.zstd).toString("utf8") : null;
    return text === null ? null : { text, seq: Number(row.seq) };
  } catch {
    return null;
  }
}
