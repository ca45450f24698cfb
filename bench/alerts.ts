/**
 * Alerts bench (run by hand: `node bench/alerts.ts`): ingest throughput through a real hub over HTTP with 0 and
 * 100 rules (the evaluator runs in the same process, as in `clawtower serve`), and the latency from the ingest
 * request that makes a rule fire to the webhook receiver getting the notice (group wait 0). Six requests per
 * run by default (BENCH_ALERT_REQUESTS): longer runs ended in ECONNRESET from fetch on a loaded machine (not diagnosed).
 */
import path from "node:path";
import { createPriceBook, type AlertRuleInput } from "@clawtower/core";
import { startHub, type RunningHub } from "@clawtower/hub";
import { addAlertRule, createApiKey, openStore, type StoreConnection } from "@clawtower/store";
import { tmpDir } from "@clawtower/testkit";
import { sessionLines, startWebhookReceiver } from "@clawtower/testkit/webhook-receiver";

const REQUESTS = Number(process.env["BENCH_ALERT_REQUESTS"] ?? 6);
const SESSIONS_PER_REQUEST = 20;
const CALLS_PER_SESSION = 5;

function hundredRules(url: string): AlertRuleInput[] {
  const kinds: AlertRuleInput["condition"][] = [
    { kind: "session-cost", aboveUsd: 1000 },
    { kind: "session-tokens", aboveTokens: 10_000_000 },
    { kind: "window-spend", window: "day", tz: "Europe/Berlin", aboveUsd: 1e6 },
    { kind: "spend-spike", window: "hour", factor: 100, baselineWindows: 24, minUsd: 1e6 },
    { kind: "error-rate", windowMinutes: 60, aboveRatio: 0.99, minCalls: 1e6 },
    { kind: "tool-error-rate", windowMinutes: 60, aboveRatio: 0.99, minCalls: 1e6 },
    { kind: "tool-loop", repeats: 50 },
    { kind: "context-bloat", abovePromptTokens: 10_000_000, growingCalls: 50 },
    { kind: "stuck-session", idleMinutes: 600 },
    { kind: "window-spend", window: "month", aboveUsd: 1e6 },
  ];
  return Array.from({ length: 100 }, (_, i) => ({
    name: `bench-${i}`,
    condition: kinds[i % kinds.length]!,
    scope: i % 3 === 0 ? { agent: "main" } : i % 3 === 1 ? { channel: "webchat" } : {},
    channels: [{ type: "webhook" as const, url }],
  }));
}

async function setup(rules: number, url: string): Promise<{ conn: StoreConnection; hub: RunningHub; key: string }> {
  const conn = await openStore({ kind: "sqlite", path: path.join(tmpDir("ct-bench-alerts-"), "clawtower.db") });
  const key = (await createApiKey(conn, { deploymentId: "gw-bench" }, Date.now())).token;
  if (rules) for (const r of hundredRules(url)) await addAlertRule(conn, r, Date.now());
  const hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: null, log: () => {}, alerts: { tickMs: 5_000 } });
  return { conn, hub, key };
}

async function ingestRun(rules: number, url: string, run: number): Promise<number> {
  const { conn, hub, key } = await setup(rules, url);
  const t0 = performance.now();
  for (let r = 0; r < REQUESTS; r++) {
    const body = Array.from({ length: SESSIONS_PER_REQUEST }, (_, s) => sessionLines(`r${run}-q${r}-s${s}`, Array(CALLS_PER_SESSION).fill(0.001), { channel: "webchat" })).join("\n");
    const res = await fetch(`${hub.url}/api/v1/ingest/events`, { method: "POST", body, headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" } });
    if (res.status !== 200) throw new Error(`ingest ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  }
  const seconds = (performance.now() - t0) / 1000;
  await hub.alerts?.runNow(); // the evaluator catches up before the next run
  await hub.close();
  await conn.close();
  const lines = REQUESTS * SESSIONS_PER_REQUEST * (1 + 2 * CALLS_PER_SESSION);
  return lines / seconds;
}

const receiver = await startWebhookReceiver();
const results: Record<string, number[]> = { "0 rules": [], "100 rules": [] };
for (let i = 0; i < 3; i++) {
  results["0 rules"]!.push(await ingestRun(0, receiver.url, i * 2));
  results["100 rules"]!.push(await ingestRun(100, receiver.url, i * 2 + 1));
}
const best = (xs: number[]) => Math.max(...xs);
for (const [k, v] of Object.entries(results)) console.log(`ingest, ${k}: best ${Math.round(best(v))} lines/s (runs: ${v.map(Math.round).join(", ")})`);
console.log(`cost of 100 rules: ${(((best(results["0 rules"]!) - best(results["100 rules"]!)) / best(results["0 rules"]!)) * 100).toFixed(1)} % of best throughput`);

// Fire-to-notify: each request makes one new session cross $1; group wait and interval 0.
const conn = await openStore({ kind: "sqlite", path: path.join(tmpDir("ct-bench-alerts-"), "clawtower.db") });
const key = (await createApiKey(conn, { deploymentId: "gw-bench" }, Date.now())).token;
await addAlertRule(conn, { name: "latency", condition: { kind: "session-cost", aboveUsd: 1 }, channels: [{ type: "webhook", url: receiver.url, groupWaitMs: 0, groupIntervalMs: 0 }] }, Date.now());
const hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: null, log: () => {} });
await new Promise((r) => setTimeout(r, 300));
const latencies: number[] = [];
for (let i = 0; i < 10; i++) {
  const before = receiver.received.length;
  const t0 = Date.now();
  await fetch(`${hub.url}/api/v1/ingest/events`, { method: "POST", body: sessionLines(`lat-${i}`, [2]), headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" } }).then((r) => r.arrayBuffer());
  const got = await receiver.waitFor(before + 1, 10_000);
  latencies.push(got.at(-1)!.at - t0);
  await new Promise((r) => setTimeout(r, 100));
}
latencies.sort((a, b) => a - b);
console.log(`fire-to-notify: p50 ${latencies[4]} ms, max ${latencies.at(-1)} ms (10 firings)`);
await hub.close();
await conn.close();
await receiver.close();
