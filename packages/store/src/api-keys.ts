/**
 * API keys for the ingest APIs and the read API. A key is shown once, as `clawtower_<keyId>_<secret>`; the
 * store keeps only sha256(secret). A key carries scopes — `ingest` (write through the ingest APIs), `read`
 * (reports, sessions, replay, live updates), `admin` (both, for every deployment) — and may be bound to a
 * project and a deployment (the gateway it belongs to), which then limits what it may write and read.
 */
import crypto from "node:crypto";
import type { StoreConnection } from "./connection.ts";

export const API_KEY_SCOPES = ["ingest", "read", "admin"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
/** What a key may do when its creator names no scope: ship a gateway's data, read nothing. */
export const DEFAULT_API_KEY_SCOPES: readonly ApiKeyScope[] = ["ingest"];

export type ApiKeyInfo = {
  keyId: string;
  name: string | null;
  projectId: string | null;
  deploymentId: string | null;
  scopes: ApiKeyScope[];
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
};

export class ApiKeyScopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ApiKeyScopeError";
  }
}

/** Checks and orders a list of scope names; an admin key reads every deployment, so it cannot be bound to one. */
export function normalizeScopes(scopes: readonly string[], deploymentId: string | null): ApiKeyScope[] {
  const unknown = scopes.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
  if (unknown.length) throw new ApiKeyScopeError(`unknown scope ${unknown.map((s) => `"${s}"`).join(", ")} (choose from ${API_KEY_SCOPES.join(", ")})`);
  if (scopes.length === 0) throw new ApiKeyScopeError(`a key needs at least one scope (${API_KEY_SCOPES.join(", ")})`);
  const set = API_KEY_SCOPES.filter((s) => scopes.includes(s));
  if (set.includes("admin") && deploymentId !== null) throw new ApiKeyScopeError("an admin key covers every deployment: drop --deployment, or use --scope read,ingest");
  return set;
}

function parseScopes(stored: string): ApiKeyScope[] {
  return API_KEY_SCOPES.filter((s) => stored.split(",").includes(s));
}

export function keyHasScope(key: ApiKeyInfo, scope: "ingest" | "read"): boolean {
  return key.scopes.includes(scope) || key.scopes.includes("admin");
}

export type CreatedApiKey = ApiKeyInfo & { token: string };

const TOKEN_RE = /^clawtower_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

function hash(secret: string): string {
  return crypto.createHash("sha256").update(secret).digest("hex");
}

export async function createApiKey(
  conn: StoreConnection,
  opts: { name?: string | null; projectId?: string | null; deploymentId?: string | null; scopes?: readonly string[] },
  now: number,
): Promise<CreatedApiKey> {
  const scopes = normalizeScopes(opts.scopes ?? DEFAULT_API_KEY_SCOPES, opts.deploymentId ?? null);
  const keyId = crypto.randomBytes(9).toString("base64url").toLowerCase().replace(/[^a-z0-9]/g, "0").slice(0, 12);
  const secret = crypto.randomBytes(32).toString("base64url");
  const info: ApiKeyInfo = {
    keyId,
    name: opts.name ?? null,
    projectId: opts.projectId ?? null,
    deploymentId: opts.deploymentId ?? null,
    scopes,
    createdAt: now,
    revokedAt: null,
    lastUsedAt: null,
  };
  await conn.db
    .insertInto("api_keys")
    .values({ key_id: keyId, name: info.name, project_id: info.projectId, deployment_id: info.deploymentId, scopes: scopes.join(","), secret_hash: hash(secret), created_at: now, revoked_at: null, last_used_at: null })
    .execute();
  return { ...info, token: `clawtower_${keyId}_${secret}` };
}

type KeyRow = { key_id: string; name: string | null; project_id: string | null; deployment_id: string | null; scopes: string; created_at: number; revoked_at: number | null; last_used_at: number | null };
const KEY_COLUMNS = ["key_id", "name", "project_id", "deployment_id", "scopes", "created_at", "revoked_at", "last_used_at"] as const;

function toInfo(r: KeyRow): ApiKeyInfo {
  return {
    keyId: r.key_id,
    name: r.name,
    projectId: r.project_id,
    deploymentId: r.deployment_id,
    scopes: parseScopes(r.scopes),
    createdAt: Number(r.created_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  };
}

export async function listApiKeys(conn: StoreConnection): Promise<ApiKeyInfo[]> {
  const rows = await conn.db
    .selectFrom("api_keys")
    .select(KEY_COLUMNS)
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
    .select([...KEY_COLUMNS, "secret_hash"])
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

/** An active key by id (a dashboard session made with a key follows the key: revoked, the session ends too). */
export async function activeApiKey(conn: StoreConnection, keyId: string): Promise<ApiKeyInfo | null> {
  const row = await conn.db.selectFrom("api_keys").select(KEY_COLUMNS).where("key_id", "=", keyId).where("revoked_at", "is", null).executeTakeFirst();
  return row ? toInfo(row) : null;
}
