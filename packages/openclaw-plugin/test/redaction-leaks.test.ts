/**
 * No part of a secret survives redaction. For every built-in pattern, secrets are generated (spaces,
 * punctuation, quotes, backslashes, unicode, very long values) and put in every context the pattern claims
 * to cover; the text then goes through the redactor (redact.ts) and, as a string, a key and a secret-named
 * key's value of an event, through both event paths (redactValue, and the raw-text path redact-raw.ts). Each
 * check asserts that no 4-character piece and no word of the secret (as written in the text) is left, that
 * both paths give the same event, and that text that was JSON is still JSON.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRedactor, redactValue, REDACTED, REDACTED_EMAIL } from "../src/privacy/redact.ts";
import { redactRawEvent } from "../src/privacy/redact-raw.ts";
import { ALNUM, prng } from "./redaction-corpus.ts";

const rand = prng(20261208);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const charsOf = (alphabet: string | readonly string[], n: number) => Array.from({ length: n }, () => pick([...alphabet])).join("");

/** A case: the text, the secret's spellings in it, whether the text is JSON (and one level down, `nested`). */
type Case = { kind: string; text: string; secrets: string[]; json?: "flat" | "nested" };

const redactor = createRedactor({ emails: true, patterns: [] });

/** Pieces of `secret` that must not be in the output: every 4-character run and every word of 3 or more. */
function pieces(secret: string): Set<string> {
  const out = new Set<string>();
  const chars = [...secret];
  for (let i = 0; i + 4 <= chars.length; i++) out.add(chars.slice(i, i + 4).join(""));
  for (const w of secret.match(/[\p{L}\p{N}]{3,}/gu) ?? []) out.add(w);
  return out;
}

const show = (s: string) => JSON.stringify(s.length > 600 ? `${s.slice(0, 600)}…` : s);

/** The pieces of a case's secrets that are not in the text around them (or `around`) or in a mask. */
const forbidden = new Map<Case, Map<string, string>>();
function forbiddenPieces(c: Case, around: string): Map<string, string> {
  let found = forbidden.get(c);
  if (found) return found;
  let context = c.text + around;
  for (const s of c.secrets) context = context.split(s).join("\u0000");
  found = new Map();
  for (const s of c.secrets) for (const p of pieces(s)) if (!context.includes(p) && !REDACTED.includes(p) && !REDACTED_EMAIL.includes(p)) found.set(p, s);
  forbidden.set(c, found);
  return found;
}

/** Fails when a piece of a secret is in `output` though it is not in the text around the secret or in a mask. */
function assertNoLeak(c: Case, output: string, where: string, around = EVENT_WORDS): void {
  for (const [p, s] of forbiddenPieces(c, around)) {
    if (output.includes(p)) assert.fail(`${c.kind} (${where}): ${JSON.stringify(p)} of the secret ${show(s)} survives\ninput  ${show(c.text)}\noutput ${show(output)}`);
  }
}

// ---- secrets --------------------------------------------------------------------------------------------

const WORD_CHARS = `${ALNUM}éüß日本語😀ıſ`;
const PUNCT = [..."!#$%&()*+,-./:;<=>?@[]^_`{|}~"];

/** A password-like value: words, spaces, punctuation, unicode; quotes and backslashes when `quotes`. */
function phrase(opts: { quotes: boolean; newlines?: boolean; long?: boolean }): string {
  const parts: string[] = [charsOf(WORD_CHARS, int(3, 8))];
  const n = opts.long && rand() < 0.3 ? int(200, 800) : int(0, 6);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.45) parts.push(pick([" ", " ", "  ", "\t", "\u00a0"]));
    else if (r < 0.7) parts.push(pick(PUNCT));
    else if (r < 0.8 && opts.quotes) parts.push(pick(['"', "'", "\\", '\\"', "\\\\", "\\n"]));
    else if (r < 0.83 && opts.newlines) parts.push("\n");
    parts.push(charsOf(WORD_CHARS, int(1, 8)));
  }
  return parts.join("");
}

/** An unquoted value: starts with a word character and holds no line break. */
const unquoted = () => phrase({ quotes: rand() < 0.5, long: true }).replace(/[\r\n]/g, " ");

/** Names that say their value is a secret, as code, config, env and headers spell them. */
const SECRET_NAMES = ["password", "Password", "passwd", "pwd", "passphrase", "DB_PASSWORD", "pass", "SMTP_PASS", "secret", "client_secret", "clientSecret", "token", "access_token", "GITHUB_TOKEN", "githubToken", "x-auth-token", "api_key", "apiKey", "API-KEY", "apikey", "x-api-key", "OPENAI_API_KEY", "API key", "access_key", "AWS_SECRET_ACCESS_KEY", "secret_key", "private_key", "auth", "Authorization", "Proxy-Authorization", "cookie", "Set-Cookie", "credentials"];

/** The strings of eventOf's own (not from the case). */
const EVENT_WORDS = ["type", "id", "timestamp", "role", "content", "message", "e1", "2026-12-08T01:00:00.000Z", "toolResult", "text", "details", "nested", "12345", ...SECRET_NAMES].join("\u0000");

const json = (s: string) => JSON.stringify(s);
const inJson = (s: string) => json(s).slice(1, -1);

/** Assignments: `name: "value"`, `name='value'`, `NAME=value`, YAML, JSON, JSON inside JSON, headers. */
function assignmentCase(): Case {
  const name = pick(SECRET_NAMES);
  const around = (t: string) => `${pick(["", "config:\n", "run with ", "é → 日本 "])}${t}${pick(["", "\nnext line", "\n", "\r\nmore"])}`;
  switch (int(0, 11)) {
    case 0: {
      const v = phrase({ quotes: true, long: true });
      return { kind: "quoted, JSON-escaped", text: around(`${name}${pick(["", " "])}${pick([":", "=", " = ", ": "])}"${inJson(v)}"`), secrets: [inJson(v)] };
    }
    case 1: {
      const v = phrase({ quotes: false, long: true }).replace(/'/g, "");
      return { kind: "single-quoted", text: around(`${pick(["", "'"])}${name}${pick(["", "'"])}${pick([": ", "=", " = "])}'${v}'`), secrets: [v] };
    }
    case 2: {
      const v = unquoted();
      return { kind: "unquoted (env, YAML, key=value)", text: around(`${pick(["", "export ", "  ", "- "])}${name}${pick(["=", ": ", " = ", ":\t", ":"])}${v}`), secrets: [v] };
    }
    case 3: {
      const v = unquoted();
      return { kind: "value on the next line", text: `${name}:\n${pick(["", "  ", "\t"])}${v}\nafter`, secrets: [v] };
    }
    case 4: {
      const v = phrase({ quotes: true, newlines: true, long: true });
      const doc = { user: "bob", [name]: v, n: 1, list: [1, 2] };
      return { kind: "JSON document", text: rand() < 0.5 ? JSON.stringify(doc) : JSON.stringify(doc, null, pick([2, 4, "\t"])), secrets: [inJson(v)], json: "flat" };
    }
    case 5: {
      const v = phrase({ quotes: true, newlines: true });
      const body = JSON.stringify({ [name]: v, expires_in: 3600 });
      return { kind: "JSON inside a JSON string", text: JSON.stringify({ status: 200, body }), secrets: [inJson(inJson(v))], json: "nested" };
    }
    case 6: {
      const v = unquoted();
      return { kind: "header", text: `GET / HTTP/1.1\r\nHost: x\r\n${pick(["Authorization", "authorization", "Proxy-Authorization"])}: ${pick(["Bearer ", "Basic ", "Token ", ""])}${v}\r\nAccept: */*`, secrets: [v] };
    }
    case 7: {
      const v = phrase({ quotes: false }).replace(/'/g, "");
      return { kind: "Python dict", text: `{'user': 'bob', '${name}': '${v}'}`, secrets: [v] };
    }
    case 8: {
      const v = phrase({ quotes: true });
      return { kind: "JSON-ish pair in prose", text: `the response was {"${name}": "${inJson(v)}", "ok": true} and then`, secrets: [inJson(v)] };
    }
    case 9: {
      const v = unquoted();
      return { kind: "curl header", text: `curl -H '${pick(["Authorization", "X-Api-Key", "Cookie"])}: ${v}' https://api.example.com`, secrets: [v] };
    }
    case 10: {
      const v = phrase({ quotes: true });
      return { kind: "quoted in code", text: `const ${name.replace(/[ -]/g, "_")} = "${inJson(v)}";\nfetch(url)`, secrets: [inJson(v)] };
    }
    default: {
      const v = phrase({ quotes: false }).replace(/[\r\n;]/g, " ");
      return { kind: "cookie", text: `${pick(["Cookie", "Set-Cookie"])}: session=${v}; Path=/`, secrets: [v] };
    }
  }
}

/** Prose and code around a token: separators that end a token run and are not word characters. */
function aroundToken(t: string): Case[] {
  const sep = () => pick([" ", "\n", "(", ")", ", ", '"', "é", "😀", "\t", "; ", "'", "<", ">"]);
  return [
    { kind: "token in prose", text: `use ${t}${sep()}then`, secrets: [t] },
    { kind: "token between separators", text: `${sep()}${t}${sep()}`, secrets: [t] },
    { kind: "token in JSON", text: JSON.stringify({ note: `here: ${t}`, n: 1 }), secrets: [t], json: "flat" },
    { kind: "token as a URL parameter", text: `https://example.com/cb?code=${t}&state=1`, secrets: [t] },
  ];
}

const B64 = `${ALNUM}+/`;

/** Every vendor token kind, at and above its length. */
function tokenCases(): Case[] {
  const tok = (prefix: string, alphabet: string, min: number, max = min + 30) => `${prefix}${charsOf(alphabet, int(min, max))}`;
  const tokens = [
    tok(pick(["sk-", "pk-", "rk-"]) + pick(["", "live-", "test-", "proj-", "ant-"]), `${ALNUM}_-`, 16),
    tok(`${pick(["ghp", "gho", "ghu", "ghs", "ghr", "github_pat"])}_`, `${ALNUM}_`, 20),
    tok(`xox${pick([..."abprs"])}-`, `${ALNUM}-`, 10),
    tok(pick(["AKIA", "ASIA"]), "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16, 16),
    tok("AIza", `${ALNUM}_-`, 35, 35),
    tok("glpat-", `${ALNUM}_-`, 20),
    tok("npm_", ALNUM, 36, 36),
    tok("ct_", `${ALNUM}_-`, 20),
    `eyJ${charsOf(`${ALNUM}_-`, int(8, 40))}.eyJ${charsOf(`${ALNUM}_-`, int(8, 200))}.${charsOf(`${ALNUM}_-`, int(8, 60))}`,
  ];
  return tokens.flatMap(aroundToken);
}

function bearerCases(): Case[] {
  const t = `${charsOf(`${ALNUM}._~+/-`, int(12, 300))}${pick(["", "=", "=="])}`;
  return [
    { kind: "bearer in prose", text: `send ${pick(["Bearer", "bearer"])}${pick([" ", "  ", "\n", "\t"])}${t} to it`, secrets: [t] },
    { kind: "bearer in JSON", text: JSON.stringify({ headers: { "X-Forwarded": `Bearer ${t}` } }), secrets: [t], json: "flat" },
  ];
}

function pemCases(): Case[] {
  const kind = pick(["RSA ", "EC ", "OPENSSH ", "", "ENCRYPTED "]);
  const lines = Array.from({ length: int(1, 30) }, () => charsOf(B64, int(8, 64)));
  const header = rand() < 0.3 ? ["Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-128-CBC,0A1B2C3D4E5F", ""] : [];
  const body = [...header, ...lines].join("\n");
  const begin = `-----BEGIN ${kind}PRIVATE KEY-----`;
  const end = `-----END ${kind}PRIVATE KEY-----`;
  const secrets = lines.filter((l) => l.length >= 4);
  const gcp = JSON.stringify({ type: "service_account", project_id: "p", key: `${begin}\n${body}\n${pick([end, ""])}\n`, client_email: "x" });
  return [
    { kind: "PEM block", text: `here:\n${begin}\n${body}\n${end}\nthanks`, secrets },
    { kind: "PEM block cut off (no END line)", text: `${pick(["", "cat id_rsa\n"])}${begin}\n${body}`, secrets },
    { kind: "PEM block in one-line JSON", text: gcp, secrets, json: "flat" },
  ];
}

function urlCases(): Case[] {
  const user = charsOf(`${ALNUM}._~-@%!$&*+,;=`, int(1, 20)).replace(/^@/, "u");
  const pass = charsOf(`${ALNUM}._~-@%!$&*+,;=:?#[]`, int(3, 30));
  const url = `${pick(["https", "postgres", "redis", "mongodb+srv", "git+ssh", "amqp"])}://${user}:${pass}@${pick(["db.example.com", "localhost:5432", "10.0.0.1"])}${pick(["", "/path", "/db?sslmode=require"])}`;
  const secrets = [`${user}:${pass}`, pass];
  return [
    { kind: "URL credentials in prose", text: `connect to ${url} now`, secrets },
    { kind: "URL credentials in env", text: `DATABASE_URL=${url}\nPORT=1`, secrets },
    { kind: "URL credentials in JSON", text: JSON.stringify({ url }), secrets, json: "flat" },
  ];
}

function emailCases(): Case[] {
  const local = `${charsOf(ALNUM, 1)}${charsOf(`${ALNUM}._%+-`, int(0, 20))}${charsOf(ALNUM, 1)}`;
  const address = `${local}@${charsOf(`${ALNUM}-`, int(1, 12)).replace(/^-|-$/g, "a")}.${pick(["com", "co.uk", "io", "example.org"])}`;
  return [
    { kind: "e-mail in prose", text: `write to ${address}, please`, secrets: [address] },
    { kind: "e-mail in a mail header", text: `From: Bob <${address}>\nTo: x`, secrets: [address] },
    { kind: "e-mail in JSON", text: JSON.stringify({ to: [address] }), secrets: [address], json: "flat" },
  ];
}

function allCases(n: number): Case[] {
  const out: Case[] = [];
  for (let i = 0; i < n; i++) out.push(assignmentCase(), ...tokenCases(), ...bearerCases(), ...pemCases(), ...urlCases(), ...emailCases());
  return out;
}

// ---- checks ---------------------------------------------------------------------------------------------

const latin1 = (text: string) => Buffer.from(text, "utf8").toString("latin1");
const fromLatin1 = (text: string) => Buffer.from(text, "latin1").toString("utf8");

/** The event both paths redact: the text as content, as a tool argument's key, and under a secret-named key. */
function eventOf(c: Case): Record<string, unknown> {
  return {
    type: "message",
    id: "e1",
    timestamp: "2026-12-08T01:00:00.000Z",
    message: {
      role: "toolResult",
      content: [{ type: "text", text: c.text }],
      details: { [c.text]: 1, [pick(SECRET_NAMES)]: pick([c.text, { nested: c.text, n: 12345 }, [c.text]]) },
    },
  };
}

/** Every string of a parsed value, keys included. */
function stringsOf(v: unknown, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) for (const x of v) stringsOf(x, out);
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) out.push(k), stringsOf(x, out);
  return out;
}

const CASES = allCases(150);

describe("no part of a secret survives", () => {
  it(`in text: ${CASES.length.toLocaleString()} secrets in the contexts of every built-in pattern`, () => {
    const kinds = new Map<string, number>();
    for (const c of CASES) {
      kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
      const out = redactor.text(c.text);
      assertNoLeak(c, out, "text");
      if (c.json !== undefined) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(out);
        } catch (e) {
          assert.fail(`${c.kind}: the JSON text is no longer JSON (${(e as Error).message})\ninput  ${c.text}\noutput ${out}`);
        }
        if (c.json === "nested") assert.doesNotThrow(() => JSON.parse((parsed as { body: string }).body), `${c.kind}: the inner JSON is no longer JSON\n${out}`);
      }
    }
    assert.ok(kinds.size >= 25, [...kinds.keys()].join(", "));
  });

  it("in events: both paths mask it in content strings, object keys and secret-named keys' values, and agree", () => {
    for (const c of CASES) {
      const ev = eventOf(c);
      const text = JSON.stringify(ev);
      const want = redactValue(JSON.parse(text), redactor);
      for (const s of stringsOf(want)) assertNoLeak(c, s, "decoding path");
      for (const encoding of ["utf16", "latin1"] as const) {
        const raw = redactRawEvent(encoding === "latin1" ? latin1(text) : text, encoding, redactor);
        assert.ok(raw !== undefined, `${c.kind}: the raw path gave up on ${text}`);
        const parsed = JSON.parse(encoding === "latin1" ? fromLatin1(raw) : raw);
        assert.deepEqual(parsed, want, `${c.kind} (${encoding}): the paths differ on ${text}`);
      }
    }
  });

  it("the cases from the report", () => {
    assert.equal(redactor.text('{"password": "correct horse"}'), `{"password": "${REDACTED}"}`);
    assert.equal(redactor.text('api_key: "abc def ghi"'), `api_key: "${REDACTED}"`);
    const ev = JSON.stringify({ type: "x", apiKey: 123456, auth: { user: "bob", pass: "correct horse" }, secret: "", token: null });
    const want = { type: "x", apiKey: REDACTED, auth: REDACTED, secret: "", token: null };
    assert.deepEqual(redactValue(JSON.parse(ev), redactor), want);
    assert.deepEqual(JSON.parse(redactRawEvent(ev, "utf16", redactor)!), want);
  });
});
