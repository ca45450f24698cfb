/**
 * The reply gate on real SQLite, driven through the plugin's registered hooks (fake host): arms survive a
 * restart (a new process opening the same file), a redelivered trigger does nothing, uses are never spent
 * twice by two processes, every request / allowed / blocked reply is recorded, a database that cannot be
 * opened turns the gate off without throwing, and `gate status` reports it.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { tmpDir } from "@clawtower/testkit";
import { loadGateConfig } from "../src/config/load-gate.ts";
import { compileGate } from "../src/gate/decide.ts";
import { ReplyGate } from "../src/gate/gate.ts";
import { buildGateReport, gateCommand } from "../src/gate/report.ts";
import { GateStore } from "../src/gate/store.ts";
import { registerClawtower } from "../src/plugin.ts";
import { HookQueue } from "../src/live/hook-queue.ts";
import { fakeHost } from "./fake-host.ts";

const GROUP = "120363041234567890@g.us";
const PHONE = "+15550100001";
const BOSS = "+15550100009";

function pluginConfig(dir: string, over: Record<string, unknown> = {}) {
  return {
    replyGate: {
      enabled: true,
      dbPath: path.join(dir, "gate.sqlite"),
      maxUsesPerArm: 2,
      chats: [{ channel: "whatsapp", peers: [PHONE, GROUP], allowedSenders: [BOSS] }],
      ...over,
    },
  };
}

/** One "process": a fresh gate registered through the plugin, as the Gateway does. */
function gatewayProcess(cfg: Record<string, unknown>) {
  const host = fakeHost("full", cfg);
  const gate = new ReplyGate();
  registerClawtower(host.api, { queue: new HookQueue(), hooks: { active: false }, gate });
  const received = host.hook("message_received");
  const sending = host.hook("message_sending");
  return {
    gate,
    trigger: (peer: string, messageId: string, content = "friday: what's on the calendar?") =>
      received({ from: "15550100009", content, messageId }, { channelId: "whatsapp", conversationId: peer }),
    reply: (to: string, content = "Your next meeting is at 3.") => sending({ to, content }, { channelId: "whatsapp", conversationId: to }) as { cancel?: boolean; cancelReason?: string; content?: string } | undefined,
  };
}

describe("reply gate with its SQLite", () => {
  it("does nothing when off: replies pass, no database is created", () => {
    const dir = tmpDir("ct-gate-");
    const p = gatewayProcess(pluginConfig(dir, { enabled: false }));
    p.trigger(PHONE, "m");
    assert.equal(p.reply(PHONE), undefined);
    assert.equal(p.gate.state, "off");
    assert.ok(!fs.existsSync(path.join(dir, "gate.sqlite")));
  });

  it("blocks unarmed, allows maxUsesPerArm after a trigger, ignores a redelivery, keeps the group apart", () => {
    const dir = tmpDir("ct-gate-");
    const p = gatewayProcess(pluginConfig(dir));
    assert.equal(p.reply(PHONE)?.cancel, true);
    p.trigger(PHONE, "wamid-1");
    assert.equal(p.reply(PHONE), undefined);
    p.trigger(PHONE, "wamid-1"); // redelivered: must not reset uses
    assert.equal(p.reply("+1 555 010 0001"), undefined);
    assert.equal(p.reply(PHONE)?.cancel, true);
    assert.equal(p.reply(GROUP)?.cancel, true, "the group was never armed");
    p.trigger(GROUP, "wamid-2");
    assert.equal(p.reply(GROUP), undefined);
    assert.equal(p.reply(PHONE)?.cancel, true, "arming the group does not arm the phone");
    const r = buildGateReport(pluginConfig(dir), dir, Date.now());
    assert.deepEqual(r.last24h, { request: 2, allowed: 3, blocked: 4, missed: 0 });
    const group = r.chats.find((c) => c.peer === GROUP)!;
    assert.deepEqual([group.armed, group.usesLeft, group.lastRequest?.sender, group.lastRequest?.topic], [true, 1, BOSS, "scheduling"]);
    assert.equal(r.recentEvents.find((e) => e.kind === "blocked")?.reason, "not-armed");
    assert.equal(r.recentEvents.find((e) => e.kind === "allowed")?.content, "Your next meeting is at 3.");
  });

  it("an arm survives a restart: a new process lets the reply through within the TTL", () => {
    const dir = tmpDir("ct-gate-");
    const first = gatewayProcess(pluginConfig(dir));
    first.trigger(PHONE, "wamid-9");
    first.gate.close();
    const second = gatewayProcess(pluginConfig(dir));
    second.trigger(PHONE, "wamid-9"); // the channel redelivers after the restart
    assert.equal(second.reply(PHONE), undefined);
    assert.equal(second.reply(PHONE), undefined);
    assert.equal(second.reply(PHONE)?.cancel, true);
  });

  it("two processes on one file never spend the same use twice", () => {
    const dir = tmpDir("ct-gate-");
    const g = compileGate(loadGateConfig(pluginConfig(dir, { maxUsesPerArm: 3 })).config!);
    const a = new GateStore(path.join(dir, "gate.sqlite"));
    const b = new GateStore(path.join(dir, "gate.sqlite"));
    const now = Date.now();
    a.inbound(g, { channel: "whatsapp", peer: PHONE, sender: BOSS, content: "friday: hi", messageId: "x", now });
    const verdicts = [a, b, a, b, a].map((s) => s.outbound(g, { channel: "whatsapp", peer: PHONE, content: "r", now: now + 1 }).verdict);
    assert.deepEqual(verdicts, ["allow", "allow", "allow", "block", "block"]);
    a.close();
    b.close();
  });

  it("the watchdog grants one late reply after the arm expired, then blocks", () => {
    const dir = tmpDir("ct-gate-");
    const g = compileGate(loadGateConfig(pluginConfig(dir, { armTtlMs: 15_000, missedResponseTtlMs: 60_000 })).config!);
    const s = new GateStore(path.join(dir, "gate.sqlite"));
    const t0 = Date.now();
    s.inbound(g, { channel: "whatsapp", peer: PHONE, sender: BOSS, content: "friday: hi", messageId: "w", now: t0 });
    const late = s.outbound(g, { channel: "whatsapp", peer: PHONE, content: "sorry, late", now: t0 + 20_000 });
    assert.equal(late.verdict === "allow" && late.via, "watchdog");
    assert.equal(s.outbound(g, { channel: "whatsapp", peer: PHONE, content: "again", now: t0 + 21_000 }).verdict, "block");
    // A second trigger nobody answered in time is marked missed.
    s.inbound(g, { channel: "whatsapp", peer: PHONE, sender: BOSS, content: "friday: hello?", messageId: "w2", now: t0 + 30_000 });
    const tooLate = s.outbound(g, { channel: "whatsapp", peer: PHONE, content: "x", now: t0 + 30_000 + 60_001 });
    assert.equal(tooLate.verdict === "block" && tooLate.reason, "request-missed");
    assert.equal(s.chat("whatsapp", PHONE).lastRequest?.status, "missed");
    s.close();
  });

  it("a newer trigger supersedes an unanswered one: the watchdog never answers the old one later", () => {
    const dir = tmpDir("ct-gate-");
    const g = compileGate(loadGateConfig(pluginConfig(dir, { armTtlMs: 15_000, maxUsesPerArm: 1, missedResponseTtlMs: 600_000 })).config!);
    const s = new GateStore(path.join(dir, "gate.sqlite"));
    const t0 = Date.now();
    s.inbound(g, { channel: "whatsapp", peer: PHONE, sender: BOSS, content: "friday: first", messageId: "s1", now: t0 });
    s.inbound(g, { channel: "whatsapp", peer: PHONE, sender: BOSS, content: "friday: second", messageId: "s2", now: t0 + 1000 });
    assert.equal(s.outbound(g, { channel: "whatsapp", peer: PHONE, content: "answer", now: t0 + 2000 }).verdict, "allow");
    assert.equal(s.outbound(g, { channel: "whatsapp", peer: PHONE, content: "extra", now: t0 + 3000 }).verdict, "block");
    s.close();
  });

  it("a database that cannot be opened turns the gate off, with the error in status, and never throws", () => {
    const dir = tmpDir("ct-gate-");
    const bad = path.join(dir, "not-a-db.sqlite");
    fs.writeFileSync(bad, "this is not a SQLite database, it is plain text long enough to fill a header page.".repeat(20));
    const cfg = pluginConfig(dir, { dbPath: bad });
    const p = gatewayProcess(cfg);
    assert.doesNotThrow(() => p.trigger(PHONE, "m"));
    assert.equal(p.reply(PHONE), undefined);
    assert.equal(p.gate.state, "error");
    assert.match(p.gate.problem ?? "", /cannot open .*not-a-db\.sqlite/);
    let printed = "";
    assert.equal(gateCommand(cfg, dir, true, (s) => (printed += s)), 2);
    assert.equal(JSON.parse(printed).gate, "error");
  });

  it("an invalid trigger regex turns the gate off and names the path", () => {
    const dir = tmpDir("ct-gate-");
    const p = gatewayProcess(pluginConfig(dir, { triggerRegex: "(" }));
    assert.equal(p.gate.state, "invalid");
    assert.match(p.gate.problem ?? "", /replyGate\.triggerRegex: not a valid regular expression/);
    assert.equal(p.reply(PHONE), undefined);
  });

  it("wraps text to wrapper chats once, through the hook", () => {
    const dir = tmpDir("ct-gate-");
    const p = gatewayProcess(pluginConfig(dir, { wrapper: { chats: [{ channel: "whatsapp", peers: ["+15550100002"] }], prefix: "<<", suffix: ">>" } }));
    assert.deepEqual(p.reply("+15550100002", "hi"), { content: "<<\nhi\n>>" });
    assert.equal(p.reply("+15550100002", "<<\nhi\n>>"), undefined);
  });

  it("the database is private (0600)", () => {
    const dir = tmpDir("ct-gate-");
    const p = gatewayProcess(pluginConfig(dir));
    p.trigger(PHONE, "m");
    assert.equal(fs.statSync(path.join(dir, "gate.sqlite")).mode & 0o777, 0o600);
  });
});
