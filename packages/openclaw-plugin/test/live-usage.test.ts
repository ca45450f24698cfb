/**
 * Live usage: hook items drained into the ledger (one row per call, latency joined from model_call_ended,
 * failed calls kept), forwarded to the hub as the persisted events, and the shipper's later copy counted
 * once — on the store a real OpenClaw 2026.9.6 host wrote.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { HookQueue } from "../src/live/hook-queue.ts";
import { CallJoiner } from "../src/live/call-joiner.ts";
import { LiveUsage } from "../src/live/live-usage.ts";
import { UsageLedger } from "../src/live/usage-ledger.ts";
import { createRedactor } from "../src/privacy/redact.ts";
import { createEventTransform } from "../src/privacy/transform.ts";
import { runCycle } from "../src/ship/cycle.ts";
import { statePaths, ensureDir } from "../src/state/files.ts";
import { configFor, copyFixture, expectedOf, quietLogger, startTestHub, type TestHub } from "./helpers.ts";

const hubs: TestHub[] = [];
after(() => Promise.all(hubs.map((h) => h.close())));

type Row = { session_id: string; seq: number; json: string };

function assistantCalls(home: string): { sessionId: string; runId: string; events: { seq: number; event: Record<string, any> }[] } {
  const db = new DatabaseSync(path.join(home, "agents", "main", "agent", "openclaw-agent.sqlite"), { readOnly: true });
  const rows = db
    .prepare(
      `SELECT session_id, seq, event_json AS json FROM transcript_events WHERE event_json IS NOT NULL
       AND json_extract(event_json, '$.message.role') = 'assistant' AND json_extract(event_json, '$.message.usage.input') > 0 ORDER BY session_id, seq`,
    )
    .all() as Row[];
  db.close();
  const byRun = new Map<string, { seq: number; event: Record<string, any> }[]>();
  for (const r of rows) {
    const event = JSON.parse(r.json);
    const k = `${r.session_id}|${event.message.__openclaw?.runId}`;
    byRun.set(k, [...(byRun.get(k) ?? []), { seq: r.seq, event }]);
  }
  const [k, events] = [...byRun.entries()].find(([, v]) => v.length >= 2)!;
  const [sessionId, runId] = k.split("|") as [string, string];
  return { sessionId, runId, events };
}

describe("call joiner", () => {
  it("pairs the n-th completed call of a run with its n-th assistant message, whichever comes first", () => {
    const j = new CallJoiner();
    assert.equal(j.callEnded({ callId: "r:model:1", runId: "r", durationMs: 10, outcome: "completed", at: 0 }), null);
    assert.equal(j.message({ agentId: "a", eventId: "e1", runId: "r", at: 1 })?.callId, "r:model:1");
    assert.equal(j.message({ agentId: "a", eventId: "e2", runId: "r", at: 2 }), null);
    assert.equal(j.callEnded({ callId: "r:model:2", runId: "r", durationMs: 20, outcome: "completed", at: 3 })?.eventId, "e2");
    j.callEnded({ callId: "r:model:3", runId: "r", durationMs: 5, outcome: "completed", at: 4 });
    assert.deepEqual(j.expire(1_000_000, 1000).map((c) => c.callId), ["r:model:3"]);
    assert.equal(j.waiting, 0);
  });
});

describe("live usage", () => {
  it("one ledger row per call with latency; forwarded events make the shipper's copy a duplicate", async () => {
    const hub = await startTestHub();
    hubs.push(hub);
    const home = copyFixture("openclaw-2026.9.6");
    ensureDir(statePaths(home).dir);
    const { sessionId, runId, events } = assistantCalls(home);
    const config = configFor(hub, { privacy: "full" });
    const queue = new HookQueue();
    const ledger = new UsageLedger(statePaths(home).ledger);
    const live = new LiveUsage({
      stateDir: home,
      queue,
      ledger,
      audit: null,
      config,
      transform: createEventTransform("full", createRedactor({ emails: true, patterns: [] })),
      logger: quietLogger,
      signal: new AbortController().signal,
    });
    const ctx = { agentId: "main", sessionId, sessionKey: "agent:main:x", runId };
    const update = (e: { event: Record<string, any> }, n: number) => ({
      k: "transcript" as const,
      t: Date.now(),
      u: { target: { agentId: "main", sessionId, sessionKey: "agent:main:x" }, agentId: "main", sessionId, sessionKey: "agent:main:x", messageId: e.event.id, messageSeq: n, message: e.event.message },
    });
    // Call 1 ends before its message; message 2 arrives before its call ends; a third call fails.
    queue.push({ k: "model_call_ended", t: Date.now(), e: { runId, callId: `${runId}:model:1`, durationMs: 123, outcome: "completed" }, ctx });
    queue.push(update(events[0]!, 1));
    queue.push(update(events[1]!, 2));
    queue.push({ k: "model_call_ended", t: Date.now(), e: { runId, callId: `${runId}:model:2`, durationMs: 456, outcome: "completed" }, ctx });
    queue.push({ k: "model_call_ended", t: Date.now(), e: { runId, callId: `${runId}:model:3`, durationMs: 9, outcome: "error", errorCategory: "server_error", provider: "fake", model: "fake-model" }, ctx });
    live.drain(Date.now());
    await live.settle();

    const rows = ledger.calls({ sessionId });
    const byEvent = new Map(rows.map((r) => [r["event_id"], r]));
    assert.equal(byEvent.get(events[0]!.event.id)?.["latency_ms"], 123);
    assert.equal(byEvent.get(events[0]!.event.id)?.["call_id"], `${runId}:model:1`);
    assert.equal(byEvent.get(events[1]!.event.id)?.["latency_ms"], 456);
    assert.equal(byEvent.get(events[0]!.event.id)?.["input_tokens"], events[0]!.event.message.usage.input);
    assert.equal(byEvent.get(`call:${runId}:model:3`)?.["success"], 0);
    assert.equal(live.counters.forwarded, 2);

    // The hub got the persisted events (their ids and row seqs) before any cycle.
    const raw = await hub.conn.db.selectFrom("raw_events").select(["event_id", "seq"]).execute();
    assert.deepEqual(raw.map((r) => [r.event_id, Number(r.seq)]).sort(), events.slice(0, 2).map((e) => [e.event.id, e.seq]).sort());

    const r = await runCycle({ stateDir: home, config, openclawRedactPatterns: [], logger: quietLogger, signal: new AbortController().signal, trigger: "test", ledger });
    assert.equal(r.outcome, "ok");
    assert.equal(r.lines.duplicates, 2, "the forwarded events");
    const want = expectedOf("openclaw-2026.9.6").transcriptTotals;
    assert.equal((await hub.summary()).totals.llmCalls, want.llmCallsWithUsage);
    const summary = ledger.summary();
    assert.equal(summary.calls, want.llmCallsWithUsage, "one ledger row per call: live rows and shipped rows never double");
    assert.equal(summary.tokens, want.totalTokens);
    assert.ok(Math.abs(summary.costUsd - want.costUsd) < 1e-9);
    assert.equal(summary.failedCalls, 1);
    live.close();
    ledger.close();
  });

  it("the queue is bounded and holds few prompts", () => {
    const q = new HookQueue(3, 1);
    for (let i = 0; i < 5; i++) q.push({ k: "session_start", t: i, e: {}, ctx: {} });
    q.push({ k: "llm_input", t: 9, e: {}, ctx: {} });
    q.push({ k: "llm_input", t: 10, e: {}, ctx: {} });
    assert.equal(q.size, 3);
    assert.equal(q.dropped, 4);
    assert.deepEqual(q.take().map((i) => i.t), [3, 4, 9]);
  });
});
