/**
 * Privacy "redacted" on an event's JSON text, without decoding the event.
 *
 * Why: decoding, `JSON.parse`, walking and `JSON.stringify` of every event held the redacted upload under the
 * speed of `JSON.parse` + `JSON.stringify` (~55 MiB/s on a slow day of a 2-core machine, a third of "full"),
 * yet almost every byte of a transcript is text that no pattern touches. So:
 *   1. Gates run over the raw JSON text (UTF-8 bytes one per char, or a JS string). Every place a built-in
 *      pattern could match, and every secret-named key, matches a gate. No match: the event goes out as its
 *      raw bytes, exactly as in "full".
 *   2. Otherwise the event's structure is walked with core's JSON scanner over its bytes (string bodies
 *      skipped by a byte loop; a JS string event is walked as its UTF-8 bytes); each value gets the
 *      treatment redactValue gives it (structural strings kept, a secret key's value masked whole), and a
 *      string (a key or a value) with gate hits is decoded, redacted and re-encoded only in the windows
 *      around its hits, cut at newlines no pattern match can cross (see safeCut).
 *   3. What this cannot decide exactly falls back to the decoding path (returns `undefined`): escapes of
 *      printable ASCII characters (`\u0041`, `\/`: the decoded text would differ from the raw text the
 *      gates read), a top-level value that is not an object, malformed JSON.
 * The result is the event redactValue produces, as JSON (members in their order, numbers and the strings no
 * pattern touched as they were written). test/redact-raw.test.ts checks it against the decoding path.
 * Only for the built-in patterns: custom patterns can match anything, so with any the caller decodes.
 */
import { jsonBytes, type TextEncoding } from "@clawtower/core";
import { REDACTED, SECRET_KEY, STRUCTURAL_KEYS, TOKEN_HINTS, type Redactor } from "./redact.ts";

const MASKED_VALUE = JSON.stringify(REDACTED);

/** Decoded whitespace as raw JSON string text can spell it: a superset of what `\s` matches once decoded. */
const RAW_WS = String.raw`(?:[ \t\r\n\x80-\uffff]|\\[nrtfb]|\\u[0-9a-fA-F]{4})*`;

/**
 * The gates: together they match wherever a built-in pattern could match the decoded text, and at every
 * secret-named key. Each is something every match of a pattern contains, spelt as raw JSON text spells it
 * (ASCII literals are spelt as themselves as long as no printable ASCII character is escaped: FALLBACK).
 * Separate scans, because V8 scans each of these small alternations at 1.5–13 GB/s, and their union at a
 * fifth of that.
 *   TOKEN_HINTS  the token patterns' literals ("k-", "AKIA", "PRIVATE KEY", "Bearer", …: redact.ts)
 *   "@"          URL credentials and e-mail addresses (searched with indexOf)
 *   KEYWORDS     an assignment's secret word, an optional (escaped) quote, whitespace, its operator
 *                (ASSIGNMENT); and a secret-named key with the ":" after it (SECRET_KEY). Every secret word
 *                (SECRET_WORD) ends in one of these words, matched case-insensitively as both patterns are.
 */
const FALLBACK = /\\u00[2-7][0-9a-fA-F]|\\\//;
const KEYWORDS = new RegExp(String.raw`(?:pass(?:w(?:or)?d|phrase)?|pwd|secret|key|token|auth(?:orization)?|cookie|credentials?)(?:\\*["'])?${RAW_WS}[:=]`, "gi");

const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const LBRACE = 0x7b;
const LBRACKET = 0x5b;
const LETTER_T = 0x74;
const LETTER_F = 0x66;
const LETTER_N = 0x6e;

/** A gate hit: raw offsets; `whole`: the string holding it is redacted whole (a PEM block spans lines). */
type Hit = { start: number; end: number; whole: boolean };

/** `s[i]` is escaped: an odd number of backslashes precedes it (not looking before `lo`). */
function escaped(s: string, i: number, lo: number): boolean {
  let b = i - 1;
  while (b >= lo && s.charCodeAt(b) === BACKSLASH) b--;
  return ((i - 1 - b) & 1) === 1;
}

const isWsEscapeLetter = (c: number) => c === 0x6e || c === 0x72 || c === 0x74 || c === 0x66; // n r t f

/**
 * The decoded character nearest before raw offset `k` (exclusive) that is not whitespace can be neither
 * ":" / "=" (an assignment's operator) nor the end of "earer" (a bearer token follows whitespace). Walks
 * back over spaces and `\n` `\r` `\t` `\f` escapes; anything it cannot read for sure (a non-ASCII
 * character, which may be Unicode whitespace; the tail of a `\uXXXX` escape) makes it say no.
 */
function leftClear(s: string, k: number, lo: number): boolean {
  for (let i = k - 1; i >= lo; ) {
    const c = s.charCodeAt(i);
    if (c === 0x20) {
      i--;
      continue;
    }
    if (c >= 0x80) return false;
    if (escaped(s, i, lo)) {
      if (isWsEscapeLetter(c)) {
        i -= 2;
        continue;
      }
      return true; // \" \\ \/ \b: not whitespace, not an operator
    }
    if (i - 5 >= lo && s.charCodeAt(i - 4) === 0x75 && s.charCodeAt(i - 5) === BACKSLASH) return false; // \uXXXX
    if (c === 0x3a || c === 0x3d) return false;
    return !(c === 0x72 && s.startsWith("earer", i - 4));
  }
  return true;
}

/** The decoded character nearest from raw offset `k` on that is not whitespace is not ":" or "=". */
function rightClear(s: string, k: number, hi: number): boolean {
  for (let i = k; i < hi; ) {
    const c = s.charCodeAt(i);
    if (c === 0x20) {
      i++;
      continue;
    }
    if (c >= 0x80) return false;
    if (c === BACKSLASH) {
      const d = s.charCodeAt(i + 1);
      if (isWsEscapeLetter(d)) {
        i += 2;
        continue;
      }
      return d !== 0x75; // \uXXXX may be whitespace
    }
    return c !== 0x3a && c !== 0x3d;
  }
  return true;
}

/**
 * A `\n` escape at raw offset `i` (inside the string body [lo, hi)) is a safe cut when no match of any
 * built-in pattern can contain the newline. A match holds a newline only in the whitespace around an
 * assignment's operator (its value, quoted or not, ends with the line), in the whitespace after "Bearer",
 * or in a PEM block (whose strings are redacted whole). So the cut is safe when the nearest non-whitespace
 * characters on both sides are not an operator and the left side does not end with "earer". Masks
 * ("[REDACTED]", "[EMAIL]") hold neither, and an assignment's kept head was there before, so this holds
 * through every stage of the redactor.
 */
function safeCut(s: string, i: number, lo: number, hi: number): boolean {
  return !escaped(s, i, lo) && leftClear(s, i, lo) && rightClear(s, i + 2, hi);
}

/** Start of the window around a hit at `from` in the body [lo, hi): just past the nearest safe `\n` before it, or `lo`. */
function windowStart(s: string, from: number, lo: number, hi: number): number {
  for (let i = s.lastIndexOf("\\n", from - 2); i >= lo; i = s.lastIndexOf("\\n", i - 1)) if (safeCut(s, i, lo, hi)) return i + 2;
  return lo;
}

/** End of the window around a hit ending at `from` in the body [lo, hi): the nearest safe `\n` after it, or `hi`. */
function windowEnd(s: string, from: number, lo: number, hi: number): number {
  for (let i = s.indexOf("\\n", from); i >= 0 && i < hi; i = s.indexOf("\\n", i + 1)) if (safeCut(s, i, lo, hi)) return i;
  return hi;
}

const JSON_NON_WS = /[^ \t\n\r]/;

/** A window of raw text (UTF-8 bytes one per char) ⇄ the text it encodes. */
const decodeRaw = (raw: string): string => JSON.parse(`"${Buffer.from(raw, "latin1").toString("utf8")}"`) as string;
const encodeRaw = (text: string): string => Buffer.from(JSON.stringify(text).slice(1, -1), "utf8").toString("latin1");

/** Builds the redacted text: raw text copied through, with replacements spliced in at raw offsets. */
class Splicer {
  private readonly s: string;
  private out = "";
  private copied = 0;
  constructor(s: string) {
    this.s = s;
  }
  replace(start: number, end: number, text: string): void {
    this.out += this.s.slice(this.copied, start) + text;
    this.copied = end;
  }
  done(): string {
    return this.copied === 0 ? this.s : this.out + this.s.slice(this.copied);
  }
}

/**
 * The redacted form of the event's JSON text, in the same encoding; `undefined` when the caller must take
 * the decoding path (see the module comment). `redactor` must hold only the built-in patterns.
 */
export function redactRawEvent(s: string, encoding: TextEncoding, redactor: Redactor): string | undefined {
  // A JS string (a restore-format archive's event, a live one) is redacted as its UTF-8 bytes.
  return jsonBytes.viaLatin1(s, encoding, (latin1) => redactRawBytes(latin1, redactor));
}

/** redactRawEvent on latin1 text: UTF-8 bytes one per char, so that its positions are the bytes'. */
function redactRawBytes(s: string, redactor: Redactor): string | undefined {
  if (FALLBACK.test(s)) return undefined;
  const hits: Hit[] = [];
  for (const gate of [TOKEN_HINTS, KEYWORDS]) {
    gate.lastIndex = 0;
    for (let m = gate.exec(s); m !== null; m = gate.exec(s)) hits.push({ start: m.index, end: m.index + m[0].length, whole: m[0] === "PRIVATE KEY" });
  }
  for (let i = s.indexOf("@"); i >= 0; i = s.indexOf("@", i + 1)) hits.push({ start: i, end: i + 1, whole: false });
  hits.sort((a, b) => a.start - b.start);
  const at = s.search(JSON_NON_WS); // -1 (blank): not an object either
  if (s.charCodeAt(at) !== LBRACE) return undefined;
  if (hits.length === 0) return s;

  const b = Buffer.from(s, "latin1"); // what the scanner walks
  const out = new Splicer(s);
  let next = 0; // first hit not yet behind the walk

  /** Redacts the windows of the string body [lo, hi) that hold hits. */
  const redactBody = (lo: number, hi: number): void => {
    while (next < hits.length && hits[next]!.start < lo) next++;
    let last = next;
    let whole = false;
    for (; last < hits.length && hits[last]!.start < hi; last++) whole ||= hits[last]!.whole;
    const first = next;
    next = last;
    if (first === last) return;
    const redactWindow = (start: number, end: number) => {
      const text = decodeRaw(s.slice(start, end));
      const red = redactor.text(text);
      if (red !== text) out.replace(start, end, encodeRaw(red));
    };
    if (whole) return redactWindow(lo, hi);
    let winStart = -1;
    let winEnd = -1;
    for (let h = first; h < last; h++) {
      const hit = hits[h]!;
      const end = Math.min(hit.end, hi);
      if (hit.start < winEnd) {
        if (end > winEnd) winEnd = windowEnd(s, end, lo, hi);
        continue;
      }
      if (winStart >= 0) redactWindow(winStart, winEnd);
      winStart = windowStart(s, hit.start, lo, hi);
      winEnd = windowEnd(s, end, lo, hi);
    }
    redactWindow(winStart, winEnd);
  };

  /** Walks the value at `i` and returns the index just past it; `secret`: its key is secret-named. */
  const walk = (i: number, key: string | undefined, secret: boolean, depth: number): number => {
    const c = s.charCodeAt(i);
    if (c === QUOTE) {
      const end = jsonBytes.skipString(b, i);
      const lo = i + 1;
      const hi = end - 1;
      if (key !== undefined && STRUCTURAL_KEYS.has(key)) return end;
      if (secret) {
        if (hi > lo) out.replace(lo, hi, REDACTED);
      } else redactBody(lo, hi);
      return end;
    }
    if (secret) {
      // Whatever it holds but nothing (null, a boolean, an empty object or array), the value becomes the mask.
      const end = jsonBytes.skipValue(b, i, depth);
      const empty = c === LBRACE || c === LBRACKET ? jsonBytes.skipWhitespace(b, i + 1) === end - 1 : c === LETTER_T || c === LETTER_F || c === LETTER_N;
      if (!empty) out.replace(i, end, MASKED_VALUE);
      return end;
    }
    if (c === LBRACE) {
      let memberEnd = i + 1; // only whitespace and a comma lie between it and the next key
      return jsonBytes.scanObject(
        b,
        i,
        (k, at) => {
          // Hits before the value lie in its key: the key is redacted, and only a key with a hit can be secret-named.
          let secretKey = false;
          if (next < hits.length && hits[next]!.start < at) {
            const keyStart = s.indexOf('"', memberEnd);
            redactBody(keyStart + 1, jsonBytes.skipString(b, keyStart) - 1);
            secretKey = SECRET_KEY.test(k);
          }
          memberEnd = walk(at, k, secretKey, depth + 1);
          return memberEnd;
        },
        depth,
      );
    }
    if (c === LBRACKET) return jsonBytes.scanArray(b, i, (_, at) => walk(at, undefined, false, depth + 1), depth);
    return jsonBytes.skipValue(b, i, depth); // numbers and literals
  };

  try {
    walk(at, undefined, false, 0);
  } catch {
    return undefined;
  }
  return out.done();
}
