/**
 * `node bench/reply-gate.ts [--calls 50000] [--peers 200]`
 *
 * The reply gate's message_sending handler, each call timed alone → p50 / p99 / max, on real SQLite (WAL)
 * in a temp dir, no network: a channel the gate does not watch, an unprotected chat on a gated channel
 * (wrapper only), a protected chat without an arm (blocked: one transaction, one audit row), and a
 * protected chat with an arm (allowed: one use spent, re-armed off the clock when it runs out).
 * message_received (a trigger: dedupe row, request, arm, audit row) is timed too. Target: p99 ≤ 0.2 ms.
 */
import os from "node:os";
import path from "node:path";
import { tmpDir } from "@clawtower/testkit";
import { ReplyGate } from "../packages/openclaw-plugin/src/gate/gate.ts";

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const CALLS = Number(arg("calls", "50000"));
const PEERS = Number(arg("peers", "200"));

const dir = tmpDir("ct-bench-gate-");
const peers = Array.from({ length: PEERS }, (_, i) => `+1555${String(i).padStart(7, "0")}`);
const silent = { info() {}, warn() {}, error() {} };
const gate = new ReplyGate();
gate.configure(
  {
    replyGate: {
      enabled: true,
      dbPath: path.join(dir, "gate.sqlite"),
      maxUsesPerArm: 1000,
      chats: [
        { channel: "whatsapp", peers: [...peers, "120363041234567890@g.us"], allowedSenders: ["+15550000001"] },
        { channel: "telegram", peers: ["-1001234567890"], allowedSenders: ["42"] },
      ],
      wrapper: { chats: [{ channel: "whatsapp", peers: ["+15559999999"] }] },
    },
  },
  () => dir,
  silent,
);
if (gate.state !== "ready" || !gate.open()) throw new Error(`gate ${gate.state}: ${gate.problem}`);

let n = 0;
const armed = "+15550000000";
const trigger = (id: string) => gate.messageReceived({ from: "+15550000001", content: "friday: next episode please", messageId: id }, { channelId: "whatsapp", conversationId: armed });
trigger("seed");
const targets: [string, () => unknown][] = [
  ["sending: other channel", () => gate.messageSending({ to: "agent:main:main", content: "hi" }, { channelId: "webchat" })],
  ["sending: unprotected chat", () => gate.messageSending({ to: "+15559999999", content: "hi" }, { channelId: "whatsapp" })],
  ["sending: blocked", () => gate.messageSending({ to: peers[(n++ % (PEERS - 1)) + 1]!, content: "not armed" }, { channelId: "whatsapp" })],
  ["sending: allowed", () => gate.messageSending({ to: armed, content: "here you go" }, { channelId: "whatsapp" })],
  ["received: trigger", () => trigger(`m-${n++}`)],
];
const rows: [string, number, number, number][] = [];
for (const [name, call] of targets) {
  for (let i = 0; i < 1000; i++) call();
  const samples = new Float64Array(CALLS);
  for (let i = 0; i < CALLS; i++) {
    // The arm has 1000 uses: re-arm off the clock before it runs out.
    if (name === "sending: allowed" && i % 900 === 0) trigger(`re-${i}`);
    const t0 = process.hrtime.bigint();
    call();
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  samples.sort();
  rows.push([name, samples[Math.floor(CALLS * 0.5)]!, samples[Math.floor(CALLS * 0.99)]!, samples[CALLS - 1]!]);
}
process.stdout.write(`\nreply gate, ${PEERS} protected peers, real SQLite (WAL): ${CALLS.toLocaleString()} calls per row, each timed alone (ns)\n`);
process.stdout.write(`${"handler".padEnd(26)} ${"p50".padStart(8)} ${"p99".padStart(8)} ${"max".padStart(10)}\n`);
for (const [name, p50, p99, max] of rows) process.stdout.write(`${name.padEnd(26)} ${String(p50).padStart(8)} ${String(p99).padStart(8)} ${String(max).padStart(10)}\n`);
const worst = Math.max(...rows.filter((r) => r[0].startsWith("sending")).map((r) => r[2]));
// On a shared machine the tail is mostly time the core spent on other processes: print the load with it.
process.stdout.write(`worst message_sending p99 ${(worst / 1e6).toFixed(4)} ms (target 0.2 ms): ${worst <= 200_000 ? "OK" : "OVER"}; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores\n`);
gate.close();
