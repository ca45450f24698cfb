/**
 * A validating, shallow JSON scanner over a JS string. The accounting parser (event-facts.ts) and the hub's
 * ingest lines use its twin over UTF-8 bytes, json-bytes.ts; this one serves code that works on event text:
 * the plugin's privacy transforms (which search the text with regular expressions and splice it).
 *
 * Why: most bytes of an OpenClaw transcript are tool results (10–200 KB strings) that carry nothing we
 * account except their size. `JSON.parse` of every line runs at ~90 MiB/s; skipping string bodies with
 * `indexOf('"')` and materializing only the few fields we need runs several times faster while still
 * rejecting truncated or structurally broken lines.
 *
 * What it accepts: RFC 8259 JSON, plus the non-standard number tokens `NaN`, `Infinity` and `-Infinity`
 * (Python's `json.dumps` writes them; we read them and report them, rather than losing the whole line).
 * What it does not check: escape validity and raw control characters inside *skipped* strings. Strings we
 * actually read are decoded with `JSON.parse`, which does check them.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * How the scanned string represents the event:
 *   "utf16"  — a normal JS string (decoded UTF-8), e.g. an SQLite `event_json` value;
 *   "latin1" — raw UTF-8 bytes decoded one byte per char (`buf.latin1Slice()`): about twice as fast to
 *              make as a UTF-8 decode, offsets are byte offsets, and only the strings we keep are decoded.
 * Set per event by the caller; the scanner is synchronous, so one module-level mode is enough.
 */
export type TextEncoding = "utf16" | "latin1";
let mode: TextEncoding = "utf16";

export function setScanEncoding(encoding: TextEncoding): void {
  mode = encoding;
}

/** UTF-8 byte length of `s.slice(start, end)`. */
export function spanBytes(s: string, start: number, end: number): number {
  if (mode === "latin1") return end - start;
  return Buffer.byteLength(start === 0 && end === s.length ? s : s.slice(start, end), "utf8");
}

/** Turns latin1-decoded bytes back into the text they encode (no-op for ASCII). */
function fromBytes(raw: string): string {
  if (mode !== "latin1") return raw;
  for (let k = 0; k < raw.length; k++) if (raw.charCodeAt(k) > 0x7f) return Buffer.from(raw, "latin1").toString("utf8");
  return raw;
}

/** Raised for malformed input; `at` is the character offset where scanning gave up. */
export class JsonScanError extends Error {
  readonly at: number;
  constructor(message: string, at: number) {
    super(message);
    this.name = "JsonScanError";
    this.at = at;
  }
}

function fail(message: string, at: number): never {
  throw new JsonScanError(message, at);
}

export function skipWhitespace(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else break;
  }
  return i;
}

/** `s[i]` is the opening quote; returns the index just past the closing quote. */
export function skipString(s: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = s.indexOf('"', j);
    if (q < 0) fail("unterminated string", s.length);
    // The quote closes the string unless an odd number of backslashes precedes it.
    let b = q - 1;
    while (b > i && s.charCodeAt(b) === BACKSLASH) b--;
    if (((q - 1 - b) & 1) === 0) return q + 1;
    j = q + 1;
  }
}

function isNumberChar(c: number): boolean {
  // digits, '+', '-', '.', 'e', 'E'
  return (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e || c === 0x65 || c === 0x45;
}

function skipLiteral(s: string, i: number, word: string): number {
  if (!s.startsWith(word, i)) fail(`invalid literal`, i);
  return i + word.length;
}

/** Returns the index just past the value that starts at `i` (no leading whitespace). */
export function skipValue(s: string, i: number, depth = 0): number {
  if (i >= s.length) fail("unexpected end of input", i);
  const c = s.charCodeAt(i);
  switch (c) {
    case QUOTE:
      return skipString(s, i);
    case LBRACE:
      return skipObject(s, i, depth);
    case LBRACKET:
      return skipArray(s, i, depth);
    case 0x74: // t
      return skipLiteral(s, i, "true");
    case 0x66: // f
      return skipLiteral(s, i, "false");
    case 0x6e: // n
      return skipLiteral(s, i, "null");
    case 0x4e: // N
      return skipLiteral(s, i, "NaN");
    case 0x49: // I
      return skipLiteral(s, i, "Infinity");
    default: {
      if (c === 0x2d && s.startsWith("-Infinity", i)) return i + 9;
      if (!(c === 0x2d || (c >= 0x30 && c <= 0x39))) fail("unexpected character", i);
      let j = i + 1;
      while (j < s.length && isNumberChar(s.charCodeAt(j))) j++;
      if (!isValidNumber(s.slice(i, j))) fail("invalid number", i);
      return j;
    }
  }
}

const NUMBER_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
function isValidNumber(text: string): boolean {
  return NUMBER_RE.test(text);
}

const MAX_DEPTH = 512;

function skipObject(s: string, i: number, depth: number): number {
  if (depth > MAX_DEPTH) fail("nesting too deep", i);
  let j = skipWhitespace(s, i + 1);
  if (s.charCodeAt(j) === RBRACE) return j + 1;
  for (;;) {
    if (s.charCodeAt(j) !== QUOTE) fail("expected object key", j);
    j = skipWhitespace(s, skipString(s, j));
    if (s.charCodeAt(j) !== COLON) fail("expected ':'", j);
    j = skipWhitespace(s, j + 1);
    j = skipWhitespace(s, skipValue(s, j, depth + 1));
    const c = s.charCodeAt(j);
    if (c === COMMA) j = skipWhitespace(s, j + 1);
    else if (c === RBRACE) return j + 1;
    else fail("expected ',' or '}'", j);
  }
}

function skipArray(s: string, i: number, depth: number): number {
  if (depth > MAX_DEPTH) fail("nesting too deep", i);
  let j = skipWhitespace(s, i + 1);
  if (s.charCodeAt(j) === RBRACKET) return j + 1;
  for (;;) {
    j = skipWhitespace(s, skipValue(s, j, depth + 1));
    const c = s.charCodeAt(j);
    if (c === COMMA) j = skipWhitespace(s, j + 1);
    else if (c === RBRACKET) return j + 1;
    else fail("expected ',' or ']'", j);
  }
}

/** A value's location in the scanned string: `s.slice(start, end)` is its JSON text. */
export type Span = { start: number; end: number };

/**
 * Visits the members of the object that starts at `i`, calling `visit(key, valueStart)` for each. `visit`
 * returns the index just past the value it consumed, or -1 to let the scanner skip it. Keys are decoded
 * only when they contain escapes. Returns the index just past the object.
 */
export function scanObject(
  s: string,
  i: number,
  visit: (key: string, valueStart: number) => number,
  depth = 0,
): number {
  if (s.charCodeAt(i) !== LBRACE) fail("expected object", i);
  let j = skipWhitespace(s, i + 1);
  if (s.charCodeAt(j) === RBRACE) return j + 1;
  for (;;) {
    if (s.charCodeAt(j) !== QUOTE) fail("expected object key", j);
    const keyEnd = skipString(s, j);
    const rawKey = s.slice(j + 1, keyEnd - 1);
    const key = rawKey.includes("\\") ? (JSON.parse(fromBytes(s.slice(j, keyEnd))) as string) : fromBytes(rawKey);
    j = skipWhitespace(s, keyEnd);
    if (s.charCodeAt(j) !== COLON) fail("expected ':'", j);
    j = skipWhitespace(s, j + 1);
    const consumed = visit(key, j);
    j = skipWhitespace(s, consumed >= 0 ? consumed : skipValue(s, j, depth + 1));
    const c = s.charCodeAt(j);
    if (c === COMMA) j = skipWhitespace(s, j + 1);
    else if (c === RBRACE) return j + 1;
    else fail("expected ',' or '}'", j);
  }
}

/** Visits the elements of the array that starts at `i`; same contract as {@link scanObject}. */
export function scanArray(s: string, i: number, visit: (index: number, valueStart: number) => number, depth = 0): number {
  if (s.charCodeAt(i) !== LBRACKET) fail("expected array", i);
  let j = skipWhitespace(s, i + 1);
  if (s.charCodeAt(j) === RBRACKET) return j + 1;
  for (let index = 0; ; index++) {
    const consumed = visit(index, j);
    j = skipWhitespace(s, consumed >= 0 ? consumed : skipValue(s, j, depth + 1));
    const c = s.charCodeAt(j);
    if (c === COMMA) j = skipWhitespace(s, j + 1);
    else if (c === RBRACKET) return j + 1;
    else fail("expected ',' or ']'", j);
  }
}

/** Kind of the value starting at `i`, from its first character. */
export function valueKind(s: string, i: number): "string" | "object" | "array" | "number" | "boolean" | "null" {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return "string";
  if (c === LBRACE) return "object";
  if (c === LBRACKET) return "array";
  if (c === 0x74 || c === 0x66) return "boolean";
  if (c === 0x6e) return "null";
  return "number";
}

/** V8 copies a substring shorter than this; a longer one is a view that keeps the whole scanned text alive. */
const SLICE_COPY_MAX = 12;

/** No escape and no control character: the string's body is its value as is. */
function isPlainBody(body: string): boolean {
  for (let k = 0; k < body.length; k++) {
    const c = body.charCodeAt(k);
    if (c < 0x20 || c === BACKSLASH) return false;
  }
  return true;
}

/**
 * Decodes the string value at `i` (must be a string). `transient`: the caller does not keep the value (a
 * timestamp it only parses), so it may be a view of `s`.
 */
export function readString(s: string, i: number, transient = false): { value: string; end: number } {
  const end = skipString(s, i);
  // Short or transient plain strings (types, roles, tool names, timestamps) are sliced: cheaper than JSON.parse.
  if (transient || end - i - 2 <= SLICE_COPY_MAX) {
    const body = s.slice(i + 1, end - 1);
    if (isPlainBody(body)) return { value: fromBytes(body), end };
  }
  // JSON.parse validates escapes and control characters, and returns a fresh string: a plain slice would
  // be a V8 "sliced string" that keeps the whole (up to MB-sized) event text alive as long as we keep the id.
  try {
    return { value: JSON.parse(fromBytes(s.slice(i, end))) as string, end };
  } catch {
    fail("invalid string (escape or control character)", i);
  }
}

/**
 * Reads the number token at `i`, including `NaN`/`Infinity`. Returns `value: undefined` when the value is
 * not a number token (a string, object, …) so callers can report the field as invalid.
 */
export function readNumber(s: string, i: number): { value: number | undefined; end: number } {
  const end = skipValue(s, i);
  const kind = valueKind(s, i);
  if (kind !== "number") return { value: undefined, end };
  const text = s.slice(i, end);
  return { value: Number(text), end };
}

export function readBoolean(s: string, i: number): { value: boolean | undefined; end: number } {
  const end = skipValue(s, i);
  const c = s.charCodeAt(i);
  return { value: c === 0x74 ? true : c === 0x66 ? false : undefined, end };
}

/** Checks that only whitespace follows `end` in `s`. */
export function expectEnd(s: string, end: number): void {
  const j = skipWhitespace(s, end);
  if (j !== s.length) fail("unexpected trailing characters", j);
}
