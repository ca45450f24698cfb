/**
 * What a cycle sends: every listed part planned against its remembered position with core's planResume,
 * grouped by session; whether a session never sent is big enough to send; and the state changes that
 * planning implies (a new generation, a session skipped as too small, parts that vanished).
 */
import {
  extractEventFacts,
  isExtractFailure,
  listHome,
  planResume,
  readEventTexts,
  sessionRefKey,
  type DiscoveredPart,
  type HomeListing,
  type ResumeAction,
  type SessionMetaOf,
} from "@clawtower/core";
import type { ShipState } from "../state/ship-state.ts";
import type { ShipContext } from "./context.ts";

export type SessionWork = {
  key: string;
  agentId: string;
  sessionId: string;
  meta: SessionMetaOf | undefined;
  parts: { part: DiscoveredPart; action: ResumeAction }[];
  /** Every part is unchanged (nothing to do). */
  idle: boolean;
  /** Something of this session was acknowledged before (thresholds were met once). */
  qualified: boolean;
};

export type Listed = { home: HomeListing; sessions: SessionWork[]; seenLocators: Set<string>; keptAgents: Set<string> };

/** Older history first: archives, then files, then live rows. */
const PART_ORDER: Record<string, number> = { "cold-archive": 0, "sqlite-archive": 1, "jsonl-zst": 2, "jsonl-deleted": 3, "jsonl-reset": 3, jsonl: 4, sqlite: 5 };

const DB_KINDS = new Set(["sqlite", "sqlite-archive", "cold-archive"]);

/** Lists the home and plans every part; sessions come out in a stable order, unfinished work first. */
export function listSessions(ctx: Pick<ShipContext, "stateDir" | "state" | "filter" | "dbs">): Listed {
  const { state, filter, dbs } = ctx;
  const unfinishedDbAgents = new Set<string>();
  for (const p of Object.values(state.parts)) if (DB_KINDS.has(p.kind) && !p.done && !p.skipped) unfinishedDbAgents.add(p.agentId);
  const keptAgents = new Set<string>();
  const home = listHome(ctx.stateDir, {
    dbs,
    includeAgent: (a) => filter.agentAllowed(a),
    unchangedDb: (agentId, dbPath, fp) => {
      const known = state.databases[dbPath];
      if (!known || JSON.stringify(known.fingerprint) !== JSON.stringify(fp) || unfinishedDbAgents.has(agentId)) return null;
      keptAgents.add(agentId);
      return known.archiveNames;
    },
  });
  for (const db of home.databases) {
    if (db.status === "listed" && db.fingerprint) state.databases[db.path] = { fingerprint: db.fingerprint, archiveNames: db.archiveNames };
  }
  const bySession = new Map<string, SessionWork>();
  const seenLocators = new Set<string>();
  for (const part of home.parts) {
    seenLocators.add(part.locator);
    const key = sessionRefKey(part.agentId, part.sessionId);
    let work = bySession.get(key);
    if (!work) {
      work = { key, agentId: part.agentId, sessionId: part.sessionId, meta: home.sessions.get(key), parts: [], idle: true, qualified: false };
      bySession.set(key, work);
    }
    const remembered = state.parts[part.locator];
    let action: ResumeAction;
    if (remembered?.skipped) action = JSON.stringify(remembered.fingerprint) === JSON.stringify(part.source.fingerprint) ? "unchanged" : "read";
    else action = planResume(part, remembered);
    if (remembered && !remembered.skipped && (remembered.lines > 0 || remembered.done)) work.qualified = true;
    work.parts.push({ part, action });
    if (action !== "unchanged") work.idle = false;
  }
  const sessions = [...bySession.values()];
  for (const w of sessions) w.parts.sort((a, b) => (PART_ORDER[a.part.kind] ?? 9) - (PART_ORDER[b.part.kind] ?? 9) || (a.part.locator < b.part.locator ? -1 : 1));
  const rank = (w: SessionWork) => (w.parts.some((p) => p.action === "continue") ? 0 : 1);
  sessions.sort((a, b) => rank(a) - rank(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { home, sessions, seenLocators, keptAgents };
}

export function startGeneration(state: ShipState, part: DiscoveredPart): void {
  const prev = state.parts[part.locator];
  state.parts[part.locator] = {
    agentId: part.agentId,
    sessionId: part.sessionId,
    kind: part.kind,
    fingerprint: null,
    resume: null,
    done: false,
    generation: (prev?.generation ?? 0) + 1,
    lines: 0,
  };
}

export function markSkipped(state: ShipState, part: DiscoveredPart): void {
  const prev = state.parts[part.locator];
  state.parts[part.locator] = {
    agentId: part.agentId,
    sessionId: part.sessionId,
    kind: part.kind,
    fingerprint: part.source.fingerprint,
    resume: null,
    done: false,
    generation: prev?.generation ?? 0,
    lines: 0,
    skipped: true,
  };
}

/** minBytes from the parts' sizes, then minMessages by reading until enough messages were seen. */
export function qualifies(ctx: ShipContext, work: SessionWork): boolean {
  const bytes = work.parts.reduce((a, p) => a + p.part.sizeHint, 0);
  if (bytes < ctx.config.filter.minBytes) return false;
  const need = ctx.config.filter.minMessages;
  if (need === 0) return true;
  let messages = 0;
  for (const { part } of work.parts) {
    let from = null;
    for (;;) {
      const batch = readEventTexts(part, from, { maxBytes: 256 * 1024, maxEvents: 500 }, ctx.dbs);
      ctx.summary.bytesRead += batch.bytes;
      for (const ev of batch.events) {
        const f = extractEventFacts(ev.text, ev.encoding);
        if (!isExtractFailure(f) && f.type === "message" && f.message && f.message.role !== "") messages++;
        if (messages >= need) return true;
      }
      if (batch.done || batch.readError || batch.rewriteDetected || batch.events.length === 0) break;
      from = batch.resume;
    }
  }
  return false;
}

/** Parts that disappeared from the home are forgotten (the hub keeps what it received). */
export function forgetVanished(state: ShipState, listing: Listed): void {
  for (const [locator, p] of Object.entries(state.parts)) {
    if (listing.seenLocators.has(locator)) continue;
    // Agents filtered out keep their positions (allowing them again resumes, not resends); so do parts of
    // databases that were not opened because they did not change.
    if (!listing.home.agents.includes(p.agentId)) continue;
    if (DB_KINDS.has(p.kind) && listing.keptAgents.has(p.agentId)) continue;
    delete state.parts[locator];
  }
}
