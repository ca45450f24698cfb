/**
 * Dashboard sign-in sessions, kept in the store so every replica honours them. The cookie holds a random id
 * (32 bytes from the OS); the store holds only its sha256. A session ends at its absolute expiry, after an idle
 * period, on logout, or — checked by the hub on each request — when its key is revoked or the admin token changes.
 */
import crypto from "node:crypto";
import type { StoreConnection } from "./connection.ts";

export type AuthSessionGrant = { principal: "admin"; adminFingerprint: string } | { principal: "key"; keyId: string };

export type AuthSession = AuthSessionGrant & { createdAt: number; lastSeenAt: number; expiresAt: number };

export type AuthSessionPolicy = { idleMs: number; absoluteMs: number };

const hashId = (id: string) => crypto.createHash("sha256").update(id).digest("hex");

/** Creates a session and returns the id for the cookie; the id itself is never stored. */
export async function createAuthSession(conn: StoreConnection, grant: AuthSessionGrant, client: string | null, policy: AuthSessionPolicy, now: number): Promise<{ id: string; expiresAt: number }> {
  const id = crypto.randomBytes(32).toString("base64url");
  const expiresAt = now + policy.absoluteMs;
  // Sign-ins are rare: prune ended sessions here rather than on a timer.
  await conn.db.deleteFrom("auth_sessions").where((eb) => eb.or([eb("expires_at", "<=", now), eb("last_seen_at", "<=", now - policy.idleMs)])).execute();
  await conn.db
    .insertInto("auth_sessions")
    .values({
      session_hash: hashId(id),
      principal: grant.principal,
      key_id: grant.principal === "key" ? grant.keyId : null,
      admin_fingerprint: grant.principal === "admin" ? grant.adminFingerprint : null,
      client,
      created_at: now,
      last_seen_at: now,
      expires_at: expiresAt,
    })
    .execute();
  return { id, expiresAt };
}

/** The live session a cookie names, or null (unknown, expired, idle too long). Marks use at most once a minute. */
export async function findAuthSession(conn: StoreConnection, id: string, policy: AuthSessionPolicy, now: number): Promise<AuthSession | null> {
  if (id.length === 0 || id.length > 200) return null;
  const hash = hashId(id);
  const row = await conn.db.selectFrom("auth_sessions").selectAll().where("session_hash", "=", hash).executeTakeFirst();
  if (!row) return null;
  const lastSeenAt = Number(row.last_seen_at);
  const expiresAt = Number(row.expires_at);
  if (now >= expiresAt || now - lastSeenAt >= policy.idleMs) {
    await conn.db.deleteFrom("auth_sessions").where("session_hash", "=", hash).execute();
    return null;
  }
  // A write per request would serialize replicas on one row; a minute is nothing against a 12-hour idle limit.
  if (now - lastSeenAt > 60_000) await conn.db.updateTable("auth_sessions").set({ last_seen_at: now }).where("session_hash", "=", hash).execute();
  const base = { createdAt: Number(row.created_at), lastSeenAt: Math.max(lastSeenAt, now), expiresAt };
  if (row.principal === "key" && row.key_id) return { principal: "key", keyId: row.key_id, ...base };
  if (row.principal === "admin" && row.admin_fingerprint) return { principal: "admin", adminFingerprint: row.admin_fingerprint, ...base };
  return null;
}

/** Ends a session (logout). True when there was one. */
export async function revokeAuthSession(conn: StoreConnection, id: string): Promise<boolean> {
  const r = await conn.db.deleteFrom("auth_sessions").where("session_hash", "=", hashId(id)).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Ends every session made with a key (the hub would refuse them anyway once the key is revoked; this drops them). */
export async function revokeAuthSessionsOf(conn: StoreConnection, who: { keyId: string }): Promise<number> {
  const r = await conn.db.deleteFrom("auth_sessions").where("key_id", "=", who.keyId).executeTakeFirst();
  return Number(r.numDeletedRows);
}
