/**
 * `npm run typecheck`: the whole repo (strict TypeScript) plus the web package, which has its own DOM config.
 * The plugin's types come from the real host's `openclaw/plugin-sdk` declarations, so this first makes sure
 * openclaw@2026.9.6 is installed under .cache/ (the same install the real-host tests use; `openclaw` is not a
 * devDependency because its install scripts refuse the Node 20 that runs `npm ci` and it weighs ~650 MB).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { ensureOpenClaw } from "../packages/testkit/src/openclaw-host.ts";

const root = path.resolve(import.meta.dirname, "..");
await ensureOpenClaw(undefined, { log: (line) => process.stderr.write(`typecheck: ${line}\n`) });

const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
let failed = false;
for (const project of ["tsconfig.json", "packages/web/tsconfig.json"]) {
  const r = spawnSync(process.execPath, [tsc, "-p", project], { stdio: "inherit", cwd: root });
  if (r.status !== 0) {
    process.stderr.write(`typecheck: ${project} failed\n`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
