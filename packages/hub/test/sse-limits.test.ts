/**
 * Live-update streams over real HTTP: a cap per client (429) and for the hub (503), slots given back when a
 * stream ends; and a loopback hub refusing a request that names no Host, like a foreign one.
 */
import assert from "node:assert/strict";
import net from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { openStore, type StoreConnection } from "@clawtower/store";
import { tmpDir } from "@clawtower/testkit";
import type { RunningHub } from "../src/index.ts";
import { hubOver } from "./hub-over-http.ts";

/** The documented default (README, Security): 16 streams per client, 256 in all. */
const PER_CLIENT = 16;

type Stream = { status: number; retryAfter: string | null; close: () => Promise<void> };

async function openStream(hub: RunningHub, headers: Record<string, string> = {}): Promise<Stream> {
  const ac = new AbortController();
  const res = await fetch(`${hub.url}/api/v1/stream`, { headers, signal: ac.signal });
  if (res.status === 200) {
    // Wait for the hello event, so the hub has really taken the slot.
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("event: hello")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
  } else await res.body?.cancel();
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    close: async () => {
      ac.abort();
      await new Promise((r) => setTimeout(r, 50));
    },
  };
}

/** Opens until the hub has noticed a closed stream (its socket's end reaches the server a moment later). */
async function reopen(open: () => Promise<Stream>): Promise<Stream> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const s = await open();
    if (s.status === 200 || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Raw HTTP/1.0 (no Host needed), to send exactly the headers we mean. */
function rawRequest(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => s.write(`${head}\r\n\r\n`));
    let text = "";
    s.on("data", (d) => (text += d.toString()));
    s.on("end", () => resolve(text));
    s.on("error", reject);
  });
}

describe("live-update stream caps", () => {
  let conn: StoreConnection;
  before(async () => {
    conn = await openStore({ kind: "sqlite", path: path.join(tmpDir(), "sse.db") });
  });
  after(() => conn.close());

  it(`allows ${PER_CLIENT} streams per client by default, answers 429 past it, and frees slots as streams end`, async () => {
    const hub = await hubOver(conn);
    const streams: Stream[] = [];
    try {
      for (let i = 0; i < PER_CLIENT; i++) {
        const s = await openStream(hub);
        streams.push(s);
        assert.equal(s.status, 200, `stream ${i + 1}`);
      }
      const extra = await openStream(hub);
      assert.equal(extra.status, 429);
      assert.ok(Number(extra.retryAfter) > 0, "with Retry-After");
      await streams.pop()!.close();
      const again = await reopen(() => openStream(hub));
      assert.equal(again.status, 200, "a closed stream gives its slot back");
      streams.push(again);
    } finally {
      for (const s of streams) await s.close();
      await hub.close();
    }
  });

  it("caps streams for the whole hub (503) whatever the number of clients", async () => {
    const hub = await hubOver(conn, { trustProxy: true, streamLimits: { perClient: 3, total: 5 } });
    const streams: Stream[] = [];
    const from = (ip: string) => openStream(hub, { "x-forwarded-for": ip });
    try {
      for (let i = 0; i < 3; i++) streams.push(await from("203.0.113.1"));
      assert.deepEqual(streams.map((s) => s.status), [200, 200, 200]);
      assert.equal((await from("203.0.113.1")).status, 429, "client A is at its cap");
      streams.push(await from("203.0.113.2"), await from("203.0.113.2"));
      assert.deepEqual(streams.map((s) => s.status), [200, 200, 200, 200, 200]);
      const full = await from("203.0.113.3");
      assert.equal(full.status, 503, "the hub is at its cap");
      assert.ok(Number(full.retryAfter) > 0);
      await streams.shift()!.close();
      const next = await reopen(() => from("203.0.113.3"));
      assert.equal(next.status, 200);
      streams.push(next);
    } finally {
      for (const s of streams) await s.close();
      await hub.close();
    }
  });

  it("refuses a request without a Host header on a loopback hub, like a foreign Host", async () => {
    const hub = await hubOver(conn);
    try {
      const none = await rawRequest(hub.port, "GET /api/v1/info HTTP/1.0");
      assert.match(none, /^HTTP\/1\.[01] 403/, none);
      assert.match(none, /without a Host header/);
      const empty = await rawRequest(hub.port, "GET /api/v1/info HTTP/1.0\r\nHost: ");
      assert.match(empty, /^HTTP\/1\.[01] 403/, empty);
      const foreign = await rawRequest(hub.port, "GET /api/v1/info HTTP/1.0\r\nHost: evil.example");
      assert.match(foreign, /^HTTP\/1\.[01] 403/);
      const stream = await rawRequest(hub.port, "GET /api/v1/stream HTTP/1.0");
      assert.match(stream, /^HTTP\/1\.[01] 403/, "no stream either");
      const local = await rawRequest(hub.port, `GET /api/v1/info HTTP/1.0\r\nHost: 127.0.0.1:${hub.port}`);
      assert.match(local, /^HTTP\/1\.[01] 200/, local);
    } finally {
      await hub.close();
    }
  });
});
