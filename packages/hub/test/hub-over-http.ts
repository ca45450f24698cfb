/** A real hub on an ephemeral loopback port, with a clock the test moves, and plain HTTP helpers for it. */
import crypto from "node:crypto";
import { createPriceBook } from "@clawtower/core";
import type { StoreConnection } from "@clawtower/store";
import { startHub, type RunningHub, type StreamLimits } from "../src/index.ts";

/** A fresh random admin token, 256 bits like `clawtower token create` makes. */
export const strongToken = () => crypto.randomBytes(32).toString("base64url");

export type Clock = { now: () => number; advance: (ms: number) => void };

export function clock(start = Date.parse("2026-12-01T08:00:00Z")): Clock {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

export async function hubOver(conn: StoreConnection, opts: { adminToken?: string | null; trustProxy?: boolean; clock?: Clock; streamLimits?: StreamLimits } = {}): Promise<RunningHub> {
  return startHub({
    conn,
    prices: createPriceBook([], []),
    host: "127.0.0.1",
    port: 0,
    adminToken: opts.adminToken ?? null,
    webDir: null,
    log: () => {},
    ...(opts.trustProxy ? { trustProxy: true } : {}),
    ...(opts.clock ? { now: opts.clock.now } : {}),
    ...(opts.streamLimits ? { streamLimits: opts.streamLimits } : {}),
  });
}

export type Answer = { status: number; headers: Headers; body: any };

export async function call(hub: RunningHub, path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  const r = await fetch(`${hub.url}${path}`, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, ...(body === undefined ? {} : { body }) });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, headers: r.headers, body: parsed };
}

export const login = (hub: RunningHub, token: string, headers: Record<string, string> = {}) => call(hub, "/api/v1/auth/login", { body: { token }, headers });

/** `name=value` of the session cookie a response set ("" when it cleared it), or null when it set none. */
export function sessionCookie(a: Answer): string | null {
  const set = a.headers.getSetCookie().find((c) => c.startsWith("clawtower_session="));
  return set ? set.split(";")[0]! : null;
}

export function cookieAttributes(a: Answer): string[] {
  const set = a.headers.getSetCookie().find((c) => c.startsWith("clawtower_session="));
  return set ? set.split(";").slice(1).map((s) => s.trim()) : [];
}
