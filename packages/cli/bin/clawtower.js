#!/usr/bin/env node
// Launcher (plain JavaScript, so that any Node can read it). Clawtower needs Node >= 24.16 (node:sqlite,
// zstd). On an older Node it re-runs itself with the Node 24 that the repo installs as the `node`
// devDependency, or (in the published package, or a repo without `npm ci`) says what to install.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import module, { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * Loads kysely from one bundled file: its ~300 ESM modules cost ~130 ms of every command's start-up, one
 * file ~20 ms (a warm `report` takes well under a second, so this is a sixth of it). The bundle is made
 * once per installed kysely version, with esbuild (a dev dependency), under node_modules/.cache/clawtower/
 * (tmp + rename, so concurrent first runs are safe). Without esbuild, or on any failure, kysely loads as
 * usual: this only ever changes how fast it loads.
 */
function loadKyselyBundled() {
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve("kysely");
    const root = path.dirname(path.dirname(entry));
    const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    const bundle = path.join(path.dirname(root), ".cache", "clawtower", `kysely-${version}.mjs`);
    if (!existsSync(bundle)) {
      const esbuild = require("esbuild");
      mkdirSync(path.dirname(bundle), { recursive: true });
      const tmp = `${bundle}.${process.pid}.tmp`;
      esbuild.buildSync({ entryPoints: [entry], bundle: true, format: "esm", platform: "node", outfile: tmp, logLevel: "silent" });
      renameSync(tmp, bundle);
    }
    const url = pathToFileURL(bundle).href;
    module.registerHooks({
      resolve: (specifier, context, nextResolve) => (specifier === "kysely" ? { url, format: "module", shortCircuit: true } : nextResolve(specifier, context)),
    });
  } catch {
    // kysely loads from its own files
  }
}

const [major, minor] = process.versions.node.split(".").map(Number);
const supported = major > 24 || (major === 24 && minor >= 16);
// The published package runs its bundle (dist/, plain JavaScript: Node does not strip types under
// node_modules); the repo runs the TypeScript sources.
const bundle = new URL("../dist/clawtower.js", import.meta.url);
const packaged = existsSync(bundle);

if (supported) {
  // Caches the compiled modules on disk: start-up drops from ~0.7 s to ~0.45 s (repo sources).
  module.enableCompileCache?.();
  if (packaged) {
    await import(bundle.href);
  } else {
    loadKyselyBundled();
    await import("../src/main.ts");
  }
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
      `clawtower: needs Node.js 24.16 or newer; this is Node.js ${process.versions.node} (${process.execPath}).\n` +
        `  Install Node.js 24 (LTS) from https://nodejs.org/en/download (or: nvm install 24), then run clawtower again.\n` +
        (packaged ? "" : "  In a clone of the repo, `npm ci` brings its own Node 24.\n"),
    );
    process.exit(1);
  }
  runUnder(node24);
}

/**
 * Runs this launcher under `node` as a child and mirrors it: SIGTERM, SIGINT and SIGHUP sent to this process
 * go to the child (so `kill <pid>` of a service stops what serves the port), and this process ends as the
 * child did — with its exit code, or killed by its signal.
 */
function runUnder(node) {
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  const forward = (signal) => child.kill(signal);
  const signals = ["SIGTERM", "SIGINT", "SIGHUP"];
  for (const s of signals) process.on(s, forward);
  child.on("error", (e) => {
    process.stderr.write(`clawtower: could not start ${node}: ${e.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    for (const s of signals) process.off(s, forward);
    if (!signal) process.exit(code ?? 1);
    process.kill(process.pid, signal);
    setTimeout(() => process.exit(1), 1000); // should the signal be ignored here
  });
}
