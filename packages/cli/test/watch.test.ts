/**
 * `clawtower watch` parts: filters, change detection and its state file, the pushers' retry/keep/drop rules
 * (against a real loopback HTTP server), and the loop's max-errors exit, against a real hub and the loopback
 * fake gateway (a failing gateway cannot be made from the real one on demand).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createPriceBook } from "@clawtower/core";
import { createApiKey, openStore, type StoreConnection } from "@clawtower/store";
import { startHub } from "@clawtower/hub";
import { tmpDir } from "@clawtower/testkit";
import { fakeGatewaySessions, startFakeGateway } from "@clawtower/testkit/fake-gateway";
import { ChangeState, fingerprintOf } from "../src/watch/change-detector.ts";
import { loadOrCreateDeviceIdentity } from "../src/watch/device-identity.ts";
import { DEFAULT_KINDS, filterSessions } from "../src/watch/filters.ts";
import { postJson, PushFailedError } from "../src/watch/push.ts";
import { kindOf, statusOf, toWatchedSession, type WatchedSession } from "../src/watch/session-rows.ts";
import { toTelemetryEvent, traceIdOf } from "../src/watch/telemetry.ts";
import { Watcher, type SinkTarget } from "../src/watch/watcher.ts";
import type { WatchLogger } from "../src/watch/watch-log.ts";

const NOW = Date.UTC(2026, 11, 8, 12, 0, 0);

function session(over: Partial<WatchedSession> = {}): WatchedSession {
  return {
    sessionId: "s1",
    sessionKey: "agent:main:s1",
    agentId: "main",
    kind: "other",
    label: "s1",
    channel: null,
    status: "idle",
    provider: "fake",
    model: "fake-model",
    inputTokens: 100,
    outputTokens: 20,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0.001,
    contextTokens: 1200,
    contextWindow: 128_000,
    updatedAt: NOW - 60_000,
    lastActivityAt: NOW - 60_000,
    ...over,
  };
}

const filters = { kinds: new Set(DEFAULT_KINDS), activeMinutes: 30, minTokens: 10 };

describe("watch filters", () => {
  it("excludes cron by default, stale, tiny and duplicate sessions, each with its reason", () => {
    const reasons: string[] = [];
    const kept = filterSessions(
      [
        session({ sessionId: "a" }),
        session({ sessionId: "cron", kind: "cron" }),
        session({ sessionId: "old", lastActivityAt: NOW - 31 * 60_000 }),
        session({ sessionId: "oldrun", status: "running", lastActivityAt: NOW - 90 * 60_000 }),
        session({ sessionId: "tiny", inputTokens: 5, outputTokens: 4 }),
        session({ sessionId: "unknown", inputTokens: null, outputTokens: null }),
        session({ sessionId: "a", label: "dup" }),
      ],
      filters,
      NOW,
      (s, d) => reasons.push(`${s.sessionId}:${d.keep}:${d.reason}`),
    );
    assert.deepEqual(kept.map((s) => s.sessionId), ["a", "oldrun", "unknown"]);
    assert.match(reasons[1]!, /cron:false:kind cron not watched/);
    assert.match(reasons[2]!, /old:false:inactive for 31 min/);
    assert.match(reasons[4]!, /tiny:false:9 tokens \(< 10\)/);
    assert.match(reasons[6]!, /a:false:duplicate/);
    assert.equal(filterSessions([session({ kind: "cron" })], { ...filters, kinds: new Set([...DEFAULT_KINDS, "cron" as const]) }, NOW).length, 1);
  });

  it("maps gateway rows: kind from the key, status from the run state, totals only from usage", () => {
    assert.equal(kindOf({ key: "agent:main:cron:nightly" }), "cron");
    assert.equal(kindOf({ key: "agent:main:subagent:abc" }), "subagent");
    assert.equal(kindOf({ key: "agent:main:main" }), "main");
    assert.equal(kindOf({ key: "agent:main:x", kind: "group" }), "group");
    assert.equal(statusOf({ hasActiveRun: true, status: "running" }), "running");
    assert.equal(statusOf({ hasActiveRun: false, abortedLastRun: true }), "aborted");
    assert.equal(statusOf({ status: "failed" }), "error");
    assert.equal(statusOf({ status: "done" }), "idle");
    const row = { key: "agent:main:p", sessionId: "id1", agentId: "main", inputTokens: 11328, outputTokens: 6, totalTokens: 12328, totalTokensFresh: true, contextTokens: 128000, lastActivityAt: 5, updatedAt: 9 };
    const noUsage = toWatchedSession(row, null)!;
    // The row's counters are the last run's: never used as totals.
    assert.equal(noUsage.inputTokens, null);
    assert.equal(noUsage.contextWindow, 128000);
    assert.equal(noUsage.contextTokens, 12328);
    assert.equal(toWatchedSession({ ...row, totalTokensFresh: false }, null)!.contextTokens, null);
    const withUsage = toWatchedSession(row, { input: 22727, output: 12, cacheRead: 2000, cacheWrite: 0, totalCost: 0.068961 })!;
    assert.deepEqual([withUsage.inputTokens, withUsage.outputTokens, withUsage.cacheReadTokens, withUsage.costUsd], [22727, 12, 2000, 0.068961]);
  });

  it("builds the seed's TelemetryEvent with a stable trace id and the real context %", () => {
    const e = toTelemetryEvent(session({ status: "running", contextTokens: 32_000 }), NOW);
    assert.equal(e.event_type, "execution");
    assert.equal(e.trace_id, traceIdOf("s1"));
    assert.match(e.trace_id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(e.metadata.context_used_pct, 25);
    assert.equal(e.input_tokens, 100);
    const unknown = toTelemetryEvent(session({ inputTokens: null, outputTokens: null, contextWindow: null }), NOW);
    assert.equal("input_tokens" in unknown, false);
    assert.equal(unknown.metadata.context_used_pct, null);
    assert.equal(toTelemetryEvent(session({ status: "aborted" }), NOW).event_type, "error");
  });
});

describe("watch change detection", () => {
  it("sends a session once per fingerprint, across restarts, and again when it changes", () => {
    const file = path.join(tmpDir("ct-watch-state-"), "watch", "state.json");
    const a = session();
    let st = ChangeState.load(file, "gw");
    const first = st.changed("hub", [a]);
    assert.equal(first.length, 1);
    st.markSent("hub", first, NOW);
    st.save(NOW);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    st = ChangeState.load(file, "gw");
    assert.equal(st.changed("hub", [a]).length, 0, "a restart sends nothing twice");
    assert.equal(st.changed("agentwatch", [a]).length, 1, "each sink keeps its own record");
    const grown = session({ inputTokens: 150 });
    assert.notEqual(fingerprintOf(grown), fingerprintOf(a));
    assert.equal(st.changed("hub", [grown]).length, 1);
    assert.equal(st.changed("hub", [session({ status: "running" })]).length, 1);
  });

  it("refuses a damaged state file with a clear error instead of re-sending everything", () => {
    const file = path.join(tmpDir("ct-watch-state-"), "state.json");
    fs.writeFileSync(file, "{not json");
    assert.throws(() => ChangeState.load(file, "gw"), /state\.json: .*move it away/);
  });
});

describe("watch pushers", () => {
  let server: http.Server;
  let url = "";
  const plan: number[] = [];
  let hits = 0;
  before(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        hits++;
        const status = plan.shift() ?? 200;
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ status }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/events/bulk`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  const policy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000, timeoutMs: 5000 };
  const delays: number[] = [];
  const deps = { sleep: async (ms: number) => void delays.push(ms) };

  it("retries 5xx with exponential backoff and sends the batch", async () => {
    plan.push(503, 502, 500);
    hits = 0;
    delays.length = 0;
    const r = await postJson(url, [1], {}, policy, deps);
    assert.equal(r.kind, "sent");
    assert.equal(hits, 4);
    assert.deepEqual(delays, [100, 200, 400]);
  });

  it("keeps the batch (throws) when retries run out, and on 401", async () => {
    plan.push(503, 503, 503, 503);
    hits = 0;
    await assert.rejects(postJson(url, [1], {}, policy, deps), (e: unknown) => e instanceof PushFailedError && /after 4 attempts; the batch is kept/.test(e.message));
    assert.equal(hits, 4);
    plan.push(401);
    hits = 0;
    await assert.rejects(postJson(url, [1], {}, policy, deps), /refused the key/);
    assert.equal(hits, 1, "a refused key is not retried");
  });

  it("drops a batch on another 4xx without retrying", async () => {
    plan.push(422);
    hits = 0;
    const r = await postJson(url, [1], {}, policy, deps);
    assert.equal(r.kind, "dropped");
    assert.equal(hits, 1);
  });

  it("retries a network error (nothing listening)", async () => {
    delays.length = 0;
    await assert.rejects(postJson("http://127.0.0.1:1/api/events/bulk", [1], {}, { ...policy, attempts: 2 }, deps), PushFailedError);
    assert.deepEqual(delays, [100]);
  });
});

describe("watch loop", () => {
  let conn: StoreConnection;
  let hub: Awaited<ReturnType<typeof startHub>>;
  let key = "";
  before(async () => {
    conn = await openStore({ kind: "sqlite", path: path.join(tmpDir("ct-watch-hub-"), "hub.db") });
    key = (await createApiKey(conn, { deploymentId: "gw-fake" }, Date.now())).token;
    hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: null });
  });
  after(async () => {
    await hub.close();
    await conn.close();
  });

  function logger(lines: string[]): WatchLogger {
    const at = (l: string) => (m: string) => void lines.push(`[${l}] ${m}`);
    return { debug: at("DEBUG"), info: at("INFO"), warn: at("WARNING"), error: at("ERROR"), critical: at("CRITICAL") };
  }

  function watcher(gatewayUrl: string, token: string, sinks: SinkTarget[], lines: string[], dir: string, over: Partial<ConstructorParameters<typeof Watcher>[0]> = {}) {
    return new Watcher({
      openclawUrl: gatewayUrl,
      token,
      identity: loadOrCreateDeviceIdentity(path.join(dir, "device.json")),
      stateFile: path.join(dir, "state.json"),
      pollIntervalMs: 50,
      batchSize: 50,
      maxErrors: 2,
      once: false,
      filters,
      sinks,
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10, timeoutMs: 5000 },
      usageFreshWaitMs: 0,
      version: "test",
      log: logger(lines),
      ...over,
    });
  }

  it("pages through sessions.list, pushes the kept sessions to the hub, and nothing again on the next poll", async () => {
    const gw = await startFakeGateway({ sessions: fakeGatewaySessions(120, Date.now()) });
    try {
      const dir = tmpDir("ct-watch-loop-");
      const lines: string[] = [];
      const sinks: SinkTarget[] = [{ kind: "hub", url: hub.url, apiKey: key, deploymentId: null }];
      assert.equal(await watcher(gw.url, gw.token, sinks, lines, dir, { once: true }).run(), 0);
      assert.equal(gw.calls.filter((m) => m === "sessions.list").length, 3, "120 sessions minus 12 cron, 50 a page");
      assert.ok(lines.some((l) => /\[INFO\] Poll #1: 108 sessions → 108 events \(\d+\.\d\ds\)/.test(l)), lines.join("\n"));
      const rows = await conn.db.selectFrom("session_snapshots").select(["session_id", "input_tokens", "context_window"]).execute();
      assert.equal(rows.length, 108);
      const s5 = gw.sessions[5]!;
      const r5 = rows.find((r) => r.session_id === s5.sessionId)!;
      assert.equal(Number(r5.input_tokens), s5.input, "lifetime totals from sessions.usage, not the row's last-run counters");
      const again: string[] = [];
      assert.equal(await watcher(gw.url, gw.token, sinks, again, dir, { once: true }).run(), 0);
      assert.ok(again.some((l) => /Poll #1: 108 sessions → 0 events/.test(l)), again.join("\n"));
    } finally {
      await gw.close();
    }
  });

  it("exits 1 after --max-errors consecutive failed fetches, and after failed pushes", async () => {
    const dir = tmpDir("ct-watch-dead-");
    const lines: string[] = [];
    const dead = watcher("http://127.0.0.1:1", "t", [{ kind: "hub", url: hub.url, apiKey: key, deploymentId: null }], lines, dir);
    assert.equal(await dead.run(), 1);
    assert.equal(lines.filter((l) => l.startsWith("[ERROR] Poll #")).length, 2);
    assert.ok(lines.some((l) => l.startsWith("[CRITICAL] 2 consecutive polls failed")));

    const gw = await startFakeGateway({ sessions: fakeGatewaySessions(3, Date.now()) });
    const sink = http.createServer((req, res) => {
      req.resume();
      res.writeHead(503).end();
    });
    await new Promise<void>((r) => sink.listen(0, "127.0.0.1", () => r()));
    try {
      const pushLines: string[] = [];
      const w = watcher(gw.url, gw.token, [{ kind: "agentwatch", url: `http://127.0.0.1:${(sink.address() as { port: number }).port}`, apiKey: null }], pushLines, tmpDir("ct-watch-push-"));
      assert.equal(await w.run(), 1);
      assert.ok(pushLines.some((l) => /batch is kept/.test(l)), pushLines.join("\n"));
      assert.ok(!pushLines.join("\n").includes(gw.token), "the gateway token is never logged");
    } finally {
      await gw.close();
      await new Promise<void>((r) => sink.close(() => r()));
    }
  });

  it("stops cleanly on stop() with the state saved, and wakes early on sessions.changed", async () => {
    const gw = await startFakeGateway({ sessions: fakeGatewaySessions(5, Date.now()) });
    try {
      const dir = tmpDir("ct-watch-stop-");
      const lines: string[] = [];
      const w = watcher(gw.url, gw.token, [{ kind: "hub", url: hub.url, apiKey: key, deploymentId: "gw-fake" }], lines, dir, { pollIntervalMs: 60_000 });
      const running = w.run();
      await waitFor(() => lines.some((l) => l.includes("Poll #1")));
      gw.sessions[1]!.input += 500;
      gw.emitChanged();
      await waitFor(() => lines.some((l) => l.includes("Poll #2")));
      assert.ok(lines.some((l) => /Poll #2: 5 sessions → 1 events/.test(l)), lines.join("\n"));
      w.stop();
      assert.equal(await running, 0);
      assert.ok(fs.existsSync(path.join(dir, "state.json")));
    } finally {
      await gw.close();
    }
  });
});

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
