/** `clawtower keys create|list|revoke`: API keys for the ingest APIs. The secret is printed once. */
import { createApiKey, listApiKeys, openStore, revokeApiKey } from "@clawtower/store";
import { resolveLocalConfig } from "../config.ts";
import { UsageError } from "../errors.ts";

export type KeysOptions = { db?: string; name?: string; project?: string; deployment?: string; json?: boolean };

export async function runKeys(action: string, keyId: string | undefined, o: KeysOptions): Promise<number> {
  const cfg = resolveLocalConfig({ db: o.db });
  const conn = await openStore(cfg.store);
  try {
    if (action === "create") {
      const k = await createApiKey(conn, { name: o.name ?? null, projectId: o.project ?? null, deploymentId: o.deployment ?? null }, Date.now());
      if (o.json) process.stdout.write(`${JSON.stringify(k, null, 2)}\n`);
      else {
        process.stdout.write(`${k.token}\n`);
        process.stderr.write(
          `Created key ${k.keyId}${k.deploymentId ? ` for deployment ${k.deploymentId}` : " (not bound to a deployment: each ingest line must name one)"}.\n` +
            `This is the only time the key is shown; Clawtower stores only its hash.\n`,
        );
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
            `${k.keyId}  ${k.revokedAt ? "revoked " : "active  "} deployment=${k.deploymentId ?? "*"} project=${k.projectId ?? "-"} name=${k.name ?? "-"} created=${new Date(k.createdAt).toISOString()} last-used=${k.lastUsedAt ? new Date(k.lastUsedAt).toISOString() : "never"}\n`,
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
      process.stdout.write(`revoked ${keyId}\n`);
      return 0;
    }
    throw new UsageError(`unknown keys action "${action}" (create, list, revoke)`);
  } finally {
    await conn.close();
  }
}
