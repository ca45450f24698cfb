/**
 * A fault-injecting HTTP proxy in front of a hub, on loopback. For each request a plan decides: forward it,
 * answer it with a canned status (and headers), hold it, or forward it and then cut the connection before
 * the answer reaches the client (the hub committed, the client never knows).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type FaultAction =
  | { kind: "forward" }
  | { kind: "respond"; status: number; headers?: Record<string, string>; body?: string }
  | { kind: "delay"; ms: number }
  | { kind: "forward-then-drop"; after?: () => Promise<void> };

export type FaultProxy = { url: string; requests: { path: string; at: number; action: FaultAction["kind"] }[]; close(): Promise<void> };

export async function startFaultProxy(targetUrl: () => string, plan: (n: number, path: string) => FaultAction): Promise<FaultProxy> {
  const requests: FaultProxy["requests"] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const n = requests.length;
    const action = plan(n, req.url ?? "/");
    requests.push({ path: req.url ?? "/", at: Date.now(), action: action.kind });
    if (action.kind === "respond") {
      res.writeHead(action.status, { "content-type": "application/json", ...action.headers });
      res.end(action.body ?? JSON.stringify({ error: { code: `http_${action.status}`, message: `injected ${action.status}` } }));
      return;
    }
    if (action.kind === "delay") await new Promise((r) => setTimeout(r, action.ms).unref());
    try {
      const upstream = await fetch(`${targetUrl()}${req.url}`, {
        method: req.method ?? "POST",
        headers: { authorization: String(req.headers.authorization ?? ""), "content-type": String(req.headers["content-type"] ?? "application/json") },
        body,
      });
      const text = await upstream.text();
      if (action.kind === "forward-then-drop") {
        await action.after?.();
        req.socket.destroy();
        return;
      }
      res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
      res.end(text);
    } catch {
      req.socket.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
