/**
 * Cost of an LLM call, with provenance:
 *   recorded  — OpenClaw stored `usage.cost.total` (a recorded 0 with tokens is treated as "not priced":
 *               OpenClaw wrote 0 for unknown prices before 2026.9.6, and trusting it hides real spend);
 *   estimated — tokens × a price: the operator's OpenClaw config (`models.providers.*.models[].cost`) first,
 *               then the bundled offline price table (with cache and tiered prices);
 *   unknown   — no price anywhere: the call is reported as unpriced with its tokens, never as $0.
 *
 * Amounts are integer nano-dollars (1e-9 USD) so that sums are exact; USD per 1M tokens × tokens / 1e6 USD
 * = price × tokens × 1e3 nano-dollars.
 */
import { totalTokens, type TokenCounts } from "../model/facts.ts";

export type TokenPrice = {
  /** USD per 1M tokens. */
  input: number;
  output: number;
  cacheRead?: number | undefined;
  cacheWrite?: number | undefined;
};

export type PriceTier = TokenPrice & {
  /** The tier applies when the call's prompt (input + cacheRead + cacheWrite) is at least this many tokens. */
  minPromptTokens: number;
};

export type PriceEntry = TokenPrice & {
  provider: string;
  model: string;
  aliases?: string[] | undefined;
  tiers?: PriceTier[] | undefined;
};

export type CostSource = "recorded" | "estimated" | "unknown";

export type CallCost = {
  source: CostSource;
  /** Nano-dollars; 0 when unknown. */
  nanos: number;
  /** Which price was used: `config:<provider>/<model>` or `table:<provider>/<model>[#tier]`. */
  priceRef: string | null;
};

export const NANOS_PER_USD = 1_000_000_000;

export function usdToNanos(usd: number): number {
  return Math.round(usd * NANOS_PER_USD);
}

export function nanosToUsd(nanos: number): number {
  return nanos / NANOS_PER_USD;
}

/** Prices looked up by (provider, model). Build with {@link createPriceBook}. */
export type PriceBook = {
  lookup(provider: string, model: string): { entry: PriceEntry; origin: "config" | "table" } | undefined;
  /** Stable text that changes when any price changes (to know when stored estimates must be redone). */
  fingerprint: string;
};

function normalizeModel(model: string): string {
  return model.trim().toLowerCase();
}

/** Provider ids that name the same upstream (OpenClaw config ids vs catalog ids). */
function keyOf(provider: string, model: string): string {
  return `${provider.trim().toLowerCase()}\u0000${normalizeModel(model)}`;
}

/**
 * Config prices win over the bundled table. A model id written as `provider/model` (OpenRouter style) is
 * also tried without its prefix under the same provider, and the table is consulted by model id alone only
 * when exactly one provider lists that id (an ambiguous match would be a guess).
 */
export function createPriceBook(configPrices: PriceEntry[], tablePrices: PriceEntry[]): PriceBook {
  const exact = new Map<string, { entry: PriceEntry; origin: "config" | "table" }>();
  const byModel = new Map<string, { entry: PriceEntry; origin: "config" | "table" }[]>();
  const add = (entry: PriceEntry, origin: "config" | "table") => {
    for (const model of [entry.model, ...(entry.aliases ?? [])]) {
      const k = keyOf(entry.provider, model);
      if (!exact.has(k) || origin === "config") exact.set(k, { entry, origin });
      if (origin === "table") {
        const list = byModel.get(normalizeModel(model)) ?? [];
        list.push({ entry, origin });
        byModel.set(normalizeModel(model), list);
      }
    }
  };
  // OpenClaw's catalog uses all-zero prices as "unknown" placeholders (hasKnownPricing); an operator's
  // config with zeros, on the other hand, declares a free model (a local one, say) and is honoured.
  for (const e of tablePrices) if (!isAllZero(e)) add(e, "table");
  for (const e of configPrices) add(e, "config");

  // An import prices tens of thousands of calls of a handful of models: resolve each pair once.
  const memo = new Map<string, { entry: PriceEntry; origin: "config" | "table" } | undefined>();
  const resolve = (provider: string, model: string) => {
    const key = `${provider}\u0000${model}`;
    if (memo.has(key)) return memo.get(key);
    const found = find(provider, model);
    memo.set(key, found);
    return found;
  };
  function find(provider: string, model: string): { entry: PriceEntry; origin: "config" | "table" } | undefined {
    const direct = exact.get(keyOf(provider, model));
    if (direct) return direct;
    const slash = model.indexOf("/");
    if (slash > 0) {
      const bare = model.slice(slash + 1);
      const viaPrefix = exact.get(keyOf(model.slice(0, slash), bare)) ?? exact.get(keyOf(provider, bare));
      if (viaPrefix) return viaPrefix;
    }
    const candidates = byModel.get(normalizeModel(slash > 0 ? model.slice(slash + 1) : model)) ?? [];
    const distinct = new Set(candidates.map((c) => priceKey(c.entry)));
    return distinct.size === 1 ? candidates[0] : undefined;
  }

  return {
    fingerprint: JSON.stringify([configPrices, tablePrices.length]),
    lookup: resolve,
  };
}

function isAllZero(p: PriceEntry): boolean {
  return p.input === 0 && p.output === 0 && !p.cacheRead && !p.cacheWrite && !(p.tiers ?? []).some((t) => t.input || t.output);
}

function priceKey(p: TokenPrice & { tiers?: PriceTier[] | undefined }): string {
  return JSON.stringify([p.input, p.output, p.cacheRead ?? null, p.cacheWrite ?? null, p.tiers ?? null]);
}

/** Picks the tier for a call: the highest `minPromptTokens` the prompt reaches, else the base price. */
export function selectTier(entry: PriceEntry, tokens: TokenCounts): { price: TokenPrice; tier: number | null } {
  const prompt = tokens.input + tokens.cacheRead + tokens.cacheWrite;
  let chosen: { price: TokenPrice; tier: number | null } = { price: entry, tier: null };
  let best = -1;
  (entry.tiers ?? []).forEach((t, index) => {
    if (prompt >= t.minPromptTokens && t.minPromptTokens > best) {
      best = t.minPromptTokens;
      chosen = { price: t, tier: index };
    }
  });
  return chosen;
}

/** Nano-dollars for `tokens` at `price`. A missing cache price counts as 0, as in OpenClaw's own costing. */
export function estimateNanos(price: TokenPrice, tokens: TokenCounts): number {
  const cacheRead = price.cacheRead ?? 0;
  const cacheWrite = price.cacheWrite ?? 0;
  // price [USD / 1e6 tokens] × tokens × 1e9 [nanos / USD] / 1e6 = price × tokens × 1e3
  return Math.round(
    (price.input * tokens.input + price.output * tokens.output + cacheRead * tokens.cacheRead + cacheWrite * tokens.cacheWrite) *
      1000,
  );
}

export function costOfCall(
  call: { provider: string; model: string; tokens: TokenCounts; recordedCostUsd: number | null },
  prices: PriceBook,
): CallCost {
  const tokenTotal = totalTokens(call.tokens);
  if (call.recordedCostUsd !== null && (call.recordedCostUsd > 0 || tokenTotal === 0)) {
    return { source: "recorded", nanos: usdToNanos(call.recordedCostUsd), priceRef: null };
  }
  const found = prices.lookup(call.provider, call.model);
  if (!found) return { source: "unknown", nanos: 0, priceRef: null };
  const { price, tier } = selectTier(found.entry, call.tokens);
  return {
    source: "estimated",
    nanos: estimateNanos(price, call.tokens),
    priceRef: `${found.origin}:${found.entry.provider}/${found.entry.model}${tier !== null ? `#tier${tier}` : ""}`,
  };
}
