/**
 * `npm run typecheck`: the whole repo (strict TypeScript) plus the web package, which has its own DOM config.
 * The plugin's types come from the real host's `openclaw/plugin-sdk` declarations, so this first makes sure
 * openclaw@2026.9.6 is installed under .cache/ (the same install the real-host tests use; `openclaw` is not a
 * devDependency because its install scripts refuse the Node 20 that runs `npm ci` and it weighs ~650 MB).
 * Then it rejects import cycles between the repo's own files (src, test, bench, scripts: see import-cycles.ts).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { ensureOpenClaw } from "../packages/testkit/src/openclaw-host.ts";
import { findImportCycles, formatCycle } from "./import-cycles.ts";

const root = path.resolve(import.meta.dirname, "..");
await ensureOpenClaw(undefined, { log: (line) => process.stderr.write(`typecheck: ${line}\n`) });

const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
const projects = ["tsconfig.json", "packages/web/tsconfig.json"];
let failed = false;
for (const project of projects) {
  const r = spawnSync(process.execPath, [tsc, "-p", project], { stdio: "inherit", cwd: root });
  if (r.status !== 0) {
    process.stderr.write(`typecheck: ${project} failed\n`);
    failed = true;
  }
}
const cycles = findImportCycles(root, projects);
for (const cycle of cycles) process.stderr.write(`typecheck: import cycle: ${formatCycle(cycle)}\n`);
if (cycles.length > 0) {
  process.stderr.write(`typecheck: ${cycles.length} import cycle(s) between source files (move what both sides share into a module of its own)\n`);
  failed = true;
}
process.exit(failed ? 1 : 0);
