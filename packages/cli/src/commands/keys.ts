/** `clawtower keys create|list|revoke`: API keys for the ingest and read APIs. The secret is printed once. */
import { ApiKeyScopeError, DEFAULT_API_KEY_SCOPES, createApiKey, listApiKeys, normalizeScopes, openStore, revokeApiKey, revokeAuthSessionsOf } from "@clawtower/store";
import { resolveLocalConfig } from "../config.ts";
import { UsageError } from "../errors.ts";

export type KeysOptions = { db?: string; name?: string; project?: string; deployment?: string; scope?: string[]; json?: boolean };

/** `--scope read,ingest` and `--scope read --scope ingest` alike. */
function scopesFrom(flag: string[] | undefined, deployment: string | null): string[] {
  const named = (flag ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
  try {
    return normalizeScopes(named.length ? named : DEFAULT_API_KEY_SCOPES, deployment);
  } catch (e) {
    if (e instanceof ApiKeyScopeError) throw new UsageError(`--scope: ${e.message}`);
    throw e;
  }
}

function describe(k: { keyId: string; deploymentId: string | null; scopes: string[] }): string {
  const reads = k.scopes.includes("admin") ? "reads every deployment" : k.scopes.includes("read") ? (k.deploymentId ? `reads deployment ${k.deploymentId} only` : "reads every deployment") : "reads nothing";
  const writes = k.scopes.includes("ingest") || k.scopes.includes("admin") ? (k.deploymentId ? `ingests for deployment ${k.deploymentId}` : "ingests for any deployment (each line must name one)") : "ingests nothing";
  return `key ${k.keyId} (scope ${k.scopes.join(",")}): ${writes}, ${reads}`;
}

export async function runKeys(action: string, keyId: string | undefined, o: KeysOptions): Promise<number> {
  const scopes = action === "create" ? scopesFrom(o.scope, o.deployment ?? null) : [];
  const cfg = resolveLocalConfig({ db: o.db });
  const conn = await openStore(cfg.store);
  try {
    if (action === "create") {
      const k = await createApiKey(conn, { name: o.name ?? null, projectId: o.project ?? null, deploymentId: o.deployment ?? null, scopes }, Date.now());
      if (o.json) process.stdout.write(`${JSON.stringify(k, null, 2)}\n`);
      else {
        process.stdout.write(`${k.token}\n`);
        process.stderr.write(`Created ${describe(k)}.\nThis is the only time the key is shown; Clawtower stores only its hash.\n`);
      }
      return 0;
    }
    if (action === "list") {
      const keys = await listApiKeys(conn);
      if (o.json) process.stdout.write(`${JSON.stringify({ schemaVersion: 1, keys }, null, 2)}\n`);
      else if (keys.length === 0) process.stdout.write("no API keys (create one with: clawtower keys create --deployment <id>)\n");
      else
        for (const k of keys)
          process.stdout.write(
            `${k.keyId}  ${k.revokedAt ? "revoked " : "active  "} scope=${k.scopes.join(",")} deployment=${k.deploymentId ?? "*"} project=${k.projectId ?? "-"} name=${k.name ?? "-"} created=${new Date(k.createdAt).toISOString()} last-used=${k.lastUsedAt ? new Date(k.lastUsedAt).toISOString() : "never"}\n`,
          );
      return 0;
    }
    if (action === "revoke") {
      if (!keyId) throw new UsageError("keys revoke needs a key id (see clawtower keys list)");
      const ok = await revokeApiKey(conn, keyId, Date.now());
      if (!ok) {
        process.stderr.write(`clawtower: no active key ${keyId}\n`);
        return 1;
      }
      const ended = await revokeAuthSessionsOf(conn, { keyId });
      process.stdout.write(`revoked ${keyId}${ended ? ` (and ended ${ended} dashboard sign-in${ended === 1 ? "" : "s"} made with it)` : ""}\n`);
      return 0;
    }
    throw new UsageError(`unknown keys action "${action}" (create, list, revoke)`);
  } finally {
    await conn.close();
  }
}
