/**
 * Discovery: every part of every session in an OpenClaw home, with session metadata (core's listHome), and
 * what the store remembers between syncs to skip work: an agent database whose files did not change since the
 * last sync is not opened at all (its parts are known unchanged), and the sessions of a `sessions.json` that
 * did not change need no metadata refresh.
 */
import { listHome, sessionRefKey, type DbHandles, type DbSessionMeta, type DiscoveredPart, type Problem } from "@clawtower/core";

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
  /** `meta` rows to store after a successful sync (database and index fingerprints, archive names). */
  metaUpdates: { key: string; value: string }[];
  problems: Problem[];
};

export const sessionKey = sessionRefKey;

/** Meta keys under which a sync remembers a database's fingerprint and its archive names. */
const dbMetaKeys = (deploymentId: string, dbPath: string) => ({ fingerprint: `dbfp:${deploymentId}:${dbPath}`, archives: `dbarchives:${deploymentId}:${dbPath}` });
/** Meta key under which a sync remembers a `sessions.json` index's fingerprint. */
const indexMetaKey = (deploymentId: string, indexPath: string) => `idxfp:${deploymentId}:${indexPath}`;
/** The meta key prefixes a sync reads back before discovery. */
export const discoveryMetaPrefixes = (deploymentId: string) => [`dbfp:${deploymentId}:`, `dbarchives:${deploymentId}:`, `idxfp:${deploymentId}:`];

export function discoverHome(home: string, deploymentId: string, storedMeta: Map<string, string>, dbs: DbHandles): HomeDiscovery {
  const listing = listHome(home, {
    dbs,
    unchangedDb: (_agentId, dbPath, fingerprint) => {
      const keys = dbMetaKeys(deploymentId, dbPath);
      if (storedMeta.get(keys.fingerprint) !== JSON.stringify(fingerprint)) return null;
      // Derived archive files next to an unchanged database stay recognised as copies.
      const names = storedMeta.get(keys.archives);
      return names ? (JSON.parse(names) as string[]) : [];
    },
  });
  const out: HomeDiscovery = {
    agents: listing.agents,
    databases: [],
    parts: listing.parts,
    sessionMeta: listing.sessions,
    metaUnchanged: new Set(),
    keepDbPartsOf: new Set(),
    metaUpdates: [],
    problems: listing.problems.map((p) => ({ kind: p.kind, at: { source: p.source }, detail: p.detail })),
  };
  for (const d of listing.databases) {
    out.databases.push({ path: d.path, agentId: d.agentId, status: d.status === "listed" ? "read" : d.status, ...(d.error ? { error: d.error } : {}) });
    if (d.status !== "listed") {
      out.keepDbPartsOf.add(d.agentId);
      continue;
    }
    const keys = dbMetaKeys(deploymentId, d.path);
    // The fingerprint taken *before* listing: a change during the listing is seen by the next sync.
    if (d.fingerprint) out.metaUpdates.push({ key: keys.fingerprint, value: JSON.stringify(d.fingerprint) });
    out.metaUpdates.push({ key: keys.archives, value: JSON.stringify(d.archiveNames) });
  }
  for (const index of listing.indexes) {
    if (index.fingerprint === null) continue;
    const key = indexMetaKey(deploymentId, index.path);
    if (storedMeta.get(key) === index.fingerprint) for (const k of index.sessionKeys) out.metaUnchanged.add(k);
    out.metaUpdates.push({ key, value: index.fingerprint });
  }
  return out;
}
