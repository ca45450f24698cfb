/**
 * The raw-text redaction (src/privacy/redact-raw.ts) must produce the event the decoding path produces:
 * redactValue over the parsed event. Checked on thousands of generated events in both text encodings, with
 * secrets next to the newlines it cuts windows at, escapes of every kind, and secret-named and structural
 * keys at every depth.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRedactor, redactValue, REDACTED } from "../src/privacy/redact.ts";
import { redactRawEvent } from "../src/privacy/redact-raw.ts";
import { createEventTransform } from "../src/privacy/transform.ts";
import { ALNUM, charsOf, int, noise, pick, rand, secret, transcriptText } from "./redaction-corpus.ts";

const KEYS = ["text", "content", "arguments", "command", "output", "note", "value", "data", "env", "headers", "Token", "token", "TOKEN", "password", "apiKey", "api_key", "authorization", "Authorization", "cookie", "secret", "auth", "client-secret", "id", "model", "type", "toolCallId", "timestamp", "provider", "tokens", "x_token", "clé", "日本", "OPENAI_API_KEY", "x-api-key", "githubToken", "credentials", "Set-Cookie", "passphrase", "tokens", "token_type", "pass", "bypass"];
const WS = [" ", "  ", "\n", "\n  ", " \n", "\t", "\u00a0", "\u000b", "\f", "\r\n", "\u2028", ""];

/** Text built to sit on window cuts: operators, "Bearer" and tokens on either side of newlines. */
function lineText(): string {
  const lines: string[] = [];
  for (let n = int(1, 12); n > 0; n--) {
    switch (int(0, 7)) {
      case 0: lines.push(`${pick(["token", "password", "api_key", "Bearer", "bearer", "x", "secret"])}${pick(WS)}${pick([":", "=", "", "-"])}${pick(WS)}${pick(["", '"', "'"])}${charsOf(`${ALNUM}.-`, int(2, 20))}`); break;
      case 1: lines.push(secret()); break;
      case 2: lines.push(`${pick(["user", "ops"])}@${pick(["example.com", "x.io"])}${pick(WS)}${pick([":", "=", "earer", "Bearer"])}`); break;
      case 3: lines.push(`${pick([":", "=", "earer", "Bearer", "\u00a0:", " = "])}${pick(WS)}`); break;
      case 4: lines.push(JSON.stringify({ [pick(KEYS)]: rand() < 0.5 ? secret() : pick(["a", "abcd", "xyz12345", ""]) }, null, pick([0, 2]))); break;
      case 5: lines.push(transcriptText().slice(0, int(0, 400))); break;
      case 6: lines.push(noise()); break;
      default: lines.push(pick(["", " ", "plain words here", "é → 日本 😀", "\\n literal backslash-n", 'quote " inside', "back\\slash", "\u0001\u001b[31m"]));
    }
  }
  return lines.join(pick(["\n", "\n", "\n\n", " \n ", "\r\n", "\n\u00a0"]));
}

function stringValue(): string {
  const r = rand();
  if (r < 0.35) return lineText();
  if (r < 0.55) return transcriptText();
  if (r < 0.7) return secret();
  if (r < 0.8) return noise();
  return pick(["", "ok", "sk-live-abcdefghijklmnop1234", "ops@example.com", "PRIVATE KEY", "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"]);
}

function value(depth: number): unknown {
  const r = rand();
  if (r < 0.05) return pick(["", {}, [], [" "], { a: 1 }, -0.5, 0, "  "]); // what a secret key's value may be
  if (r < 0.5 || depth > 4) return stringValue();
  if (r < 0.6) return pick([0, 1, -2.5, 1e21, 123456789, true, false, null]);
  if (r < 0.75) return Array.from({ length: int(0, 4) }, () => value(depth + 1));
  return object(depth + 1);
}

function object(depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Keys are masked too: some are text with secrets in it.
  for (let n = int(0, 5); n > 0; n--) out[rand() < 0.1 ? pick([secret, lineText, noise])() : pick(KEYS)] = value(depth);
  return out;
}

function event(): Record<string, unknown> {
  return {
    type: "message",
    id: pick(["ab12cd34", "sk-live-abcdefghijklmnop1234", "x@y.io"]),
    parentId: null,
    timestamp: "2026-12-05T08:00:00.000Z",
    message: {
      role: pick(["user", "assistant", "toolResult"]),
      content: [{ type: "text", text: stringValue() }, { type: "toolCall", id: "call_1", name: "exec", arguments: object(2) }, stringValue()],
      usage: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0, totalTokens: 15 },
      model: "gpt-5",
    },
    ...object(1),
  };
}

/** JSON text as writers other than JSON.stringify spell it: escaped non-ASCII, escaped "/", spaces. */
function spellOtherwise(json: string): string {
  let out = json;
  if (rand() < 0.2) out = out.replace(/A/g, "\\u0041"); // JSON.stringify's own escapes hold no "A"
  if (rand() < 0.5) out = out.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  if (rand() < 0.3) out = out.replace(/\//g, "\\/");
  if (rand() < 0.3) out = out.replace(/(?<!\\)(?:\\\\)*\\u00([0-9a-f]{2})/g, (m) => m.toUpperCase().replace("\\U", "\\u"));
  return out;
}

const latin1 = (text: string) => Buffer.from(text, "utf8").toString("latin1");
const fromLatin1 = (text: string) => Buffer.from(text, "latin1").toString("utf8");

const EVENTS = 1200;

describe("raw-text redaction", () => {
  it("yields the event the decoding path yields, in both encodings", () => {
    for (const emails of [true, false]) {
      const redactor = createRedactor({ emails, patterns: [] });
      const tally = { events: 0, passedThrough: 0, spliced: 0, decoded: 0, masked: 0 };
      for (let n = 0; n < EVENTS; n++) {
        const ev = event();
        let json = rand() < 0.15 ? JSON.stringify(ev, null, pick([1, 2, "\t"])) : JSON.stringify(ev);
        if (rand() < 0.25) json = spellOtherwise(json);
        const want = redactValue(JSON.parse(json), redactor);
        if (JSON.stringify(want) !== JSON.stringify(JSON.parse(json))) tally.masked++;
        for (const encoding of ["utf16", "latin1"] as const) {
          tally.events++;
          const text = encoding === "latin1" ? latin1(json) : json;
          const got = redactRawEvent(text, encoding, redactor);
          if (got === undefined) {
            tally.decoded++;
            continue;
          }
          if (got === text) tally.passedThrough++;
          else tally.spliced++;
          let parsed: unknown;
          try {
            parsed = JSON.parse(encoding === "latin1" ? fromLatin1(got) : got);
          } catch (e) {
            assert.fail(`event ${n} (${encoding}): ${(e as Error).message}\n${json}\n${got}`);
          }
          assert.deepEqual(parsed, want, `event ${n} (${encoding}):\n${json}`);
        }
      }
      // Every path is exercised, and most events stay on the raw path.
      assert.ok(tally.masked > EVENTS / 3, JSON.stringify(tally));
      assert.ok(tally.spliced > EVENTS && tally.passedThrough > 0 && tally.decoded > EVENTS / 25 && tally.decoded < tally.events / 3, JSON.stringify(tally));
    }
  });

  it("passes events without a gate hit through untouched and masks secret keys whatever they hold", () => {
    const r = createRedactor({ emails: true, patterns: [] });
    const plain = JSON.stringify({ type: "message", id: "a", message: { role: "user", content: "hello → 日本\nworld" } });
    assert.equal(redactRawEvent(plain, "utf16", r), plain);
    assert.equal(redactRawEvent(latin1(plain), "latin1", r), latin1(plain));
    const keyed = JSON.stringify({ type: "x", headers: { Authorization: "anything", cookie: "", id: "sk-live-abcdefghijklmnop1234" } });
    assert.equal(redactRawEvent(keyed, "utf16", r), JSON.stringify({ type: "x", headers: { Authorization: REDACTED, cookie: "", id: "sk-live-abcdefghijklmnop1234" } }));
    // A secret-named key alone is found: its value is masked even where nothing else in the event is.
    for (const key of ["password", "passwd", "secret", "token", "api_key", "api-key", "apikey", "ApiKey", "access_token", "refresh-token", "auth", "authorization", "client_secret", "private_key", "cookie", "COOKIE", "OPENAI_API_KEY", "x-api-key", "githubToken", "Set-Cookie", "credentials", "passphrase", "db_password", "pass", "SMTP_PASS"]) {
      for (const spelt of [`{"type":"x","${key}":"v"}`, `{ "type" : "x" , "${key}" :\n "v" }`]) {
        assert.deepEqual(JSON.parse(redactRawEvent(spelt, "utf16", r)!), { type: "x", [key]: REDACTED }, spelt);
      }
    }
    // A secret key's value is masked whole whatever it holds; values that hold nothing stay.
    for (const v of [123456, -1.5e3, { user: "bob", pass: "correct horse" }, ["a b"], [{}]]) {
      const spelt = `{"type":"x","auth": ${JSON.stringify(v, null, 1)}}`;
      assert.deepEqual(JSON.parse(redactRawEvent(spelt, "utf16", r)!), { type: "x", auth: REDACTED }, spelt);
    }
    for (const v of [null, true, false, "", {}, [], " { } ", "[ ]"]) {
      const spelt = `{"type":"x","auth":${typeof v === "string" && v.trim() !== "" ? v : JSON.stringify(v)}}`;
      assert.deepEqual(JSON.parse(redactRawEvent(spelt, "utf16", r)!), JSON.parse(spelt), spelt);
    }
    // Only the window around the secret is re-encoded; the rest keeps its spelling.
    const long = JSON.stringify({ type: "x", text: `${"line\n".repeat(50)}key: sk-live-abcdefghijklmnop1234\n${"tail\n".repeat(50)}` });
    assert.equal(redactRawEvent(long, "utf16", r), long.replace("sk-live-abcdefghijklmnop1234", REDACTED));
  });

  it("keeps a __proto__ member a member on both paths", () => {
    const r = createRedactor({ emails: true, patterns: [] });
    const text = '{"type":"x","__proto__":{"text":"token: abc def"}}';
    const want = JSON.parse('{"type":"x","__proto__":{"text":"token: [REDACTED]"}}');
    assert.deepEqual(redactValue(JSON.parse(text), r), want);
    assert.deepEqual(JSON.parse(redactRawEvent(text, "utf16", r)!), want);
  });

  it("leaves what it cannot decide exactly to the decoding path", () => {
    const r = createRedactor({ emails: true, patterns: [] });
    assert.equal(redactRawEvent('{"text": "to\\u006ben: abcdef"}', "utf16", r), undefined); // escaped letter
    assert.equal(redactRawEvent('{"text": "https:\\/\\/u:p@h"}', "utf16", r), undefined); // escaped "/"
    assert.equal(redactRawEvent('["token: abcdef"]', "utf16", r), undefined); // not an object
    assert.equal(redactRawEvent('{"text": "token: abcdef', "utf16", r), undefined); // malformed
  });

  it("is used by the transform only when the built-in patterns are all that apply", () => {
    const text = latin1(JSON.stringify({ type: "message", message: { content: "token: hunter22 x\né" } }));
    const builtIn = createEventTransform("redacted", createRedactor({ emails: true, patterns: [] }))(text, "latin1")!;
    assert.equal(builtIn.encoding, "latin1");
    assert.deepEqual(JSON.parse(fromLatin1(builtIn.json)), { type: "message", message: { content: `token: ${REDACTED}\né` } });
    const custom = createEventTransform("redacted", createRedactor({ emails: true, patterns: ["é"] }))(text, "latin1")!;
    assert.equal(custom.encoding, "utf16");
    assert.deepEqual(JSON.parse(custom.json), { type: "message", message: { content: `token: ${REDACTED}\n${REDACTED}` } });
  });
});
