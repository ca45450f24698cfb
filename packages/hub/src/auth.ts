/**
 * Who may do what:
 *   - ingest endpoints need an API key with the `ingest` (or `admin`) scope;
 *   - dashboard and read API: open on a loopback-only hub without an admin token; otherwise they need the admin
 *     token or a key with the `read` (or `admin`) scope, as a Bearer header, or a sign-in session (cookie) made
 *     with one at /api/v1/auth/login. A key bound to a deployment reads that deployment only.
 *   - wrong tokens are counted per client address (login-throttle in the store): after LOGIN_THROTTLE's free
 *     attempts a client waits between attempts, and inside the wait even the right token is refused.
 * A loopback hub also checks the Host header (a missing one too), so a web page cannot reach it through DNS
 * rebinding.
 */
import crypto from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import {
  activeApiKey,
  findAuthSession,
  keyHasScope,
  loginLockedFor,
  recordLoginFailure,
  verifyApiKey,
  type ApiKeyInfo,
  type AuthSessionPolicy,
  type LoginThrottlePolicy,
  type StoreConnection,
} from "@clawtower/store";
import { HubError } from "./errors.ts";
import { requestClient } from "./request-origin.ts";

export type AuthConfig = {
  /** Token that grants dashboard and read access; null on an open loopback hub. */
  adminToken: string | null;
  /** True when the hub listens only on loopback addresses. */
  loopbackOnly: boolean;
  /** Believe X-Forwarded-For / X-Forwarded-Proto (a reverse proxy fronts the hub); see request-origin.ts. */
  trustProxy?: boolean;
};

export const SESSION_COOKIE = "clawtower_session";

/** Sign-in sessions end after 12 hours without use, and 7 days after sign-in whatever the use. */
export const SESSION_POLICY: AuthSessionPolicy = { idleMs: 12 * 3_600_000, absoluteMs: 7 * 86_400_000 };

/**
 * Five attempts free; then 1, 2, 4, 8 and from then on 15 minutes between attempts (about 100 guesses a day);
 * a client's count is forgotten 24 hours after its last attempt, and cleared by a successful sign-in.
 */
export const LOGIN_THROTTLE: LoginThrottlePolicy = {
  delaysMs: [0, 0, 0, 0, 0, 60_000, 120_000, 240_000, 480_000, 900_000],
  forgetAfterMs: 86_400_000,
};

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

/** What an admin session remembers of the token it was made with (a new token ends old sessions). */
export function adminFingerprint(token: string): string {
  return crypto.createHash("sha256").update(`clawtower admin session\0${token}`).digest("hex");
}

export type Principal = { kind: "open" } | { kind: "admin" } | { kind: "key"; key: ApiKeyInfo };

/** The admin token or an active API key, whatever its scopes; null for anything else. */
export async function tokenPrincipal(conn: StoreConnection, token: string, cfg: AuthConfig, now: number): Promise<Principal | null> {
  if (cfg.adminToken && sameSecret(token, cfg.adminToken)) return { kind: "admin" };
  const key = await verifyApiKey(conn, token, now);
  return key ? { kind: "key", key } : null;
}

/** The principal a sign-in session stands for, if it is live and what made it still holds. */
export async function sessionPrincipal(conn: StoreConnection, id: string, cfg: AuthConfig, now: number): Promise<Principal | null> {
  const s = await findAuthSession(conn, id, SESSION_POLICY, now);
  if (!s) return null;
  if (s.principal === "admin") return cfg.adminToken && s.adminFingerprint === adminFingerprint(cfg.adminToken) ? { kind: "admin" } : null;
  const key = await activeApiKey(conn, s.keyId);
  return key ? { kind: "key", key } : null;
}

export function mayRead(p: Principal): boolean {
  return p.kind !== "key" || keyHasScope(p.key, "read");
}

/** The one deployment a principal may read, or null for all of them. */
export function readableDeployment(p: Principal): string | null {
  return p.kind === "key" && !p.key.scopes.includes("admin") ? p.key.deploymentId : null;
}

function cannotRead(key: ApiKeyInfo): HubError {
  return new HubError(
    "forbidden",
    `API key ${key.keyId} has scope ${key.scopes.join(",")} and may not read; create a read key with \`clawtower keys create --scope read${key.deploymentId ? ` --deployment ${key.deploymentId}` : ""}\``,
  );
}

export function lockedOut(retryAfterMs: number): HubError {
  const s = Math.ceil(retryAfterMs / 1000);
  return new HubError("too_many_requests", `too many wrong tokens from your address: try again in ${s} s`, s);
}

/** Rejects requests whose Host is missing or not a loopback name when the hub is loopback-only (DNS rebinding). */
export function hostGuard(cfg: AuthConfig): MiddlewareHandler {
  return async (c, next) => {
    if (cfg.loopbackOnly) {
      const host = (c.req.header("host") ?? "").trim().replace(/:\d+$/, "");
      if (!host) throw new HubError("forbidden", "a request without a Host header is not allowed on a loopback-only hub");
      if (!isLoopbackHost(host)) throw new HubError("forbidden", `host "${host}" is not allowed on a loopback-only hub`);
    }
    await next();
  };
}

export function requireReader(conn: StoreConnection, cfg: AuthConfig, now: () => number): MiddlewareHandler {
  const trustProxy = cfg.trustProxy === true;
  return async (c, next) => {
    let who: Principal | null = null;
    const token = bearer(c);
    if (token) {
      const client = requestClient(c, trustProxy);
      const wait = await loginLockedFor(conn, client, now());
      if (wait > 0) throw lockedOut(wait);
      who = await tokenPrincipal(conn, token, cfg, now());
      if (!who) {
        await recordLoginFailure(conn, client, LOGIN_THROTTLE, now());
        throw new HubError("unauthorized", "invalid or revoked token");
      }
    } else {
      const session = getCookie(c, SESSION_COOKIE);
      if (session) who = await sessionPrincipal(conn, session, cfg, now());
      if (!who && cfg.loopbackOnly && !cfg.adminToken) who = { kind: "open" };
      if (!who) throw new HubError("unauthorized", session ? "your sign-in has expired or was ended; sign in again" : "this hub requires a token: send Authorization: Bearer <admin token or API key>, or sign in");
    }
    if (who.kind === "key" && !mayRead(who)) throw cannotRead(who.key);
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
    if (!keyHasScope(key, "ingest")) throw new HubError("forbidden", `API key ${key.keyId} has scope ${key.scopes.join(",")} and may not ingest`);
    c.set("principal", { kind: "key", key } satisfies Principal);
    await next();
  };
}

declare module "hono" {
  interface ContextVariableMap {
    principal: Principal;
  }
}
