/**
 * Reads the complete lines of a transcript file from a byte offset, in bounded memory.
 *
 * - A last line without a newline is handed over with `complete: false`: a writer may still be appending
 *   to it, so the caller decides (a valid event is taken; anything else is left for the next read).
 * - Lines longer than `maxLineBytes` are reported and skipped without being held in memory.
 * - Reads stop at `endOffset` (the size seen when the scan was planned) so that one scan is consistent
 *   with its own fingerprint even while the file grows.
 * - Lines are handed over as their bytes (a view of the read buffer, valid during the call: the accounting
 *   parser reads them as they are, json-bytes.ts), or as latin1 text (one char per byte, so offsets stay
 *   byte offsets) for readers that pass events on as text.
 */
import fs from "node:fs";

export type LineSink = (text: string, line: number, startOffset: number, endOffset: number, complete: boolean) => void;
export type ByteLineSink = (bytes: Buffer, line: number, startOffset: number, endOffset: number, complete: boolean) => void;

export type ReadLinesResult = {
  /** Offset just past the last line handed over as complete. */
  offset: number;
  /** Number of the last line handed over as complete (1-based; 0 if none). */
  line: number;
  bytesRead: number;
};

export type ReadLinesOptions = {
  startOffset: number;
  startLine: number;
  endOffset: number;
  maxLineBytes: number;
  chunkBytes?: number;
  onTooLong?: (line: number, bytes: number) => void;
  onProgress?: (bytes: number) => void;
};

export function readLinesFromFile(path: string, options: ReadLinesOptions, sink: LineSink): ReadLinesResult {
  return readLineBytesFromFile(path, options, (bytes, line, start, end, complete) => sink(bytes.toString("latin1", 0, bytes.length), line, start, end, complete));
}

export function readLineBytesFromFile(path: string, options: ReadLinesOptions, sink: ByteLineSink): ReadLinesResult {
  const fd = fs.openSync(path, "r");
  try {
    return readLinesFromFd(fd, options, sink);
  } finally {
    fs.closeSync(fd);
  }
}

/** One read buffer per thread, reused across files (allocating 8 MB per small file dominated small reads). */
let shared: Buffer | null = null;

function readLinesFromFd(fd: number, options: ReadLinesOptions, sink: ByteLineSink): ReadLinesResult {
  const chunkBytes = options.chunkBytes ?? 8 * 1024 * 1024;
  if (!shared || shared.length !== chunkBytes) shared = Buffer.allocUnsafe(chunkBytes);
  let buf = shared;
  let bufStart = options.startOffset; // file offset of buf[0]
  let filled = 0;
  let pos = options.startOffset; // next file offset to read
  let line = options.startLine;
  let consumed = options.startOffset;
  let bytesRead = 0;
  let skippingTooLong = false; // inside an over-long line: discard until its newline
  let tooLongBytes = 0;

  for (;;) {
    const want = Math.min(buf.length - filled, options.endOffset - pos);
    const n = want > 0 ? fs.readSync(fd, buf, filled, want, pos) : 0;
    pos += n;
    bytesRead += n;
    filled += n;
    if (n > 0) options.onProgress?.(n);
    const eof = n === 0 || pos >= options.endOffset;

    let at = 0;
    for (;;) {
      const nl = buf.indexOf(10, at);
      if (nl < 0 || nl >= filled) break;
      line++;
      if (skippingTooLong) {
        options.onTooLong?.(line, tooLongBytes + nl - at);
        skippingTooLong = false;
        tooLongBytes = 0;
      } else {
        let end = nl;
        if (end > at && buf[end - 1] === 13) end--; // tolerate CRLF
        sink(buf.subarray(at, end), line, bufStart + at, bufStart + nl + 1, true);
      }
      at = nl + 1;
      consumed = bufStart + at;
    }

    if (eof) {
      if (filled > at && !skippingTooLong) {
        sink(buf.subarray(at, filled), line + 1, bufStart + at, bufStart + filled, false);
      } else if (skippingTooLong) {
        options.onTooLong?.(line + 1, tooLongBytes + filled - at);
      }
      return { offset: consumed, line, bytesRead };
    }

    // Keep the partial line: move it to the front, growing the buffer for long lines.
    const rest = filled - at;
    if (skippingTooLong || rest >= options.maxLineBytes) {
      skippingTooLong = true;
      tooLongBytes += rest;
      bufStart += filled;
      filled = 0;
      continue;
    }
    if (at === 0 && rest === buf.length) {
      const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, options.maxLineBytes + 1));
      buf.copy(bigger, 0, 0, filled);
      buf = bigger;
    } else {
      buf.copy(buf, 0, at, filled);
      bufStart += at;
      filled = rest;
    }
  }
}

/** Splits an in-memory JSONL text (a decompressed archive, as latin1 text) into lines with the same contract. */
export function readLinesFromText(text: string, sink: LineSink): number {
  return readLineBytesFromBuffer(Buffer.from(text, "latin1"), (bytes, line, start, end, complete) => sink(bytes.toString("latin1"), line, start, end, complete));
}

/** Splits in-memory JSONL bytes (a decompressed archive) into lines with the same contract. */
export function readLineBytesFromBuffer(buf: Buffer, sink: ByteLineSink): number {
  let at = 0;
  let line = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(10, at);
    line++;
    if (nl < 0) {
      sink(buf.subarray(at), line, at, buf.length, false);
      return line;
    }
    let end = nl;
    if (end > at && buf[end - 1] === 13) end--;
    sink(buf.subarray(at, end), line, at, nl + 1, true);
    at = nl + 1;
  }
  return line;
}
