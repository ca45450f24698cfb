/**
 * Executes one read of one transcript part: the whole part, or the tail after a remembered position.
 * Every event text goes through `extractEventFacts` and the PartAccumulator, whatever the format.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import type { DatabaseSync } from "node:sqlite";
import zlib from "node:zlib";
import { PartAccumulator } from "../accounting/part-accumulator.ts";
import { newPartCursor, type PartCursor, type PartLedger } from "../model/ledger.ts";
import { extractEventFacts, isExtractFailure } from "../parse/event-facts.ts";
import { skipWhitespace } from "../parse/json-bytes.ts";
import { iterateSessionRows, latin1Of, openAgentDb, readArchiveBlob, readColdBlob } from "./agent-db.ts";
import type { DiscoveredPart, FilePosition, PartPosition } from "./parts.ts";
import { coldEvents, isRestoreFormat } from "./cold-archive.ts";
import { readLineBytesFromBuffer, readLineBytesFromFile } from "./read-lines.ts";

export type ReadTask = {
  part: DiscoveredPart;
  /** Continue after this position (append-only parts), or read everything when null. */
  from: PartPosition | null;
  cursor: PartCursor | null;
};

export type ReadOutcome = {
  locator: string;
  ledger: PartLedger;
  position: PartPosition;
  /** The fingerprint the part had when read (files are re-stat'ed so growth during the read is not lost). */
  fingerprint: unknown;
  bytesRead: number;
  /** A tail read found the part's earlier content changed: the session must be re-read as a whole. */
  rewriteDetected: boolean;
  /** The part could not be read at all this time (its earlier contributions are kept). */
  readError: string | null;
};

export type ReadOptions = {
  maxLineBytes: number;
  onProgress?: (bytes: number) => void;
  /** Reuses read-only database handles across reads. */
  dbs: DbHandles;
};

export class DbHandles {
  readonly #open = new Map<string, DatabaseSync>();
  get(dbPath: string): DatabaseSync {
    let db = this.#open.get(dbPath);
    if (!db) {
      db = openAgentDb(dbPath);
      this.#open.set(dbPath, db);
    }
    return db;
  }
  closeAll(): void {
    for (const db of this.#open.values()) db.close();
    this.#open.clear();
  }
}

const HEAD_BYTES = 4096;
const TAIL_BYTES = 256;

function hashRange(fd: number, start: number, length: number): string {
  const buf = Buffer.allocUnsafe(length);
  const n = length > 0 ? fs.readSync(fd, buf, 0, length, start) : 0;
  return crypto.createHash("sha1").update(buf.subarray(0, n)).digest("hex");
}

/** The resume position at `offset` (just past line `line`): hashes of the file's head and of the bytes before it. */
export function filePosition(path: string, offset: number, line: number): FilePosition {
  const fd = fs.openSync(path, "r");
  try {
    const headLen = Math.min(HEAD_BYTES, offset);
    const tailLen = Math.min(TAIL_BYTES, offset);
    return { type: "file", offset, line, headHash: hashRange(fd, 0, headLen), tailHash: hashRange(fd, offset - tailLen, tailLen) };
  } finally {
    fs.closeSync(fd);
  }
}

/** True when the bytes before `from.offset` are still what they were when that position was recorded. */
export function stillAppendOnly(path: string, from: FilePosition, size: number): boolean {
  if (size < from.offset) return false;
  const now = filePosition(path, from.offset, from.line);
  return now.headHash === from.headHash && now.tailHash === from.tailHash;
}

export function readPart(task: ReadTask, opts: ReadOptions): ReadOutcome {
  const { part } = task;
  const src = part.source;
  // Problems are located as file:line, db:session:seq (rows) or <archive locator>:line.
  const acc = new PartAccumulator(
    src.type === "sqlite-rows" ? src.db : part.locator,
    src.type === "sqlite-rows" ? src.sessionId : undefined,
    task.from ? (task.cursor ?? newPartCursor()) : newPartCursor(),
  );
  const outcome = (position: PartPosition, fingerprint: unknown, bytesRead: number, extra: Partial<ReadOutcome> = {}): ReadOutcome => ({
    locator: part.locator,
    ledger: acc.result(),
    position,
    fingerprint,
    bytesRead,
    rewriteDetected: false,
    readError: null,
    ...extra,
  });

  try {
    if (src.type === "file" && !src.compressed) return readPlainFile(task, src.path, acc, opts, outcome);
    if (src.type === "file") {
      const buf = fs.readFileSync(src.path);
      opts.onProgress?.(buf.length);
      const st = fs.statSync(src.path);
      const fingerprint = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
      if (src.expectSha256 !== undefined) {
        const sha = crypto.createHash("sha256").update(buf).digest("hex");
        if (sha !== src.expectSha256) acc.problem("missing-archive", {}, `content hash ${sha} does not match the store's ${src.expectSha256}`);
      }
      let bytes: Buffer;
      try {
        bytes = zlib.zstdDecompressSync(buf);
      } catch (e) {
        acc.problem("zstd-decode-failed", {}, `zstd: ${(e as Error).message}`);
        return outcome({ type: "whole" }, fingerprint, buf.length);
      }
      feedArchive(bytes, acc);
      return outcome({ type: "whole" }, fingerprint, buf.length);
    }
    const db = opts.dbs.get(src.db);
    if (src.type === "sqlite-rows") {
      const from = task.from?.type === "rows" ? task.from : null;
      let count = from?.count ?? 0;
      let lastSeq = from?.lastSeq ?? Number.MIN_SAFE_INTEGER;
      let bytes = 0;
      for (const row of iterateSessionRows(db, src.sessionId, lastSeq, src.fingerprint.maxSeq)) {
        count++;
        lastSeq = row.seq;
        if (row.bytes === null) {
          acc.addFailure({ failed: "zstd-decode-failed", detail: row.error ?? "undecodable row" }, { seq: row.seq });
          continue;
        }
        bytes += row.bytes.length;
        feedEvent(row.bytes, acc, row.createdAt !== undefined ? { seq: row.seq, createdAt: row.createdAt } : { seq: row.seq });
      }
      opts.onProgress?.(bytes);
      // Rows that appeared or vanished below the previous watermark mean the session was rewritten.
      const expected = src.fingerprint.count;
      const rewriteDetected = from !== null && count !== expected;
      return outcome({ type: "rows", lastSeq, count }, src.fingerprint, bytes, { rewriteDetected });
    }
    const blob = src.type === "sqlite-archive" ? readArchiveBlob(db, src.sessionId, src.generation) : readColdBlob(db, src.sessionId);
    if (blob.bytes === null) {
      acc.problem("zstd-decode-failed", {}, blob.error ?? "undecodable archive");
      return outcome({ type: "whole" }, src.fingerprint, 0);
    }
    opts.onProgress?.(blob.bytes.length);
    feedArchive(blob.bytes, acc);
    return outcome({ type: "whole" }, src.fingerprint, blob.bytes.length);
  } catch (e) {
    const message = (e as Error).message;
    return outcome(task.from ?? { type: "whole" }, null, 0, { readError: message });
  }
}

type OutcomeFn = (position: PartPosition, fingerprint: unknown, bytesRead: number, extra?: Partial<ReadOutcome>) => ReadOutcome;

function readPlainFile(task: ReadTask, path: string, acc: PartAccumulator, opts: ReadOptions, outcome: OutcomeFn): ReadOutcome {
  const st = fs.statSync(path);
  const fingerprint = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
  const from = task.from?.type === "file" ? task.from : null;
  if (from && !stillAppendOnly(path, from, st.size)) return outcome(from, fingerprint, 0, { rewriteDetected: true });

  const startOffset = from?.offset ?? 0;
  let unterminatedTaken = false;
  const result = readLineBytesFromFile(
    path,
    {
      startOffset,
      startLine: from?.line ?? 0,
      endOffset: st.size,
      maxLineBytes: opts.maxLineBytes,
      onTooLong: (line, bytes) => acc.addFailure({ failed: "line-too-long", detail: `${bytes} bytes > limit ${opts.maxLineBytes}` }, { line }),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    },
    (bytes, line, lineStart, _end, complete) => {
      if (complete) {
        // The newline that completes a line we already took without one is not a blank line.
        if (bytes.length === 0 && lineStart === startOffset && from?.open === true) return;
        feedEvent(bytes, acc, { line });
        return;
      }
      const facts = extractEventFacts(bytes);
      if (isExtractFailure(facts)) {
        acc.problem("truncated-line", { line }, `last line has no newline and is incomplete (${facts.detail}); will be re-read when it grows`);
      } else {
        acc.add(facts, { line });
        unterminatedTaken = true;
      }
    },
  );
  const offset = unterminatedTaken ? st.size : result.offset;
  const line = unterminatedTaken ? result.line + 1 : result.line;
  const position = filePosition(path, offset, line);
  if (unterminatedTaken) position.open = true;
  return outcome(position, fingerprint, result.bytesRead);
}

function feedEvent(event: Uint8Array | string, acc: PartAccumulator, loc: { line?: number; seq?: number; createdAt?: number }): void {
  const facts = extractEventFacts(event);
  if (isExtractFailure(facts)) acc.addFailure(facts, loc);
  else acc.add(facts, loc);
}

/** An archive's bytes: plain transcript JSONL, or a cold archive's restore records. */
function feedArchive(bytes: Buffer, acc: PartAccumulator): void {
  if (isRestoreFormat(bytes.toString("latin1", 0, Math.min(bytes.length, 200)))) {
    for (const ev of coldEvents(latin1Of(bytes), (line, detail) => acc.addFailure({ failed: "invalid-json", detail }, { line }))) {
      const loc: { line: number; seq?: number; createdAt?: number } = { line: ev.line };
      if (ev.seq !== undefined) loc.seq = ev.seq;
      if (ev.createdAt !== undefined) loc.createdAt = ev.createdAt;
      feedEvent(ev.text, acc, loc);
    }
    return;
  }
  readLineBytesFromBuffer(bytes, (line, lineNo, _s, _e, complete) => {
    if (!complete && skipWhitespace(line, 0) === line.length) return; // trailing newline at end of an archive
    feedEvent(line, acc, { line: lineNo });
  });
}
