/** What the real-host suites share: the plugin packed as `openclaw plugins install` takes it, and polling. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { tmpDir } from "@clawtower/testkit";
import { pathWithNode24, runProcess } from "@clawtower/testkit/openclaw-host";

const PLUGIN_DIR = path.resolve(import.meta.dirname, "..");

/** `npm pack` of the plugin (its prepack builds the bundle), into a fresh directory. */
export async function packPlugin(): Promise<string> {
  const dest = tmpDir("ct-pack-");
  const r = await runProcess("npm", ["pack", "--pack-destination", dest, "--loglevel=warn"], {
    cwd: PLUGIN_DIR,
    env: { ...(process.env as Record<string, string>), PATH: pathWithNode24() },
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stderr);
  const tgz = fs.readdirSync(dest).find((f) => f.endsWith(".tgz"));
  assert.ok(tgz, `npm pack produced no tarball: ${r.stdout}`);
  return path.join(dest, tgz);
}

/** Polls `fn` (sync or async) until it returns something truthy, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
