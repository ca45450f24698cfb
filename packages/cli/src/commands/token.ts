/**
 * `clawtower token create [--file F] [--force]`: a random admin token (256 bits) written to a file only its owner
 * can read (0600), for `clawtower serve --admin-token-file F`. The file appears whole or not at all.
 */
import fs from "node:fs";
import path from "node:path";
import { writePrivateFileAtomic } from "@clawtower/core";
import { generateAdminToken } from "@clawtower/hub";
import { resolveLocalConfig } from "../config.ts";
import { UsageError } from "../errors.ts";

export type TokenOptions = { file?: string; force?: boolean };

export function defaultAdminTokenFile(clawtowerHome: string): string {
  return path.join(clawtowerHome, "admin-token");
}

/** Writes `text` to `file` with mode 0600: a private temporary file beside it, synced, then renamed over. */
export function writeSecretFile(file: string, text: string, overwrite: boolean): void {
  if (!overwrite && fs.existsSync(file)) throw new UsageError(`${file} already exists; pass --force to replace it (sessions signed in with the old token end)`);
  writePrivateFileAtomic(file, text);
}

export async function runToken(action: string, o: TokenOptions): Promise<number> {
  if (action !== "create") throw new UsageError(`unknown token action "${action}" (create)`);
  const file = path.resolve(o.file ?? defaultAdminTokenFile(resolveLocalConfig({}).clawtowerHome));
  writeSecretFile(file, `${generateAdminToken()}\n`, o.force === true);
  process.stdout.write(`${file}\n`);
  process.stderr.write(`Wrote a new admin token to ${file} (mode 0600). Serve with: clawtower serve --admin-token-file ${file}\n`);
  return 0;
}
