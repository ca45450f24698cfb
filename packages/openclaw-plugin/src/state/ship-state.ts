/**
 * The shipper's memory (`<stateDir>/clawtower/ship-state.json`): for every transcript part, how far the hub
 * has acknowledged it. A position moves only past lines the hub answered (accepted, duplicate, or rejected
 * for bad content); unsent work is always re-read from the last acknowledged position.
 *
 * It belongs to one destination (target + hub URL + deployment): pointing the plugin at another hub starts
 * from scratch instead of skipping what the new hub never received.
 */
import type { AgentDbFingerprint, ResumePosition } from "@clawtower/core";
import { readJsonState, writeFileAtomic, type JsonRead } from "./files.ts";

export const SHIP_STATE_VERSION = 1;

export type PartState = {
  agentId: string;
  sessionId: string;
  kind: string;
  fingerprint: unknown;
  /** Where the next read continues; null = from the start. */
  resume: ResumePosition | null;
  /** Everything up to `fingerprint` was acknowledged. */
  done: boolean;
  /** Bumped when the part was rewritten (compaction, rewind, replaced file): names its lines anew. */
  generation: number;
  /** Lines acknowledged in this generation. */
  lines: number;
  /** The session was below minMessages/minBytes when this fingerprint was seen: looked at again when it changes. */
  skipped?: boolean;
};

export type SkillFileState = { size: number; mtimeMs: number; hash: string };

export type AgentSkillsState = {
  /** Hash of the last inventory the hub acknowledged (names, keys, content hashes). */
  manifestHash: string | null;
  /** Content hashes the hub holds, by skill key. */
  sent: Record<string, string>;
  /** The database fingerprint the snapshot below was read at (re-read only when the database changed). */
  snapshotAt: string | null;
  snapshot: { name: string; skillKey: string; location: string | null }[];
  files: Record<string, SkillFileState>;
};

export type ShipState = {
  schemaVersion: typeof SHIP_STATE_VERSION;
  destination: string;
  parts: Record<string, PartState>;
  /** Agent databases as last listed: unchanged ones (and no unfinished part in them) are not opened. */
  databases: Record<string, { fingerprint: AgentDbFingerprint; archiveNames: string[] }>;
  /** The filters the databases above were listed under (a change lists every database again). */
  filterKey?: string;
  skills: Record<string, AgentSkillsState>;
};

export function emptyShipState(destination: string): ShipState {
  return { schemaVersion: SHIP_STATE_VERSION, destination, parts: {}, databases: {}, skills: {} };
}

function accept(v: unknown): string | null {
  if (!v || typeof v !== "object") return "not an object";
  const s = v as Partial<ShipState>;
  if (s.schemaVersion !== SHIP_STATE_VERSION) return `unknown schemaVersion ${JSON.stringify(s.schemaVersion)} (this plugin writes ${SHIP_STATE_VERSION})`;
  if (typeof s.destination !== "string" || !s.parts || typeof s.parts !== "object" || !s.databases || !s.skills) return "missing fields";
  return null;
}

export type LoadedShipState = JsonRead<ShipState> & { destinationChanged: boolean };

/** `readOnly` (status): a damaged file is reported but left where it is for the next cycle to move aside. */
export function loadShipState(file: string, destination: string, opts: { readOnly?: boolean } = {}): LoadedShipState {
  const r = readJsonState(file, () => emptyShipState(destination), accept, { moveAside: !opts.readOnly });
  if (r.value.destination !== destination) return { value: emptyShipState(destination), movedAside: r.movedAside, problem: r.problem, destinationChanged: true };
  return { ...r, destinationChanged: false };
}

export function saveShipState(file: string, state: ShipState): void {
  writeFileAtomic(file, JSON.stringify(state));
}
