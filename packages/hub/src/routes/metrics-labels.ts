/**
 * Bounded label sets for /metrics: per deployment the top-N (provider, model) pairs by all-time spend keep
 * their names and the rest are summed as provider="other", model="other". Pure, so the rule is tested alone.
 *
 * Why all-time spend: it only grows, so a pair leaves the top N only when another overtakes it — rare and
 * never flapping. When it happens the leaving pair's series stops, the entering pair's starts at its all-time
 * total, and the "other" series drops by the difference of the two (Prometheus reads that as a counter reset
 * of "other" alone). Every named series is the pair's exact all-time total and never goes backwards.
 */
import type { UsageTotalsRow } from "@clawtower/store";

export const OTHER = "other";

const spend = (r: UsageTotalsRow) => r.recordedNanos + r.estimatedNanos;
const tokens = (r: UsageTotalsRow) => r.inputTokens + r.outputTokens + r.cacheReadTokens + r.cacheWriteTokens;

/** The usage rows with (provider, model) outside each deployment's top `topModels` folded into "other" (per agent). */
export function boundModels(rows: readonly UsageTotalsRow[], topModels: number): UsageTotalsRow[] {
  type Pair = { deploymentId: string; provider: string; model: string; spend: number; tokens: number; calls: number };
  const perPair = new Map<string, Pair>();
  for (const r of rows) {
    const k = `${r.deploymentId}\u0000${r.provider}\u0000${r.model}`;
    const p = perPair.get(k) ?? { deploymentId: r.deploymentId, provider: r.provider, model: r.model, spend: 0, tokens: 0, calls: 0 };
    p.spend += spend(r);
    p.tokens += tokens(r);
    p.calls += r.calls;
    perPair.set(k, p);
  }
  const byDeployment = new Map<string, Pair[]>();
  for (const p of perPair.values()) byDeployment.set(p.deploymentId, [...(byDeployment.get(p.deploymentId) ?? []), p]);
  const kept = new Set<string>();
  for (const pairs of byDeployment.values()) {
    // Ties by tokens, calls, then name: the same store always gives the same set.
    pairs.sort((a, b) => b.spend - a.spend || b.tokens - a.tokens || b.calls - a.calls || (a.provider + "/" + a.model < b.provider + "/" + b.model ? -1 : 1));
    for (const p of pairs.slice(0, topModels)) kept.add(`${p.deploymentId}\u0000${p.provider}\u0000${p.model}`);
  }
  const out = new Map<string, UsageTotalsRow>();
  for (const r of rows) {
    const keep = kept.has(`${r.deploymentId}\u0000${r.provider}\u0000${r.model}`);
    const provider = keep ? r.provider : OTHER;
    const model = keep ? r.model : OTHER;
    const k = `${r.deploymentId}\u0000${r.agentId}\u0000${provider}\u0000${model}`;
    const had = out.get(k);
    if (!had) out.set(k, { ...r, provider, model });
    else {
      had.calls += r.calls;
      had.inputTokens += r.inputTokens;
      had.outputTokens += r.outputTokens;
      had.cacheReadTokens += r.cacheReadTokens;
      had.cacheWriteTokens += r.cacheWriteTokens;
      had.recordedNanos += r.recordedNanos;
      had.estimatedNanos += r.estimatedNanos;
    }
  }
  return [...out.values()];
}
