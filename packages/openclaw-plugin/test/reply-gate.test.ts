/**
 * The reply gate's pure parts — config validation, peer identity, the arm/consume/dedupe/watchdog state
 * machine, the wrapper — one test per acceptance behaviour (seed-systems.md §4 "Lorene gate").
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadGateConfig } from "../src/config/load-gate.ts";
import type { ReplyGateInput } from "../src/config/gate-schema.ts";
import { compileGate, decideInbound, decideOutbound, wrapText, type Arm, type CompiledGate, type Inbound } from "../src/gate/decide.ts";
import { normalizePeer } from "../src/gate/peer.ts";

const GROUP = "120363041234567890@g.us";
const PHONE = "+15550100001";
const BOSS = "+15550100009";

function gate(over: Partial<ReplyGateInput> = {}): CompiledGate {
  const l = loadGateConfig({
    replyGate: {
      enabled: true,
      chats: [
        { channel: "whatsapp", peers: ["+1 (555) 010-0001", GROUP], allowedSenders: ["15550100009"] },
        { channel: "telegram", peers: ["-1001234567890"], allowedSenders: ["42"] },
      ],
      ...over,
    },
  });
  assert.equal(l.status, "ok", JSON.stringify(l.issues));
  return compileGate(l.config!);
}

const inbound = (over: Partial<Inbound> = {}): Inbound => ({ channel: "whatsapp", peer: PHONE, sender: BOSS, content: "friday: play the next episode", messageId: "m1", alreadySeen: false, now: 1_000_000, ...over });

describe("reply gate config", () => {
  it("is off by default and when enabled:false", () => {
    assert.equal(loadGateConfig({}).status, "off");
    assert.equal(loadGateConfig({ replyGate: { enabled: false, chats: [{ channel: "x", peers: ["a"], allowedSenders: ["b"] }] } }).status, "off");
  });

  it("names the path of an invalid trigger regex", () => {
    const l = loadGateConfig({ replyGate: { enabled: true, triggerRegex: "^friday:(" } });
    assert.equal(l.status, "invalid");
    assert.equal(l.issues[0]!.path, "plugins.entries.clawtower.config.replyGate.triggerRegex");
    assert.match(l.issues[0]!.message, /not a valid regular expression/);
  });

  it("rejects stateful flags, too-short TTLs, zero uses and unknown keys, each by path", () => {
    const l = loadGateConfig({ replyGate: { enabled: true, triggerFlags: "g", armTtlMs: 1000, maxUsesPerArm: 0, missedResponseTtlMs: 5, protectedTo: ["x"] } });
    assert.equal(l.status, "invalid");
    const paths = l.issues.map((i) => i.path.replace("plugins.entries.clawtower.config.replyGate.", "")).sort();
    assert.deepEqual(paths, ["armTtlMs", "maxUsesPerArm", "missedResponseTtlMs", "protectedTo", "triggerFlags"]);
  });

  it("defaults match the seed: friday:, 120 s, 3 uses, 10 min watchdog, body required", () => {
    const l = loadGateConfig({ replyGate: { enabled: true } });
    assert.equal(l.status, "ok");
    const c = l.config!;
    assert.deepEqual([c.triggerRegex, c.triggerFlags, c.armTtlMs, c.maxUsesPerArm, c.missedResponseTtlMs, c.requireBodyAfterTrigger], ["^\\s*friday:\\s*", "i", 120_000, 3, 600_000, true]);
  });
});

describe("peer identity", () => {
  it("phone numbers become E.164 on phone channels, in any format", () => {
    for (const v of ["+1 (555) 010-0001", "15550100001", "1-555-010-0001", "whatsapp:+15550100001", " +15550100001 "]) assert.equal(normalizePeer("whatsapp", v), PHONE, v);
  });

  it("group and user JIDs are kept as they are, never collapsed into digits", () => {
    assert.equal(normalizePeer("whatsapp", GROUP), GROUP);
    assert.equal(normalizePeer("whatsapp", "15550100001@s.whatsapp.net"), "15550100001@s.whatsapp.net");
    assert.notEqual(normalizePeer("whatsapp", "15550100001-1600000000@g.us"), PHONE);
  });

  it("Telegram and Discord ids stay ids (no +, sign kept)", () => {
    assert.equal(normalizePeer("telegram", "-1001234567890"), "-1001234567890");
    assert.equal(normalizePeer("discord", "123456789012345678"), "123456789012345678");
    assert.equal(normalizePeer("webchat", "agent:main:main"), "agent:main:main");
  });
});

describe("inbound triggers", () => {
  it("arms a protected chat for an allowed sender's trigger, with TTL and uses", () => {
    const g = gate({ armTtlMs: 60_000, maxUsesPerArm: 2 });
    const d = decideInbound(g, inbound());
    assert.equal(d.kind, "armed");
    if (d.kind !== "armed") return;
    assert.deepEqual([d.arm.usesLeft, d.arm.expiresAt], [2, 1_000_000 + 60_000]);
    assert.equal(d.request.status, "received");
    assert.equal(d.request.body, "play the next episode");
    assert.equal(d.request.topic, "media");
  });

  it("ignores unprotected chats, disallowed senders, missing triggers and empty bodies", () => {
    const g = gate();
    assert.deepEqual(decideInbound(g, inbound({ peer: "+15550100002" })), { kind: "ignored", reason: "unprotected-chat" });
    assert.deepEqual(decideInbound(g, inbound({ channel: "signal" })), { kind: "ignored", reason: "unprotected-chat" });
    assert.deepEqual(decideInbound(g, inbound({ sender: "+15550100003" })), { kind: "ignored", reason: "sender-not-allowed" });
    assert.deepEqual(decideInbound(g, inbound({ content: "hey, play something" })), { kind: "ignored", reason: "no-trigger" });
    assert.deepEqual(decideInbound(g, inbound({ content: "Friday:  ?!" })), { kind: "ignored", reason: "empty-body" });
    assert.equal(decideInbound(gate({ requireBodyAfterTrigger: false }), inbound({ content: "friday:" })).kind, "armed");
  });

  it("a redelivered message (same messageId) neither re-arms nor resets uses", () => {
    assert.deepEqual(decideInbound(gate(), inbound({ alreadySeen: true })), { kind: "duplicate" });
  });

  it("a group JID and the phone number in it are different chats", () => {
    const g = gate();
    assert.equal(decideInbound(g, inbound({ peer: GROUP })).kind, "armed");
    assert.equal(decideInbound(g, inbound({ peer: "120363041234567890" })).kind, "ignored");
  });

  it("several peers per channel, and the same rules on any channel", () => {
    const g = gate();
    assert.equal(decideInbound(g, inbound({ channel: "telegram", peer: "-1001234567890", sender: "42" })).kind, "armed");
    assert.equal(decideInbound(g, inbound({ channel: "telegram", peer: "-1001234567890", sender: BOSS })).kind, "ignored");
  });

  it("uses the configured regex and flags", () => {
    const g = gate({ triggerRegex: "^jarvis[,:]\\s*", triggerFlags: "" });
    assert.equal(decideInbound(g, inbound({ content: "jarvis, lights" })).kind, "armed");
    assert.equal(decideInbound(g, inbound({ content: "JARVIS, lights" })).kind, "ignored");
  });
});

describe("outbound replies", () => {
  const arm = (over: Partial<Arm> = {}): Arm => ({ channel: "whatsapp", peer: PHONE, requestId: "r1", sender: BOSS, expiresAt: 2_000_000, usesLeft: 3, ...over });
  const out = (g: CompiledGate, a: Arm | null, now = 1_500_000, pending: { id: string; createdAt: number } | null = null) =>
    decideOutbound(g, { channel: "whatsapp", peer: PHONE, content: "ok", arm: a, pending, now });

  it("blocks an unarmed reply to a protected chat", () => {
    const d = out(gate(), null);
    assert.equal(d.verdict, "block");
    assert.equal(d.verdict === "block" && d.reason, "not-armed");
  });

  it("passes replies to other chats untouched", () => {
    const d = decideOutbound(gate(), { channel: "whatsapp", peer: "+15550100002", content: "hi", arm: null, pending: null, now: 1 });
    assert.deepEqual(d, { verdict: "pass", content: "hi", wrapped: false });
  });

  it("allows exactly maxUsesPerArm replies; each slides the TTL; the last deletes the arm", () => {
    const g = gate({ maxUsesPerArm: 3, armTtlMs: 60_000 });
    let a: Arm | null = arm({ usesLeft: 3 });
    const allowed: number[] = [];
    for (let i = 0; i < 4; i++) {
      const now = 1_500_000 + i * 1000;
      const d = out(g, a, now);
      if (d.verdict !== "allow") break;
      allowed.push(d.usesLeft);
      if (d.arm) assert.equal(d.arm.expiresAt, now + 60_000);
      a = d.arm;
    }
    assert.deepEqual(allowed, [2, 1, 0]);
    assert.equal(a, null);
    assert.equal(out(g, a).verdict, "block");
  });

  it("an expired arm does not allow", () => {
    assert.equal(out(gate(), arm({ expiresAt: 1_500_000 }), 1_500_000).verdict, "block");
  });

  it("watchdog: one late reply for an unanswered trigger younger than missedResponseTtlMs", () => {
    const g = gate({ missedResponseTtlMs: 600_000 });
    const d = out(g, arm({ expiresAt: 1_000 }), 1_500_000, { id: "r1", createdAt: 1_500_000 - 599_000 });
    assert.equal(d.verdict, "allow");
    assert.ok(d.verdict === "allow" && d.via === "watchdog" && d.arm === null && d.requestId === "r1");
  });

  it("watchdog: an older unanswered trigger is marked missed and the reply blocked", () => {
    const d = out(gate({ missedResponseTtlMs: 600_000 }), null, 1_500_000, { id: "r1", createdAt: 1_500_000 - 600_001 });
    assert.deepEqual(d.verdict === "block" && [d.reason, d.missedRequestId], ["request-missed", "r1"]);
  });

  it("wraps text to wrapper chats exactly once, protected or not", () => {
    const g = gate({ wrapper: { chats: [{ channel: "whatsapp", peers: ["+15550100002", PHONE] }], prefix: "<<", suffix: ">>" } });
    const d = decideOutbound(g, { channel: "whatsapp", peer: "+15550100002", content: " hi ", arm: null, pending: null, now: 1 });
    assert.deepEqual(d, { verdict: "pass", content: "<<\nhi\n>>", wrapped: true });
    assert.deepEqual(decideOutbound(g, { channel: "whatsapp", peer: "+15550100002", content: "<<\nhi\n>>", arm: null, pending: null, now: 1 }), { verdict: "pass", content: "<<\nhi\n>>", wrapped: false });
    const a = decideOutbound(g, { channel: "whatsapp", peer: PHONE, content: "x", arm: arm(), pending: null, now: 1 });
    assert.equal(a.verdict === "allow" && a.content, "<<\nx\n>>");
    assert.equal(wrapText("", "<<", ">>"), "");
    assert.equal(wrapText(wrapText("a", "<<", ">>"), "<<", ">>"), "<<\na\n>>");
  });
});
