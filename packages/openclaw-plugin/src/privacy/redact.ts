/**
 * Masks secrets, tokens and e-mail addresses in text before it leaves the machine (privacy "redacted").
 *
 * Built-in patterns cover what commonly leaks into transcripts: vendor token prefixes, bearer headers, JWTs,
 * PEM private keys, `password=`/`api_key:` style assignments (the whole value), URL credentials, AWS access
 * keys; the plugin README lists what each masks. OpenClaw's
 * own `logging.redactPatterns` (raw regex strings, flags `gi`, or `/pattern/flags`) are added, and so are
 * the plugin's `redact.patterns`. A pattern that does not compile is reported, never thrown.
 */
export const REDACTED = "[REDACTED]";
export const REDACTED_EMAIL = "[EMAIL]";

/*
 * The built-in patterns, in the order they apply (each one sees the masks of the ones before it), then the
 * custom patterns in order, then e-mail addresses. Every string of every event goes through them, so they are
 * arranged to cost little where nothing matches (most text); the result is exactly that of applying each
 * pattern with `String.prototype.replace` in this order (test/redact.test.ts checks it against that):
 *   - the token patterns start with a literal prefix, so V8's regex engine already skips through text fast;
 *     most are gated in groups (TOKEN_GROUPS); each runs once (a `replace` without a match returns its
 *     input: no `test()` first)
 *   - URL credentials need "@" in the text; their matches are found from the "://" that each one contains
 *   - `password=` style assignments: one scan (its keywords are common words, "key", "token": finding their
 *     occurrences first costs more than the scan)
 *   - e-mail addresses need "@"; their matches are found from the "@" that each one contains
 * Scanning the whole text with a pattern that starts with a character class (a letter, any word character)
 * costs several times more than finding the few places where a match can be, and trying the pattern there.
 */
/**
 * The token patterns, in groups that apply in this order. A group runs only if its gate matches: something
 * every match of each of its patterns contains. Skipping a group whose gate does not match the text is exact:
 * none of its patterns could match. A gate of a few rare literals costs about as much as one pattern (V8
 * skips through text fastest for long literals, "PRIVATE KEY"), so gating three patterns saves about two scans.
 */
const TOKEN_GROUPS: readonly { gate: RegExp; patterns: readonly RegExp[] }[] = [
  // A block without its END line (a truncated paste) is masked over the key text that follows the BEGIN line.
  { gate: /PRIVATE KEY/, patterns: [/-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|(?:[A-Za-z0-9+/=:,.\s-]|\\[nrt])*)/g] },
  {
    // "k-" of "sk-"/"pk-"/"rk-", "ub_pat_" of "github_pat_": V8 scans this alternation twice as fast as the full literals.
    gate: /k-|xox[abprs]-|gh[pousr]_|ub_pat_/,
    patterns: [/\b(?:sk|pk|rk)-(?:live-|test-|proj-|ant-)?[A-Za-z0-9_-]{16,}/g, /\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}/g, /\bxox[abprs]-[A-Za-z0-9-]{10,}/g],
  },
  { gate: /A(?:KIA|SIA|Iza)/, patterns: [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g] },
  { gate: /glpat-|npm_|ct_/, patterns: [/\bglpat-[A-Za-z0-9_-]{20,}/g, /\bnpm_[A-Za-z0-9]{36}\b/g, /\bct_[A-Za-z0-9_-]{20,}/g] },
  { gate: /(?:eyJ|[Bb]earer)/, patterns: [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, /\b[Bb]earer\s+[A-Za-z0-9._~+/-]{12,}=*/g] },
];
/** Literals every match of a token pattern contains (the group gates, as one pattern; redact-raw.ts). */
export const TOKEN_HINTS = new RegExp(TOKEN_GROUPS.map((g) => g.gate.source).join("|"), "g");
/**
 * `scheme://user:password@`, up to the last "@" before the path: an unencoded "@" in the user or password
 * (`postgres://me@corp:p@ss@db`) stays inside the mask. Sticky: tried only where a match can start.
 */
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/]+:[^\s/]+@/iy;
/**
 * A name that says its value is a secret: one that ends in one of these words (`OPENAI_API_KEY`, `x-api-key`,
 * `githubToken`, `db_password`, `SMTP_PASS`, `Set-Cookie`), case-insensitively. Object keys (SECRET_KEY) and assignments in
 * text (ASSIGNMENT) use the same words; redact-raw.ts's KEYWORDS gate finds every word's ending. Factored by
 * first letters: V8 scans text for this alternation a quarter faster than for the plain list of words.
 */
const SECRET_WORD = String.raw`(?:pass(?:w(?:or)?d|phrase)?|pwd|secret(?:[ _-]?key)?|token|(?:api|access|private)[ _-]?key|auth(?:orization)?|cookie|credentials?)`;

/**
 * `password=…`, `api_key: "…"`, `"token": "…"`, `Authorization: Basic …`: a secret word, an optional closing
 * quote of a key (escaped once or more inside JSON text), `:` or `=`, and the value, masked whole:
 *   "…" / '…'  everything up to the closing quote (escapes included) or the end of the line; the quotes stay,
 *              so JSON text stays JSON
 *   \"…\"      the same one JSON level down (a JSON document inside a JSON string: `"body":"{\"token\":\"…\"}"`)
 *   otherwise  the rest of the line: an unquoted value has no end but the line's (`PASSWORD=correct horse`,
 *              `Authorization: Bearer …`). JSON's `null`/`true`/`false` and an opening `{`/`[` at the end of a
 *              line hold nothing and are left as they are.
 * A value never crosses a newline; only the whitespace around the operator does (redact-raw.ts relies on it).
 */
const ASSIGNMENT = new RegExp(
  String.raw`(?<head>${SECRET_WORD}\b(?:\\*["'])?\s*[:=]\s*)(?:(?<open>")(?<body>(?:[^"\\\n]|\\[^\n]?)*)(?<close>"?)|(?<open>\\")(?<body>(?:[^"\\\n]|\\\\\\["\\]|\\\\[^"\\\n]|\\[^"\\\n])*)(?<close>(?:\\")?)|(?<open>')(?<body>(?:[^'\\\n]|\\[^\n]?)*)(?<close>'?)|(?!(?:null|true|false)[^\S\r\n]*(?:[,}\]\r\n]|$))(?![{[][^\S\r\n]*(?:[\r\n]|$))(?<open>)(?<body>[^\s"'][^\r\n]*)(?<close>))`,
  "gi",
);
type AssignmentGroups = { head: string; open: string; body: string; close: string };
/** The head and the quotes stay; an empty value (`""`) has nothing to mask. */
const maskAssignment = (m: string, ...args: unknown[]): string => {
  const g = args.at(-1) as AssignmentGroups;
  return g.body === "" ? m : `${g.head}${g.open}${REDACTED}${g.close}`;
};
/** Sticky: tried only where a match can start. */
const EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/y;
/** No built-in pattern matches fewer characters ("pwd=x"). */
const BUILT_IN_MIN_LENGTH = 5;

function asciiSet(chars: string): Uint8Array {
  const set = new Uint8Array(128);
  for (const m of chars.matchAll(/(.)-(.)|(.)/gs)) {
    if (m[3] !== undefined) set[m[3].charCodeAt(0)] = 1;
    else for (let c = m[1]!.charCodeAt(0); c <= m[2]!.charCodeAt(0); c++) set[c] = 1;
  }
  return set;
}
/** The characters of a URL scheme and of an e-mail address's local part (all ASCII; the patterns have no `u` flag). */
const SCHEME_CHARS = asciiSet("a-zA-Z0-9+.-");
const LOCAL_PART_CHARS = asciiSet("A-Za-z0-9._%+-");

/**
 * `s.replace(<pattern, global>, mask)` for a pattern whose every match is a run of `runChars` (at least one)
 * directly followed by `anchor`, whose first character is not one of `runChars`: a match can only start in the
 * run of `runChars` just before an occurrence of the anchor. The candidates are tried with the sticky
 * `pattern` in increasing order, as the regex engine would scan them, and skipping past each match.
 */
function replaceAnchored(s: string, pattern: RegExp, anchor: string, runChars: Uint8Array, mask: string): string {
  let out = "";
  let copied = 0; // end of the last match: matches may not start before it
  for (let a = s.indexOf(anchor); a >= 0; a = s.indexOf(anchor, Math.max(a + 1, copied))) {
    let start = a;
    while (start > copied) {
      const c = s.charCodeAt(start - 1);
      if (c >= 128 || runChars[c] === 0) break;
      start--;
    }
    for (let p = start; p < a; p++) {
      pattern.lastIndex = p;
      if (pattern.test(s)) {
        out += s.slice(copied, p) + mask;
        copied = pattern.lastIndex;
        break;
      }
    }
  }
  return out === "" ? s : out + s.slice(copied);
}

export type RedactorOptions = { emails: boolean; patterns: readonly string[] };

export type Redactor = {
  text(s: string): string;
  /** Patterns that did not compile, with the reason. */
  invalid: { pattern: string; error: string }[];
  /** No custom pattern applies: what `text` masks is only what the built-in patterns match (redact-raw.ts relies on it). */
  builtInOnly: boolean;
};

/** `"pattern"` → /pattern/gi; `"/pattern/flags"` → /pattern/flags (always global). */
export function compilePattern(source: string): RegExp {
  const m = /^\/(.+)\/([dgimsuvy]*)$/s.exec(source);
  const [body, flags] = m ? [m[1]!, m[2]!] : [source, "gi"];
  return new RegExp(body, flags.includes("g") ? flags : `${flags}g`);
}

export function createRedactor(opts: RedactorOptions): Redactor {
  const invalid: Redactor["invalid"] = [];
  const custom: RegExp[] = [];
  for (const p of opts.patterns) {
    try {
      const re = compilePattern(p);
      // A pattern that matches the empty string would insert a mask between every character.
      if (re.test("")) throw new Error("matches the empty string");
      re.lastIndex = 0;
      custom.push(re);
    } catch (e) {
      invalid.push({ pattern: p, error: (e as Error).message });
    }
  }
  return {
    invalid,
    builtInOnly: custom.length === 0,
    text(s: string): string {
      let out = s;
      if (out.length >= BUILT_IN_MIN_LENGTH) {
        for (const group of TOKEN_GROUPS) if (group.gate.test(out)) for (const re of group.patterns) out = out.replace(re, REDACTED);
        if (out.includes("@")) out = replaceAnchored(out, URL_CREDENTIALS, "://", SCHEME_CHARS, REDACTED);
        out = out.replace(ASSIGNMENT, maskAssignment);
      }
      // Global regexes: replace() starts at 0 and leaves lastIndex at 0 whatever it was.
      for (const re of custom) out = out.replace(re, REDACTED);
      if (opts.emails && out.includes("@")) out = replaceAnchored(out, EMAIL, "@", LOCAL_PART_CHARS, REDACTED_EMAIL);
      return out;
    },
  };
}

/**
 * String fields that identify or classify an event rather than carry content: never masked, so that
 * ids, timestamps and models survive (a token-shaped event id masked would break deduplication).
 */
export const STRUCTURAL_KEYS: ReadonlySet<string> = new Set([
  "type",
  "id",
  "parentId",
  "timestamp",
  "role",
  "provider",
  "model",
  "modelId",
  "modelApi",
  "api",
  "responseId",
  "toolCallId",
  "toolName",
  "stopReason",
  "customType",
  "runId",
  "sessionId",
  "idempotencyKey",
  "thinkingLevel",
  "reason",
  "firstKeptEntryId",
  "parentToolCallId",
  "afterEntryId",
  "scopeId",
  "totalOrigin",
  "errorCode",
  "errorType",
  "parentSession",
  "version",
]);

/** Object keys whose values are secrets whatever they hold: a name ending in a secret word (SECRET_WORD). */
export const SECRET_KEY = new RegExp(`${SECRET_WORD}$`, "i");

/** A value under a secret key that holds something to hide: null, booleans and empty strings, objects and arrays hold nothing. */
function holdsSecret(value: unknown): boolean {
  if (typeof value === "string") return value !== "";
  if (typeof value === "number") return true;
  if (Array.isArray(value)) return value.length > 0;
  return typeof value === "object" && value !== null && Object.keys(value).length > 0;
}

/**
 * Masks every content string of a parsed event, object keys included (structural fields are kept). The value
 * of a secret-named key is replaced whole by the mask, whatever it is (a string, a number, an object).
 */
export function redactValue(value: unknown, redactor: Redactor, key?: string): unknown {
  if (key !== undefined) {
    if (typeof value === "string" && STRUCTURAL_KEYS.has(key)) return value;
    if (SECRET_KEY.test(key) && holdsSecret(value)) return REDACTED;
  }
  if (typeof value === "string") return redactor.text(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, redactor));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const masked = redactor.text(k);
      const member = redactValue(v, redactor, k);
      // A "__proto__" member (JSON.parse makes it an own property) must stay a member, not become the prototype.
      if (masked === "__proto__") Object.defineProperty(out, masked, { value: member, enumerable: true, writable: true, configurable: true });
      else out[masked] = member;
    }
    return out;
  }
  return value;
}
