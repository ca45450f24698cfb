/**
 * A validating, shallow JSON scanner over the raw UTF-8 bytes of one event: the project's one JSON scanner.
 * The accounting parser (event-facts.ts), the hub's ingest lines and the plugin's privacy transforms all walk
 * events with it.
 *
 * Why: the ledger reads ~1 GB of transcripts, and most of those bytes are tool results that count only by
 * their size. `JSON.parse` of every line runs at ~90 MiB/s. A scanner over JS strings needs the string first:
 * making latin1 strings of every line cost a third of a read worker's time (fresh pages for every line over
 * 128 KB), and skipping a string body by `indexOf('"')` costs ~25 ns per quote, of which JSON tool output
 * holds one every ~17 bytes. A byte loop over the read buffer needs neither (on the bench corpus: 281 →
 * ~600 MiB/s for the bare string skipping on one thread). Only the values we keep become strings.
 *
 * What it accepts: RFC 8259 JSON, plus the non-standard number tokens `NaN`, `Infinity` and `-Infinity`
 * (Python's `json.dumps` writes them; we read them and report them, rather than losing the whole line).
 * What it does not check: escape validity and raw control characters inside *skipped* strings (strings it
 * reads are checked; see mayBeLenient for callers that keep scanned text). Positions are byte offsets into
 * `b`, and `b` holds exactly one JSON text (a view of the read buffer, or one SQLite row; see asBuffer). */

/**
 * How a JS string carries an event's JSON text:
 *   "utf16"  — a normal JS string (decoded UTF-8);
 *   "latin1" — its raw UTF-8 bytes, one char per byte (`buf.toString("latin1")`): cheap to make and to turn
 *              back into the same bytes (`Buffer.from(s, "latin1")`), so events can be passed on as read.
 */
export type TextEncoding = "utf16" | "latin1";

/**
 * Applies `f`, a transform of latin1 text (UTF-8 bytes one per char) into latin1 text, to a text in either
 * encoding, and answers in the text's own encoding (`undefined` passes through).
 */
export function viaLatin1(s: string, encoding: TextEncoding, f: (latin1: string) => string | undefined): string | undefined {
  if (encoding === "latin1") return f(s);
  const r = f(Buffer.from(s, "utf8").toString("latin1"));
  return r === undefined ? undefined : Buffer.from(r, "latin1").toString("utf8");
}

/** Raised for malformed input; `at` is the byte offset where scanning gave up. */
export class JsonScanError extends Error {
  readonly at: number;
  constructor(message: string, at: number) {
    super(message);
    this.name = "JsonScanError";
    this.at = at;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

function fail(message: string, at: number): never {
  throw new JsonScanError(message, at);
}

/** A Buffer over the same memory (node:sqlite hands out plain Uint8Arrays), for its string decoders. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function skipWhitespace(b: Buffer, i: number): number {
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else break;
  }
  return i;
}

/** `b[i]` is the opening quote; returns the index just past the closing quote. */
export function skipString(b: Buffer, i: number): number {
  const n = b.length;
  let j = i + 1;
  // A backslash escapes the byte after it (multi-byte \uXXXX escapes hold no quote or backslash).
  while (j < n) {
    const c = b[j]!;
    if (c === QUOTE) return j + 1;
    j += c === BACKSLASH ? 2 : 1;
  }
  return fail("unterminated string", n);
}

function isNumberByte(c: number): boolean {
  // digits, '+', '-', '.', 'e', 'E'
  return (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e || c === 0x65 || c === 0x45;
}

function startsWith(b: Buffer, i: number, word: string): boolean {
  if (i + word.length > b.length) return false;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return false;
  return true;
}

function skipLiteral(b: Buffer, i: number, word: string): number {
  if (!startsWith(b, i, word)) fail("invalid literal", i);
  return i + word.length;
}

const NUMBER_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function numberEnd(b: Buffer, i: number): number {
  let j = i + 1;
  while (j < b.length && isNumberByte(b[j]!)) j++;
  return j;
}

/** Returns the index just past the value that starts at `i` (no leading whitespace). */
export function skipValue(b: Buffer, i: number, depth = 0): number {
  if (i >= b.length) fail("unexpected end of input", i);
  const c = b[i]!;
  switch (c) {
    case QUOTE:
      return skipString(b, i);
    case LBRACE:
      return skipObject(b, i, depth);
    case LBRACKET:
      return skipArray(b, i, depth);
    case 0x74: // t
      return skipLiteral(b, i, "true");
    case 0x66: // f
      return skipLiteral(b, i, "false");
    case 0x6e: // n
      return skipLiteral(b, i, "null");
    case 0x4e: // N
      return skipLiteral(b, i, "NaN");
    case 0x49: // I
      return skipLiteral(b, i, "Infinity");
    default: {
      if (c === 0x2d && startsWith(b, i, "-Infinity")) return i + 9;
      if (!(c === 0x2d || (c >= 0x30 && c <= 0x39))) fail("unexpected character", i);
      const j = numberEnd(b, i);
      if (!NUMBER_RE.test(b.toString("latin1", i, j))) fail("invalid number", i);
      return j;
    }
  }
}

/** Deepest nesting of arrays and objects the scanner follows, counted from where each scan starts; deeper fails as "nesting too deep". */
export const MAX_JSON_DEPTH = 512;

function skipObject(b: Buffer, i: number, depth: number): number {
  if (depth > MAX_JSON_DEPTH) fail("nesting too deep", i);
  let j = skipWhitespace(b, i + 1);
  if (b[j] === RBRACE) return j + 1;
  for (;;) {
    if (b[j] !== QUOTE) fail("expected object key", j);
    j = skipWhitespace(b, skipString(b, j));
    if (b[j] !== COLON) fail("expected ':'", j);
    j = skipWhitespace(b, j + 1);
    j = skipWhitespace(b, skipValue(b, j, depth + 1));
    const c = b[j];
    if (c === COMMA) j = skipWhitespace(b, j + 1);
    else if (c === RBRACE) return j + 1;
    else fail("expected ',' or '}'", j);
  }
}

function skipArray(b: Buffer, i: number, depth: number): number {
  if (depth > MAX_JSON_DEPTH) fail("nesting too deep", i);
  let j = skipWhitespace(b, i + 1);
  if (b[j] === RBRACKET) return j + 1;
  for (;;) {
    j = skipWhitespace(b, skipValue(b, j, depth + 1));
    const c = b[j];
    if (c === COMMA) j = skipWhitespace(b, j + 1);
    else if (c === RBRACKET) return j + 1;
    else fail("expected ',' or ']'", j);
  }
}

/** No escape, no control character and only ASCII: the body's bytes are its value as latin1 text. */
function bodyKind(b: Buffer, start: number, end: number): "ascii" | "utf8" | "escaped" {
  let ascii = true;
  for (let k = start; k < end; k++) {
    const c = b[k]!;
    if (c < 0x20 || c === BACKSLASH) return "escaped";
    if (c > 0x7f) ascii = false;
  }
  return ascii ? "ascii" : "utf8";
}

/** The string whose JSON text is `b[i, end)` (quotes included). */
function decodeString(b: Buffer, i: number, end: number): string {
  switch (bodyKind(b, i + 1, end - 1)) {
    case "ascii":
      return b.toString("latin1", i + 1, end - 1);
    case "utf8":
      return b.toString("utf8", i + 1, end - 1);
    default:
      // JSON.parse validates the escapes and control characters.
      try {
        return JSON.parse(b.toString("utf8", i, end)) as string;
      } catch {
        return fail("invalid string (escape or control character)", i);
      }
  }
}

/**
 * Visits the members of the object that starts at `i`, calling `visit(key, valueStart)` for each. `visit`
 * returns the index just past the value it consumed, or -1 to let the scanner skip it. Returns the index
 * just past the object.
 */
export function scanObject(b: Buffer, i: number, visit: (key: string, valueStart: number) => number, depth = 0): number {
  if (b[i] !== LBRACE) fail("expected object", i);
  let j = skipWhitespace(b, i + 1);
  if (b[j] === RBRACE) return j + 1;
  for (;;) {
    if (b[j] !== QUOTE) fail("expected object key", j);
    const keyEnd = skipString(b, j);
    const key = decodeString(b, j, keyEnd);
    j = skipWhitespace(b, keyEnd);
    if (b[j] !== COLON) fail("expected ':'", j);
    j = skipWhitespace(b, j + 1);
    const consumed = visit(key, j);
    j = skipWhitespace(b, consumed >= 0 ? consumed : skipValue(b, j, depth + 1));
    const c = b[j];
    if (c === COMMA) j = skipWhitespace(b, j + 1);
    else if (c === RBRACE) return j + 1;
    else fail("expected ',' or '}'", j);
  }
}

/** Visits the elements of the array that starts at `i`; same contract as {@link scanObject}. */
export function scanArray(b: Buffer, i: number, visit: (index: number, valueStart: number) => number, depth = 0): number {
  if (b[i] !== LBRACKET) fail("expected array", i);
  let j = skipWhitespace(b, i + 1);
  if (b[j] === RBRACKET) return j + 1;
  for (let index = 0; ; index++) {
    const consumed = visit(index, j);
    j = skipWhitespace(b, consumed >= 0 ? consumed : skipValue(b, j, depth + 1));
    const c = b[j];
    if (c === COMMA) j = skipWhitespace(b, j + 1);
    else if (c === RBRACKET) return j + 1;
    else fail("expected ',' or ']'", j);
  }
}

/** Kind of the value starting at `i`, from its first byte. */
export function valueKind(b: Buffer, i: number): "string" | "object" | "array" | "number" | "boolean" | "null" {
  const c = b[i];
  if (c === QUOTE) return "string";
  if (c === LBRACE) return "object";
  if (c === LBRACKET) return "array";
  if (c === 0x74 || c === 0x66) return "boolean";
  if (c === 0x6e) return "null";
  return "number";
}

/** Decodes the string value at `i` (must be a string) into a fresh string (no view of the read buffer). */
export function readString(b: Buffer, i: number): { value: string; end: number } {
  const end = skipString(b, i);
  return { value: decodeString(b, i, end), end };
}

/** Reads the number token at `i`, including `NaN`/`Infinity`; `value: undefined` when it is not a number. */
export function readNumber(b: Buffer, i: number): { value: number | undefined; end: number } {
  const end = skipValue(b, i);
  if (valueKind(b, i) !== "number") return { value: undefined, end };
  return { value: Number(b.toString("latin1", i, end)), end };
}

export function readBoolean(b: Buffer, i: number): { value: boolean | undefined; end: number } {
  const end = skipValue(b, i);
  const c = b[i];
  return { value: c === 0x74 ? true : c === 0x66 ? false : undefined, end };
}

/** Checks that only whitespace follows `end`. */
export function expectEnd(b: Buffer, end: number): void {
  const j = skipWhitespace(b, end);
  if (j !== b.length) fail("unexpected trailing characters", j);
}

const HEX = new Uint8Array(256);
for (const c of "0123456789abcdefABCDEF") HEX[c.charCodeAt(0)] = 1;

/**
 * Whether `b` may hold something this scanner accepts but JSON.parse rejects: raw control characters,
 * invalid escapes (both unchecked in skipped strings), NaN or Infinity. `false` guarantees that a successful
 * scan of `b` means `b` is valid JSON, so that a caller may keep a scanned range as JSON text; `true` may be
 * a false alarm (the word NaN inside a string, a tab between tokens): the caller then falls back to JSON.parse.
 */
export function mayBeLenient(b: Buffer): boolean {
  if (b.indexOf("NaN") >= 0 || b.indexOf("Infinity") >= 0) return true;
  const n = b.length;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c < 0x20) return true;
    if (c !== BACKSLASH) continue;
    // Outside strings a backslash fails the scan anyway; inside, each one starts an escape.
    const e = b[i + 1];
    if (e === 0x75 /* u */) {
      if (i + 5 >= n || !HEX[b[i + 2]!] || !HEX[b[i + 3]!] || !HEX[b[i + 4]!] || !HEX[b[i + 5]!]) return true;
      i += 5;
    } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      i += 1; // \" \\ \/ \b \f \n \r \t
    } else return true;
  }
  return false;
}
