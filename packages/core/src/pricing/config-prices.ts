/**
 * Prices the operator configured in OpenClaw: `models.providers.<id>.models[].cost` (USD per 1M tokens) in
 * `openclaw.json` (JSON5) and in each agent's `agents/<id>/agent/models.json`. OpenClaw prices its own
 * recorded costs from these, so they come first when we estimate.
 */
import fs from "node:fs";
import path from "node:path";
import JSON5 from "json5";
import type { PriceEntry, PriceTier } from "./pricing.ts";

export type ConfigPrices = { prices: PriceEntry[]; files: string[]; errors: { file: string; error: string }[] };

function finite(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function readTiers(v: unknown): PriceTier[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const tiers: PriceTier[] = [];
  for (const t of v) {
    if (!t || typeof t !== "object") continue;
    const o = t as Record<string, unknown>;
    const min = finite(o["minPromptTokens"] ?? o["minInputTokens"] ?? o["threshold"] ?? o["above"]);
    const input = finite(o["input"]);
    const output = finite(o["output"]);
    if (min === undefined || input === undefined || output === undefined) continue;
    tiers.push({ minPromptTokens: min, input, output, cacheRead: finite(o["cacheRead"]), cacheWrite: finite(o["cacheWrite"]) });
  }
  return tiers.length > 0 ? tiers : undefined;
}

/** Extracts priced models from a parsed config object (`{ models: { providers: { … } } }`). */
export function pricesFromConfig(config: unknown): PriceEntry[] {
  const providers = (config as { models?: { providers?: unknown } } | null)?.models?.providers;
  if (!providers || typeof providers !== "object") return [];
  const out: PriceEntry[] = [];
  for (const [provider, p] of Object.entries(providers as Record<string, unknown>)) {
    const models = (p as { models?: unknown } | null)?.models;
    if (!Array.isArray(models)) continue;
    for (const m of models) {
      if (!m || typeof m !== "object") continue;
      const model = (m as { id?: unknown }).id;
      const cost = (m as { cost?: unknown }).cost as Record<string, unknown> | undefined;
      if (typeof model !== "string" || !cost || typeof cost !== "object") continue;
      const input = finite(cost["input"]);
      const output = finite(cost["output"]);
      if (input === undefined || output === undefined) continue;
      out.push({
        provider,
        model,
        input,
        output,
        cacheRead: finite(cost["cacheRead"]),
        cacheWrite: finite(cost["cacheWrite"]),
        tiers: readTiers(cost["tiers"]),
      });
    }
  }
  return out;
}

function readConfigFile(file: string, result: ConfigPrices): void {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") result.errors.push({ file, error: (e as Error).message });
    return;
  }
  try {
    result.prices.push(...pricesFromConfig(JSON5.parse(text)));
    result.files.push(file);
  } catch (e) {
    result.errors.push({ file, error: `invalid JSON5: ${(e as Error).message}` });
  }
}

/** Agent `models.json` files win over `openclaw.json` (OpenClaw's own merge order), so they are read last. */
export function readConfigPrices(home: string, agentDirs: string[]): ConfigPrices {
  const result: ConfigPrices = { prices: [], files: [], errors: [] };
  readConfigFile(path.join(home, "openclaw.json"), result);
  for (const dir of agentDirs) readConfigFile(path.join(dir, "agent", "models.json"), result);
  return result;
}
