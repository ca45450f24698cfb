/**
 * Model what-ifs: the same tokens priced at another model's prices. Candidates come from the price catalog,
 * deterministically: same provider as the model's price entry, not an all-zero placeholder, and strictly
 * cheaper on both input and output per token. Of those, two targets at most: the *next cheaper* (highest
 * input + output price, ties by model id) and the *cheapest* (lowest, ties by model id) when it differs.
 * Targets are priced at their base price (tiers ignored: a what-if, not a bill).
 */
import { estimateNanos, type PriceBook, type PriceEntry, type TokenPrice } from "../pricing/pricing.ts";
import type { TokenCounts } from "../model/facts.ts";

export type WhatIfTarget = { provider: string; model: string; price: TokenPrice };

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

function allZero(p: PriceEntry): boolean {
  return p.input === 0 && p.output === 0 && !p.cacheRead && !p.cacheWrite;
}

export function whatIfTargets(source: PriceEntry, catalog: readonly PriceEntry[]): WhatIfTarget[] {
  const cheaper = catalog
    .filter((e) => same(e.provider, source.provider) && !same(e.model, source.model) && !allZero(e) && e.input < source.input && e.output < source.output)
    .sort((a, b) => b.input + b.output - (a.input + a.output) || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  if (cheaper.length === 0) return [];
  const next = cheaper[0]!;
  const lowest = [...cheaper].sort((a, b) => a.input + a.output - (b.input + b.output) || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0))[0]!;
  const pick = (e: PriceEntry): WhatIfTarget => ({ provider: e.provider, model: e.model, price: { input: e.input, output: e.output, cacheRead: e.cacheRead, cacheWrite: e.cacheWrite } });
  return lowest === next ? [pick(next)] : [pick(next), pick(lowest)];
}

/** Targets for a (provider, model) as the ledger names it; none when the price book does not know the model. */
export function whatIfTargetsFor(provider: string, model: string, prices: PriceBook, catalog: readonly PriceEntry[]): WhatIfTarget[] {
  const found = prices.lookup(provider, model);
  return found ? whatIfTargets(found.entry, catalog) : [];
}

export function repricedNanos(target: WhatIfTarget, tokens: TokenCounts): number {
  return estimateNanos(target.price, tokens);
}
