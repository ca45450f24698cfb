/**
 * Discovers transcript files in an agent's `sessions/` directory (OpenClaw ≤ 2026.7 writes them live;
 * later versions leave them as archives and exports):
 *   <sid>.jsonl                 live legacy transcript
 *   <sid>.jsonl.reset.<ts>      archive written by /new or a reset
 *   <sid>.jsonl.deleted.<ts>    archive written by a delete
 *   <…>.zst                     zstd-compressed form of any of the above
 * `*.trajectory.jsonl` sidecars are not sessions; `cold/` files count only when a store references them.
 */
import fs from "node:fs";
import path from "node:path";
import type { DiscoveredPart, PartKind } from "./parts.ts";

export type TranscriptFileName = { sessionId: string; kind: PartKind; compressed: boolean };

const NAME_RE = /^(?<sid>.+?)\.jsonl(?:\.(?<archive>reset|deleted)\.(?<ts>[^/]+?))?(?<zst>\.zst)?$/;

/** Classifies a file name; `null` for files that are not transcripts. */
export function classifyTranscriptFile(name: string): TranscriptFileName | null {
  if (name.endsWith(".trajectory.jsonl") || name.includes(".trajectory.jsonl.")) return null;
  if (name.endsWith(".tmp") || name.endsWith(".lock")) return null;
  const m = NAME_RE.exec(name);
  if (!m?.groups) return null;
  const { sid, archive, zst } = m.groups;
  if (!sid || sid.startsWith(".")) return null;
  // An archive timestamp never ends in `.zst`; the lazy `ts` group leaves it to the `zst` group.
  const compressed = zst !== undefined;
  let kind: PartKind = archive === "reset" ? "jsonl-reset" : archive === "deleted" ? "jsonl-deleted" : "jsonl";
  if (compressed) kind = "jsonl-zst";
  return { sessionId: sid, kind, compressed };
}

export type FileListing = { parts: DiscoveredPart[]; unreadable: { path: string; error: string }[] };

/** Lists transcript files directly inside `dir` (not recursive: `cold/` is handled by the store reader). */
export function listTranscriptFiles(agentId: string, dir: string, skipNames: ReadonlySet<string> = new Set()): FileListing {
  const listing: FileListing = { parts: [], unreadable: [] };
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    listing.unreadable.push({ path: dir, error: (e as Error).message });
    return listing;
  }
  for (const entry of entries) {
    // Symlinked transcripts count too (stat follows the link; a dangling one is reported as unreadable).
    if (!(entry.isFile() || entry.isSymbolicLink()) || skipNames.has(entry.name)) continue;
    const cls = classifyTranscriptFile(entry.name);
    if (!cls) continue;
    const file = path.join(dir, entry.name);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
      if (!st.isFile()) continue;
    } catch (e) {
      listing.unreadable.push({ path: file, error: (e as Error).message });
      continue;
    }
    listing.parts.push({
      agentId,
      sessionId: cls.sessionId,
      kind: cls.kind,
      locator: file,
      source: {
        type: "file",
        path: file,
        compressed: cls.compressed,
        fingerprint: { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino },
      },
      sizeHint: st.size,
    });
  }
  listing.parts.sort((a, b) => (a.locator < b.locator ? -1 : 1));
  return listing;
}
