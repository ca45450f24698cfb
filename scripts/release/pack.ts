/**
 * `npm run release:pack [-- --out DIR]`: builds the publishable packages into dist/packages/ (or DIR):
 *
 *   clawtower-<v>.tgz                   the CLI + hub: one esbuild bundle (dist/, plain JavaScript, every npm
 *                                       dependency inside), the built dashboard (dist/web), no dependencies
 *   clawtower-openclaw-plugin-<v>.tgz   the OpenClaw plugin, what `openclaw plugins install npm-pack:` takes
 *
 * Both carry the repo's one version (the root package.json); the build fails if any workspace package says
 * otherwise. Each package is staged under DIR/stage/ and packed from there, so nothing is written into the
 * sources (the dashboard and plugin tests build there at the same time).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { build, type Plugin } from "esbuild";

const root = path.resolve(import.meta.dirname, "../..");
const outArg = process.argv.indexOf("--out");
const out = outArg > 0 ? path.resolve(process.argv[outArg + 1]!) : path.join(root, "dist", "packages");
const stage = path.join(out, "stage");

type PackageJson = { name: string; version: string; description?: string; license?: string; [k: string]: unknown };
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as PackageJson;
const rootPkg = readJson(path.join(root, "package.json"));
const version = rootPkg.version;

const workspaces = (rootPkg["workspaces"] as string[]).map((w) => readJson(path.join(root, w, "package.json")));
const misaligned = workspaces.filter((p) => p.version !== version);
if (misaligned.length > 0) {
  throw new Error(`every package carries the repo's version ${version}; these do not: ${misaligned.map((p) => `${p.name}@${p.version}`).join(", ")}`);
}

fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
for (const f of fs.readdirSync(out)) if (f.endsWith(".tgz")) fs.rmSync(path.join(out, f));

// Each output file may require() Node built-ins from bundled CommonJS code (commander, pg, json5, …).
const requireBanner = 'import { createRequire as __ctCreateRequire } from "node:module"; const require = __ctCreateRequire(import.meta.url);';

/** `pg` stays a file of its own, loaded only by a PostgreSQL store (connection.ts imports it lazily). */
const pgAsSibling: Plugin = {
  name: "pg-as-sibling",
  setup(b) {
    b.onResolve({ filter: /^pg$/ }, () => ({ path: "./pg.js", external: true }));
  },
};

async function packCli(): Promise<string> {
  const dir = path.join(stage, "clawtower");
  const dist = path.join(dir, "dist");
  const cli = path.join(root, "packages", "cli");
  const store = path.join(root, "packages", "store", "src");
  // Flat: the worker entries, pg.js, bundled-prices.json and web/ are found next to the chunk that asks for
  // them (new URL("./…", import.meta.url)), and package.json one level up (version.ts).
  await build({
    entryPoints: {
      clawtower: path.join(cli, "src", "main.ts"),
      "read-worker-entry": path.join(store, "read-worker-entry.js"),
      "checkpoint-worker": path.join(store, "checkpoint-worker.js"),
    },
    outdir: dist,
    bundle: true,
    splitting: true,
    chunkNames: "chunk-[hash]",
    platform: "node",
    format: "esm",
    target: "node24",
    external: ["node:*"],
    plugins: [pgAsSibling],
    minifySyntax: true,
    minifyWhitespace: true,
    keepNames: true,
    legalComments: "none",
    logLevel: "warning",
    banner: { js: requireBanner },
  });
  await build({
    entryPoints: [createRequire(path.join(store, "connection.ts")).resolve("pg")],
    outfile: path.join(dist, "pg.js"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    external: ["node:*", "pg-native"],
    minifySyntax: true,
    minifyWhitespace: true,
    keepNames: true,
    legalComments: "none",
    logLevel: "warning",
    banner: { js: requireBanner },
  });
  fs.copyFileSync(path.join(root, "packages", "core", "src", "pricing", "bundled-prices.json"), path.join(dist, "bundled-prices.json"));

  const web = path.join(root, "packages", "web");
  const vite = path.join(path.dirname(createRequire(path.join(web, "package.json")).resolve("vite/package.json")), "bin", "vite.js");
  execFileSync(process.execPath, [vite, "build", "--outDir", path.join(dist, "web"), "--emptyOutDir", "--logLevel", "warn"], { cwd: web, stdio: "inherit" });

  fs.mkdirSync(path.join(dir, "bin"));
  fs.copyFileSync(path.join(cli, "bin", "clawtower.js"), path.join(dir, "bin", "clawtower.js"));
  fs.chmodSync(path.join(dir, "bin", "clawtower.js"), 0o755);
  fs.cpSync(path.join(cli, "systemd"), path.join(dir, "systemd"), { recursive: true });
  fs.copyFileSync(path.join(cli, "README.md"), path.join(dir, "README.md"));
  const cliPkg = readJson(path.join(cli, "package.json"));
  writeJson(path.join(dir, "package.json"), {
    name: cliPkg.name,
    version,
    description: cliPkg.description,
    license: rootPkg.license,
    type: "module",
    bin: { clawtower: "bin/clawtower.js" },
    files: ["bin", "dist", "systemd", "README.md"],
    engines: cliPkg["engines"],
    keywords: ["openclaw", "llm", "usage", "cost", "dashboard", "observability"],
  });
  return npmPack(dir);
}

async function packPlugin(): Promise<string> {
  const dir = path.join(stage, "openclaw-plugin");
  const src = path.join(root, "packages", "openclaw-plugin");
  execFileSync(process.execPath, [path.join(src, "scripts", "build.ts"), "--out", dir], { cwd: src, stdio: ["ignore", "ignore", "inherit"] });
  fs.copyFileSync(path.join(src, "README.md"), path.join(dir, "README.md"));
  const pkg = readJson(path.join(src, "package.json"));
  // What the host installs: the bundle only (dist/index.js holds core and zod); no build scripts, no
  // workspace devDependencies, and the package entry is the bundle rather than the TypeScript sources.
  const { scripts: _scripts, devDependencies: _dev, exports: _exports, ...published } = pkg;
  writeJson(path.join(dir, "package.json"), { ...published, version, exports: { ".": "./dist/index.js" } });
  return npmPack(dir);
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function npmPack(dir: string): string {
  const r = execFileSync("npm", ["pack", dir, "--pack-destination", out, "--json", "--loglevel=warn"], { cwd: out, encoding: "utf8" });
  const [info] = JSON.parse(r) as { filename: string; size: number; unpackedSize: number }[];
  const file = path.join(out, info!.filename);
  process.stdout.write(`${path.relative(process.cwd(), file)}: ${(info!.size / 2 ** 20).toFixed(2)} MiB packed, ${(info!.unpackedSize / 2 ** 20).toFixed(2)} MiB unpacked\n`);
  return file;
}

await packCli();
await packPlugin();
