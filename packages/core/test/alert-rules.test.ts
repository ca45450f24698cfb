/** The alert rule schema, each kind's condition on hand-computed numbers, the state machine and Grafana grouping. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AlertRuleInputSchema,
  bmasteraiPreset,
  buildNotification,
  contextBloatMet,
  decideGroup,
  EMPTY_GROUP,
  errorRateMet,
  notificationText,
  promotePending,
  sessionConditionMet,
  spendSpikeMet,
  stepInstance,
  stuckMet,
  trailingRepeats,
  windowSpendMet,
  type AlertInstance,
} from "../src/index.ts";

const NANO = 1_000_000_000;

describe("alert rule schema", () => {
  it("fills Grafana's timing defaults and validates every kind's parameters", () => {
    const r = AlertRuleInputSchema.parse({ name: "daily", condition: { kind: "window-spend", window: "day", tz: "Europe/Berlin", aboveUsd: 10 }, channels: [{ type: "webhook", url: "http://127.0.0.1:9/x" }] });
    assert.equal(r.severity, "warning");
    assert.deepEqual([r.channels[0]!.groupWaitMs, r.channels[0]!.groupIntervalMs, r.channels[0]!.repeatIntervalMs], [30_000, 300_000, 14_400_000]);
    const bad = [
      { name: "x", condition: { kind: "window-spend", window: "week", aboveUsd: 1 } },
      { name: "x", condition: { kind: "window-spend", window: "day", tz: "Mars/Base", aboveUsd: 1 } },
      { name: "x", condition: { kind: "spend-spike", window: "day", factor: 1 } },
      { name: "x", condition: { kind: "error-rate", aboveRatio: 1.5 } },
      { name: "x", condition: { kind: "tool-loop", repeats: 1 } },
      { name: "x", condition: { kind: "context-bloat" } },
      { name: "x", condition: { kind: "session-cost", aboveUsd: -1 } },
      { name: "x", condition: { kind: "nope" } },
      { name: "has space", condition: { kind: "session-cost", aboveUsd: 1 } },
      { name: "x", condition: { kind: "session-cost", aboveUsd: 1 }, channels: [{ type: "webhook", url: "file:///etc/passwd" }] },
      { name: "x", condition: { kind: "session-cost", aboveUsd: 1 }, scope: { team: "a" } },
    ];
    for (const b of bad) assert.equal(AlertRuleInputSchema.safeParse(b).success, false, JSON.stringify(b));
  });

  it("the BMasterAI preset is seed 004's three rules with the README's 100,000 tokens", () => {
    const p = bmasteraiPreset([]);
    assert.deepEqual(p.map((r) => [r.condition, r.severity]), [
      [{ kind: "session-cost", aboveUsd: 1 }, "warning"],
      [{ kind: "session-tokens", aboveTokens: 100_000 }, "warning"],
      [{ kind: "window-spend", window: "day", tz: "UTC", aboveUsd: 10 }, "critical"],
    ]);
    for (const r of p) assert.ok(AlertRuleInputSchema.safeParse(r).success);
  });
});

describe("conditions per kind", () => {
  it("session cost and tokens: strictly above the threshold", () => {
    assert.deepEqual(sessionConditionMet({ kind: "session-cost", aboveUsd: 1 }, { costNanos: 1 * NANO, tokens: 0 }), { value: 1, active: false });
    assert.deepEqual(sessionConditionMet({ kind: "session-cost", aboveUsd: 1 }, { costNanos: 1_000_000_001, tokens: 0 }), { value: 1.000000001, active: true });
    assert.deepEqual(sessionConditionMet({ kind: "session-tokens", aboveTokens: 100_000 }, { costNanos: 0, tokens: 100_001 }), { value: 100_001, active: true });
  });
  it("window spend and spike (mean of 3 windows $2 → 3 × $2 = $6; minimum $5)", () => {
    assert.equal(windowSpendMet(10, 10.5 * NANO).active, true);
    assert.equal(spendSpikeMet(3, 5, 6.01 * NANO, [1, 2, 3].map((x) => x * NANO)).active, true);
    assert.equal(spendSpikeMet(3, 5, 6 * NANO, [1, 2, 3].map((x) => x * NANO)).active, false);
    assert.equal(spendSpikeMet(3, 5, 4.9 * NANO, [0, 0, 0]).active, false, "below the minimum never fires");
    assert.equal(spendSpikeMet(3, 5, 5 * NANO, [0, 0, 0]).active, true);
  });
  it("error rate needs the minimum number of calls", () => {
    assert.deepEqual(errorRateMet(0.5, 20, 19, 19), { value: 1, active: false });
    assert.deepEqual(errorRateMet(0.5, 20, 20, 11), { value: 0.55, active: true });
    assert.deepEqual(errorRateMet(0.5, 20, 20, 10), { value: 0.5, active: false });
  });
  it("tool loop counts the trailing run of the same call", () => {
    const c = (name: string, argsKey: string) => ({ name, argsKey });
    assert.equal(trailingRepeats([c("read", "1"), c("exec", "9"), c("exec", "9"), c("exec", "9")]), 3);
    assert.equal(trailingRepeats([c("exec", "9"), c("exec", "8")]), 1);
    assert.equal(trailingRepeats([]), 0);
  });
  it("context bloat: above N, or growing M calls with no compaction between", () => {
    const calls = (xs: number[], compactAt = -1) => xs.map((p, i) => ({ promptTokens: p, compactedBefore: i === compactAt }));
    assert.deepEqual(contextBloatMet({ abovePromptTokens: 1000 }, calls([10, 1001])), { value: 1001, active: true });
    assert.equal(contextBloatMet({ growingCalls: 3 }, calls([5, 10, 20, 30])).active, true);
    assert.equal(contextBloatMet({ growingCalls: 3 }, calls([5, 10, 20, 20])).active, false);
    assert.equal(contextBloatMet({ growingCalls: 3 }, calls([5, 10, 20], 2)).active, false, "a compaction between breaks the run");
    assert.equal(contextBloatMet({ growingCalls: 3 }, calls([5, 10])).active, false);
  });
  it("stuck: idle at least T minutes and not ended", () => {
    assert.deepEqual(stuckMet(10, 0, false, 10 * 60_000), { value: 10, active: true });
    assert.equal(stuckMet(10, 0, false, 10 * 60_000 - 1).active, false);
    assert.equal(stuckMet(10, 0, true, 60 * 60_000).active, false);
  });
});

describe("instance states", () => {
  const obs = (active: boolean, value = 1) => ({ key: "k", labels: { session: "s" }, value, active });
  it("fires at once without `for`, resolves when the condition stops", () => {
    const a = stepInstance(null, obs(true), 0, 100);
    assert.equal(a.next?.state, "firing");
    assert.deepEqual(a.transition && [a.transition.from, a.transition.to], [null, "firing"]);
    const b = stepInstance(a.next, obs(true, 2), 0, 200);
    assert.equal(b.transition, null, "still firing: no transition");
    assert.equal(b.next?.value, 2);
    const c = stepInstance(b.next, obs(false), 0, 300);
    assert.deepEqual([c.next?.state, c.next?.resolvedAt, c.transition?.from], ["resolved", 300, "firing"]);
    assert.equal(stepInstance(c.next, obs(false), 0, 400).transition, null, "resolved stays quiet");
    assert.equal(stepInstance(c.next, obs(true), 0, 500).next?.activeSince, 500, "a new episode starts afresh");
  });
  it("with `for`: pending, then firing once it held long enough (on a new observation or the timer)", () => {
    const a = stepInstance(null, obs(true), 1000, 0);
    assert.equal(a.next?.state, "pending");
    assert.equal(stepInstance(a.next, obs(true), 1000, 999).next?.state, "pending");
    assert.equal(stepInstance(a.next, obs(true), 1000, 1000).next?.state, "firing");
    assert.equal(promotePending(a.next as AlertInstance, 1000, 999), null);
    assert.equal(promotePending(a.next as AlertInstance, 1000, 1000)?.next.state, "firing");
    const gone = stepInstance(a.next, obs(false), 1000, 500);
    assert.equal(gone.next, null, "a pending condition that stops is forgotten");
  });
});

describe("grouping (Grafana defaults, small in tests)", () => {
  const t = { groupWaitMs: 30, groupIntervalMs: 300, repeatIntervalMs: 4000 };
  it("waits group-wait, batches instances, re-sends after group-interval on change, repeats, sends one resolved notice", () => {
    let m = EMPTY_GROUP;
    let d = decideGroup(m, ["a"], 0, t);
    assert.equal(d.send, null);
    d = decideGroup(d.memory, ["a", "b"], 29, t);
    assert.equal(d.send, null);
    d = decideGroup(d.memory, ["b", "a"], 30, t);
    assert.deepEqual(d.send, { status: "firing", firing: ["a", "b"], resolved: [] });
    m = d.memory;
    assert.equal(decideGroup(m, ["a", "b"], 1000, t).send, null, "unchanged: no re-send before the repeat interval");
    assert.equal(decideGroup(m, ["a"], 329, t).send, null, "changed: waits the group interval");
    d = decideGroup(m, ["a"], 330, t);
    assert.deepEqual(d.send, { status: "firing", firing: ["a"], resolved: ["b"] });
    m = d.memory;
    assert.deepEqual(decideGroup(m, ["a"], 330 + 4000, t).send?.firing, ["a"], "repeat interval");
    d = decideGroup(m, [], 330 + 300, t);
    assert.deepEqual(d.send, { status: "resolved", firing: [], resolved: ["a"] });
    assert.deepEqual(d.memory, EMPTY_GROUP);
    assert.equal(decideGroup(d.memory, [], 10_000, t).send, null, "nothing more after the resolved notice");
  });
  it("builds the notice and its Slack text", () => {
    const inst: AlertInstance = { key: "d/a/s", labels: { session: "s" }, state: "firing", value: 1.5, activeSince: 0, firedAt: 0, resolvedAt: null };
    const n = buildNotification({ id: "rule_1", name: "cost", severity: "warning", condition: { kind: "session-cost", aboveUsd: 1 } }, 0, { status: "firing", firing: ["d/a/s"], resolved: [] }, new Map([["d/a/s", inst]]), 1000);
    assert.equal(n.alerts[0]!.value, 1.5);
    assert.equal(n.groupKey, "rule_1/0");
    assert.match(notificationText(n), /^\[FIRING:1\] cost \(warning, session-cost\)\n• firing session=s value=1.5$/);
  });
});
