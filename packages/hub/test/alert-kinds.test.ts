/**
 * Each alert kind evaluated over a real store (data through the real ingest API) at chosen instants, with the
 * expected states computed by hand from the data; and the evaluator's incrementality (it reads only the sessions
 * written since its cursor).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPriceBook, type AlertRuleInput } from "@clawtower/core";
import { addAlertRule, createApiKey, evaluateAlerts, instancesInState, openStore, type StoreConnection } from "@clawtower/store";
import { describeStore, storeTargets } from "@clawtower/testkit";
import { startHub, type RunningHub } from "../src/index.ts";
import { call } from "./hub-over-http.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

const T = (iso: string) => Date.parse(iso);
type Ev = Record<string, unknown>;
const session = (id: string, at: number) => ({ type: "session", version: 4, id, timestamp: new Date(at).toISOString() });
const user = (id: string, at: number) => ({ type: "message", id, timestamp: new Date(at).toISOString(), message: { role: "user", content: "go" } });
const assistant = (id: string, at: number, o: { cost?: number; input?: number; tools?: { id: string; name: string; args: unknown }[] } = {}) => ({
  type: "message",
  id,
  timestamp: new Date(at).toISOString(),
  message: {
    role: "assistant",
    provider: "anthropic",
    model: "claude-sonnet-5",
    stopReason: o.tools?.length ? "toolUse" : "stop",
    content: o.tools?.length ? o.tools.map((t) => ({ type: "toolCall", id: t.id, name: t.name, arguments: t.args })) : [{ type: "text", text: "ok" }],
    usage: { input: o.input ?? 10, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: o.cost ?? 0 } },
  },
});
const toolResult = (id: string, at: number, callId: string, name: string, isError = false) => ({
  type: "message",
  id,
  timestamp: new Date(at).toISOString(),
  message: { role: "toolResult", toolCallId: callId, toolName: name, content: [{ type: "text", text: "r" }], isError },
});

for (const target of targets) {
  describeStore(target, `[${target.name}] alert kinds`, () => {
    let conn: StoreConnection;
    let hub: RunningHub;
    let key: string;
    const ingest = async (sessionId: string, events: Ev[], channel?: string) => {
      const lines = events.map((event, i) => JSON.stringify({ agentId: "main", sessionId, ...(i === 0 && channel ? { session: { sessionKey: `agent:main:${sessionId}`, channel } } : {}), event }));
      const r = await call(hub, "/api/v1/ingest/events", { body: lines.join("\n"), headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" } });
      assert.equal(r.body.rejected, 0, JSON.stringify(r.body));
    };
    const rule = (r: AlertRuleInput) => addAlertRule(conn, r, 0);
    const firing = async (name: string) => {
      const ids = new Map((await conn.db.selectFrom("alert_rules").select(["rule_id", "name"]).execute()).map((r) => [r.rule_id, r.name]));
      return (await instancesInState(conn, ["firing"])).filter((i) => ids.get(i.ruleId) === name).map((i) => i.key || "(window)").sort();
    };
    const pendingOf = async (name: string) => {
      const ids = new Map((await conn.db.selectFrom("alert_rules").select(["rule_id", "name"]).execute()).map((r) => [r.rule_id, r.name]));
      return (await instancesInState(conn, ["pending"])).filter((i) => ids.get(i.ruleId) === name).map((i) => i.key).sort();
    };

    before(async () => {
      conn = await openStore(target.options());
      key = (await createApiKey(conn, { deploymentId: "gw" }, Date.now())).token;
      hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: null, log: () => {}, alerts: false });
      await evaluateAlerts(conn, Date.now(), { tick: true }); // the cursor starts at the (empty) head
    });
    after(async () => {
      await hub.close();
      await conn.close();
    });

    it("window-spend per day in a zone, resolved when the window passes; spend-spike over hour windows", async () => {
      await rule({ name: "day-berlin", condition: { kind: "window-spend", window: "day", tz: "Europe/Berlin", aboveUsd: 10 }, scope: { channel: "win" } });
      await rule({ name: "day-utc", condition: { kind: "window-spend", window: "day", tz: "UTC", aboveUsd: 10 }, scope: { channel: "win" } });
      // 22:30Z is Dec 1, 23:30 in Berlin; 23:30Z is Dec 2, 00:30 in Berlin. UTC's Dec 1 holds both ($12), Berlin's Dec 2 one ($6).
      await ingest("w1", [session("w1", T("2026-12-01T22:29:00Z")), user("w1u", T("2026-12-01T22:29:30Z")), assistant("w1a", T("2026-12-01T22:30:00Z"), { cost: 6 }), user("w1u2", T("2026-12-01T23:29:30Z")), assistant("w1b", T("2026-12-01T23:30:00Z"), { cost: 6 })], "win");
      await evaluateAlerts(conn, T("2026-12-01T23:45:00Z"), { tick: false });
      assert.deepEqual(await firing("day-utc"), ["(window)"]);
      assert.deepEqual(await firing("day-berlin"), []);
      await evaluateAlerts(conn, T("2026-12-02T00:10:00Z"), { tick: true });
      assert.deepEqual(await firing("day-utc"), [], "Dec 2 (UTC) has spent nothing: resolved");

      // Hours 09, 10, 11 spend $1 each (mean $1); hour 12 spends $3.50 > 3 × $1 and ≥ the $2 minimum.
      await rule({ name: "spike", condition: { kind: "spend-spike", window: "hour", factor: 3, baselineWindows: 3, minUsd: 2 }, scope: { channel: "spike" } });
      const hours = [9, 10, 11].map((h) => assistant(`sp${h}`, T(`2026-12-03T${String(h).padStart(2, "0")}:10:00Z`), { cost: 1 }));
      await ingest("sp", [session("sp", T("2026-12-03T09:00:00Z")), ...hours, assistant("sp12a", T("2026-12-03T12:05:00Z"), { cost: 2.5 })], "spike");
      await evaluateAlerts(conn, T("2026-12-03T12:20:00Z"), { tick: false });
      assert.deepEqual(await firing("spike"), [], "$2.50 is not above $3");
      await ingest("sp", [assistant("sp12b", T("2026-12-03T12:15:00Z"), { cost: 1 })], "spike");
      await evaluateAlerts(conn, T("2026-12-03T12:20:00Z"), { tick: false });
      assert.deepEqual(await firing("spike"), ["(window)"]);
    });

    it("tool-loop (same tool, same arguments, N in a row) and tool-error-rate", async () => {
      await rule({ name: "loop", condition: { kind: "tool-loop", repeats: 3 }, scope: { channel: "loop" } });
      await rule({ name: "tool-errors", condition: { kind: "tool-error-rate", windowMinutes: 60, aboveRatio: 0.5, minCalls: 4 }, scope: { channel: "loop" } });
      const at = T("2026-12-04T10:00:00Z");
      const calls = (sid: string, args: unknown[], errors: number) =>
        args.flatMap((a, i) => [assistant(`${sid}-a${i}`, at + i * 10_000, { tools: [{ id: `${sid}-c${i}`, name: "exec", args: a }] }), toolResult(`${sid}-r${i}`, at + i * 10_000 + 5000, `${sid}-c${i}`, "exec", i < errors)]);
      await ingest("loop-1", [session("loop-1", at - 1000), ...calls("loop-1", [{ cmd: "ls" }, { cmd: "ls" }, { cmd: "ls" }], 0)], "loop");
      await ingest("loop-2", [session("loop-2", at - 1000), ...calls("loop-2", [{ cmd: "ls" }, { cmd: "pwd" }, { cmd: "ls" }], 3)], "loop");
      await evaluateAlerts(conn, at + 60_000, { tick: false });
      assert.deepEqual(await firing("loop"), ["gw/main/loop-1"]);
      // 6 tool results in the window, 3 errors: 0.5 is not above 0.5. One more error: 4 of 7.
      assert.deepEqual(await firing("tool-errors"), []);
      await ingest("loop-2", [assistant("loop-2-a9", at + 40_000, { tools: [{ id: "loop-2-c9", name: "read", args: {} }] }), toolResult("loop-2-r9", at + 45_000, "loop-2-c9", "read", true)], "loop");
      await evaluateAlerts(conn, at + 60_000, { tick: false });
      assert.deepEqual(await firing("tool-errors"), ["(window)"]);
    });

    it("context-bloat: prompt growing for M calls with no compaction between, or above N", async () => {
      await rule({ name: "bloat", condition: { kind: "context-bloat", growingCalls: 3, abovePromptTokens: 5000 }, scope: { channel: "bloat" } });
      const at = T("2026-12-05T10:00:00Z");
      await ingest("grow", [session("grow", at), ...[100, 200, 300].map((n, i) => assistant(`g${i}`, at + i * 1000 + 1, { input: n }))], "bloat");
      await ingest("compacted", [session("compacted", at), assistant("c0", at + 1, { input: 100 }), assistant("c1", at + 1001, { input: 200 }), { type: "compaction", id: "cmp", timestamp: new Date(at + 1500).toISOString(), summary: "s" }, assistant("c2", at + 2001, { input: 300 })], "bloat");
      await ingest("big", [session("big", at), assistant("b0", at + 1, { input: 6000 })], "bloat");
      await evaluateAlerts(conn, at + 10_000, { tick: false });
      assert.deepEqual(await firing("bloat"), ["gw/main/big", "gw/main/grow"]);
    });

    it("stuck-session on the timer: mid-turn and idle ≥ T; an answered session is idle, not stuck; `for` holds it pending first", async () => {
      await rule({ name: "stuck", condition: { kind: "stuck-session", idleMinutes: 10 }, scope: { channel: "stuck" }, forMs: 60_000 });
      const at = T("2026-12-06T10:00:00Z");
      await ingest("waiting", [session("waiting", at), user("wu", at + 1000)], "stuck");
      await ingest("answered", [session("answered", at), user("au", at + 1000), assistant("aa", at + 2000)], "stuck");
      await evaluateAlerts(conn, at + 5 * 60_000, { tick: true });
      assert.deepEqual(await pendingOf("stuck"), []);
      await evaluateAlerts(conn, at + 11 * 60_000, { tick: true });
      assert.deepEqual(await pendingOf("stuck"), ["gw/main/waiting"]);
      await evaluateAlerts(conn, at + 12 * 60_000 + 1000, { tick: true });
      assert.deepEqual(await firing("stuck"), ["gw/main/waiting"]);
      await ingest("waiting", [assistant("wa", at + 13 * 60_000)], "stuck");
      await evaluateAlerts(conn, at + 13 * 60_000 + 1000, { tick: false });
      assert.deepEqual(await firing("stuck"), [], "a new event resolves it");
    });

    it("reads only the sessions written since the last pass", async () => {
      await rule({ name: "tokens", condition: { kind: "session-tokens", aboveTokens: 1 }, scope: { channel: "inc" } });
      const at = T("2026-12-07T10:00:00Z");
      await ingest("inc-1", [session("inc-1", at), assistant("i1", at + 1)], "inc");
      const first = await evaluateAlerts(conn, at + 1000, { tick: false });
      assert.equal(first.sessions, 1);
      const idle = await evaluateAlerts(conn, at + 2000, { tick: false });
      assert.deepEqual([idle.changes, idle.sessions], [0, 0]);
      await ingest("inc-2", [session("inc-2", at), assistant("i2", at + 1)], "inc");
      const second = await evaluateAlerts(conn, at + 3000, { tick: false });
      assert.equal(second.sessions, 1, "only inc-2, not every session in the store");
      assert.deepEqual(await firing("tokens"), ["gw/main/inc-1", "gw/main/inc-2"]);
    });
  });
}
