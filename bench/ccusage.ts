/**
 * ccusage, the bench's outside baseline: `ccusage openclaw daily --json --offline` over the same corpora.
 * Installed once from npm into `<repo>/.cache/ccusage-<version>/` (never a dependency of ours); the npm
 * package is a launcher for a native binary in a per-platform package, and the bench runs that binary itself
 * so that the wall time is ccusage's own, not a Node launcher's.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathWithNode24, REPO_ROOT, repoNodeBin } from "@clawtower/testkit/openclaw-host";

export const CCUSAGE_VERSION = "20.0.24";

export type CcusageTotals = { input: number; output: number; cacheRead: number; cacheWrite: number; total: number; costUsd: number; unpricedModels: string[] };
export type CcusageRun = { seconds: number; rssMiB: number | null; totals: CcusageTotals } | { seconds: number; timedOut: true };

function npmCli(): string[] {
  const nodeBin = repoNodeBin();
  const candidates = [path.join(path.dirname(nodeBin), "..", "lib", "node_modules", "npm", "bin", "npm-cli.js"), path.join(REPO_ROOT, "node_modules", "npm", "bin", "npm-cli.js"), "/usr/lib/node_modules/npm/bin/npm-cli.js"];
  const found = candidates.find((c) => fs.existsSync(c));
  return found ? [nodeBin, found] : ["npm"];
}

function nativeBinary(dir: string): string {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  return path.join(dir, "node_modules", "@ccusage", `ccusage-${process.platform}-${arch}`, "bin", process.platform === "win32" ? "ccusage.exe" : "ccusage");
}

/** Installs ccusage (once) and returns its native binary, checked to be one (ELF or Mach-O, not a script). */
export function ensureCcusage(log: (line: string) => void): string {
  const dir = path.join(REPO_ROOT, ".cache", `ccusage-${CCUSAGE_VERSION}`);
  const marker = path.join(dir, ".clawtower-install-complete");
  if (!fs.existsSync(marker)) {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const tmp = fs.mkdtempSync(`${dir}.tmp-${process.pid}-`);
    try {
      fs.writeFileSync(path.join(tmp, "package.json"), `${JSON.stringify({ name: "clawtower-bench-ccusage", private: true, dependencies: { ccusage: CCUSAGE_VERSION } }, null, 2)}\n`);
      fs.writeFileSync(path.join(tmp, ".npmrc"), "fund=false\naudit=false\nupdate-notifier=false\n");
      log(`installing ccusage@${CCUSAGE_VERSION} into ${tmp}`);
      const [cmd, ...pre] = npmCli();
      const r = spawnSync(cmd!, [...pre, "install", "--no-audit", "--no-fund", "--loglevel=warn"], { cwd: tmp, encoding: "utf8", env: { ...process.env, PATH: pathWithNode24() }, timeout: 10 * 60_000 });
      if (r.status !== 0) throw new Error(`npm install ccusage@${CCUSAGE_VERSION} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
      fs.writeFileSync(path.join(tmp, path.basename(marker)), `${new Date().toISOString()}\n`);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(tmp, dir);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  const bin = nativeBinary(dir);
  if (!fs.existsSync(bin)) throw new Error(`ccusage's native binary is missing (${bin}): the platform package did not install`);
  const magic = Buffer.alloc(4);
  const fd = fs.openSync(bin, "r");
  fs.readSync(fd, magic, 0, 4, 0);
  fs.closeSync(fd);
  const isNative = magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) || magic.readUInt32LE(0) === 0xfeedfacf || magic.readUInt32BE(0) === 0xcafebabe || magic.subarray(0, 2).toString() === "MZ";
  if (!isNative) throw new Error(`${bin} is not a native executable`);
  // npm unpacks it without the execute bit; the launcher sets it on first use, as we do.
  if ((fs.statSync(bin).mode & 0o111) === 0) fs.chmodSync(bin, 0o755);
  const version = spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout.trim();
  if (!version.includes(CCUSAGE_VERSION)) throw new Error(`${bin} --version says ${JSON.stringify(version)}, expected ${CCUSAGE_VERSION}`);
  return bin;
}

type DailyJson = { totals: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheCreationTokens: number; totalTokens: number; totalCost: number; unpricedModels?: string[] } };

/**
 * One `ccusage openclaw daily --json --offline` over `home` (an OpenClaw state dir), with an empty HOME so that
 * no config or other agent's data of this machine is read.
 */
export function runCcusage(bin: string, home: string, timeoutSeconds: number): CcusageRun {
  const emptyHome = fs.mkdtempSync(path.join(os.tmpdir(), "clawtower-bench-ccusage-home-"));
  try {
    const time = fs.existsSync("/usr/bin/time") ? ["/usr/bin/time", "-f", "%M"] : [];
    // coreutils' timeout signals its whole process group, so ccusage goes too, not only /usr/bin/time.
    const cmd = ["timeout", "-k", "5", String(timeoutSeconds), ...time, bin, "openclaw", "daily", "--json", "--offline", "--open-claw-path", home];
    const t = performance.now();
    const r = spawnSync(cmd[0]!, cmd.slice(1), {
      encoding: "utf8",
      maxBuffer: 256 * 2 ** 20,
      env: { PATH: process.env["PATH"] ?? "", HOME: emptyHome, TZ: "UTC", NO_COLOR: "1" },
    });
    const seconds = (performance.now() - t) / 1000;
    if (r.status === 124 || r.status === 137) return { seconds, timedOut: true };
    if (r.status !== 0) throw new Error(`ccusage failed (${r.status}): ${r.stderr.slice(-2000)}`);
    const rssLine = r.stderr.trim().split("\n").at(-1) ?? "";
    const j = JSON.parse(r.stdout) as DailyJson;
    const t2 = j.totals;
    return {
      seconds,
      rssMiB: time.length && /^\d+$/.test(rssLine) ? Number(rssLine) / 1024 : null,
      totals: { input: t2.inputTokens, output: t2.outputTokens, cacheRead: t2.cacheReadTokens, cacheWrite: t2.cacheCreationTokens, total: t2.totalTokens, costUsd: t2.totalCost, unpricedModels: t2.unpricedModels ?? [] },
    };
  } finally {
    fs.rmSync(emptyHome, { recursive: true, force: true });
  }
}
