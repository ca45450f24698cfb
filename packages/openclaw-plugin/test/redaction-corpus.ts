/**
 * Text for the redaction tests: prose, code, logs and JSON with secrets of every built-in kind sprinkled in,
 * near misses, and noise dense in the characters the patterns care about. Deterministic (fixed seed).
 */
import fs from "node:fs";
import path from "node:path";
import { redactValue } from "../src/privacy/redact.ts";

/** xorshift32: a fixed corpus on every run. */
export function prng(seed: number): () => number {
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

export const rand = prng(20261123);
export const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
export const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
export const charsOf = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
export const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_NUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** Secrets of every built-in kind, at, below and above their lengths, plus near misses. */
export function secret(): string {
  const n = (min: number) => int(min - 2, min + 6); // sometimes too short
  switch (int(0, 25)) {
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
    case 22: {
      // Values with spaces, quotes and escapes, quoted as JSON, as JSON inside JSON, or not at all.
      const key = pick(["password", "OPENAI_API_KEY", "x-api-key", "githubToken", "db_password", "credentials", "Set-Cookie", "API key", "aws_secret_access_key", "tokens", "token_type"]);
      const value = `${charsOf(ALNUM, int(1, 6))}${pick(["", " ", "  ", '\\"', "\\\\", "'", " é 日本 "])}${charsOf(`${ALNUM} !#$%&*+-./:=?@^_|~`, int(0, 20))}`;
      return pick([`${key}: "${value}"`, `{"${key}": "${value}", "n": 1}`, `{\\"${key}\\": \\"${value.replace(/\\/g, "\\\\")}\\"}`, `${key}=${value}`, `${key}: '${value}'`, `${key}:\n  ${value}`, `"${key}": ${pick(["null", "true", "12345", "{", "[", '""'])}${pick(["", ",", "\n"])}`]);
    }
    case 23: return `-----BEGIN ${pick(["RSA ", ""])}PRIVATE KEY-----\n${charsOf(`${ALNUM}+/`, int(10, 80))}${pick(["", "\n", "\\n", '"}'])}`;
    case 24: return `${pick(["Authorization", "Proxy-Authorization", "Cookie"])}: ${pick(["Basic ", "Bearer ", ""])}${charsOf(`${ALNUM}+/= ;`, int(1, 30))}`;
    default: return `Authorization: Bearer ${secret()}`;
  }
}

const WORDS = "the of and to in is for on that with as by this be are from at or an it not use function return const let if else await async import export class new value result error data user agent session model token cache read write file path line json object array string number true false null config gateway channel message tool call output input request response status ok fail retry timeout stream key id type name text content summary password secret auth client private access refresh api".split(" ");
const PUNCT = [" ", " ", " ", "\n", ", ", ". ", ": ", " = ", "; ", "\t", "(", ")", "{", "}", '"', "'", "/", "-", "_", "é", "→", "日本", "😀", "\u00a0", "\u2028"];

/** Prose, code, logs and JSON with secrets sprinkled in. */
export function transcriptText(): string {
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
export function noise(): string {
  const alphabet = "aAkKsSpPrRtTeEyYnNoOxXgGhHiIzZcCmMlLbBJwWdD0129_-.:/@=\"' \n\t+%~!ſı\u212aé→";
  return charsOf(alphabet, int(0, 200));
}

export function fixtureStrings(): string[] {
  const root = path.resolve(import.meta.dirname, "../../testkit/fixtures");
  const out: string[] = [];
  const collect = { text: (s: string) => (out.push(s), s), invalid: [], builtInOnly: false };
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

