/**
 * `npm start` runs this first: builds the dashboard (packages/web → dist) when it is missing or older than
 * its sources, so a fresh clone serves the dashboard without a separate build step.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const web = path.resolve(import.meta.dirname, "../packages/web");
const index = path.join(web, "dist", "index.html");

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || e.parentPath.includes("node_modules") || e.parentPath.includes(`${path.sep}dist`)) continue;
    newest = Math.max(newest, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

if (fs.existsSync(path.join(web, "package.json"))) {
  const built = fs.existsSync(index) ? fs.statSync(index).mtimeMs : 0;
  const sources = Math.max(newestSource(path.join(web, "src")), fs.statSync(path.join(web, "index.html"), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  if (built < sources) {
    process.stderr.write("building the dashboard (packages/web) …\n");
    const r = spawnSync("npm", ["run", "build", "-w", "@clawtower/web"], { stdio: ["ignore", "ignore", "inherit"], cwd: path.resolve(web, "../..") });
    if (r.status !== 0) process.stderr.write("the dashboard build failed; the API still works (see the output above)\n");
  }
}
