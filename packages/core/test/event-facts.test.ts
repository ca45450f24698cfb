import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extractEventFacts, isExtractFailure, scanEventFactsAt } from "../src/parse/event-facts.ts";
import { JsonScanError, mayBeLenient } from "../src/parse/json-bytes.ts";
import { referenceFacts } from "./reference-facts.ts";

const assistant = {
  type: "message",
  id: "bb3b",
  parentId: "ef19",
  timestamp: "2026-11-22T18:35:04.057Z",
  message: {
    role: "assistant",
    content: [
      { type: "thinking", thinking: "plan \"quoted\" \\ backslash" },
      { type: "toolCall", id: "call_2", name: "read", arguments: { path: "README.md" } },
      { type: "toolCall", id: "call_3", name: "tool_call", arguments: { id: "sessions_spawn", args: { task: "x" } } },
    ],
    api: "openai-completions",
    provider: "fake",
    model: "fake-model",
    usage: { input: 11577, output: 6, cacheRead: 1000, cacheWrite: 0, totalTokens: 12583, cost: { input: 0.034731, output: 0.00009, cacheRead: 0.0003, cacheWrite: 0, total: 0.035121 } },
    stopReason: "toolUse",
    timestamp: 1795372503904,
    responseId: "chatcmpl-1",
    __openclaw: { runId: "run-1" },
  },
};

function facts(line: string) {
  const f = extractEventFacts(line);
  if (isExtractFailure(f)) throw new Error(`unexpected failure: ${f.failed} ${f.detail}`);
  return f;
}

describe("extractEventFacts", () => {
  it("reads an OpenClaw assistant message with usage, cost and tool calls", () => {
    const f = facts(JSON.stringify(assistant));
    assert.equal(f.type, "message");
    assert.equal(f.timestamp, Date.parse("2026-11-22T18:35:04.057Z"));
    assert.equal(f.message?.role, "assistant");
    assert.deepEqual(f.message?.usage, { tokens: { input: 11577, output: 6, cacheRead: 1000, cacheWrite: 0 }, recordedCost: 0.035121, invalidFields: [] });
    assert.equal(f.message?.runId, "run-1");
    assert.deepEqual(
      f.message?.toolCalls.map((c) => [c.id, c.name, c.via]),
      [
        ["call_2", "read", undefined],
        ["call_3", "sessions_spawn", "tool_call"],
      ],
    );
  });

  it("reads a tool result's id, error flag and size without materializing the content", () => {
    const big = "x".repeat(300_000) + '"quoted"'.repeat(100);
    const line = JSON.stringify({ type: "message", id: "t1", timestamp: "2026-11-22T18:35:18.100Z", message: { role: "toolResult", toolCallId: "call_2", toolName: "read", content: [{ type: "text", text: big }], isError: true } });
    const f = facts(line);
    assert.equal(f.message?.toolCallId, "call_2");
    assert.equal(f.message?.isError, true);
    assert.equal(f.message?.contentBytes, Buffer.byteLength(JSON.stringify([{ type: "text", text: big }])));
  });

  it("counts NaN, negative, infinite and non-number usage fields as 0 and names them", () => {
    const line = '{"type":"message","id":"a","message":{"role":"assistant","usage":{"input":NaN,"output":-5,"cacheRead":Infinity,"cacheWrite":"12","cost":{"total":-Infinity}}}}';
    const f = facts(line);
    assert.deepEqual(f.message?.usage?.tokens, { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 });
    assert.deepEqual(f.message?.usage?.invalidFields, ["input", "output", "cacheRead", "cacheWrite", "cost.total"]);
    assert.equal(f.message?.usage?.recordedCost, undefined);
  });

  for (const [name, line, kind] of [
    ["truncated line", '{"type":"message","message":{"role":"user","content":"hel', "invalid-json"],
    ["trailing garbage", '{"type":"session"} x', "invalid-json"],
    ["missing comma", '{"type":"session" "id":"x"}', "invalid-json"],
    ["bad literal", '{"type":"session","x":tru}', "invalid-json"],
    ["leading zero", '{"type":"session","x":01}', "invalid-json"],
    ["blank", "   ", "blank-line"],
    ["array", "[1,2]", "not-an-object"],
    ["no type", '{"id":"x"}', "missing-event-type"],
    ["non-string type", '{"type":5}', "missing-event-type"],
    ["control char in read string", '{"type":"se\u0001ssion"}', "invalid-json"],
  ] as const) {
    it(`rejects ${name} as ${kind}`, () => {
      const f = extractEventFacts(line);
      assert.ok(isExtractFailure(f), `expected a failure for ${name}`);
      assert.equal(f.failed, kind);
    });
  }

  it("survives pathological nesting", () => {
    const f = extractEventFacts(`{"type":"x","d":${"[".repeat(100_000)}${"]".repeat(100_000)}}`);
    assert.ok(isExtractFailure(f));
    assert.equal(f.failed, "invalid-json");
  });
});

// ---- differential: the scanner against a JSON.parse reference -----------------------------------------

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function randomString(r: () => number): string {
  const alphabet = ['a', 'Z', ' ', '"', "\\", "\n", "\t", "é", "💥", "{", "}", "[", "]", ":", ",", "\u0001", "/"];
  let out = "";
  const len = Math.floor(r() * 12);
  for (let i = 0; i < len; i++) out += alphabet[Math.floor(r() * alphabet.length)];
  return out;
}

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 5 : 8));
  switch (k) {
    case 0:
      return randomString(r);
    case 1:
      return Math.floor(r() * 100_000) - 10;
    case 2:
      return r() < 0.5;
    case 3:
      return null;
    case 4:
      return r() * 1e6;
    case 5:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < Math.floor(r() * 5); i++) o[pick(r, KEYS)] = randomValue(r, depth + 1);
      return o;
    }
  }
}

const KEYS = ["type", "id", "role", "content", "usage", "input", "output", "cacheRead", "cacheWrite", "cost", "total", "toolCallId", "toolName", "isError", "name", "arguments", "timestamp", "provider", "model", "text", "__openclaw", "runId", "message", "x"];
function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function randomEvent(r: () => number): Record<string, unknown> {
  const role = pick(r, ["user", "assistant", "toolResult", "custom"]);
  const content =
    role === "assistant"
      ? Array.from({ length: Math.floor(r() * 4) }, () =>
          r() < 0.5
            ? { type: "toolCall", id: randomString(r), name: r() < 0.2 ? "tool_call" : randomString(r), arguments: r() < 0.3 ? { id: randomString(r), args: randomValue(r, 2) } : randomValue(r, 1) }
            : { type: "text", text: randomString(r) },
        )
      : randomValue(r, 1);
  const message: Record<string, unknown> = { role, content };
  for (const k of ["provider", "model", "api", "stopReason", "toolCallId", "toolName", "isError", "timestamp", "responseId"]) if (r() < 0.4) message[k] = randomValue(r, 3);
  if (r() < 0.6) message["usage"] = { input: randomValue(r, 4), output: Math.floor(r() * 1000), cacheRead: r() < 0.5 ? 10 : -3, cost: r() < 0.7 ? { total: r() } : randomValue(r, 4) };
  if (r() < 0.3) message["__openclaw"] = { runId: randomString(r) };
  const e: Record<string, unknown> = { type: pick(r, ["message", "session", "model_change", "custom", "reset", "weird"]), id: randomString(r), timestamp: r() < 0.8 ? new Date(1.79e12 + r() * 1e9).toISOString() : randomValue(r, 3), message };
  for (const k of ["provider", "modelId", "cwd", "parentId", "customType"]) if (r() < 0.3) e[k] = randomValue(r, 3);
  return e;
}

/**
 * Sizes are "bytes of the JSON text as stored"; the reference re-serializes, which matches only for compact
 * JSON.stringify output (what OpenClaw writes). Elsewhere, compare everything but the sizes.
 */
function withoutSizes(f: unknown): unknown {
  return JSON.parse(JSON.stringify(f, (k, v) => (k === "contentBytes" || k === "argsBytes" || k === "bytes" ? undefined : v)));
}

describe("extractEventFacts agrees with the JSON.parse reference", () => {
  it("on 2,000 pretty-printed random events (sizes aside)", () => {
    const r = rng(9);
    for (let i = 0; i < 2_000; i++) {
      const line = JSON.stringify(randomEvent(r), null, 2);
      const expected = referenceFacts(line);
      const actual = extractEventFacts(line);
      if (expected === null) {
        assert.ok(isExtractFailure(actual), line);
        continue;
      }
      assert.deepEqual(withoutSizes(actual), withoutSizes(expected), line);
    }
  });

  it("on 20,000 random events", () => {
    const r = rng(42);
    for (let i = 0; i < 20_000; i++) {
      const line = JSON.stringify(randomEvent(r));
      const expected = referenceFacts(line);
      const actual = extractEventFacts(line);
      if (expected === null) {
        assert.ok(isExtractFailure(actual), `reference rejected but scanner accepted: ${line}`);
        continue;
      }
      assert.ok(!isExtractFailure(actual), `scanner rejected a valid line (${isExtractFailure(actual) ? actual.detail : ""}): ${line}`);
      assert.deepEqual(actual, expected, line);
    }
  });

  it("on random corruptions of valid events (truncations, deletions)", () => {
    const r = rng(7);
    for (let i = 0; i < 5_000; i++) {
      const line = JSON.stringify(randomEvent(r));
      const cut = Math.floor(r() * line.length);
      const cutText = r() < 0.5 ? line.slice(0, cut) : line.slice(0, cut) + line.slice(cut + 1);
      // A cut inside a surrogate pair leaves a lone surrogate, which UTF-8 (every store, the parser's input)
      // cannot hold: compare on the text as stored.
      const mutated = Buffer.from(cutText, "utf8").toString("utf8");
      const expected = referenceFacts(mutated);
      const actual = extractEventFacts(mutated);
      // The scanner accepts NaN/Infinity (which JSON.parse rejects) and does not validate escapes inside
      // strings it skips; neither can arise from deleting one character of JSON.stringify output except
      // an escape: accept disagreement only there.
      if (expected === null && !isExtractFailure(actual)) {
        assert.ok(/\\/.test(line), `scanner accepted an invalid line: ${mutated}`);
        continue;
      }
      if (expected !== null) assert.deepEqual(withoutSizes(actual), withoutSizes(expected), mutated);
    }
  });
});

describe("scanEventFactsAt (an event read inside the line that wraps it)", () => {
  it("gives the facts extractEventFacts gives for the event's own text, and where the event ends", () => {
    for (const event of [JSON.stringify(assistant), '{ "type" : "session", "id": "s-1", "timestamp": "2026-11-22T18:35:04Z" }', '{"id":"no-type"}']) {
      // A non-ASCII envelope field first: offsets are byte offsets.
      const line = Buffer.from(`{"agentId":"é🦀","event": ${event} ,"sessionId":"s"}`);
      const start = line.indexOf(event);
      const { facts, end } = scanEventFactsAt(line, start);
      assert.equal(end, start + Buffer.byteLength(event));
      assert.deepEqual(facts, extractEventFacts(event));
    }
  });
  it("throws on malformed JSON, for the caller to decide", () => {
    assert.throws(() => scanEventFactsAt(Buffer.from('{"event":{"type":"message",}}'), 9), JsonScanError);
  });
});

describe("mayBeLenient (what the scanner accepts and JSON.parse does not)", () => {
  it("flags NaN, Infinity, raw control characters and bad escapes, and nothing in plain or properly escaped JSON", () => {
    for (const s of ['{"a":NaN}', '{"a":-Infinity}', '{"a":"x\ty"}', '{"a":"\\x"}', '{"a":"\\u12"}', '{"a":"\\\\\\q"}']) {
      assert.equal(mayBeLenient(Buffer.from(s)), true, s);
      assert.throws(() => JSON.parse(s), SyntaxError, s);
    }
    for (const s of ['{"a":1}', JSON.stringify({ t: 'quote " backslash \\ newline \n tab \t nul \u0000 \u2028 é 🦀' }), '{"a":"\\\\n\\u00e9\\/"}']) {
      assert.equal(mayBeLenient(Buffer.from(s)), false, s);
      JSON.parse(s);
    }
  });
});
