/**
 * Regenerates packages/core/src/pricing/bundled-prices.json (the offline price table) from the model
 * catalog bundled in an installed OpenClaw package. Dev-time only: the product never reads OpenClaw.
 *
 *   node scripts/update-prices.ts --openclaw-dir <path to node_modules/openclaw> [--out <file>]
 *
 * Where OpenClaw keeps its prices (all USD per 1M tokens):
 *   1. dist/extensions/<plugin>/openclaw.plugin.json → modelCatalog.providers.<provider>.models[].cost
 *      — the catalog rows OpenClaw's own pricing lookup reads (planManifestModelCatalogRows);
 *   2. the module a manifest names in `providerCatalogEntry` → entries' `staticCatalog.run()` — the
 *      offline, key-less provider catalogs (this is where MiniMax's prices live).
 * A `cost` may carry `tieredPricing: [{ range: [start, end?], input, output, cacheRead, cacheWrite }]`;
 * OpenClaw picks the tier with start <= prompt < end, prompt = input + cacheRead + cacheWrite, and falls
 * back to the last tier whose start the prompt reached (packages/llm-core/src/usage-cost.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

type Rates = { input: number; output: number; cacheRead?: number; cacheWrite?: number };
type Tier = { minPromptTokens: number } & Rates;
type Row = { provider: string; model: string; aliases?: string[] } & Rates & { tiers?: Tier[] };

type CatalogModel = { id?: unknown; cost?: Record<string, unknown> };
type ProviderCatalog = { models?: CatalogModel[] };
type NormalizationPolicy = { aliases?: Record<string, string>; stripPrefixes?: string[]; prefixWhenBare?: string };
type Manifest = {
  modelCatalog?: { providers?: Record<string, ProviderCatalog> };
  modelIdNormalization?: { providers?: Record<string, NormalizationPolicy> };
  providerCatalogEntry?: string;
};
type StaticCatalogResult = { providers?: Record<string, ProviderCatalog>; provider?: ProviderCatalog } | null | undefined;
type DiscoveryEntry = { id?: string; staticCatalog?: { run(ctx: unknown): Promise<StaticCatalogResult> } };

// Providers whose all-zero catalog prices are real ($0), not "price unknown". OpenClaw itself treats an
// all-zero catalog cost as unknown (hasKnownPricing() in src/model-catalog/pricing.ts), so every other
// all-zero row is dropped. docs/providers/nvidia.md: "Costs default to `0` in source since NVIDIA
// currently offers free API access for the listed models."
const FREE_PROVIDERS = new Set(["nvidia"]);

const { values: args } = parseArgs({ options: { "openclaw-dir": { type: "string" }, out: { type: "string" } } });
const ocDir = args["openclaw-dir"];
if (!ocDir) throw new Error("usage: node scripts/update-prices.ts --openclaw-dir <path to node_modules/openclaw> [--out <file>]");
const outFile = args.out ?? path.resolve(import.meta.dirname, "../packages/core/src/pricing/bundled-prices.json");
const version = (JSON.parse(fs.readFileSync(path.join(ocDir, "package.json"), "utf8")) as { version: string }).version;

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const rel = (file: string): string => path.relative(ocDir, file).split(path.sep).join("/");
/** OpenClaw's asNonNegativeFiniteNumber: anything else counts as "not given". */
const rate = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);

// Read every plugin manifest, in a fixed order so the output does not depend on directory listing order.
const extDir = path.join(ocDir, "dist", "extensions");
const manifests = fs
  .readdirSync(extDir)
  .sort(cmp)
  .map((plugin) => path.join(extDir, plugin, "openclaw.plugin.json"))
  .filter((file) => fs.existsSync(file))
  .map((file) => ({ file, manifest: JSON.parse(fs.readFileSync(file, "utf8")) as Manifest }));

// Collect the raw catalog rows that carry a `cost`, remembering which file each came from.
type RawRow = { provider: string; model: string; cost: Record<string, unknown>; file: string };
const raw = new Map<string, RawRow>();
const conflicts = new Set<string>();
const keyOf = (provider: string, model: string) => `${provider}/${model}`;
function collect(provider: string, catalog: ProviderCatalog | undefined, file: string, fromManifest: boolean): void {
  for (const m of catalog?.models ?? []) {
    if (typeof m.id !== "string" || !m.id.trim() || !m.cost || typeof m.cost !== "object") continue;
    const row = { provider: provider.trim().toLowerCase(), model: m.id.trim(), cost: m.cost, file };
    const key = keyOf(row.provider, row.model);
    const seen = raw.get(key);
    if (!seen) raw.set(key, row);
    else if (fromManifest) conflicts.add(key); // OpenClaw drops rows two manifests both claim
    else if (JSON.stringify(seen.cost) !== JSON.stringify(row.cost)) {
      console.warn(`note: ${key}: ${rel(file)} prices differ from ${rel(seen.file)}; keeping the manifest row`);
    }
  }
}

// Step 1: manifest catalogs — the rows OpenClaw's pricing lookup actually consults.
for (const { file, manifest } of manifests) {
  for (const [provider, catalog] of Object.entries(manifest.modelCatalog?.providers ?? {}).sort(([a], [b]) => cmp(a, b))) {
    collect(provider, catalog, file, true);
  }
}
// Step 2: static provider catalogs — offline, no credentials, no network; fill only rows the manifests lack.
for (const { file, manifest } of manifests) {
  if (!manifest.providerCatalogEntry) continue;
  const entryFile = path.resolve(path.dirname(file), manifest.providerCatalogEntry);
  const exported = ((await import(pathToFileURL(entryFile).href)) as { default?: DiscoveryEntry | DiscoveryEntry[] }).default;
  for (const entry of Array.isArray(exported) ? exported : exported ? [exported] : []) {
    if (!entry.staticCatalog) continue;
    const result = await entry.staticCatalog.run({ env: {}, config: {} }); // empty env: no host-specific output
    const providers = result?.providers ?? (result?.provider && entry.id ? { [entry.id]: result.provider } : {});
    for (const [provider, catalog] of Object.entries(providers).sort(([a], [b]) => cmp(a, b))) collect(provider, catalog, entryFile, false);
  }
}
for (const key of conflicts) {
  console.warn(`skip: ${key} is defined by more than one manifest (OpenClaw ignores it too)`);
  raw.delete(key);
}

/** Normalizes tiers the way OpenClaw does (drops incomplete tiers, sorts by start) and maps them to our shape. */
function toRow(r: RawRow): Row | string {
  const flat = { input: rate(r.cost.input), output: rate(r.cost.output), cacheRead: rate(r.cost.cacheRead), cacheWrite: rate(r.cost.cacheWrite) };
  const tiers = (Array.isArray(r.cost.tieredPricing) ? (r.cost.tieredPricing as Record<string, unknown>[]) : [])
    .map((t) => ({
      start: Array.isArray(t.range) ? rate(t.range[0]) : undefined,
      end: Array.isArray(t.range) && t.range.length > 1 ? rate(t.range[1]) : undefined,
      rates: { input: rate(t.input), output: rate(t.output), cacheRead: rate(t.cacheRead), cacheWrite: rate(t.cacheWrite) },
    }))
    .filter((t): t is { start: number; end: number | undefined; rates: Required<Rates> } =>
      t.start !== undefined && Object.values(t.rates).every((v) => v !== undefined))
    .sort((a, b) => a.start - b.start);

  // With tiers, OpenClaw never uses the flat rates (a prompt below the first start gets the first tier),
  // so the first tier becomes our base price and each later tier a `minPromptTokens` step.
  const base = tiers[0]?.rates ?? flat;
  if (base.input === undefined || base.output === undefined) return "no input/output price";
  const all = [base, ...tiers.map((t) => t.rates)];
  if (!all.some((p) => Object.values(p).some((v) => (v ?? 0) > 0)) && !FREE_PROVIDERS.has(r.provider)) {
    return "all-zero price (OpenClaw treats it as unknown)";
  }
  tiers.forEach((t, i) => {
    const next = tiers[i + 1];
    // Gaps are harmless (both OpenClaw and "highest minPromptTokens reached" fall back to the lower tier);
    // an overlap would make the two rules disagree, so refuse to guess.
    if (next && t.end !== undefined && t.end > next.start) throw new Error(`${r.provider}/${r.model}: overlapping tier ranges`);
  });
  if (tiers.length > 0 && JSON.stringify(tiers[0]?.rates) !== JSON.stringify({ ...flat })) {
    console.warn(`note: ${r.provider}/${r.model}: flat rates differ from the first tier; using the tier (as OpenClaw does)`);
  }
  const withCache = (p: Partial<Rates>): Rates => ({
    input: p.input ?? 0,
    output: p.output ?? 0,
    ...(p.cacheRead !== undefined ? { cacheRead: p.cacheRead } : {}),
    ...(p.cacheWrite !== undefined ? { cacheWrite: p.cacheWrite } : {}),
  });
  return {
    provider: r.provider,
    model: r.model,
    ...withCache(base),
    ...(tiers.length > 1 ? { tiers: tiers.slice(1).map((t) => ({ minPromptTokens: t.start, ...withCache(t.rates) })) } : {}),
  };
}

// Aliases come from the manifests' modelIdNormalization policies: the ids OpenClaw rewrites to a catalog id
// before pricing (`aliases` map, `stripPrefixes`, and the bare form of ids `prefixWhenBare` would re-prefix).
const policies = new Map<string, NormalizationPolicy & { file: string }>();
for (const { file, manifest } of manifests) {
  for (const [provider, policy] of Object.entries(manifest.modelIdNormalization?.providers ?? {})) {
    policies.set(provider.trim().toLowerCase(), { ...policy, file });
  }
}
function aliasesOf(row: Row): { aliases: string[]; file?: string } {
  const policy = policies.get(row.provider);
  if (!policy) return { aliases: [] };
  const found = new Set<string>();
  for (const [alias, target] of Object.entries(policy.aliases ?? {})) if (target === row.model) found.add(alias);
  for (const prefix of policy.stripPrefixes ?? []) found.add(`${prefix}${row.model}`);
  const bare = policy.prefixWhenBare ? `${policy.prefixWhenBare}/` : undefined;
  if (bare && row.model.startsWith(bare) && !row.model.slice(bare.length).includes("/")) found.add(row.model.slice(bare.length));
  found.delete(row.model);
  return { aliases: [...found].sort(cmp), file: policy.file };
}

const models: Row[] = [];
const usedFiles = new Set<string>();
for (const r of [...raw.values()].sort((a, b) => cmp(a.provider, b.provider) || cmp(a.model, b.model))) {
  const row = toRow(r);
  if (typeof row === "string") {
    console.warn(`skip: ${r.provider}/${r.model}: ${row}`);
    continue;
  }
  usedFiles.add(rel(r.file));
  const { aliases, file } = aliasesOf(row);
  if (aliases.length > 0 && file) usedFiles.add(rel(file));
  // Key order is fixed here so the JSON diff stays readable across regenerations.
  const { provider, model, tiers, ...rates } = row;
  models.push({ provider, model, ...(aliases.length > 0 ? { aliases } : {}), ...rates, ...(tiers ? { tiers } : {}) });
}

const out = {
  schemaVersion: 1,
  source: `openclaw@${version} bundled model catalog`,
  generatedFrom: [...usedFiles].sort(cmp).join(", "),
  models,
};
fs.writeFileSync(outFile, `${JSON.stringify(out, null, 2)}\n`);
const providerCount = new Set(models.map((m) => m.provider)).size;
console.warn(`wrote ${models.length} models from ${providerCount} providers to ${path.relative(process.cwd(), outFile)}`);
