/**
 * `npm test`: every test in the repo, on the Node 24 that npm scripts run.
 *   unit + integration: packages/<pkg>/test/**\/*.test.ts
 *   end to end (real OpenClaw host, real PostgreSQL, real browser): packages/<pkg>/test/**\/*.e2e.test.ts
 * `npm test -- --unit` skips the end-to-end suites; other arguments are passed to `node --test`.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const passthrough = args.filter((a) => a !== "--unit");

function find(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".test.ts"))
    .map((e) => path.join(e.parentPath, e.name));
}

const files = fs
  .readdirSync(path.join(root, "packages"))
  .flatMap((pkg) => find(path.join(root, "packages", pkg, "test")))
  .filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`))
  .filter((f) => !(unitOnly && f.endsWith(".e2e.test.ts")))
  .sort();

const r = spawnSync(process.execPath, ["--test", "--test-reporter=spec", "--test-concurrency=2", ...passthrough, ...files], { stdio: "inherit", cwd: root });
process.exit(r.status ?? 1);
