/**
 * The redactor is tuned for speed (gates, anchored searches: see src/privacy/redact.ts). Its output must stay
 * exactly that of the plain definition: each built-in pattern applied in order with a global replace, then
 * the custom patterns, then e-mail addresses. `reference` below is that definition (the implementation before
 * it was tuned); every test compares against it on a large, varied corpus.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compilePattern, createRedactor, REDACTED, REDACTED_EMAIL, type RedactorOptions } from "../src/privacy/redact.ts";
import { fixtureStrings, int, noise, pick, secret, transcriptText } from "./redaction-corpus.ts";

const REFERENCE_BUILT_IN: readonly RegExp[] = [
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
const REFERENCE_EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g;

function reference(opts: RedactorOptions): (s: string) => string {
  const custom = opts.patterns.map(compilePattern).filter((re) => !re.test(""));
  return (s) => {
    let out = s;
    for (const re of [...REFERENCE_BUILT_IN, ...custom]) out = out.replace(re, REDACTED);
    if (opts.emails) out = out.replace(REFERENCE_EMAIL, REDACTED_EMAIL);
    return out;
  };
}

const CORPUS: string[] = [
  "",
  "a",
  "pwd=abcd",
  "pwd=abc",
  "a://b:c@",
  "a@b.cc",
  "ok12 and ghp_abcdefghijklmnopqrstuvwxyz123456 mail a@b.io",
  ...fixtureStrings(),
  ...Array.from({ length: 3000 }, transcriptText),
  ...Array.from({ length: 3000 }, () => Array.from({ length: int(1, 6) }, secret).join(pick(["", " ", "\n", "@", ":", "/"]))),
  ...Array.from({ length: 5000 }, noise),
];

const CONFIGS: RedactorOptions[] = [
  { emails: true, patterns: [] },
  { emails: false, patterns: [] },
  { emails: true, patterns: ["hunter\\d+", "/sec.et/", "/[a-z]+@/y", "/token/i", "(?<=@)[a-z]+", "/\\$\\{?[A-Z_]+\\}?/g"] },
];

describe("redactor", () => {
  it(`matches the plain sequential definition on ${CORPUS.length.toLocaleString()} strings`, () => {
    for (const opts of CONFIGS) {
      const ref = reference(opts);
      const r = createRedactor(opts);
      let masked = 0;
      for (const s of CORPUS) {
        const want = ref(s);
        if (want !== s) masked++;
        const got = r.text(s);
        if (got !== want) assert.fail(`${JSON.stringify(opts)}\ninput ${JSON.stringify(s)}\nwant  ${JSON.stringify(want)}\ngot   ${JSON.stringify(got)}`);
      }
      // The corpus exercises the patterns: a good share of it is masked.
      assert.ok(masked > CORPUS.length / 4, `only ${masked} strings masked`);
    }
  });

  it("masks every built-in kind", () => {
    const r = createRedactor({ emails: true, patterns: [] });
    const cases: [string, string][] = [
      ["key sk-live-abcdefghijklmnop1234 end", "key [REDACTED] end"],
      ["AKIAABCDEFGHIJKLMNOP", "[REDACTED]"],
      ["curl -H 'Authorization: Bearer abc.def-ghi_jkl~mno'", "curl -H 'Authorization: [REDACTED]'"],
      ["postgres://app:hunter2@db:5432/x", "[REDACTED]db:5432/x"],
      ['{"password": "correct horse"}', '{"[REDACTED] horse"}'],
      ["mail ops@example.com or git@github.com:org/r.git", "mail [EMAIL] or [EMAIL]:org/r.git"],
      ["-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- after", "[REDACTED] after"],
    ];
    for (const [input, want] of cases) assert.equal(r.text(input), want);
  });
});
