/**
 * How a session ended, from the kinds of the parts that hold it: a session none of whose live parts is still in
 * the OpenClaw home, but that has a deleted or reset archive there, was deleted or reset.
 *   live parts        jsonl, sqlite rows, cold archive (moved aside, still a session), ingest
 *   deleted           <sid>.jsonl.deleted.<ts>; an SQLite archive (OpenClaw 2026.9 archives a session when it is
 *                     deleted: a reset keeps the session id and its rows)
 *   reset             <sid>.jsonl.reset.<ts> (legacy resets start a new session id)
 */
export type SessionEnding = "deleted" | "reset";

const LIVE_KINDS = new Set(["jsonl", "sqlite", "cold-archive", "ingest"]);

function archiveEnding(kind: string, locator: string): SessionEnding | null {
  if (kind === "jsonl-deleted" || kind === "sqlite-archive") return "deleted";
  if (kind === "jsonl-reset") return "reset";
  // A compressed export of an archive keeps the archive's name.
  if (kind === "jsonl-zst") return /\.jsonl\.reset\./.test(locator) ? "reset" : /\.jsonl\.deleted\./.test(locator) ? "deleted" : null;
  return null;
}

/** `null` while the session is live (or only gone from the home, which `present` says). A deletion wins over a reset. */
export function sessionEnding(parts: readonly { kind: string; locator: string; present: boolean }[]): SessionEnding | null {
  if (parts.some((p) => p.present && LIVE_KINDS.has(p.kind))) return null;
  let ending: SessionEnding | null = null;
  for (const p of parts) {
    if (!p.present) continue;
    const e = archiveEnding(p.kind, p.locator);
    if (e === "deleted") return e;
    if (e) ending = e;
  }
  return ending;
}
