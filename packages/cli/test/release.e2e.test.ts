/**
 * The published packages, as a user gets them: `npm run release:pack` builds the tarballs, `clawtower` is
 * installed into an empty prefix outside the repo (offline: it must need nothing else) and run from there
 * with a PATH that holds only Node 24, the prefix and the system; the plugin tarball goes into a real
 * openclaw@2026.9.6 home.
 *
 * Every module the installed CLI loads is traced (a module.registerHooks preload): nothing may come from
 * the repo, the read and checkpoint workers must start from the package, and PostgreSQL's driver (pg.js)
 * must load only for a postgres:// store.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import { MIGRATIONS } from "@clawtower/store";
import { tmpDir } from "@clawtower/testkit";
import { createOpenClawHome, ensureOpenClaw, freePort, parseJsonOutput, repoNodeBin, REPO_ROOT, runOpenClaw } from "@clawtower/testkit/openclaw-host";

const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
const LAST_MIGRATION = Math.max(...MIGRATIONS.map((m) => m.version));
const FIXTURES = path.join(REPO_ROOT, "packages", "testkit", "fixtures");
const CHROMIUM = "/usr/bin/chromium";
const MB = 1_000_000;

type Expected = { transcriptTotals: { llmCallsWithUsage: number; input: number; output: number; cacheRead: number; cacheWrite: number; totalTokens: number; costUsd: number; toolCalls: number } };
type Traced = { thread: number; url: string }[];

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: "utf8", timeout: 300_000, ...opts });
}

function treeBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name)).size;
  return total;
}

describe("release packages installed outside the repo", { timeout: 900_000 }, () => {
  const work = tmpDir("ct-release-");
  const out = path.join(work, "packages");
  const prefix = path.join(work, "prefix");
  const pkgDir = path.join(prefix, "lib", "node_modules", "clawtower");
  const traceHook = path.join(work, "trace-modules.mjs");
  let cliTgz: string;
  let pluginTgz: string;
  let env: NodeJS.ProcessEnv;
  let traceN = 0;

  /** Runs the installed `clawtower` with module tracing; returns its result and what it loaded. */
  const clawtower = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const trace = path.join(work, `trace-${traceN++}.txt`);
    const r = run(path.join(prefix, "bin", "clawtower"), args, { cwd: work, env: { ...env, CT_TRACE_FILE: trace, ...extraEnv } });
    return { ...r, loaded: readTrace(trace) };
  };
  const readTrace = (file: string): Traced =>
    fs.existsSync(file)
      ? fs.readFileSync(file, "utf8").trim().split("\n").map((l) => ({ thread: Number(l.slice(0, l.indexOf(" "))), url: l.slice(l.indexOf(" ") + 1) }))
      : [];
  const fromPackageOnly = (loaded: Traced) => {
    const files = loaded.filter((m) => m.url.startsWith("file:") && m.url !== pathToFileURL(traceHook).href);
    assert.ok(files.length > 0, "the trace saw the package's modules");
    const foreign = files.filter((m) => !m.url.startsWith(pathToFileURL(pkgDir).href + "/"));
    assert.deepEqual(foreign, [], "every module comes from the installed package");
  };
  const loadedFile = (loaded: Traced, name: string) => loaded.filter((m) => m.url.endsWith(`/clawtower/dist/${name}`));

  before(() => {
    const pack = run(process.execPath, [path.join(REPO_ROOT, "scripts", "release", "pack.ts"), "--out", out], { cwd: REPO_ROOT });
    assert.equal(pack.status, 0, pack.stderr + pack.stdout);
    cliTgz = path.join(out, `clawtower-${VERSION}.tgz`);
    pluginTgz = path.join(out, `clawtower-openclaw-plugin-${VERSION}.tgz`);
    // Node 24 alone on the PATH (not the repo's node_modules/.bin, which holds every dev tool).
    const nodeDir = path.join(work, "node24");
    fs.mkdirSync(nodeDir);
    fs.symlinkSync(repoNodeBin(), path.join(nodeDir, "node"));
    fs.writeFileSync(
      traceHook,
      `import fs from "node:fs";\nimport module from "node:module";\nimport { threadId } from "node:worker_threads";\n` +
        `module.registerHooks({ load(url, context, next) { if (process.env.CT_TRACE_FILE) fs.appendFileSync(process.env.CT_TRACE_FILE, threadId + " " + url + "\\n"); return next(url, context); } });\n`,
    );
    const home = path.join(work, "home");
    fs.mkdirSync(home);
    env = {
      PATH: [nodeDir, path.join(prefix, "bin"), "/usr/bin", "/bin"].join(path.delimiter),
      HOME: home,
      CLAWTOWER_HOME: path.join(home, ".clawtower"),
      npm_config_cache: path.join(work, "npm-cache"),
      NODE_OPTIONS: `--import=${pathToFileURL(traceHook).href}`,
    };
  });

  it("packs both packages at the repo's one version, the CLI as JavaScript with no dependencies", () => {
    for (const [tgz, name] of [[cliTgz, "clawtower"], [pluginTgz, "@clawtower/openclaw-plugin"]] as const) {
      const pkg = JSON.parse(run("tar", ["-xzOf", tgz, "package/package.json"]).stdout) as Record<string, unknown>;
      assert.equal(pkg["name"], name);
      assert.equal(pkg["version"], VERSION);
      assert.deepEqual(pkg["engines"], { node: ">=24.16.0" });
      assert.equal(pkg["devDependencies"], undefined);
    }
    const cliPkg = JSON.parse(run("tar", ["-xzOf", cliTgz, "package/package.json"]).stdout) as Record<string, unknown>;
    assert.equal(cliPkg["dependencies"], undefined, "everything is bundled");
    const files = run("tar", ["-tzf", cliTgz]).stdout.trim().split("\n");
    // Node does not strip types under node_modules: a published .ts file could never run.
    assert.deepEqual(files.filter((f) => f.endsWith(".ts")), []);
    for (const f of ["bin/clawtower.js", "dist/clawtower.js", "dist/read-worker-entry.js", "dist/checkpoint-worker.js", "dist/pg.js", "dist/bundled-prices.json", "dist/web/index.html", "README.md"]) {
      assert.ok(files.includes(`package/${f}`), `${f} is in the tarball`);
    }
  });

  it("installs into an empty prefix offline, within the size budget", (t) => {
    const started = Date.now();
    const r = run("npm", ["install", "-g", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", cliTgz], { cwd: work, env: { ...env, NODE_OPTIONS: "" } });
    assert.equal(r.status, 0, r.stderr);
    const installMs = Date.now() - started;
    const packed = fs.statSync(cliTgz).size;
    const installed = treeBytes(pkgDir);
    t.diagnostic(`clawtower tarball ${(packed / MB).toFixed(2)} MB, installed ${(installed / MB).toFixed(2)} MB in ${installMs} ms; plugin tarball ${(fs.statSync(pluginTgz).size / MB).toFixed(2)} MB`);
    assert.ok(packed <= 5 * MB, `tarball ${packed} bytes > 5 MB`);
    assert.ok(installed <= 40 * MB, `installed ${installed} bytes > 40 MB`);
    assert.deepEqual(fs.readdirSync(path.join(prefix, "lib", "node_modules")), ["clawtower"], "nothing else was installed");
  });

  it("`clawtower --version` names the release and the store schema, from the package alone", () => {
    const r = clawtower(["--version"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${VERSION} (store schema ${LAST_MIGRATION})`);
    fromPackageOnly(r.loaded);
    const npx = run("npm", ["exec", "--yes", "--offline", `--package=${cliTgz}`, "--", "clawtower", "--version"], { cwd: work, env: { ...env, NODE_OPTIONS: "" } });
    assert.equal(npx.status, 0, npx.stderr);
    assert.equal(npx.stdout.trim(), `${VERSION} (store schema ${LAST_MIGRATION})`);
  });

  it("under an older Node, says exactly what to install and exits 1", { skip: !fs.existsSync("/usr/bin/node") && "no system Node" }, (t) => {
    const system = run("/usr/bin/node", ["-p", "process.versions.node"]).stdout.trim();
    const [major, minor] = system.split(".").map(Number);
    if (major! > 24 || (major === 24 && minor! >= 16)) return t.skip(`/usr/bin/node is ${system}`);
    // The bin's `#!/usr/bin/env node` finds the system Node first.
    const r = run(path.join(prefix, "bin", "clawtower"), ["--version"], { cwd: work, env: { ...env, PATH: ["/usr/bin", "/bin", path.join(prefix, "bin")].join(path.delimiter), NODE_OPTIONS: "" } });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, new RegExp(`needs Node\\.js 24\\.16 or newer; this is Node\\.js ${system.replaceAll(".", "\\.")}`));
    assert.match(r.stderr, /Install Node\.js 24 \(LTS\) from https:\/\/nodejs\.org\/en\/download/);
    assert.doesNotMatch(r.stderr, /npm ci/, "outside the repo there is no `npm ci` to suggest");
  });

  for (const name of ["openclaw-2026.9.6", "openclaw-legacy-2026.7.35"]) {
    it(`\`report summary --json\` on the real ${name} store is exact, read by worker threads, without pg`, () => {
      const home = path.join(work, name, "state");
      fs.cpSync(path.join(FIXTURES, name, "state"), home, { recursive: true });
      const t = (JSON.parse(fs.readFileSync(path.join(FIXTURES, name, "expected.json"), "utf8")) as Expected).transcriptTotals;
      const r = clawtower(["report", "summary", "--json", "--openclaw-home", home, "--db", path.join(work, name, "ct.db"), "--workers", "2"]);
      assert.equal(r.status, 0, r.stderr);
      const s = JSON.parse(r.stdout);
      assert.equal(s.totals.llmCalls, t.llmCallsWithUsage);
      assert.deepEqual(s.totals.tokens, { input: t.input, output: t.output, cacheRead: t.cacheRead, cacheWrite: t.cacheWrite, total: t.totalTokens });
      assert.ok(Math.abs(s.totals.cost.total - t.costUsd) < 1e-9, `cost ${s.totals.cost.total} vs ${t.costUsd}`);
      assert.equal(s.totals.toolCalls, t.toolCalls);
      fromPackageOnly(r.loaded);
      assert.ok(loadedFile(r.loaded, "read-worker-entry.js").some((m) => m.thread > 0), "a read worker started from the package");
      assert.deepEqual(loadedFile(r.loaded, "pg.js"), [], "pg is not loaded for a SQLite store");
    });
  }

  it("loads pg for a postgres:// store (so the trace above would have seen it)", () => {
    const r = clawtower(["keys", "list", "--db", "postgres://clawtower@127.0.0.1:1/none"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ECONNREFUSED/);
    assert.equal(loadedFile(r.loaded, "pg.js").length, 1);
  });

  it("`serve --demo` serves the dashboard to a real browser, reports version and schema, and stops cleanly on SIGTERM", async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    const port = await freePort();
    const trace = path.join(work, "trace-serve.txt");
    const child = spawn(path.join(prefix, "bin", "clawtower"), ["serve", "--demo", "--port", String(port), "--log-format", "json"], {
      cwd: work,
      env: { ...env, CT_TRACE_FILE: trace },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    const context = await chromium.launchPersistentContext(tmpDir("ct-release-chromium-"), {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes('"event":"serving"')) resolve();
        });
        void exit.then((e) => reject(new Error(`serve exited (${JSON.stringify(e)}): ${stdout}${stderr}`)));
      });
      const log = () => stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      const demo = log().find((l) => l["event"] === "demo")!;
      const url = log().find((l) => l["event"] === "serving")!["url"] as string;
      assert.equal(url, `http://127.0.0.1:${port}`);

      const info = (await (await fetch(`${url}/api/v1/info`)).json()) as { version: string; store: { schemaVersion: number } };
      assert.equal(info.version, VERSION);
      assert.equal(info.store.schemaVersion, LAST_MIGRATION);

      const page = context.pages()[0] ?? (await context.newPage());
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("response", (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
      });
      await page.goto(`${url}/?range=all&tz=UTC`);
      // The generator's own tally of what it wrote, against what the page shows.
      const want = { sessions: String(demo["sessions"]), llmCalls: String(demo["llmCalls"]) };
      const shown = async () => ({
        sessions: await page.getAttribute("[data-kpi='sessions']", "data-value"),
        llmCalls: await page.getAttribute("[data-kpi='llmCalls']", "data-value"),
      });
      const deadline = Date.now() + 20_000;
      while (JSON.stringify(await shown()) !== JSON.stringify(want) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await shown(), want);
      assert.match(await page.title(), /Clawtower$/);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      child.kill("SIGTERM");
    }
    assert.deepEqual(await exit, { code: 0, signal: null }, stderr);
    assert.ok(stdout.trim().split("\n").some((l) => JSON.parse(l).event === "stopped"));
    const loaded = readTrace(trace);
    fromPackageOnly(loaded);
    assert.ok(loadedFile(loaded, "checkpoint-worker.js").some((m) => m.thread > 0), "the hub's checkpoint worker started from the package");
    assert.deepEqual(loadedFile(loaded, "pg.js"), []);
  });

  it("ships systemd units (system and user) that systemd accepts, running the installed command", { skip: !fs.existsSync("/usr/bin/systemd-analyze") && "no systemd-analyze" }, () => {
    for (const unit of ["clawtower.service", "clawtower-user.service"]) {
      const text = fs.readFileSync(path.join(pkgDir, "systemd", unit), "utf8");
      const exec = /^ExecStart=(\S+) serve .*--log-format json/m.exec(text);
      assert.ok(exec, `${unit} runs clawtower serve --log-format json`);
      assert.match(text, /^KillSignal=SIGTERM$/m);
      const here = path.join(work, unit);
      fs.writeFileSync(here, text.replace(exec[1]!, path.join(prefix, "bin", "clawtower")));
      const r = run("systemd-analyze", ["verify", here]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, "", `${unit}: ${r.stderr}`);
    }
  });

  describe("the plugin tarball in a real OpenClaw 2026.9.6 home", () => {
    let home: Awaited<ReturnType<typeof createOpenClawHome>>;
    before(async () => {
      const install = await ensureOpenClaw("2026.9.6");
      // No agent turn runs here: the model URL only has to be a loopback one.
      home = await createOpenClawHome({ dir: tmpDir("ct-release-oc-"), fakeLlmBaseUrl: "http://127.0.0.1:9/v1", install });
    });

    it("`openclaw plugins install` takes it, and `plugins inspect` finds it loaded from its bundle", async () => {
      const inst = await runOpenClaw(home, ["plugins", "install", `npm-pack:${pluginTgz}`, "--force", "--accept-capabilities"], { timeoutMs: 240_000 });
      assert.equal(inst.code, 0, inst.stderr.slice(-2000) + inst.stdout.slice(-2000));
      assert.match(inst.stdout, /Installed plugin: clawtower/);
      const inspect = await runOpenClaw(home, ["plugins", "inspect", "clawtower", "--runtime", "--json"], { timeoutMs: 240_000 });
      assert.equal(inspect.code, 0, inspect.stderr.slice(-2000));
      const p = (parseJsonOutput(inspect.stdout) as { plugin: { status: string; version: string; packageName: string; source: string; hookCount: number } }).plugin;
      assert.equal(p.status, "loaded");
      assert.equal(p.packageName, "@clawtower/openclaw-plugin");
      assert.equal(p.version, VERSION);
      assert.match(p.source, /node_modules\/@clawtower\/openclaw-plugin\/dist\/index\.js$/);
      assert.ok(p.hookCount > 0, `the bundle ran its registration: ${p.hookCount} hooks`);
    });
  });
});
