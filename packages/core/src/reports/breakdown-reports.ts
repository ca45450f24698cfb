/** `report models` and `report agents`: usage per model / per agent, with shares and unit costs. */
import {
  REPORT_SCHEMA_VERSION,
  byCostDesc,
  cacheHitRate,
  emptySum,
  filtersJson,
  groupSums,
  addInto,
  usageJson,
  type ReportFilters,
  type UsageAggregate,
  type UsageJson,
  type UsageSum,
} from "./usage.ts";

type Shares = {
  /** This row's share of the total cost (0–1), null when nothing was priced. */
  costShare: number | null;
  /** USD per 1,000 tokens (priced calls only), null without priced tokens. */
  costPer1kTokens: number | null;
  cacheHitRate: number | null;
  sessions: number;
};

function shares(s: UsageSum, total: UsageSum, sessions: number): Shares {
  const totalCost = total.recordedNanos + total.estimatedNanos;
  const cost = s.recordedNanos + s.estimatedNanos;
  const pricedTokens = s.input + s.output + s.cacheRead + s.cacheWrite - s.unpricedTokens;
  return {
    costShare: totalCost === 0 ? null : cost / totalCost,
    costPer1kTokens: pricedTokens <= 0 ? null : cost / 1e9 / (pricedTokens / 1000),
    cacheHitRate: cacheHitRate(s),
    sessions,
  };
}

export type ModelRow = UsageJson & Shares & { provider: string; model: string };
export type AgentRow = UsageJson & Shares & { agentId: string };

type Envelope<R, N extends string> = {
  schemaVersion: number;
  report: N;
  generatedAt: string;
  filters: ReturnType<typeof filtersJson>;
  rows: R[];
  totals: UsageJson;
};

/** `sessionsByKey` maps the row key (provider\0model or agent id) to the number of sessions it appears in. */
export function buildModelsReport(
  rows: UsageAggregate[],
  sessionsByKey: Map<string, number>,
  filters: ReportFilters,
  generatedAt: number,
): Envelope<ModelRow, "models"> {
  const total = emptySum();
  for (const r of rows) addInto(total, r);
  const out = [...groupSums(rows, (r) => `${r.provider}\u0000${r.model}`)]
    .map(([k, s]) => {
      const [provider, model] = k.split("\u0000") as [string, string];
      return { provider, model, ...usageJson(s), ...shares(s, total, sessionsByKey.get(k) ?? 0) };
    })
    .sort(byCostDesc);
  return { schemaVersion: REPORT_SCHEMA_VERSION, report: "models", generatedAt: new Date(generatedAt).toISOString(), filters: filtersJson(filters), rows: out, totals: usageJson(total) };
}

export function buildAgentsReport(
  rows: UsageAggregate[],
  sessionsByKey: Map<string, number>,
  filters: ReportFilters,
  generatedAt: number,
): Envelope<AgentRow, "agents"> {
  const total = emptySum();
  for (const r of rows) addInto(total, r);
  const out = [...groupSums(rows, (r) => r.agentId)]
    .map(([agentId, s]) => ({ agentId, ...usageJson(s), ...shares(s, total, sessionsByKey.get(agentId) ?? 0) }))
    .sort(byCostDesc);
  return { schemaVersion: REPORT_SCHEMA_VERSION, report: "agents", generatedAt: new Date(generatedAt).toISOString(), filters: filtersJson(filters), rows: out, totals: usageJson(total) };
}
