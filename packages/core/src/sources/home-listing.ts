/**
 * Every transcript part of an OpenClaw home, with session metadata, for readers that keep their own
 * positions (the OpenClaw plugin's shipper) and for the store's discovery (packages/store/src/home-discovery.ts,
 * which keeps its bookkeeping in the store). The caller takes the "unchanged database" decision, so an agent
 * database whose files did not change is not even opened.
 *
 *   agent database     transcript_events rows, archive blobs, cold archives (+ session_windows/nodes meta)
 *   sessions/ files    live legacy JSONL and reset/deleted archives, minus derived copies of archive blobs
 *   import archive     legacy files `openclaw doctor --fix` moved aside
 *   sessions.json      legacy session metadata (keys, kinds, skills)
 */
import fs from "node:fs";
import path from "node:path";
import { AgentDbError, listAgentDb, type DbSessionMeta } from "./agent-db.ts";
import { listAgents } from "./home.ts";
import { listTranscriptFiles } from "./legacy-files.ts";
import { readLegacyIndex } from "./legacy-index.ts";
import type { DiscoveredPart } from "./parts.ts";
import type { DbHandles } from "./read-part.ts";

/** What changes when an agent database (or its write-ahead log) changes. */
export type AgentDbFingerprint = { size: number; mtimeMs: number; walSize: number; walMtimeMs: number };

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

export function agentDbFingerprint(dbPath: string): AgentDbFingerprint | null {
  const main = statOrNull(dbPath);
  if (!main) return null;
  const wal = statOrNull(`${dbPath}-wal`);
  // An empty WAL holds nothing: SQLite creates and truncates it as connections come and go.
  const walSize = wal?.size ?? 0;
  return { size: main.size, mtimeMs: main.mtimeMs, walSize, walMtimeMs: walSize > 0 ? (wal?.mtimeMs ?? 0) : 0 };
}

export type ListedDatabase = {
  agentId: string;
  path: string;
  status: "listed" | "unchanged" | "unreadable";
  /** Taken before listing: a change during the listing is seen by the next one. */
  fingerprint: AgentDbFingerprint | null;
  /** Names of archive blobs the database holds (derived files of these names are copies). */
  archiveNames: string[];
  error?: string;
};

export type SessionMetaOf = DbSessionMeta & { agentId: string };

/** A `sessions.json` index read by the listing, with the fingerprint taken before reading it. */
export type ListedIndex = { path: string; fingerprint: string | null; sessionKeys: string[] };

export type HomeListing = {
  agents: string[];
  databases: ListedDatabase[];
  /** Parts found, except those of unchanged databases. */
  parts: DiscoveredPart[];
  /** Session metadata by `${agentId}\u0000${sessionId}` (databases first, then sessions.json). */
  sessions: Map<string, SessionMetaOf>;
  /** The legacy indexes read, and the sessions whose metadata each one gave. */
  indexes: ListedIndex[];
  problems: { kind: "unreadable-database" | "unreadable-file"; source: string; detail: string }[];
};

export type HomeListingOptions = {
  dbs: DbHandles;
  /** Agents to look at (default: all); filters run before anything of an agent is read. */
  includeAgent?: (agentId: string) => boolean;
  /**
   * Called with each agent database's fingerprint; when it answers with the archive names remembered from
   * the last listing, the database is treated as unchanged and not opened.
   */
  unchangedDb?: (agentId: string, dbPath: string, fingerprint: AgentDbFingerprint) => string[] | null;
};

export const sessionRefKey = (agentId: string, sessionId: string): string => `${agentId}\u0000${sessionId}`;

export function listHome(home: string, opts: HomeListingOptions): HomeListing {
  const out: HomeListing = { agents: [], databases: [], parts: [], sessions: new Map(), indexes: [], problems: [] };
  for (const agent of listAgents(home)) {
    if (opts.includeAgent && !opts.includeAgent(agent.agentId)) continue;
    out.agents.push(agent.agentId);
    let archiveNames = new Set<string>();
    if (agent.dbPath) {
      const fingerprint = agentDbFingerprint(agent.dbPath);
      const remembered = fingerprint ? (opts.unchangedDb?.(agent.agentId, agent.dbPath, fingerprint) ?? null) : null;
      if (remembered) {
        archiveNames = new Set(remembered);
        out.databases.push({ agentId: agent.agentId, path: agent.dbPath, status: "unchanged", fingerprint, archiveNames: remembered });
      } else {
        try {
          const listing = listAgentDb(agent.agentId, agent.dbPath, opts.dbs.get(agent.dbPath));
          for (const part of listing.parts) {
            // Cold archive files: the row gives the content hash; size/mtime/inode come from the file.
            // (a missing cold file is reported when it is read)
            if (part.source.type === "file") {
              const st = statOrNull(part.source.path);
              if (st) part.source.fingerprint = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
            }
            out.parts.push(part);
          }
          for (const s of listing.sessions) out.sessions.set(sessionRefKey(agent.agentId, s.sessionId), { ...s, agentId: agent.agentId });
          archiveNames = listing.archiveNames;
          out.databases.push({ agentId: agent.agentId, path: agent.dbPath, status: "listed", fingerprint, archiveNames: [...archiveNames] });
        } catch (e) {
          const detail = e instanceof AgentDbError ? e.message : `${agent.dbPath}: ${(e as Error).message}`;
          out.databases.push({ agentId: agent.agentId, path: agent.dbPath, status: "unreadable", fingerprint, archiveNames: [], error: detail });
          out.problems.push({ kind: "unreadable-database", source: agent.dbPath, detail });
        }
      }
    }
    for (const dir of [agent.sessionsDir, agent.importArchiveDir]) {
      if (!dir) continue;
      const files = listTranscriptFiles(agent.agentId, dir, archiveNames);
      out.parts.push(...files.parts);
      for (const u of files.unreadable) out.problems.push({ kind: "unreadable-file", source: u.path, detail: u.error });
      const indexPath = path.join(dir, "sessions.json");
      // Taken before reading: a change while reading is seen by the next listing.
      const st = statOrNull(indexPath);
      const index = readLegacyIndex(indexPath);
      if (index.error) out.problems.push({ kind: "unreadable-file", source: indexPath, detail: index.error });
      const listed: ListedIndex = { path: indexPath, fingerprint: st && !index.error ? JSON.stringify({ size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }) : null, sessionKeys: [] };
      for (const s of index.sessions) {
        const k = sessionRefKey(agent.agentId, s.sessionId);
        if (out.sessions.has(k)) continue;
        out.sessions.set(k, { ...s, agentId: agent.agentId });
        listed.sessionKeys.push(k);
      }
      out.indexes.push(listed);
    }
  }
  return out;
}
