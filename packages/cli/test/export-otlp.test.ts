/**
 * `clawtower export otlp`: the mixed fixture's calls as GenAI spans, decoded from the real OTLP protobuf
 * requests by a loopback receiver and checked against the fixture's independently known totals and times;
 * a second run sends nothing; an export cut off mid-way resumes with nothing sent twice and nothing missing.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { buildMixedHome, startOtlpReceiver, tmpDir, type MixedHome, type OtlpReceiver, type ReceivedSpan } from "@clawtower/testkit";

const BIN = path.resolve(import.meta.dirname, "../bin/clawtower.js");

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

const sum = (spans: ReceivedSpan[], attr: string) => spans.reduce((a, s) => a + Number(s.attributes[attr] ?? 0), 0);
const ms = (ns: bigint) => Number(ns / 1_000_000n);

describe("clawtower export otlp", () => {
  let mixed: MixedHome;
  let db: string;
  let receiver: OtlpReceiver;
  before(async () => {
    const dir = tmpDir();
    mixed = buildMixedHome();
    const home = path.join(dir, "openclaw");
    mixed.home.write(home);
    db = path.join(dir, "ct.db");
    const imported = await run(["report", "summary", "--json", "--openclaw-home", home, "--db", db]);
    assert.equal(imported.code, 0, imported.stderr);
    receiver = await startOtlpReceiver();
  });
  after(() => receiver.close());

  it("sends every LLM call and tool call once, with GenAI attributes, real times and the fixture's token sums", async () => {
    const r = await run(["export", "otlp", "--endpoint", receiver.url, "--db", db, "--headers", "x-team=ops,authorization=Bearer%20t0ken"]);
    assert.equal(r.code, 0, r.stderr);
    const e = mixed.home.expected;
    const chat = receiver.spans.filter((s) => s.attributes["gen_ai.operation.name"] === "chat");
    const tools = receiver.spans.filter((s) => s.attributes["gen_ai.operation.name"] === "execute_tool");
    assert.equal(chat.length, e.llmCalls);
    assert.equal(tools.length, e.toolCalls);
    assert.equal(new Set(receiver.spans.map((s) => s.spanId)).size, receiver.spans.length, "span ids are unique");
    assert.equal(sum(chat, "gen_ai.usage.output_tokens"), e.tokens.output);
    assert.equal(sum(chat, "gen_ai.usage.input_tokens"), e.tokens.input + e.tokens.cacheRead + e.tokens.cacheWrite);
    assert.equal(sum(chat, "gen_ai.usage.cache_read.input_tokens"), e.tokens.cacheRead);
    assert.equal(sum(chat, "gen_ai.usage.cache_creation.input_tokens"), e.tokens.cacheWrite);
    assert.equal(sum(chat, "clawtower.usage.uncached_input_tokens"), e.tokens.input);
    assert.equal(tools.filter((s) => s.status.code === 2).length, e.toolErrors);
    // Each chat span ends at its call's real time; per model the counts match.
    const fixtureTimes: number[] = [];
    const sessionIds = new Set<string>();
    for (const a of mixed.home.agents.values()) {
      if (a.corruptDatabase) continue;
      for (const s of a.sessions) {
        for (const c of s.calls) fixtureTimes.push(c.ts);
        if (s.calls.length > 0) sessionIds.add(s.sessionId);
      }
    }
    assert.deepEqual(chat.map((s) => ms(s.endNs)).sort(), fixtureTimes.sort());
    for (const s of chat) assert.ok(s.startNs <= s.endNs);
    for (const [key, m] of e.byModel) {
      const [provider, ...model] = key.split("/");
      const these = chat.filter((s) => s.attributes["gen_ai.provider.name"] === provider && s.attributes["gen_ai.request.model"] === model.join("/"));
      assert.equal(these.length, m.calls, key);
      for (const s of these) assert.equal(s.name, `chat ${model.join("/")}`);
    }
    assert.deepEqual(new Set(chat.map((s) => s.attributes["gen_ai.conversation.id"])), sessionIds);
    assert.equal(chat[0]!.kind, 3, "chat spans are CLIENT spans");
    assert.equal(chat[0]!.resource["service.name"], "openclaw");
    // A tool span is a child of the call that requested it, in the same trace (turn).
    const byId = new Map(chat.map((s) => [s.spanId, s]));
    for (const t of tools) {
      const parent = byId.get(t.parentSpanId);
      assert.ok(parent, `tool ${t.attributes["gen_ai.tool.name"]} has its LLM call as parent`);
      assert.equal(t.traceId, parent.traceId);
      assert.ok(ms(t.endNs) >= ms(t.startNs));
    }
    // Turns: the fixture's s-chat has two user messages before its calls, so its calls span two traces.
    const chatSession = [...mixed.home.agents.get("main")!.sessions][0]!;
    const traces = new Set(chat.filter((s) => s.attributes["gen_ai.conversation.id"] === chatSession.sessionId).map((s) => s.traceId));
    assert.equal(traces.size, 2);
    assert.equal(receiver.requests[0]!.headers["x-team"], "ops");
    assert.equal(receiver.requests[0]!.headers["authorization"], "Bearer t0ken");
    assert.equal(receiver.requests[0]!.headers["content-type"], "application/x-protobuf");

    // The cursor: a second run sends nothing.
    const before = receiver.spans.length;
    const again = await run(["export", "otlp", "--endpoint", receiver.url, "--db", db]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(receiver.spans.length, before);
    assert.match(again.stderr, /export otlp: 0 span\(s\)/);
  });

  it("resumes after an export cut off mid-way: nothing sent twice, nothing missing", async () => {
    const other = await startOtlpReceiver();
    try {
      other.failWith(400, 2);
      const cut = await run(["export", "otlp", "--endpoint", other.url, "--db", db, "--batch-size", "3"]);
      assert.notEqual(cut.code, 0, "the refused batch fails the run");
      assert.match(cut.stderr, /OTLP export to .* failed/);
      const first = other.spans.length;
      assert.ok(first > 0 && first < mixed.home.expected.llmCalls + mixed.home.expected.toolCalls, `${first} spans before the cut`);
      other.failWith(null);
      const resumed = await run(["export", "otlp", "--endpoint", other.url, "--db", db, "--batch-size", "3"]);
      assert.equal(resumed.code, 0, resumed.stderr);
      const ids = other.spans.map((s) => s.spanId);
      assert.equal(new Set(ids).size, ids.length, "no span twice");
      assert.equal(ids.length, mixed.home.expected.llmCalls + mixed.home.expected.toolCalls, "none missing");
      assert.equal(sum(other.spans, "gen_ai.usage.output_tokens"), mixed.home.expected.tokens.output);
    } finally {
      await other.close();
    }
  });

  it("rejects a bad endpoint or header with exit 2", async () => {
    assert.equal((await run(["export", "otlp", "--db", db])).code, 2);
    assert.equal((await run(["export", "otlp", "--endpoint", "ftp://x", "--db", db])).code, 2);
    assert.equal((await run(["export", "otlp", "--endpoint", receiver.url, "--headers", "novalue", "--db", db])).code, 2);
  });
});
