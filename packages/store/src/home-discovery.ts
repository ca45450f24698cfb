/**
 * Discovery: every part of every session in an OpenClaw home, with session metadata. An agent database
 * whose files did not change since the last sync is not opened at all (its parts are known unchanged).
 */
import fs from "node:fs";
import path from "node:path";
import {
  AgentDbError,
  listAgentDb,
  listAgents,
  listTranscriptFiles,
  readLegacyIndex,
  type DbHandles,
  type DbSessionMeta,
  type DiscoveredPart,
  type Problem,
} from "@clawtower/core";

export type DatabaseStatus = { path: string; agentId: string; status: "unchanged" | "read" | "unreadable"; error?: string };

export type HomeDiscovery = {
  agents: string[];
  databases: DatabaseStatus[];
  parts: DiscoveredPart[];
  /** Session metadata by {@link sessionKey}. */
  sessionMeta: Map<string, DbSessionMeta & { agentId: string }>;
  /** Sessions whose metadata comes from a `sessions.json` unchanged since the last sync: nothing to refresh. */
  metaUnchanged: Set<string>;
  /** Agents whose database was not listed (unchanged or unreadable): their stored parts stay as they are. */
  keepDbPartsOf: Set<string>;
  /** `meta` rows to store after a successful sync (database fingerprints, archive names). */
  metaUpdates: { key: string; value: string }[];
  problems: Problem[];
};

export const sessionKey = (agentId: string, sessionId: string): string => `${agentId}\u0000${sessionId}`;

export type DbFingerprint = { size: number; mtimeMs: number; walSize: number; walMtimeMs: number };

export function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

export function dbFingerprint(dbPath: string): DbFingerprint | null {
  const main = statOrNull(dbPath);
  if (!main) return null;
  const wal = statOrNull(`${dbPath}-wal`);
  // An empty WAL holds nothing: SQLite creates and deletes it as connections (ours included) come and go.
  const walSize = wal?.size ?? 0;
  return { size: main.size, mtimeMs: main.mtimeMs, walSize, walMtimeMs: walSize > 0 ? (wal?.mtimeMs ?? 0) : 0 };
}


/** Meta keys under which a sync remembers a database's fingerprint and its archive names. */
export const dbMetaKeys = (deploymentId: string, dbPath: string) => ({ fingerprint: `dbfp:${deploymentId}:${dbPath}`, archives: `dbarchives:${deploymentId}:${dbPath}` });
/** Meta key under which a sync remembers a `sessions.json` index's fingerprint. */
export const indexMetaKey = (deploymentId: string, indexPath: string) => `idxfp:${deploymentId}:${indexPath}`;
/** The meta key prefixes a sync reads back before discovery. */
export const discoveryMetaPrefixes = (deploymentId: string) => [`dbfp:${deploymentId}:`, `dbarchives:${deploymentId}:`, `idxfp:${deploymentId}:`];

export function discoverHome(home: string, deploymentId: string, storedMeta: Map<string, string>, dbs: DbHandles): HomeDiscovery {
  const out: HomeDiscovery = { agents: [], databases: [], parts: [], sessionMeta: new Map(), metaUnchanged: new Set(), keepDbPartsOf: new Set(), metaUpdates: [], problems: [] };
  for (const agent of listAgents(home)) {
    out.agents.push(agent.agentId);
    let archiveNames = new Set<string>();
    if (agent.dbPath) {
      const fp = dbFingerprint(agent.dbPath);
      const keys = dbMetaKeys(deploymentId, agent.dbPath);
      if (fp && storedMeta.get(keys.fingerprint) === JSON.stringify(fp)) {
        out.keepDbPartsOf.add(agent.agentId);
        out.databases.push({ path: agent.dbPath, agentId: agent.agentId, status: "unchanged" });
        // Derived archive files next to an unchanged database stay recognised as copies.
        const names = storedMeta.get(keys.archives);
        if (names) archiveNames = new Set(JSON.parse(names) as string[]);
      } else {
        try {
          const listing = listAgentDb(agent.agentId, agent.dbPath, dbs.get(agent.dbPath));
          for (const part of listing.parts) {
            if (part.source.type === "file") {
              const st = statOrNull(part.source.path);
              if (st) part.source.fingerprint = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
            }
            out.parts.push(part);
          }
          for (const s of listing.sessions) out.sessionMeta.set(sessionKey(agent.agentId, s.sessionId), { ...s, agentId: agent.agentId });
          archiveNames = listing.archiveNames;
          // The fingerprint taken *before* listing: a change during the listing is seen by the next sync.
          if (fp) out.metaUpdates.push({ key: keys.fingerprint, value: JSON.stringify(fp) });
          out.metaUpdates.push({ key: keys.archives, value: JSON.stringify([...archiveNames]) });
          out.databases.push({ path: agent.dbPath, agentId: agent.agentId, status: "read" });
        } catch (e) {
          const message = e instanceof AgentDbError ? e.message : `${agent.dbPath}: ${(e as Error).message}`;
          out.keepDbPartsOf.add(agent.agentId);
          out.databases.push({ path: agent.dbPath, agentId: agent.agentId, status: "unreadable", error: message });
          out.problems.push({ kind: "unreadable-database", at: { source: agent.dbPath }, detail: message });
        }
      }
    }
    for (const dir of [agent.sessionsDir, agent.importArchiveDir]) {
      if (!dir) continue;
      const listing = listTranscriptFiles(agent.agentId, dir, archiveNames);
      out.parts.push(...listing.parts);
      for (const u of listing.unreadable) out.problems.push({ kind: "unreadable-file", at: { source: u.path }, detail: u.error });
      const indexPath = path.join(dir, "sessions.json");
      // Taken before reading: a change while reading is seen by the next sync.
      const st = statOrNull(indexPath);
      const fp = st ? JSON.stringify({ size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }) : null;
      const unchanged = fp !== null && storedMeta.get(indexMetaKey(deploymentId, indexPath)) === fp;
      const index = readLegacyIndex(indexPath);
      if (index.error) out.problems.push({ kind: "unreadable-file", at: { source: indexPath }, detail: index.error });
      else if (fp) out.metaUpdates.push({ key: indexMetaKey(deploymentId, indexPath), value: fp });
      for (const s of index.sessions) {
        const k = sessionKey(agent.agentId, s.sessionId);
        if (out.sessionMeta.has(k)) continue;
        out.sessionMeta.set(k, { ...s, agentId: agent.agentId });
        if (unchanged) out.metaUnchanged.add(k);
      }
    }
  }
  return out;
}
