/** A loopback HTTP receiver that records every request (alert webhooks in tests), answering with a chosen status. */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type ReceivedRequest = { at: number; path: string; headers: http.IncomingHttpHeaders; body: string };

export type WebhookReceiver = {
  url: string;
  received: ReceivedRequest[];
  /** Resolves once `n` requests have arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  setStatus(status: number): void;
  close(): Promise<void>;
};

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  let status = 200;
  let waiters: { n: number; resolve: () => void }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ at: Date.now(), path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(status).end();
      const met = waiters.filter((w) => received.length >= w.n);
      waiters = waiters.filter((w) => !met.includes(w));
      for (const w of met) w.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    waitFor(n, timeoutMs = 10_000) {
      if (received.length >= n) return Promise.resolve(received.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the receiver got ${received.length} request(s), expected ${n}`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve(received.slice())) });
      });
    },
    setStatus(s) {
      status = s;
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A session whose assistant calls cost the given dollars each (recorded cost), `errors` of them stopping with an error. */
export function sessionLines(sessionId: string, costs: number[], opts: { errors?: number; at?: number; channel?: string } = {}): string {
  const at = opts.at ?? Date.now() - 60_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const lines: unknown[] = [{ agentId: "main", sessionId, session: { sessionKey: `agent:main:${sessionId}`, ...(opts.channel ? { channel: opts.channel } : {}) }, event: { type: "session", version: 4, id: sessionId, timestamp: iso(at) } }];
  costs.forEach((cost, i) => {
    lines.push({ agentId: "main", sessionId, event: { type: "message", id: `${sessionId}-u${i}`, timestamp: iso(at + i * 2000 + 1), message: { role: "user", content: "go" } } });
    lines.push({
      agentId: "main",
      sessionId,
      event: {
        type: "message",
        id: `${sessionId}-a${i}`,
        timestamp: iso(at + i * 2000 + 2),
        message: { role: "assistant", provider: "anthropic", model: "claude-sonnet-5", stopReason: i < (opts.errors ?? 0) ? "error" : "stop", content: [{ type: "text", text: "ok" }], usage: { input: 100, output: 10, cacheRead: 0, cacheWrite: 0, cost: { total: cost } } },
      },
    });
  });
  return lines.map((l) => JSON.stringify(l)).join("\n");
}
