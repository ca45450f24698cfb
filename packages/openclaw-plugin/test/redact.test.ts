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

const SECRET_WORD = String.raw`(?:pass|passw(?:or)?d|passphrase|pwd|secret|token|(?:api|access|secret|private)[ _-]?key|auth|authorization|cookie|credentials?)`;
/** An assignment: the head, then a quoted value (its quotes kept), one escaped once, or the rest of the line. */
const REFERENCE_ASSIGNMENT = new RegExp(
  String.raw`(${SECRET_WORD}\b(?:\\*["'])?\s*[:=]\s*)(?:(")((?:[^"\\\n]|\\[^\n]?)*)("?)|(\\")((?:[^"\\\n]|\\\\\\["\\]|\\\\[^"\\\n]|\\[^"\\\n])*)((?:\\")?)|(')((?:[^'\\\n]|\\[^\n]?)*)('?)|(?!(?:null|true|false)[^\S\r\n]*(?:[,}\]\r\n]|$))(?![{[][^\S\r\n]*(?:[\r\n]|$))()([^\s"'][^\r\n]*)())`,
  "gi",
);
function maskAssignment(m: string, head: string, ...g: (string | undefined)[]): string {
  for (let i = 0; i < 12; i += 3) if (g[i] !== undefined) return g[i + 1] === "" ? m : `${head}${g[i]}${REDACTED}${g[i + 2]}`;
  throw new Error("no alternative matched");
}

const REFERENCE_BUILT_IN: readonly (readonly [RegExp, string | typeof maskAssignment])[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|(?:[A-Za-z0-9+/=:,.\s-]|\\[nrt])*)/g,
  /\b(?:sk|pk|rk)-(?:live-|test-|proj-|ant-)?[A-Za-z0-9_-]{16,}/g,
  /\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g,
  /\bglpat-[A-Za-z0-9_-]{20,}/g,
  /\bnpm_[A-Za-z0-9]{36}\b/g,
  /\bct_[A-Za-z0-9_-]{20,}/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  /\b[Bb]earer\s+[A-Za-z0-9._~+/-]{12,}=*/g,
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/]+:[^\s/]+@/gi,
].map((re): readonly [RegExp, string | typeof maskAssignment] => [re, REDACTED]).concat([[REFERENCE_ASSIGNMENT, maskAssignment]]);
const REFERENCE_EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g;

function reference(opts: RedactorOptions): (s: string) => string {
  const custom = opts.patterns.map(compilePattern).filter((re) => !re.test(""));
  return (s) => {
    let out = s;
    for (const [re, mask] of REFERENCE_BUILT_IN) out = typeof mask === "string" ? out.replace(re, mask) : out.replace(re, mask);
    for (const re of custom) out = out.replace(re, REDACTED);
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
      // An unquoted value runs to the end of its line: the header's value, the shell's closing quote and all.
      ["curl -H 'Authorization: Bearer abc.def-ghi_jkl~mno' https://x", "curl -H 'Authorization: [REDACTED]"],
      ["postgres://app:hunter2@db:5432/x", "[REDACTED]db:5432/x"],
      ['{"password": "correct horse"}', '{"password": "[REDACTED]"}'],
      ['api_key: "abc def ghi"', 'api_key: "[REDACTED]"'],
      ["OPENAI_API_KEY=abc def ghi\nPORT=1", "OPENAI_API_KEY=[REDACTED]\nPORT=1"],
      ['{"body":"{\\"access_token\\":\\"a \\\\\\"b\\\\\\" c\\"}"}', '{"body":"{\\"access_token\\":\\"[REDACTED]\\"}"}'],
      ["-----BEGIN PRIVATE KEY-----\nMIIEvQ\nIBADAN", "[REDACTED]"],
      ["postgres://me@corp:p@ss@db:5432/x", "[REDACTED]db:5432/x"],
      ["mail ops@example.com or git@github.com:org/r.git", "mail [EMAIL] or [EMAIL]:org/r.git"],
      ["-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- after", "[REDACTED] after"],
    ];
    for (const [input, want] of cases) assert.equal(r.text(input), want);
  });
});
