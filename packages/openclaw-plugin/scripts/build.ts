/**
 * `npm run build` (also run by `npm pack`): writes openclaw.plugin.json (config schema generated from the
 * zod schema) and bundles dist/index.js with @clawtower/core and zod inside — they are not installed next
 * to the plugin. `openclaw` (linked to the host at install time) and Node built-ins stay external.
 */
import fs from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { buildManifest } from "../src/manifest.ts";

const root = path.resolve(import.meta.dirname, "..");
// `--out DIR` writes both into DIR instead (the release build stages the package there: scripts/release/pack.ts).
const outArg = process.argv.indexOf("--out");
const out = outArg > 0 ? path.resolve(process.argv[outArg + 1]!) : root;
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "openclaw.plugin.json"), `${JSON.stringify(buildManifest(), null, 2)}\n`);

const result = await build({
  entryPoints: [path.join(root, "src", "index.ts")],
  outfile: path.join(out, "dist", "index.js"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  external: ["openclaw", "openclaw/*", "node:*"],
  sourcemap: false,
  minify: true,
  keepNames: true,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  // Bundled CommonJS dependencies (json5) may call require() for built-ins.
  banner: { js: 'import { createRequire as __ctCreateRequire } from "node:module"; const require = __ctCreateRequire(import.meta.url);' },
});
// core's bundled price table is read next to the code (`new URL("./bundled-prices.json", import.meta.url)`):
// the spend guard prices calls without a recorded cost from it.
fs.copyFileSync(path.join(root, "..", "core", "src", "pricing", "bundled-prices.json"), path.join(out, "dist", "bundled-prices.json"));
const bytes = Object.values(result.metafile.outputs).reduce((a, o) => a + o.bytes, 0);
process.stdout.write(`openclaw.plugin.json written; dist/index.js ${(bytes / 1024).toFixed(0)} KiB\n`);
