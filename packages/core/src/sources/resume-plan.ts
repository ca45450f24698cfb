/**
 * What a reader that remembers a position per part must do next with a part. One set of rules for every
 * reader: the store's import planning (packages/store/src/part-plan.ts, positions of read-part.ts) and the
 * plugin's shipper (positions of event-texts.ts, with partial progress: it may stop in the middle of a part
 * and continue on its next run).
 *
 *   unchanged  the part is as it was, and everything in it was taken
 *   continue   read on from the remembered position (a grown append-only part, or unfinished work)
 *   read       never read: start at the beginning
 *   rewrite    the part changed other than by appending: start again at the beginning, as a new generation
 */
import type { ResumePosition } from "./event-texts.ts";
import { isAppendOnly, type DiscoveredPart, type FileFingerprint, type PartPosition, type RowsFingerprint } from "./parts.ts";

export type RememberedPart = {
  fingerprint: unknown;
  /** Where the last read stopped; only file and rows positions can be continued from. */
  resume: ResumePosition | PartPosition | null;
  /** Every event up to the fingerprint's extent was taken. */
  done: boolean;
};

export type ResumeAction = "unchanged" | "continue" | "read" | "rewrite";

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function planResume(part: DiscoveredPart, remembered: RememberedPart | undefined): ResumeAction {
  if (!remembered) return "read";
  const src = part.source;
  const { resume } = remembered;
  if (same(remembered.fingerprint, src.fingerprint)) return remembered.done ? "unchanged" : resume ? "continue" : "read";
  if (resume === null) return "rewrite";
  if (src.type === "file" && !src.compressed && isAppendOnly(part.kind) && resume.type === "file") {
    // Same inode and not shorter than the position: the reader checks the head/tail hashes before going on.
    // Only a live transcript grows: an archive (.reset / .deleted) that changed was replaced.
    const old = remembered.fingerprint as FileFingerprint | null;
    return old && old.ino === src.fingerprint.ino && src.fingerprint.size >= resume.offset ? "continue" : "rewrite";
  }
  if (src.type === "sqlite-rows" && resume.type === "rows") {
    const old = remembered.fingerprint as RowsFingerprint | null;
    const now = src.fingerprint;
    if (old && old.generation === now.generation && old.minSeq === now.minSeq && now.maxSeq >= resume.lastSeq && now.count >= resume.count) {
      return now.maxSeq === resume.lastSeq && now.count === resume.count && remembered.done ? "unchanged" : "continue";
    }
    return "rewrite";
  }
  // Archives and compressed files are immutable: a different fingerprint is different content.
  return "rewrite";
}
