/**
 * A *part* is one place that holds transcript events of one session: a JSONL file, a reset/deleted
 * archive, a session's rows in an agent database, an archive blob, a cold archive. A session may have
 * several parts (migration copies, archives of earlier generations); events are keyed so that parts can
 * overlap without double counting.
 */
import type { PartCursor } from "../model/ledger.ts";

export type PartKind =
  | "jsonl" // agents/<id>/sessions/<sid>.jsonl
  | "jsonl-reset" // <sid>.jsonl.reset.<ts>
  | "jsonl-deleted" // <sid>.jsonl.deleted.<ts>
  | "jsonl-zst" // a zstd-compressed JSONL file (derived deleted/reset archive export)
  | "sqlite" // transcript_events rows of one session
  | "sqlite-archive" // session_transcript_archives blob
  | "cold-archive"; // session_transcript_cold_archives: a cold/<sha>.jsonl.zst file or an embedded blob

export type FileFingerprint = { size: number; mtimeMs: number; ino: number };
export type RowsFingerprint = { count: number; minSeq: number; maxSeq: number; generation: string | null };
export type BlobFingerprint = { sha256: string; bytes: number };

export type PartSource =
  | { type: "file"; path: string; compressed: boolean; fingerprint: FileFingerprint; expectSha256?: string }
  | { type: "sqlite-rows"; db: string; sessionId: string; fingerprint: RowsFingerprint }
  | { type: "sqlite-archive"; db: string; sessionId: string; generation: string; encoding: string; fingerprint: BlobFingerprint }
  | { type: "sqlite-cold-blob"; db: string; sessionId: string; fingerprint: BlobFingerprint };

export type DiscoveredPart = {
  agentId: string;
  sessionId: string;
  kind: PartKind;
  /** Stable identity of the part across scans. */
  locator: string;
  source: PartSource;
  /** Bytes a full read would process (for progress and work balancing). */
  sizeHint: number;
};

/** Where a tail read of an append-only part starts. */
export type FilePosition = {
  type: "file";
  offset: number;
  line: number;
  headHash: string;
  tailHash: string;
  /** The last line was taken without its newline (a complete event); its newline may still arrive. */
  open?: boolean;
};
export type RowsPosition = { type: "rows"; lastSeq: number; count: number };
export type WholePosition = { type: "whole" };
export type PartPosition = FilePosition | RowsPosition | WholePosition;

/** What the store remembers of a part after reading it. */
export type StoredPartState = {
  fingerprint: unknown;
  position: PartPosition;
  cursor: PartCursor;
};

export function isAppendOnly(kind: PartKind): boolean {
  return kind === "jsonl" || kind === "sqlite";
}
