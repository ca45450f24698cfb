import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extractEventFacts } from "@clawtower/core";
import { ndjsonLines } from "../src/body.ts";
import { checkEventItem, readNdjsonLine } from "../src/routes/event-line.ts";

const event = { type: "message", id: "e1", timestamp: "2026-11-22T10:00:00Z", message: { role: "assistant", model: "m", usage: { input: 3, output: 1 } } };
const base = { deploymentId: "gw", agentId: "main", sessionId: "s1", seq: 4, idempotencyKey: "k", event };

/** What the schema alone makes of the line: the contract the fast path must keep. */
function bySchema(text: string) {
  let item: unknown;
  try {
    item = JSON.parse(text);
  } catch (e) {
    return { ok: false as const, reason: `not valid JSON: ${(e as Error).message}` };
  }
  return checkEventItem(item);
}

describe("readNdjsonLine", () => {
  const lines: string[] = [
    JSON.stringify(base),
    JSON.stringify({ ...base, seq: undefined, lineIndex: 7, extra: { ignored: [1, 2] } }),
    JSON.stringify({ ...base, session: { sessionKey: "agent:main:main", channel: "webchat", skills: ["a"], custom: 1 } }),
    JSON.stringify({ ...base, event: JSON.stringify(event) }),
    JSON.stringify({ ...base, event: { ...event, message: { ...event.message, content: 'quote " backslash \\ newline \n é 🦀' } } }),
    JSON.stringify({ ...base, event: { id: "no-type" } }),
    JSON.stringify({ ...base, deploymentId: undefined }),
    // rejected by the schema, each for its own field
    JSON.stringify({ ...base, agentId: "" }),
    JSON.stringify({ ...base, sessionId: "x".repeat(301) }),
    JSON.stringify({ ...base, seq: -1 }),
    JSON.stringify({ ...base, seq: 1.5 }),
    JSON.stringify({ ...base, lineIndex: "3" }),
    JSON.stringify({ ...base, idempotencyKey: null }),
    JSON.stringify({ ...base, event: "x" }),
    JSON.stringify({ ...base, event: [event] }),
    JSON.stringify({ ...base, event: null }),
    JSON.stringify({ ...base, session: { kind: "k".repeat(41) } }),
    JSON.stringify({ agentId: "main", event }),
    JSON.stringify([base]),
    // not JSON, though the scanner alone would let them through
    `{"agentId":"main","sessionId":"s","seq":1,"event":{"type":"message","n":NaN}}`,
    `{"agentId":"main","sessionId":"s","seq":1,"event":{"type":"message","t":"a\tb"}}`,
    `{"agentId":"main","sessionId":"s","seq":1,"event":{"type":"message","t":"\\x"}}`,
    `{"agentId":"main","sessionId":"s","seq":1,"event":{"type":"message",}}`,
    `{"agentId":"main","sessionId":"s","seq":1,"event":{"type":"message"}} trailing`,
  ];

  it("answers every line as the schema does, with the same fields", () => {
    for (const text of lines) {
      const fast = readNdjsonLine(text);
      const slow = bySchema(text);
      assert.equal(fast.ok, slow.ok, text);
      if (!fast.ok || !slow.ok) {
        assert.deepEqual(fast, slow, text);
        continue;
      }
      const { event: fastEvent, facts, ...fastRest } = fast.line;
      const { event: slowEvent, ...slowRest } = slow.line;
      assert.deepEqual(fastRest, slowRest, text);
      assert.deepEqual(JSON.parse(fastEvent), JSON.parse(slowEvent), text);
      if (facts) assert.deepEqual(facts, extractEventFacts(fastEvent), text);
    }
  });

  it("keeps the event's JSON text exactly as sent, and reads its facts in passing", () => {
    const sent = '{ "type": "message", "id": "e\\u0031", "message": {"role": "user", "content": "a\\nb"} }';
    const r = readNdjsonLine(`{"agentId":"main","sessionId":"s1","event": ${sent} }`);
    assert.ok(r.ok);
    assert.equal(r.line.event, sent);
    assert.deepEqual(r.line.facts, extractEventFacts(sent));
    assert.equal(r.line.facts?.id, "e1");
  });

  it("reads a line's bytes as the hub receives them; bytes that are not UTF-8 take the schema path", () => {
    const text = JSON.stringify({ ...base, agentId: "é🦀", event: { ...event, message: { ...event.message, content: "→ 🦀" } } });
    const fromBytes = readNdjsonLine(Buffer.from(text));
    assert.ok(fromBytes.ok);
    assert.deepEqual(fromBytes, readNdjsonLine(text));
    assert.equal(fromBytes.line.agentId, "é🦀");
    assert.equal(fromBytes.line.facts?.bytes, Buffer.byteLength(fromBytes.line.event));

    const bad = Buffer.from(JSON.stringify({ ...base, event: { ...event, message: { ...event.message, content: "xx" } } }));
    bad[bad.indexOf("xx")] = 0xff; // a lone byte that is no UTF-8
    const r = readNdjsonLine(bad);
    assert.ok(r.ok);
    assert.equal(r.line.facts, undefined); // the schema path: the hub decodes it with a replacement character
    assert.match(r.line.event, /\ufffdx/);
  });
});

describe("ndjsonLines", () => {
  it("splits a body into its non-blank lines as bytes, without the BOM or the CR of CRLF, numbered from 1", () => {
    const body = Buffer.from('\uFEFF{"a":1}\r\n\r\n  \n{"b":"é"}\n{"c":3}');
    const lines = ndjsonLines(body).map((l) => [l.number, l.bytes.toString("utf8")]);
    assert.deepEqual(lines, [
      [1, '{"a":1}'],
      [4, '{"b":"é"}'],
      [5, '{"c":3}'],
    ]);
    // A CRLF line takes the fast path: the facts are read in passing.
    const crlf = ndjsonLines(Buffer.from(`${JSON.stringify(base)}\r\n`))[0]!;
    const r = readNdjsonLine(crlf.bytes);
    assert.ok(r.ok && r.line.facts !== undefined);
  });
});
