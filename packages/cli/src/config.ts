/**
 * Where things are, from flags and environment — parsed once here and passed down as a typed object.
 *   OpenClaw home: --openclaw-home > OPENCLAW_STATE_DIR > ~/.openclaw
 *   Clawtower data: --db (path or postgres:// URL) > CLAWTOWER_DATABASE_URL > $CLAWTOWER_HOME/clawtower.db
 *                   (CLAWTOWER_HOME defaults to ~/.clawtower)
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { resolveOpenClawHome, type HomeResolution } from "@clawtower/core";
import { parseStoreUrl, type OpenStoreOptions } from "@clawtower/store";

export type LocalConfig = {
  openclaw: HomeResolution;
  clawtowerHome: string;
  store: OpenStoreOptions;
  deploymentId: string;
  deploymentName: string;
};

export function resolveLocalConfig(flags: { openclawHome?: string | undefined; db?: string | undefined }, env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const openclaw = resolveOpenClawHome({ flag: flags.openclawHome, env, userHome: os.homedir() });
  const clawtowerHome = env["CLAWTOWER_HOME"] ? path.resolve(env["CLAWTOWER_HOME"]) : path.join(os.homedir(), ".clawtower");
  const storeValue = flags.db ?? env["CLAWTOWER_DATABASE_URL"] ?? path.join(clawtowerHome, "clawtower.db");
  let real = openclaw.home;
  try {
    real = fs.realpathSync(openclaw.home);
  } catch {
    // keep the resolved path; the home may not exist yet
  }
  // One local deployment per OpenClaw home, so several homes can share one store without mixing.
  const deploymentId = `local-${crypto.createHash("sha256").update(real).digest("hex").slice(0, 12)}`;
  return {
    openclaw,
    clawtowerHome,
    store: parseStoreUrl(storeValue),
    deploymentId,
    deploymentName: `${os.hostname()}:${real}`,
  };
}
