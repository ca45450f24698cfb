/**
 * A minimal OpenClaw gateway WebSocket RPC client (protocol v4): waits for `connect.challenge`, answers with a
 * `connect` request as an operator with scope `operator.read` (shared token + signed device identity), then
 * sends `req` frames and resolves them by id. Events (e.g. `sessions.changed`) go to `onEvent`.
 */
import { deviceAuthPayloadV3, signPayload, type DeviceIdentity } from "./device-identity.ts";

export const PROTOCOL_VERSION = 4;
export const WATCH_SCOPES = ["operator.read"];
const CLIENT = { id: "cli", mode: "cli" } as const;

export class GatewayRpcError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, retryable = false) {
    super(message);
    this.name = "GatewayRpcError";
    this.code = code;
    this.retryable = retryable;
  }
}

export type GatewayHello = { methods: Set<string>; events: Set<string>; scopes: string[]; serverVersion: string | null };

export type GatewayConnection = {
  readonly hello: GatewayHello;
  request<T = unknown>(method: string, params?: unknown, timeoutMs?: number): Promise<T>;
  onEvent(cb: (event: string, payload: unknown) => void): void;
  /** Resolves when the socket closed (by either side). */
  readonly closed: Promise<void>;
  close(): void;
};

export type ConnectOptions = {
  /** http(s):// or ws(s):// URL of the gateway (http is mapped to ws). */
  url: string;
  token: string;
  identity: DeviceIdentity;
  version: string;
  timeoutMs?: number;
};

export function wsUrlOf(url: string): string {
  const u = new URL(url);
  if (u.protocol === "http:") u.protocol = "ws:";
  else if (u.protocol === "https:") u.protocol = "wss:";
  else if (u.protocol !== "ws:" && u.protocol !== "wss:") throw new Error(`--openclaw-url must be http(s):// or ws(s):// (got ${u.protocol})`);
  return u.toString();
}

type Pending = { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout };

export function connectGateway(opts: ConnectOptions): Promise<GatewayConnection> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const ws = new WebSocket(wsUrlOf(opts.url));
  const pending = new Map<string, Pending>();
  const listeners: ((event: string, payload: unknown) => void)[] = [];
  let nextId = 0;
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => (closedResolve = r));

  const send = <T>(method: string, params: unknown, ms: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (ws.readyState !== WebSocket.OPEN) return reject(new GatewayRpcError("CLOSED", `gateway connection closed before ${method}`, true));
      const id = `w${++nextId}`;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new GatewayRpcError("TIMEOUT", `gateway did not answer ${method} within ${ms} ms`, true));
      }, ms);
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      ws.send(JSON.stringify({ type: "req", id, method, params }));
    });

  return new Promise<GatewayConnection>((resolve, reject) => {
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(handshakeTimer);
      try {
        ws.close();
      } catch {}
      reject(e);
    };
    const handshakeTimer = setTimeout(() => fail(new GatewayRpcError("TIMEOUT", `no gateway handshake from ${opts.url} within ${timeoutMs} ms`, true)), timeoutMs);

    ws.addEventListener("error", () => fail(new GatewayRpcError("UNREACHABLE", `cannot connect to the gateway at ${opts.url}`, true)));
    ws.addEventListener("close", (ev) => {
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new GatewayRpcError("CLOSED", `gateway closed the connection (${ev.code}${ev.reason ? `: ${ev.reason}` : ""})`, true));
      }
      pending.clear();
      closedResolve();
      fail(new GatewayRpcError("CLOSED", `gateway closed the connection during the handshake (${ev.code}${ev.reason ? `: ${ev.reason}` : ""})`, true));
    });
    ws.addEventListener("message", (ev) => {
      let frame: { type?: string; id?: string; ok?: boolean; payload?: unknown; error?: { code?: string; message?: string; retryable?: boolean }; event?: string };
      try {
        frame = JSON.parse(typeof ev.data === "string" ? ev.data : Buffer.from(ev.data as ArrayBuffer).toString("utf8"));
      } catch {
        return;
      }
      if (frame.type === "event" && frame.event === "connect.challenge" && !settled) {
        const { nonce, ts } = (frame.payload ?? {}) as { nonce?: string; ts?: number };
        if (typeof nonce !== "string" || !Number.isInteger(ts)) return fail(new GatewayRpcError("PROTOCOL", "malformed connect.challenge from the gateway"));
        void handshake(nonce, ts as number);
        return;
      }
      if (frame.type === "event" && frame.event) {
        for (const l of listeners) l(frame.event, frame.payload);
        return;
      }
      if (frame.type === "res" && frame.id) {
        const p = pending.get(frame.id);
        if (!p) return;
        pending.delete(frame.id);
        clearTimeout(p.timer);
        if (frame.ok) p.resolve(frame.payload);
        else p.reject(new GatewayRpcError(frame.error?.code ?? "ERROR", frame.error?.message ?? "request failed", frame.error?.retryable === true));
      }
    });

    const handshake = async (nonce: string, ts: number) => {
      const platform = process.platform;
      const deviceFamily = "server";
      const payload = deviceAuthPayloadV3({
        deviceId: opts.identity.deviceId,
        clientId: CLIENT.id,
        clientMode: CLIENT.mode,
        role: "operator",
        scopes: WATCH_SCOPES,
        signedAtMs: ts,
        token: opts.token,
        nonce,
        platform,
        deviceFamily,
      });
      try {
        const hello = await send<{ features?: { methods?: string[]; events?: string[] }; auth?: { scopes?: string[] }; server?: { version?: string } }>(
          "connect",
          {
            minProtocol: PROTOCOL_VERSION,
            maxProtocol: PROTOCOL_VERSION,
            client: { id: CLIENT.id, displayName: "clawtower watch", version: opts.version, platform, deviceFamily, mode: CLIENT.mode },
            role: "operator",
            scopes: WATCH_SCOPES,
            caps: [],
            auth: { token: opts.token },
            userAgent: `clawtower-watch/${opts.version}`,
            device: { id: opts.identity.deviceId, publicKey: opts.identity.publicKeyRaw, signature: signPayload(opts.identity, payload), signedAt: ts, nonce },
          },
          timeoutMs,
        );
        settled = true;
        clearTimeout(handshakeTimer);
        resolve({
          hello: {
            methods: new Set(hello?.features?.methods ?? []),
            events: new Set(hello?.features?.events ?? []),
            scopes: hello?.auth?.scopes ?? [],
            serverVersion: hello?.server?.version ?? null,
          },
          request: (method, params = {}, ms = 30_000) => send(method, params, ms),
          onEvent: (cb) => void listeners.push(cb),
          closed,
          close: () => ws.close(),
        });
      } catch (e) {
        fail(e as Error);
      }
    };
  });
}
