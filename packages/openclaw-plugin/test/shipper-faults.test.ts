/**
 * The shipper's failure handling, driven against a real hub (in process) behind a fault-injecting proxy:
 * retries with backoff for 5xx / timeouts / lost answers, Retry-After on 429, no retry on 401, whole
 * requests refused (4xx) split down to the bad line, a hub that is down, and stop() mid-request.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, it } from "node:test";
import { runCycle } from "../src/ship/cycle.ts";
import { readStatusFile } from "../src/state/status-file.ts";
import { statePaths } from "../src/state/files.ts";
import type { PluginConfigInput } from "../src/config/schema.ts";
import { startFaultProxy, type FaultAction, type FaultProxy } from "./fault-proxy.ts";
import { configFor, copyFixture, expectedOf, quietLogger, startTestHub, type TestHub } from "./helpers.ts";

const FIXTURE = "openclaw-2026.9.6";
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});

async function setup(plan: (n: number, path: string) => FaultAction): Promise<{ hub: TestHub; proxy: FaultProxy; home: string }> {
  const hub = await startTestHub();
  const proxy = await startFaultProxy(() => hub.url, plan);
  cleanup.push(() => proxy.close(), () => hub.close());
  return { hub, proxy, home: copyFixture(FIXTURE) };
}

/** Small requests, so that a cycle makes many of them. */
const SIZES = { requestLines: 20, chunkEvents: 20 };

function cycle(home: string, target: { url: string; key: string }, extra: PluginConfigInput = {}, signal = new AbortController().signal) {
  return runCycle({ stateDir: home, config: configFor(target, extra), openclawRedactPatterns: [], logger: quietLogger, signal, trigger: "test", sizes: SIZES, random: () => 0.5 });
}

async function assertExact(hub: TestHub, rawBefore: number | null = null) {
  const want = expectedOf(FIXTURE).transcriptTotals;
  const s = await hub.summary();
  assert.equal(s.totals.llmCalls, want.llmCallsWithUsage);
  assert.equal(s.totals.tokens.total, want.totalTokens);
  assert.ok(Math.abs(s.totals.cost.total - want.costUsd) < 1e-9);
  if (rawBefore !== null) assert.equal(await hub.rawEvents(), rawBefore);
}

/** Raw events a clean upload of the fixture stores (the reference for "nothing lost, nothing twice"). */
async function referenceRaw(): Promise<number> {
  const hub = await startTestHub();
  cleanup.push(() => hub.close());
  await cycle(copyFixture(FIXTURE), hub);
  return hub.rawEvents();
}

describe("shipper faults", () => {
  it("5xx and a lost answer are retried; the hub's duplicates make the retry harmless", async () => {
    const { hub, proxy, home } = await setup((n) => (n === 1 || n === 2 ? { kind: "respond", status: 503 } : n === 4 ? { kind: "forward-then-drop" } : { kind: "forward" }));
    const r = await cycle(home, { url: proxy.url, key: hub.key });
    assert.equal(r.outcome, "ok", JSON.stringify(r));
    assert.equal(r.retries, 3);
    assert.ok(r.lines.duplicates > 0, "the batch whose answer was lost came back as duplicates");
    await assertExact(hub, await referenceRaw());
  });

  it("429 waits for Retry-After", async () => {
    const { hub, proxy, home } = await setup((n) => (n === 0 ? { kind: "respond", status: 429, headers: { "retry-after": "1" } } : { kind: "forward" }));
    const r = await cycle(home, { url: proxy.url, key: hub.key });
    assert.equal(r.outcome, "ok");
    const gap = proxy.requests[1]!.at - proxy.requests[0]!.at;
    assert.ok(gap >= 950, `waited ${gap} ms`);
    await assertExact(hub);
  });

  it("401 stops the cycle at once, without retrying, and status says why", async () => {
    const { hub, proxy, home } = await setup(() => ({ kind: "forward" }));
    const r = await cycle(home, { url: proxy.url, key: "ct_wrong_key_000000000000" });
    assert.equal(r.outcome, "auth");
    assert.equal(proxy.requests.length, 1, "no retry");
    assert.match(r.message ?? "", /refused the API key.*apiKey/);
    const status = readStatusFile(statePaths(home).status);
    assert.equal(status.lastCycle?.outcome, "auth");
    assert.equal(status.recentErrors[0]?.kind, "auth");
    // Nothing was acknowledged: with the right key everything goes.
    const ok = await cycle(home, { url: proxy.url, key: hub.key });
    assert.equal(ok.outcome, "ok");
    assert.equal(ok.lines.duplicates, 0);
    await assertExact(hub);
  });

  it("timeouts are retried", async () => {
    const { hub, proxy, home } = await setup((n) => (n === 0 ? { kind: "delay", ms: 1500 } : { kind: "forward" }));
    const r = await cycle(home, { url: proxy.url, key: hub.key }, { upload: { timeoutMs: 300 } });
    assert.equal(r.outcome, "ok");
    assert.ok(r.retries >= 1);
    await assertExact(hub);
  });

  it("a request refused as a whole is split down to the refused line, which is recorded and not retried", async () => {
    // The proxy refuses every request that carries one particular event id, as a hub refuses a bad line.
    let poison = "";
    const hub = await startTestHub();
    const proxy = await startFaultProxy(
      () => hub.url,
      () => ({ kind: "forward" }),
    );
    cleanup.push(() => proxy.close(), () => hub.close());
    const home = copyFixture(FIXTURE);
    const { default: http } = await import("node:http");
    const refusing = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString();
      if (!poison) poison = /"id":"([0-9a-f-]{36})"/.exec(body.split("\n")[3] ?? "")?.[1] ?? "";
      if (poison && body.includes(`"id":"${poison}"`)) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "invalid_body", message: "bad line" } }));
        return;
      }
      const up = await fetch(`${hub.url}${req.url}`, { method: "POST", headers: { authorization: String(req.headers.authorization), "content-type": String(req.headers["content-type"]) }, body });
      res.writeHead(up.status, { "content-type": "application/json" });
      res.end(await up.text());
    });
    await new Promise<void>((r) => refusing.listen(0, "127.0.0.1", r));
    cleanup.push(() => new Promise((r) => refusing.close(() => r())));
    const url = `http://127.0.0.1:${(refusing.address() as net.AddressInfo).port}`;
    const r = await cycle(home, { url, key: hub.key });
    assert.equal(r.outcome, "ok");
    assert.equal(r.lines.rejected, 1, "exactly the poisoned line");
    assert.ok(r.errors.some((e) => e.kind === "rejected"));
    const again = await cycle(home, { url, key: hub.key });
    assert.equal(again.lines.sent, 0, "a rejected line is not retried forever");
  });

  it("hub down: nothing is lost; once it is up everything arrives", async () => {
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const home = copyFixture(FIXTURE);
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const down = await cycle(home, { url: `http://127.0.0.1:${closed}`, key: hub.key }, { upload: { retryAttempts: 2 } });
    assert.equal(down.outcome, "failed");
    assert.match(down.message ?? "", /hub unavailable/);
    assert.equal(down.retries, 2);
    assert.ok(down.pending.sessions > 0);
    const up = await cycle(home, hub);
    assert.equal(up.outcome, "ok");
    assert.equal(up.lines.duplicates, 0);
    await assertExact(hub, await referenceRaw());
  });

  it("stop() aborts the request in flight", async () => {
    const { hub, proxy, home } = await setup(() => ({ kind: "delay", ms: 10_000 }));
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 200);
    const r = await cycle(home, { url: proxy.url, key: hub.key }, { upload: { timeoutMs: 60_000 } }, ac.signal);
    assert.equal(r.outcome, "aborted");
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });
});
