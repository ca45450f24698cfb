/**
 * The redactor is tuned for speed (gates, anchored searches: see src/privacy/redact.ts). Its output must stay
 * exactly that of the plain definition: each built-in pattern applied in order with a global replace, then
 * the custom patterns, then e-mail addresses. `reference` below is that definition (the implementation before
 * it was tuned); every test compares against it on a large, varied corpus.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { compilePattern, createRedactor, redactValue, REDACTED, REDACTED_EMAIL, type RedactorOptions } from "../src/privacy/redact.ts";

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

/** xorshift32: a fixed corpus on every run. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

const rand = prng(20261123);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const charsOf = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_NUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** Secrets of every built-in kind, at, below and above their lengths, plus near misses. */
function secret(): string {
  const n = (min: number) => int(min - 2, min + 6); // sometimes too short
  switch (int(0, 22)) {
    case 0: return `${pick(["sk", "pk", "rk", "Sk", "xsk"])}-${pick(["", "live-", "test-", "proj-", "ant-", "nope-"])}${charsOf(`${ALNUM}_-`, n(16))}`;
    case 1: return `${pick(["ghp", "gho", "ghu", "ghs", "ghr", "github_pat", "ghx"])}_${charsOf(`${ALNUM}_`, n(20))}`;
    case 2: return `xox${pick(["a", "b", "p", "r", "s", "z"])}-${charsOf(`${ALNUM}-`, n(10))}`;
    case 3: return `${pick(["AKIA", "ASIA", "AKIB"])}${charsOf(UPPER_NUM, n(16))}${pick(["", "x", "-", " "])}`;
    case 4: return `AIza${charsOf(`${ALNUM}_-`, n(35))}`;
    case 5: return `glpat-${charsOf(`${ALNUM}_-`, n(20))}`;
    case 6: return `npm_${charsOf(ALNUM, n(36))}`;
    case 7: return `ct_${charsOf(`${ALNUM}_-`, n(20))}`;
    case 8: return `eyJ${charsOf(`${ALNUM}_-`, n(8))}.eyJ${charsOf(`${ALNUM}_-`, n(8))}.${charsOf(`${ALNUM}_-`, n(8))}`;
    case 9: return `${pick(["Bearer", "bearer", "BEARER"])}${pick([" ", "  ", "\n", "\t", ""])}${charsOf(`${ALNUM}._~+/-`, n(12))}${pick(["", "=", "=="])}`;
    case 10: {
      const kind = pick(["RSA ", "EC ", "OPENSSH ", "", "ENCRYPTED "]);
      return `-----BEGIN ${kind}PRIVATE KEY-----\n${charsOf(`${ALNUM}+/`, int(10, 120))}\n${pick(["", "-----END PRIVATE KEY-----", `-----END ${kind}PRIVATE KEY-----`])}`;
    }
    case 11: case 12: {
      const key = pick(["password", "passwd", "pwd", "secret", "api_key", "api-key", "apikey", "APIKEY", "access_token", "accessToken", "auth-token", "refresh_token", "client_secret", "private_key", "token", "Token", "TOKEN", "tokens", "key", "pass", "mytoken", "x_token", "x-token", "PassWord"]);
      const q = pick(["", '"', "'"]);
      return `${q}${key}${q}${pick(["", " "])}${pick([":", "=", " :", ": ", " = ", "=>", "-"])}${pick(["", " ", "  "])}${pick(["", '"', "'"])}${charsOf(`${ALNUM}!#$%&*+-./:=?@^_|~`, int(1, 24))}${pick(["", '"', "'", ",", ";", " "])}`;
    }
    case 13: case 14: return `${pick(["https", "http", "postgres", "redis", "s3+ssh", "git", "HTTPS", "x.y-z", "1abc", "ſtp", "a"])}://${pick(["user", "admin", "u.s-e_r", "", "me@x"])}:${pick(["hunter2", "p@ss", "pa/ss", "", "s3cr3t!"])}@${pick(["db.example.com", "localhost:5432", "host", "[::1]", ""])}${pick(["", "/path", "?q=1", " "])}`;
    case 15: case 16: case 17: return `${pick(["alice", "bob.smith", "x", "first+tag", "a_b", "%odd", "-dash", ".dot", "o'brien", "ık", "ſam", "Kelvin\u212a"])}${pick(["@", "@", "@@", " @"])}${pick(["example.com", "mail.co.uk", "x.io", "a.b", "host", "sub-domain.example.org", "ex.c0m", "example.com.", "x.Ab"])}`;
    case 18: return `${pick(["git@github.com:org/repo.git", "@types/node", "npm i @clawtower/core", "user@host:~$", "@@ -1,4 +1,5 @@", "a@b@c.de", "x@y.zz@w.qq", "@", "mailto:ceo@corp.example"])}`;
    case 19: return `token=${secret()}`;
    case 20: return `https://${secret()}:${secret()}@host`;
    case 21: return `${secret()}${pick(["", "@", ".", "-", "_", ":", "="])}${secret()}`;
    default: return `Authorization: Bearer ${secret()}`;
  }
}

const WORDS = "the of and to in is for on that with as by this be are from at or an it not use function return const let if else await async import export class new value result error data user agent session model token cache read write file path line json object array string number true false null config gateway channel message tool call output input request response status ok fail retry timeout stream key id type name text content summary password secret auth client private access refresh api".split(" ");
const PUNCT = [" ", " ", " ", "\n", ", ", ". ", ": ", " = ", "; ", "\t", "(", ")", "{", "}", '"', "'", "/", "-", "_", "é", "→", "日本", "😀", "\u00a0", "\u2028"];

/** Prose, code, logs and JSON with secrets sprinkled in. */
function transcriptText(): string {
  const parts: string[] = [];
  const n = int(0, 400);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.06) parts.push(secret());
    else if (r < 0.09) parts.push(JSON.stringify({ [pick(WORDS)]: rand() < 0.5 ? secret() : pick(WORDS), n: int(0, 1e6) }));
    else if (r < 0.1) parts.push(`const ${pick(WORDS)} = process.env.${pick(WORDS).toUpperCase()}_${pick(["TOKEN", "KEY", "SECRET"])} ?? "${charsOf(ALNUM, int(2, 30))}";`);
    else parts.push(pick(WORDS));
    parts.push(pick(PUNCT));
  }
  return parts.join("");
}

/** Random strings over an alphabet dense in the characters the patterns care about. */
function noise(): string {
  const alphabet = "aAkKsSpPrRtTeEyYnNoOxXgGhHiIzZcCmMlLbBJwWdD0129_-.:/@=\"' \n\t+%~!ſı\u212aé→";
  return charsOf(alphabet, int(0, 200));
}

function fixtureStrings(): string[] {
  const root = path.resolve(import.meta.dirname, "../../testkit/fixtures");
  const out: string[] = [];
  const collect = { text: (s: string) => (out.push(s), s), invalid: [] };
  for (const e of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !/\.jsonl(\.|$)/.test(e.name)) continue;
    for (const line of fs.readFileSync(path.join(e.parentPath, e.name), "utf8").split("\n")) {
      try {
        redactValue(JSON.parse(line), collect);
      } catch {
        if (line) out.push(line);
      }
    }
  }
  return out;
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
