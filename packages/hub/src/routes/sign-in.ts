/**
 * Dashboard sign-in: `POST /api/v1/auth/login {token}` exchanges the admin token or a key that may read for a
 * server-side session (cookie `clawtower_session`: HttpOnly, SameSite=Strict, Secure over https, 7 days at most);
 * `POST /api/v1/auth/logout` ends it. Each sign-in takes an attempt from its client's budget before the token
 * is looked at, so a locked-out client is refused even with the right token.
 */
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { clearLoginAttempts, createAuthSession, revokeAuthSession, takeLoginAttempt, type StoreConnection } from "@clawtower/store";
import { LOGIN_THROTTLE, SESSION_COOKIE, SESSION_POLICY, adminFingerprint, lockedOut, mayRead, tokenPrincipal, type AuthConfig } from "../auth.ts";
import { bodyLimit, readJsonBody } from "../body.ts";
import { HubError } from "../errors.ts";
import { isHttpsRequest, requestClient } from "../request-origin.ts";
import { parseWith, z } from "../validation.ts";

export type SignInDeps = { conn: StoreConnection; auth: AuthConfig; now: () => number };

export function signInRoutes(deps: SignInDeps): Hono {
  const { conn, auth, now } = deps;
  const trustProxy = auth.trustProxy === true;
  const app = new Hono();

  app.post("/api/v1/auth/login", bodyLimit(16 * 1024), async (c) => {
    // JSON only: a cross-site HTML form cannot send it, so no other site can sign a browser in or guess through it.
    if (!/^application\/json\s*(;|$)/i.test(c.req.header("content-type") ?? "")) throw new HubError("unsupported_media_type", "send the token as JSON: Content-Type: application/json");
    const body = parseWith(z.object({ token: z.string().min(1).max(500) }), await readJsonBody(c), "body");
    const client = requestClient(c, trustProxy);
    const attempt = await takeLoginAttempt(conn, client, LOGIN_THROTTLE, now());
    if (!attempt.allowed) throw lockedOut(attempt.retryAfterMs);
    const who = await tokenPrincipal(conn, body.token, auth, now());
    if (!who || who.kind === "open") throw new HubError("unauthorized", "invalid or revoked token");
    await clearLoginAttempts(conn, client);
    if (!mayRead(who)) throw new HubError("forbidden", "this API key may only ingest; sign in with the admin token or a key made with `clawtower keys create --scope read`");
    const grant = who.kind === "admin" ? { principal: "admin" as const, adminFingerprint: adminFingerprint(auth.adminToken!) } : { principal: "key" as const, keyId: who.key.keyId };
    const session = await createAuthSession(conn, grant, client, SESSION_POLICY, now());
    setCookie(c, SESSION_COOKIE, session.id, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: isHttpsRequest(c, trustProxy),
      maxAge: Math.floor(SESSION_POLICY.absoluteMs / 1000),
    });
    return c.json({ ok: true, expiresAt: new Date(session.expiresAt).toISOString() });
  });

  app.post("/api/v1/auth/logout", async (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    const ended = id ? await revokeAuthSession(conn, id) : false;
    deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Strict", secure: isHttpsRequest(c, trustProxy) });
    return c.json({ ok: true, ended });
  });

  return app;
}
