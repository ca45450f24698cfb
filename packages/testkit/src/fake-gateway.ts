/**
 * A loopback stand-in for an OpenClaw gateway's WebSocket RPC, for scale (the watch bench) and for fault
 * injection in unit tests: the v4 handshake (connect.challenge → connect → hello-ok, token checked),
 * `sessions.list` with limit/offset paging, `sessions.usage` and `sessions.subscribe`. Rows are shaped like
 * those of a real 2026.9.6 gateway (fields observed on `openclaw gateway run`). The real gateway is what the
 * e2e test uses; this only stands in where it cannot (500 sessions, a failing gateway).
 */
import crypto from "node:crypto";
import { WebSocketServer, type WebSocket } from "ws";

export type FakeGatewaySession = { key: string; sessionId: string; agentId: string; updatedAt: number; input: number; output: number; cacheRead: number; cacheWrite: number; cost: number; running: boolean; contextTokens: number; window: number; model: string };

export type FakeGateway = {
  url: string;
  token: string;
  sessions: FakeGatewaySession[];
  /** Every RPC method called, in order. */
  calls: string[];
  /** Sends `sessions.changed` to subscribed clients. */
  emitChanged(): void;
  close(): Promise<void>;
};

export function fakeGatewaySessions(n: number, now: number): FakeGatewaySession[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 10 === 9 ? `agent:main:cron:job-${i}` : `agent:main:s${i}`,
    sessionId: crypto.createHash("sha256").update(`s${i}`).digest("hex").slice(0, 32),
    agentId: "main",
    updatedAt: now - i * 1000,
    input: 1000 + i,
    output: 10 + i,
    cacheRead: 500,
    cacheWrite: 0,
    cost: (1000 + i) * 3e-6,
    running: i % 7 === 0,
    contextTokens: 1500 + i,
    window: 128_000,
    model: "fake-model",
  }));
}

function row(s: FakeGatewaySession, now: number): Record<string, unknown> {
  return {
    key: s.key,
    visibility: "shared",
    kind: "direct",
    classification: "custom",
    agentId: s.agentId,
    isMain: false,
    displayName: s.key.split(":").at(-1),
    updatedAt: s.updatedAt,
    archived: false,
    lastInteractionAt: s.updatedAt,
    lastActivityAt: s.updatedAt,
    sessionId: s.sessionId,
    abortedLastRun: false,
    thinkingLevels: [{ id: "off", label: "off" }],
    inputTokens: Math.floor(s.input / 2),
    outputTokens: Math.floor(s.output / 2),
    totalTokens: s.contextTokens,
    totalTokensFresh: true,
    estimatedCostUsd: s.cost / 2,
    modelProvider: "fake",
    model: s.model,
    agentRuntime: { id: "openclaw", cloudPlacementSupported: true, source: "implicit" },
    contextTokens: s.window,
    contextBudgetStatus: { schemaVersion: 1, source: "pre-prompt-estimate", contextTokenBudget: s.window, estimatedPromptTokens: s.contextTokens },
    snapshotAt: now,
    status: s.running ? "running" : "done",
    hasActiveRun: s.running,
    activeRunIds: s.running ? [`run-${s.sessionId.slice(0, 6)}`] : [],
  };
}

export async function startFakeGateway(opts: { sessions: FakeGatewaySession[]; token?: string; failMethods?: Set<string> }): Promise<FakeGateway> {
  const token = opts.token ?? "fake-gateway-token";
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const calls: string[] = [];
  const subscribed = new Set<WebSocket>();
  wss.on("connection", (ws) => {
    const nonce = crypto.randomUUID();
    let authed = false;
    ws.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce, ts: Date.now() } }));
    ws.on("message", (data) => {
      const f = JSON.parse(String(data)) as { id: string; method: string; params: Record<string, unknown> };
      calls.push(f.method);
      const reply = (payload: unknown) => ws.send(JSON.stringify({ type: "res", id: f.id, ok: true, payload }));
      const fail = (code: string, message: string) => ws.send(JSON.stringify({ type: "res", id: f.id, ok: false, error: { code, message } }));
      if (opts.failMethods?.has(f.method)) return fail("UNAVAILABLE", `${f.method} failed (injected)`);
      if (f.method === "connect") {
        const p = f.params as { auth?: { token?: string }; device?: { nonce?: string; signature?: string } };
        if (p.auth?.token !== token) return fail("INVALID_REQUEST", "unauthorized: gateway token mismatch");
        if (p.device?.nonce !== nonce || !p.device.signature) return fail("INVALID_REQUEST", "device nonce required");
        authed = true;
        return reply({ type: "hello-ok", protocol: 4, server: { version: "fake", connId: nonce }, features: { methods: ["sessions.list", "sessions.subscribe"], events: ["sessions.changed"] }, snapshot: {}, auth: { role: "operator", scopes: ["operator.read"] }, policy: {} });
      }
      if (!authed) return fail("INVALID_REQUEST", "connect first");
      const now = Date.now();
      if (f.method === "sessions.list") {
        const limit = Math.min(200, Number(f.params["limit"] ?? 50));
        const offset = Number(f.params["offset"] ?? 0);
        const list = opts.sessions.filter((s) => !(f.params["excludeCron"] === true && s.key.includes(":cron:")));
        const page = list.slice(offset, offset + limit);
        const hasMore = offset + limit < list.length;
        return reply({ ts: now, count: page.length, totalCount: list.length, limitApplied: limit, nextOffset: hasMore ? offset + limit : null, hasMore, sessions: page.map((s) => row(s, now)) });
      }
      if (f.method === "sessions.usage") {
        return reply({
          cacheStatus: { status: "fresh" },
          sessions: opts.sessions.map((s) => ({ key: s.key, sessionId: s.sessionId, agentId: s.agentId, usage: { input: s.input, output: s.output, cacheRead: s.cacheRead, cacheWrite: s.cacheWrite, totalTokens: s.input + s.output + s.cacheRead + s.cacheWrite, totalCost: s.cost } })),
        });
      }
      if (f.method === "sessions.subscribe") {
        subscribed.add(ws);
        return reply({ subscribed: true });
      }
      return fail("INVALID_REQUEST", `unknown method ${f.method}`);
    });
    ws.on("close", () => subscribed.delete(ws));
  });
  const port = (wss.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    sessions: opts.sessions,
    calls,
    emitChanged: () => {
      for (const ws of subscribed) ws.send(JSON.stringify({ type: "event", event: "sessions.changed", payload: {} }));
    },
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}
