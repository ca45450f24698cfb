/**
 * Reads the raw event texts of one transcript part incrementally, for senders that ship events verbatim
 * (the OpenClaw plugin). Accounting reads (read-part.ts) reduce events to facts; this reader returns the
 * events themselves, a bounded batch at a time, with the position to resume from after each batch:
 *
 *   plain JSONL file (live, reset/deleted archive)  FilePosition: byte offset + head/tail hashes, so a later
 *                                                   read detects a rewritten file instead of reading garbage
 *   transcript_events rows of one session           RowsPosition: last seq + rows seen, so rows that vanish
 *                                                   or appear below the watermark reveal a rewrite
 *   compressed file, archive blob, cold archive     IndexPosition: how many events of the (immutable) part
 *                                                   were taken; the part is decoded whole on every read
 *
 * Texts are returned as read: mostly `latin1` (one char per byte of UTF-8, see TextEncoding in
 * json-bytes.ts), so that a sender passing events through verbatim can put the bytes back on the wire without
 * ever decoding them; `utf16` where the source gave a JavaScript string. textOf() decodes when the text itself
 * is needed. `order` is the event's place in its part: the row's seq, or the 1-based line number.
 */
import fs from "node:fs";
import zlib from "node:zlib";
import { extractEventFacts, isExtractFailure } from "../parse/event-facts.ts";
import type { TextEncoding } from "../parse/json-bytes.ts";
import { iterateSessionRows, latin1Of, readArchiveBlob, readColdBlob } from "./agent-db.ts";
import { coldEvents, isRestoreFormat } from "./cold-archive.ts";
import type { DiscoveredPart, FilePosition, RowsPosition } from "./parts.ts";
import { filePosition, stillAppendOnly, type DbHandles } from "./read-part.ts";
import { readLinesFromFile, readLinesFromText } from "./read-lines.ts";

/** Events taken from an immutable part that is decoded whole (archives, compressed files). */
export type IndexPosition = { type: "index"; taken: number };
export type ResumePosition = FilePosition | RowsPosition | IndexPosition;

export type RawEvent = { text: string; encoding: TextEncoding; order: number; bytes: number };

export type EventTextBatch = {
  events: RawEvent[];
  /** Where the next read continues (after the last event of this batch). */
  resume: ResumePosition;
  /** Nothing is left after `resume` (as of this read). */
  done: boolean;
  /** The part changed below the position read from: it must be read again from the start. */
  rewriteDetected: boolean;
  /** Bytes of event text in this batch. */
  bytes: number;
  /** The part could not be read (missing file, undecodable blob…); nothing was taken. */
  readError: string | null;
};

export type EventTextLimits = {
  /** Stop after this many bytes of event text (at least one event is always taken). */
  maxBytes: number;
  /** Stop after this many events. */
  maxEvents: number;
  /** Lines longer than this are skipped (see read-lines.ts). */
  maxLineBytes?: number;
};

/** The event's text as a JavaScript string (decodes latin1-carried UTF-8). */
export function textOf(ev: { text: string; encoding: TextEncoding }): string {
  return ev.encoding === "latin1" ? Buffer.from(ev.text, "latin1").toString("utf8") : ev.text;
}

/** Reads the next batch of event texts of `part`, continuing after `from` (null: from the start). */
export function readEventTexts(part: DiscoveredPart, from: ResumePosition | null, limits: EventTextLimits, dbs: DbHandles): EventTextBatch {
  const src = part.source;
  try {
    if (src.type === "file" && !src.compressed) return readFileTexts(src.path, from?.type === "file" ? from : null, limits);
    if (src.type === "sqlite-rows") return readRowTexts(dbs, src.db, src.sessionId, src.fingerprint.maxSeq, src.fingerprint.count, from?.type === "rows" ? from : null, limits);
    let text: string | null;
    let error: string | undefined;
    if (src.type === "file") {
      text = latin1Of(zlib.zstdDecompressSync(fs.readFileSync(src.path)));
    } else {
      const db = dbs.get(src.db);
      const blob = src.type === "sqlite-archive" ? readArchiveBlob(db, src.sessionId, src.generation) : readColdBlob(db, src.sessionId);
      text = blob.bytes === null ? null : latin1Of(blob.bytes);
      error = blob.error;
    }
    if (text === null) return failed(from, error ?? "undecodable archive");
    return takeFromWhole(wholeTexts(text), from?.type === "index" ? from.taken : 0, limits);
  } catch (e) {
    return failed(from, (e as Error).message);
  }
}

function failed(from: ResumePosition | null, message: string): EventTextBatch {
  return { events: [], resume: from ?? { type: "index", taken: 0 }, done: false, rewriteDetected: false, bytes: 0, readError: message };
}

/** Every event text of a decoded archive (latin1 text): plain JSONL, or a cold archive's restore records. */
export function wholeTexts(latin1: string): RawEvent[] {
  if (isRestoreFormat(latin1)) {
    return coldEvents(latin1, () => {}).map((e) => ({ text: e.text, encoding: "utf16" as const, order: e.seq ?? e.line, bytes: Buffer.byteLength(e.text) }));
  }
  const out: RawEvent[] = [];
  readLinesFromText(latin1, (line, lineNo) => {
    if (line.trim() !== "") out.push({ text: line, encoding: "latin1", order: lineNo, bytes: line.length });
  });
  return out;
}

function takeFromWhole(all: RawEvent[], taken: number, limits: EventTextLimits): EventTextBatch {
  // An immutable part that now has fewer events than were taken is not the part that was read before.
  if (taken > all.length) return { events: [], resume: { type: "index", taken: 0 }, done: false, rewriteDetected: true, bytes: 0, readError: null };
  const events: RawEvent[] = [];
  let bytes = 0;
  let i = taken;
  for (; i < all.length; i++) {
    const ev = all[i]!;
    if (events.length > 0 && (bytes + ev.bytes > limits.maxBytes || events.length >= limits.maxEvents)) break;
    events.push(ev);
    bytes += ev.bytes;
  }
  return { events, resume: { type: "index", taken: i }, done: i >= all.length, rewriteDetected: false, bytes, readError: null };
}

function readRowTexts(
  dbs: DbHandles,
  dbPath: string,
  sessionId: string,
  maxSeq: number,
  expectedCount: number,
  from: RowsPosition | null,
  limits: EventTextLimits,
): EventTextBatch {
  const db = dbs.get(dbPath);
  let lastSeq = from?.lastSeq ?? Number.MIN_SAFE_INTEGER;
  let count = from?.count ?? 0;
  const events: RawEvent[] = [];
  let bytes = 0;
  let more = false;
  for (const row of iterateSessionRows(db, sessionId, lastSeq, maxSeq)) {
    if (events.length > 0 && (bytes >= limits.maxBytes || events.length >= limits.maxEvents)) {
      more = true;
      break;
    }
    lastSeq = row.seq;
    count++;
    // An undecodable row is passed over: it can never be sent, and must not hold back the rows after it.
    if (row.bytes === null) continue;
    events.push({ text: latin1Of(row.bytes), encoding: "latin1", order: row.seq, bytes: row.bytes.length });
    bytes += row.bytes.length;
  }
  // At the end of the rows, the count must equal the listing's: rows that vanished or appeared below the
  // position read from mean the session was rewritten.
  const rewriteDetected = !more && from !== null && count !== expectedCount;
  return { events: rewriteDetected ? [] : events, resume: { type: "rows", lastSeq, count }, done: !more, rewriteDetected, bytes, readError: null };
}

function readFileTexts(path: string, from: FilePosition | null, limits: EventTextLimits): EventTextBatch {
  const size = fs.statSync(path).size;
  if (from && !stillAppendOnly(path, from, size)) return { events: [], resume: from, done: false, rewriteDetected: true, bytes: 0, readError: null };
  const start = from?.offset ?? 0;
  const maxLineBytes = limits.maxLineBytes ?? 64 * 1024 * 1024;

  const scan = (end: number) => {
    const events: RawEvent[] = [];
    let offset = start;
    let line = from?.line ?? 0;
    let open = false;
    let bytes = 0;
    let cut = false;
    readLinesFromFile(path, { startOffset: start, startLine: line, endOffset: end, maxLineBytes }, (text, lineNo, lineStart, lineEnd, complete) => {
      // At least one event; then stop at the byte or event limit (a window extended for one long line
      // must not take the rest of the file with it).
      if (cut || events.length >= limits.maxEvents || (events.length > 0 && bytes >= limits.maxBytes)) {
        cut = true;
        return;
      }
      if (complete) {
        // The newline that completes a line taken earlier without one is not a new event.
        if (!(text === "" && lineStart === start && from?.open === true) && text.trim() !== "") {
          events.push({ text, encoding: "latin1", order: lineNo, bytes: text.length });
          bytes += text.length;
        }
        offset = lineEnd;
        line = lineNo;
        return;
      }
      // A last line without its newline is taken only at the real end of the file and only when it is a
      // whole event (a writer may be in the middle of it); its newline is then expected, not a new line.
      if (end === size && text.trim() !== "" && !isExtractFailure(extractEventFacts(text, "latin1"))) {
        events.push({ text, encoding: "latin1", order: lineNo, bytes: text.length });
        bytes += text.length;
        offset = lineEnd;
        line = lineNo;
        open = true;
      }
    });
    return { events, offset, line, open, bytes, cut };
  };

  // Read a window of about maxBytes; a line longer than the window is read alone with the rest of the file.
  let end = Math.min(size, start + Math.max(limits.maxBytes, 1));
  let r = scan(end);
  if (r.offset === start && end < size) {
    end = size;
    r = scan(end);
  }
  const resume = r.offset === start && from ? from : filePosition(path, r.offset, r.line);
  if (r.open) resume.open = true;
  // Done once every complete line up to the end of the file was taken (a trailing partial line waits).
  const done = end === size && !r.cut;
  return { events: r.events, resume, done, rewriteDetected: false, bytes: r.bytes, readError: null };
}
