/**
 * Report building blocks. The store aggregates LLM calls into UsageAggregate rows (per 15-minute slot,
 * agent, provider and model — integers only); the builders here turn them into report JSON. Pure: the same
 * rows give the same report, whichever database produced them.
 */
import { nanosToUsd } from "../pricing/pricing.ts";
import { isoInstant } from "../time/zone.ts";

export const REPORT_SCHEMA_VERSION = 1;

export type TokensJson = { input: number; output: number; cacheRead: number; cacheWrite: number; total: number };
export type CostJson = { recorded: number; estimated: number; total: number };

/** Integer accumulator for tokens and nano-dollars; converted to JSON once, at the end. */
export type UsageSum = {
  calls: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  recordedNanos: number;
  estimatedNanos: number;
  unpricedCalls: number;
  unpricedTokens: number;
};

/** Usage of one 15-minute slot, agent, provider and model: the unit the store aggregates to. */
export type UsageAggregate = UsageSum & { slot: number; agentId: string; provider: string; model: string };

export function emptySum(): UsageSum {
  return { calls: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, recordedNanos: 0, estimatedNanos: 0, unpricedCalls: 0, unpricedTokens: 0 };
}

export function addInto(sum: UsageSum, row: UsageSum | UsageAggregate): UsageSum {
  sum.calls += row.calls;
  sum.input += row.input;
  sum.output += row.output;
  sum.cacheRead += row.cacheRead;
  sum.cacheWrite += row.cacheWrite;
  sum.recordedNanos += row.recordedNanos;
  sum.estimatedNanos += row.estimatedNanos;
  sum.unpricedCalls += row.unpricedCalls;
  sum.unpricedTokens += row.unpricedTokens;
  return sum;
}

export function tokensJson(s: UsageSum): TokensJson {
  return { input: s.input, output: s.output, cacheRead: s.cacheRead, cacheWrite: s.cacheWrite, total: s.input + s.output + s.cacheRead + s.cacheWrite };
}

export function costJson(s: UsageSum): CostJson {
  return { recorded: nanosToUsd(s.recordedNanos), estimated: nanosToUsd(s.estimatedNanos), total: nanosToUsd(s.recordedNanos + s.estimatedNanos) };
}

export function groupSums<K>(rows: UsageAggregate[], key: (r: UsageAggregate) => K): Map<K, UsageSum> {
  const out = new Map<K, UsageSum>();
  for (const r of rows) {
    const k = key(r);
    let s = out.get(k);
    if (!s) {
      s = emptySum();
      out.set(k, s);
    }
    addInto(s, r);
  }
  return out;
}

export type UsageJson = {
  llmCalls: number;
  tokens: TokensJson;
  cost: CostJson;
  unpricedCalls: number;
  unpricedTokens: number;
};

export function usageJson(s: UsageSum): UsageJson {
  return { llmCalls: s.calls, tokens: tokensJson(s), cost: costJson(s), unpricedCalls: s.unpricedCalls, unpricedTokens: s.unpricedTokens };
}

/** Descending by cost, then tokens, then name: the order a reader scans for "what costs most". */
export function byCostDesc<T extends { cost: CostJson; tokens: TokensJson }>(a: T, b: T): number {
  return b.cost.total - a.cost.total || b.tokens.total - a.tokens.total;
}

export type ReportFilters = {
  since: number | null;
  until: number | null;
  tz: string;
  agent: string | null;
  deployment: string | null;
};

export function filtersJson(f: ReportFilters) {
  return {
    since: f.since === null ? null : isoInstant(f.since),
    until: f.until === null ? null : isoInstant(f.until),
    tz: f.tz,
    agent: f.agent,
    deployment: f.deployment,
  };
}

/** Cache hit rate = cacheRead / (input + cacheRead + cacheWrite); null when there was no prompt. */
export function cacheHitRate(s: UsageSum): number | null {
  const prompt = s.input + s.cacheRead + s.cacheWrite;
  return prompt === 0 ? null : s.cacheRead / prompt;
}
