/**
 * Masks secrets, tokens and e-mail addresses in text before it leaves the machine (privacy "redacted").
 *
 * Built-in patterns cover what commonly leaks into transcripts: vendor token prefixes, bearer headers, JWTs,
 * PEM private keys, `password=`/`api_key:` style assignments, URL credentials, AWS access keys. OpenClaw's
 * own `logging.redactPatterns` (raw regex strings, flags `gi`, or `/pattern/flags`) are added, and so are
 * the plugin's `redact.patterns`. A pattern that does not compile is reported, never thrown.
 */
export const REDACTED = "[REDACTED]";
export const REDACTED_EMAIL = "[EMAIL]";

const BUILT_IN: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\b(?:sk|pk|rk)-(?:live-|test-|proj-|ant-)?[A-Za-z0-9_-]{16,}/g,
  /\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bAIza[0-9A-Za-z_-]{35}\b/g,
  /\bglpat-[A-Za-z0-9_-]{20,}/g,
  /\bnpm_[A-Za-z0-9]{36}\b/g,
  /\bct_[A-Za-z0-9_-]{20,}/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  /\b[Bb]earer\s+[A-Za-z0-9._~+/-]{12,}=*/g,
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s/@]+@/gi,
  /\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|client[_-]?secret|private[_-]?key|token)\b["']?\s*[:=]\s*["']?[^\s"',;]{4,}/gi,
];

const EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g;

export type RedactorOptions = { emails: boolean; patterns: readonly string[] };

export type Redactor = {
  text(s: string): string;
  /** Patterns that did not compile, with the reason. */
  invalid: { pattern: string; error: string }[];
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
  const patterns = [...BUILT_IN, ...custom];
  return {
    invalid,
    text(s: string): string {
      let out = s;
      for (const re of patterns) {
        re.lastIndex = 0;
        if (re.test(out)) {
          re.lastIndex = 0;
          out = out.replace(re, REDACTED);
        }
      }
      if (opts.emails) {
        EMAIL.lastIndex = 0;
        if (EMAIL.test(out)) {
          EMAIL.lastIndex = 0;
          out = out.replace(EMAIL, REDACTED_EMAIL);
        }
      }
      return out;
    },
  };
}

/**
 * String fields that identify or classify an event rather than carry content: never masked, so that
 * ids, timestamps and models survive (a token-shaped event id masked would break deduplication).
 */
const STRUCTURAL_KEYS: ReadonlySet<string> = new Set([
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

/** Object keys whose string values are secrets whatever they look like. */
const SECRET_KEY = /^(?:password|passwd|secret|token|api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|auth(?:orization)?|client[_-]?secret|private[_-]?key|cookie)$/i;

/** Masks every content string of a parsed event (object keys and structural fields are kept). */
export function redactValue(value: unknown, redactor: Redactor, key?: string): unknown {
  if (typeof value === "string") {
    if (key === undefined) return redactor.text(value);
    if (STRUCTURAL_KEYS.has(key)) return value;
    return SECRET_KEY.test(key) && value !== "" ? REDACTED : redactor.text(value);
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, redactor));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, redactor, k);
    return out;
  }
  return value;
}
