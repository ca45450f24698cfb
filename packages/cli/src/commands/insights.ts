/** `clawtower insights`: bring the store up to date with the OpenClaw home, then print the insights. */
import { formatUsd, loadBundledPrices, type InsightsReport } from "@clawtower/core";
import { facets, insightsReport } from "@clawtower/store";
import { resolveLocalConfig } from "../config.ts";
import { openAndSync } from "../local.ts";
import { UsageError } from "../errors.ts";
import { warnAboutProblems } from "./report.ts";
import { parseWorkers, toFilters, type CommonOptions } from "./shared.ts";

const usd = formatUsd;

/** Plain text: one section per insight kind, the recommendation and the sessions behind it. */
export function renderInsights(r: InsightsReport, limit = 10): string {
  const out: string[] = [];
  const section = (title: string, items: { recommendation: string | null; sessions?: { link: string }[] }[]) => {
    const shown = items.filter((i) => i.recommendation !== null).slice(0, limit);
    out.push(`${title}${shown.length ? "" : ": nothing found"}`);
    for (const i of shown) {
      out.push(`  • ${i.recommendation}`);
      for (const s of i.sessions ?? []) out.push(`      ${s.link}`);
    }
    out.push("");
  };
  section("Model what-ifs", r.modelWhatIfs.map((w) => ({ ...w, recommendation: `${w.recommendation} (basis: recorded ${usd(w.basis.recordedNanos)}, estimated ${usd(w.basis.estimatedNanos)})` })));
  section("Cache writes never read back", r.cache.unreadWrites);
  out.push("Cache hit rate (cacheRead / (input + cacheRead + cacheWrite))");
  for (const h of r.cache.hitRates.slice(0, limit)) out.push(`  ${h.agentId} ${h.provider}/${h.model}: ${(h.hitRate * 100).toFixed(1)} %, ideal saving ${usd(h.idealSavingNanos)}`);
  out.push("");
  section("Cron jobs", r.cron);
  section("Context growth without compaction", r.context.map((c) => ({ ...c, sessions: [{ link: c.link }] })));
  section("Tool error hot spots", r.tools.hotSpots);
  section("LLM spend of turns whose tools failed", r.tools.errorTurnSpend);
  out.push(`Large prompts: ${r.largePrompts.reason}`);
  return `${out.join("\n")}\n`;
}

export async function runInsights(o: CommonOptions): Promise<number> {
  const cfg = resolveLocalConfig({ openclawHome: o.openclawHome, db: o.db });
  const now = Date.now();
  const { conn, sync, pricing } = await openAndSync(cfg, { progress: o.progress !== false && !o.json, workers: parseWorkers(o.workers) });
  try {
    const filters = toFilters(o, sync.deploymentId, now);
    if (filters.agent !== null) {
      const known = [...new Set([...(await facets(conn, sync.deploymentId)).agents, ...sync.agents])].sort();
      if (!known.includes(filters.agent)) throw new UsageError(`no such agent '${filters.agent}'; known: ${known.join(", ") || "none"}`);
    }
    const r = await insightsReport(conn, filters, pricing.book, loadBundledPrices().prices, now);
    process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : renderInsights(r));
    await warnAboutProblems(conn, sync.deploymentId, o.verbose === true);
    return 0;
  } finally {
    await conn.close();
  }
}
