/**
 * API keys for the ingest APIs (and for the dashboard on a non-loopback hub). A key is shown once, as
 * `clawtower_<keyId>_<secret>`; the store keeps only sha256(secret). A key may be bound to a project and a
 * deployment (the gateway it belongs to), which then scopes what it may write.
 */
import crypto from "node:crypto";
import type { StoreConnection } from "./connection.ts";

export type ApiKeyInfo = {
  keyId: string;
  name: string | null;
  projectId: string | null;
  deploymentId: string | null;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
};

export type CreatedApiKey = ApiKeyInfo & { token: string };

const TOKEN_RE = /^clawtower_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

function hash(secret: string): string {
  return crypto.createHash("sha256").update(secret).digest("hex");
}

export async function createApiKey(
  conn: StoreConnection,
  opts: { name?: string | null; projectId?: string | null; deploymentId?: string | null },
  now: number,
): Promise<CreatedApiKey> {
  const keyId = crypto.randomBytes(9).toString("base64url").toLowerCase().replace(/[^a-z0-9]/g, "0").slice(0, 12);
  const secret = crypto.randomBytes(32).toString("base64url");
  const info: ApiKeyInfo = {
    keyId,
    name: opts.name ?? null,
    projectId: opts.projectId ?? null,
    deploymentId: opts.deploymentId ?? null,
    createdAt: now,
    revokedAt: null,
    lastUsedAt: null,
  };
  await conn.db
    .insertInto("api_keys")
    .values({ key_id: keyId, name: info.name, project_id: info.projectId, deployment_id: info.deploymentId, secret_hash: hash(secret), created_at: now, revoked_at: null, last_used_at: null })
    .execute();
  return { ...info, token: `clawtower_${keyId}_${secret}` };
}

function toInfo(r: { key_id: string; name: string | null; project_id: string | null; deployment_id: string | null; created_at: number; revoked_at: number | null; last_used_at: number | null }): ApiKeyInfo {
  return {
    keyId: r.key_id,
    name: r.name,
    projectId: r.project_id,
    deploymentId: r.deployment_id,
    createdAt: Number(r.created_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  };
}

export async function listApiKeys(conn: StoreConnection): Promise<ApiKeyInfo[]> {
  const rows = await conn.db
    .selectFrom("api_keys")
    .select(["key_id", "name", "project_id", "deployment_id", "created_at", "revoked_at", "last_used_at"])
    .orderBy("created_at")
    .execute();
  return rows.map(toInfo);
}

export async function revokeApiKey(conn: StoreConnection, keyId: string, now: number): Promise<boolean> {
  const r = await conn.db.updateTable("api_keys").set({ revoked_at: now }).where("key_id", "=", keyId).where("revoked_at", "is", null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** The key a bearer token names, if the token is well-formed, its secret matches and it is not revoked. */
export async function verifyApiKey(conn: StoreConnection, token: string, now: number): Promise<ApiKeyInfo | null> {
  const m = TOKEN_RE.exec(token);
  if (!m) return null;
  const row = await conn.db
    .selectFrom("api_keys")
    .select(["key_id", "name", "project_id", "deployment_id", "created_at", "revoked_at", "last_used_at", "secret_hash"])
    .where("key_id", "=", m[1]!)
    .executeTakeFirst();
  if (!row || row.revoked_at !== null) return null;
  const expected = Buffer.from(row.secret_hash, "hex");
  const actual = Buffer.from(hash(m[2]!), "hex");
  if (expected.length !== actual.length || !crypto.timingSafeEqual(expected, actual)) return null;
  // Record use at most once a minute: a write per ingest request would serialize replicas on one row.
  if (row.last_used_at === null || now - Number(row.last_used_at) > 60_000) {
    await conn.db.updateTable("api_keys").set({ last_used_at: now }).where("key_id", "=", row.key_id).execute();
  }
  return toInfo(row);
}
