#!/usr/bin/env node
// Launcher (plain JavaScript, so that any Node can read it). Clawtower needs Node >= 24.16 (node:sqlite,
// zstd, TypeScript type stripping). On an older Node it re-runs itself with the Node 24 that the repo
// installs as the `node` devDependency, or explains what to install.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import module, { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [major, minor] = process.versions.node.split(".").map(Number);
const supported = major > 24 || (major === 24 && minor >= 16);

if (supported) {
  // Caches the compiled (type-stripped) modules on disk: start-up drops from ~0.7 s to ~0.45 s.
  module.enableCompileCache?.();
  await import("../src/main.ts");
} else {
  let node24 = null;
  try {
    const pkg = createRequire(import.meta.url).resolve("node/package.json");
    const candidate = path.join(path.dirname(pkg), "bin", "node");
    if (existsSync(candidate)) node24 = candidate;
  } catch {
    // not installed next to us
  }
  if (!node24) {
    process.stderr.write(
      `clawtower: needs Node.js >= 24.16 (this is ${process.versions.node}). Install Node 24, or run it from the repo after \`npm ci\` (which brings Node 24).\n`,
    );
    process.exit(1);
  }
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(node24, [self, ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}
