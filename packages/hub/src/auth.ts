/**
 * Who may do what:
 *   - ingest endpoints always need an API key (`Authorization: Bearer clawtower_…`);
 *   - dashboard and read API: open on a loopback-only hub without an admin token; otherwise they need the
 *     admin token or an API key, as a Bearer header or the `clawtower_token` cookie set by /api/v1/auth/login.
 * A loopback hub also checks the Host header, so a web page cannot reach it through DNS rebinding.
 */
import crypto from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { verifyApiKey, type ApiKeyInfo, type StoreConnection } from "@clawtower/store";
import { HubError } from "./errors.ts";

export type AuthConfig = {
  /** Token that grants dashboard and read access; null on an open loopback hub. */
  adminToken: string | null;
  /** True when the hub listens only on loopback addresses. */
  loopbackOnly: boolean;
};

export const TOKEN_COOKIE = "clawtower_token";

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function bearer(c: Context): string | null {
  const h = c.req.header("authorization");
  if (h?.startsWith("Bearer ")) return h.slice(7).trim();
  return null;
}

function sameSecret(a: string, b: string): boolean {
  const x = crypto.createHash("sha256").update(a).digest();
  const y = crypto.createHash("sha256").update(b).digest();
  return crypto.timingSafeEqual(x, y);
}

export type Principal = { kind: "open" } | { kind: "admin" } | { kind: "key"; key: ApiKeyInfo };

export async function authenticate(conn: StoreConnection, token: string | null, cfg: AuthConfig, now: number): Promise<Principal | null> {
  if (token) {
    if (cfg.adminToken && sameSecret(token, cfg.adminToken)) return { kind: "admin" };
    const key = await verifyApiKey(conn, token, now);
    if (key) return { kind: "key", key };
    return null;
  }
  return cfg.loopbackOnly && !cfg.adminToken ? { kind: "open" } : null;
}

/** Rejects requests whose Host is not a loopback name when the hub is loopback-only (DNS rebinding). */
export function hostGuard(cfg: AuthConfig): MiddlewareHandler {
  return async (c, next) => {
    if (cfg.loopbackOnly) {
      const host = (c.req.header("host") ?? "").replace(/:\d+$/, "");
      if (host && !isLoopbackHost(host)) throw new HubError("forbidden", `host "${host}" is not allowed on a loopback-only hub`);
    }
    await next();
  };
}

export function requireReader(conn: StoreConnection, cfg: AuthConfig, now: () => number): MiddlewareHandler {
  return async (c, next) => {
    const token = bearer(c) ?? getCookie(c, TOKEN_COOKIE) ?? null;
    const who = await authenticate(conn, token, cfg, now());
    if (!who) throw new HubError("unauthorized", token ? "invalid or revoked token" : "this hub requires a token: send Authorization: Bearer <admin token or API key>");
    c.set("principal", who);
    await next();
  };
}

export function requireApiKey(conn: StoreConnection, now: () => number): MiddlewareHandler {
  return async (c, next) => {
    const token = bearer(c);
    if (!token) throw new HubError("unauthorized", "ingest needs an API key: Authorization: Bearer clawtower_… (create one with `clawtower keys create`)");
    const key = await verifyApiKey(conn, token, now());
    if (!key) throw new HubError("unauthorized", "invalid or revoked API key");
    c.set("principal", { kind: "key", key } satisfies Principal);
    await next();
  };
}

declare module "hono" {
  interface ContextVariableMap {
    principal: Principal;
  }
}
