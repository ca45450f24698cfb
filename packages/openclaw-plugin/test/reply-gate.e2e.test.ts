/**
 * The reply gate in the real host (openclaw@2026.9.6, `openclaw gateway run`, the plugin installed from its
 * `npm pack` tarball), against the fake LLM.
 *
 * Channel: webchat, driven by the Gateway's `chat.send`. It is the one shipped channel that runs on
 * loopback without an external service, and it fires both message_received (ctx.channelId "webchat",
 * conversationId = the session key, senderId "cli", messageId = the idempotencyKey) and message_sending
 * (to = the session key). The gate is channel-agnostic, so protecting webchat sessions exercises the same
 * path a WhatsApp chat takes. What webchat cannot carry are phone numbers and JIDs as peers: the
 * "group JID stays distinct from a phone number" rule is proven through the registered hooks on real SQLite
 * in reply-gate-store.test.ts, here only as "arming one chat never arms another".
 *
 * Gateway 1 (armTtlMs 600 s, so R outlives the restart; 2 uses): an unarmed reply is blocked; a trigger allows 2 replies, the third is
 * blocked; the trigger re-sent with the same idempotencyKey does not re-arm; chat R is triggered.
 * Gateway 2 (a restart; armTtlMs 15 s, watchdog 10 min — a loaded machine makes turns slow): R's persisted arm lets the next reply through; a
 * trigger whose reply comes after its 15 s arm expired gets exactly one late reply from the watchdog.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { tmpDir } from "@clawtower/testkit";
import { startFakeLlm, type FakeLlmOptions, type FakeLlmServer } from "@clawtower/testkit/fake-llm";
import { createOpenClawHome, ensureOpenClaw, parseJsonOutput, runOpenClaw, startGateway, type Gateway, type OpenClawHome } from "@clawtower/testkit/openclaw-host";
import { packPlugin, waitFor } from "./e2e-helpers.ts";

const A = "agent:main:gate-a";
const R = "agent:main:gate-r";
const W = "agent:main:gate-w";
const OTHER = "agent:main:gate-other";

type Ev = { id: number; kind: string; peer: string; via: string | null; reason: string | null; uses_left: number | null; request_id: string | null };



describe("reply gate in OpenClaw 2026.9.6", { timeout: 900_000 }, () => {
  const llmOptions: FakeLlmOptions = {};
  let llm: FakeLlmServer;
  let home: OpenClawHome;
  let dbFile: string;
  let gw: Gateway | null = null;

  const writeGateConfig = (over: Record<string, unknown>) => {
    const file = path.join(home.stateDir, "openclaw.json");
    const cfg = JSON.parse(fs.readFileSync(file, "utf8"));
    cfg.plugins.entries.clawtower = {
      ...cfg.plugins.entries.clawtower,
      enabled: true,
      config: {
        live: { enabled: false, forward: false },
        replyGate: { enabled: true, chats: [{ channel: "webchat", peers: [A, R, W], allowedSenders: ["cli"] }], maxUsesPerArm: 2, ...over },
      },
    };
    fs.writeFileSync(file, `${JSON.stringify(cfg, null, 2)}\n`);
  };

  /** Gate events after `afterId`, read from the gate's own SQLite (read-only). */
  const events = (afterId = 0): Ev[] => {
    if (!fs.existsSync(dbFile)) return [];
    const db = new DatabaseSync(dbFile, { readOnly: true, timeout: 5000 });
    try {
      return db.prepare(`SELECT id, kind, peer, via, reason, uses_left, request_id FROM gate_events WHERE id > ? ORDER BY id`).all(afterId) as Ev[];
    } catch (e) {
      // The gate creates the file a moment before its tables.
      if (/no such table/.test((e as Error).message)) return [];
      throw e;
    } finally {
      db.close();
    }
  };
  const lastId = () => events().at(-1)?.id ?? 0;
  /** Sends one chat message and waits for the gate's verdict on its reply. */
  const turn = async (sessionKey: string, message: string, idempotencyKey: string): Promise<Ev> => {
    const from = lastId();
    await gw!.call("chat.send", { sessionKey, message, idempotencyKey });
    return waitFor(`the gate's verdict on the reply to ${idempotencyKey}`, () => events(from).find((e) => e.peer === sessionKey && (e.kind === "allowed" || e.kind === "blocked")), 120_000);
  };

  before(async () => {
    const [install, tarball] = await Promise.all([ensureOpenClaw("2026.9.6"), packPlugin()]);
    llm = await startFakeLlm(llmOptions);
    home = await createOpenClawHome({ dir: tmpDir("ct-oc-gate-"), fakeLlmBaseUrl: llm.baseUrl, install });
    const inst = await runOpenClaw(home, ["plugins", "install", `npm-pack:${tarball}`, "--force", "--accept-capabilities"], { timeoutMs: 240_000 });
    assert.equal(inst.code, 0, inst.stderr.slice(-2000) + inst.stdout.slice(-2000));
    dbFile = path.join(home.stateDir, "clawtower", "reply-gate.sqlite");
    writeGateConfig({ armTtlMs: 600_000 });
  });
  after(async () => {
    await gw?.stop();
    await llm?.close();
  });

  it("gateway 1: blocks unarmed, allows maxUsesPerArm after a trigger, ignores the redelivered trigger", async (t) => {
    gw = await startGateway(home, { readyTimeoutMs: 300_000 });
    const [unarmed, rTriggered] = await Promise.all([turn(A, "hello, nobody asked you", "a1"), turn(R, "friday: remember the restart test", "r1")]);
    assert.deepEqual([unarmed.kind, unarmed.reason], ["blocked", "not-armed"]);
    assert.deepEqual([rTriggered.kind, rTriggered.via, rTriggered.uses_left], ["allowed", "arm", 1]);
    const first = await turn(A, "friday: what is on today?", "a2");
    assert.deepEqual([first.kind, first.via, first.uses_left], ["allowed", "arm", 1]);
    const second = await turn(A, "and one more thing", "a3");
    assert.deepEqual([second.kind, second.uses_left], ["allowed", 0]);
    // The trigger again, same message id: the host may or may not run it again; either way it must not re-arm.
    const llmBefore = llm.requests.length;
    const from = lastId();
    await gw.call("chat.send", { sessionKey: A, message: "friday: what is on today?", idempotencyKey: "a2" });
    await new Promise((r) => setTimeout(r, 3000));
    const rerun = llm.requests.length > llmBefore;
    t.diagnostic(`the host ${rerun ? "ran the redelivered message again" : "answered the redelivered idempotencyKey itself (no new turn, no hooks)"}`);
    if (rerun) await waitFor("the redelivery's verdict", () => events(from).find((e) => e.peer === A && e.kind !== "request"), 120_000);
    assert.equal(events(from).filter((e) => e.kind === "request").length, 0, "a redelivered trigger must not create a request or re-arm");
    const third = await turn(A, "and yet another thing", "a4");
    assert.deepEqual([third.kind, third.reason], ["blocked", "not-armed"]);
    assert.equal(events().filter((e) => e.peer === OTHER).length, 0);
    // Arming A and R never armed W.
    const status = await runOpenClaw(home, ["clawtower", "gate", "status", "--json"], { timeoutMs: 120_000 });
    assert.equal(status.code, 0, status.stderr.slice(-2000));
    const report = parseJsonOutput(status.stdout) as { gate: string; chats: { peer: string; armed: boolean; usesLeft: number }[]; last24h: Record<string, number> };
    assert.equal(report.gate, "ready");
    assert.deepEqual(report.chats.map((c) => [c.peer, c.armed, c.usesLeft]), [[A, false, 0], [R, true, 1], [W, false, 0]]);
    assert.deepEqual(report.last24h, { request: 2, allowed: 3, blocked: 2, missed: 0 });
  });

  it("gateway 2 (a restart): the persisted arm lets the reply through; the watchdog grants one late reply", async () => {
    await gw!.stop();
    writeGateConfig({ armTtlMs: 15_000, missedResponseTtlMs: 600_000 });
    gw = await startGateway(home, { readyTimeoutMs: 300_000 });
    // Every answer now comes 20 s late: past W's 15 s arm, inside its watchdog window.
    llmOptions.latencyMs = 20_000;
    const [persisted, late] = await Promise.all([turn(R, "continue please", "r2"), turn(W, "friday: take your time", "w1")]);
    llmOptions.latencyMs = 0;
    assert.deepEqual([persisted.kind, persisted.via], ["allowed", "arm"], `the arm written before the restart still holds (${persisted.reason})`);
    assert.deepEqual([late.kind, late.via], ["allowed", "watchdog"], `the late reply (${late.reason})`);
    const again = await turn(W, "anything else?", "w2");
    assert.deepEqual([again.kind, again.reason], ["blocked", "not-armed"], "the watchdog grants exactly one reply");
  });
});
