/**
 * What `openclaw clawtower budgets` and the service heartbeat show per budget: spend vs limit, state
 * (ok | warn | exceeded), reservations, when it resets, unpriced calls, blocked/downgraded runs, last alert.
 */
import { formatBudgetInstant, nanosToUsd } from "@clawtower/core";
import { describeThreshold } from "./alerts.ts";
import type { BudgetBook } from "./book.ts";
import { atLimit, totalNanos, totalTokens, usedFraction } from "./decide.ts";
import type { StoredAlert, StoredEvent } from "./store.ts";

export type BudgetRow = {
  id: string;
  scope: Record<string, string>;
  period: string;
  timeZone: string;
  action: string;
  downgradeTo: string | null;
  state: "ok" | "warn" | "exceeded";
  limitUsd: number | null;
  limitTokens: number | null;
  spentUsd: number;
  spentTokens: number;
  /** Of spent: the rest of the fleet's (fleet budgets, from the hub's last answer); the remainder is this gateway's. */
  fleetUsd: number;
  fleetTokens: number;
  /** Held by runs in flight (known only to the process running them: the Gateway's heartbeat). */
  reservedUsd: number;
  reservedTokens: number;
  calls: number;
  unpricedCalls: number;
  unpricedTokens: number;
  blockedRuns: number;
  downgradedRuns: number;
  periodStart: string;
  resetsAt: string;
  resetsAtLocal: string;
  lastAlert: { threshold: string; at: string; delivered: boolean; error: string | null } | null;
};

export function budgetSnapshot(book: BudgetBook, now: number, alerts: Map<string, StoredAlert> = new Map()): BudgetRow[] {
  book.roll(now);
  return book.counters.map((c, i) => {
    const b = c.budget;
    const stored = alerts.get(b.id);
    const mem = book.lastAlert[i];
    const minWarn = Math.min(...b.warnAt, 1);
    return {
      id: b.id,
      scope: Object.fromEntries(Object.entries(b.scope).filter(([, v]) => v !== undefined)) as Record<string, string>,
      period: b.period,
      timeZone: b.timeZone,
      action: b.action,
      downgradeTo: b.downgradeTo ?? null,
      state: atLimit(c, false) ? "exceeded" : usedFraction(c, false) >= minWarn ? "warn" : "ok",
      limitUsd: b.limitUsd ?? null,
      limitTokens: b.limitTokens ?? null,
      spentUsd: nanosToUsd(totalNanos(c)),
      spentTokens: totalTokens(c),
      fleetUsd: nanosToUsd(c.fleetNanos),
      fleetTokens: c.fleetTokens,
      reservedUsd: nanosToUsd(c.reservedNanos),
      reservedTokens: c.reservedTokens,
      calls: c.calls,
      unpricedCalls: c.unpricedCalls,
      unpricedTokens: c.unpricedTokens,
      blockedRuns: book.blocked[i]!,
      downgradedRuns: book.downgraded[i]!,
      periodStart: new Date(c.periodStart).toISOString(),
      resetsAt: new Date(c.periodEnd).toISOString(),
      resetsAtLocal: formatBudgetInstant(c.periodEnd, b.timeZone),
      lastAlert: stored
        ? { threshold: stored.threshold, at: new Date(stored.at).toISOString(), delivered: stored.deliveredAt !== null, error: stored.lastError }
        : mem
          ? { threshold: String(mem.threshold), at: new Date(mem.at).toISOString(), delivered: false, error: null }
          : null,
    };
  });
}

export type BudgetsReport = {
  guard: string;
  problem: string | null;
  failMode: string | null;
  alerts: { webhook: string | null };
  fleet: string;
  budgets: BudgetRow[];
  /** Where `reserved` came from: the Gateway's heartbeat (fresh) or none (no Gateway running). */
  reservationsFrom: "gateway" | "none";
  runsInFlight: number;
  recentEvents: (Omit<StoredEvent, "at" | "periodStart"> & { at: string; periodStart: string })[];
};

const money = (v: number | null) => (v === null ? "-" : `$${v.toFixed(4)}`);

export function renderBudgets(r: BudgetsReport): string {
  const out: string[] = [];
  out.push(`Clawtower spend guard: ${r.guard}${r.failMode ? ` (budgetFailMode ${r.failMode})` : ""}`);
  if (r.problem) out.push(`  ${r.problem}`);
  out.push(`  alerts: ${r.alerts.webhook ?? "no webhook"}; ${r.fleet}`);
  for (const b of r.budgets) {
    const scope = Object.entries(b.scope).map(([k, v]) => `${k}=${v}`).join(",") || "whole gateway";
    const limit = [b.limitUsd !== null ? `${money(b.spentUsd)} of $${b.limitUsd}` : null, b.limitTokens !== null ? `${b.spentTokens} of ${b.limitTokens} tokens` : null].filter(Boolean).join(", ");
    const fleet = b.id.startsWith("fleet:") ? ` [rest of fleet ${money(b.fleetUsd)} / ${b.fleetTokens} tokens]` : "";
    out.push(`  ${b.id.padEnd(20)} ${b.state.toUpperCase().padEnd(8)} ${limit}${fleet} (${b.period}, ${scope}, ${b.action}${b.downgradeTo ? ` → ${b.downgradeTo}` : ""})`);
    out.push(
      `      reserved ${money(b.reservedUsd)} / ${b.reservedTokens} tokens · ${b.calls} calls${b.unpricedCalls ? ` (${b.unpricedCalls} unpriced, ${b.unpricedTokens} tokens)` : ""} · blocked ${b.blockedRuns} · downgraded ${b.downgradedRuns} · resets ${b.resetsAtLocal}`,
    );
    if (b.lastAlert) out.push(`      last alert: ${describeThreshold({ threshold: b.lastAlert.threshold === "blocked" ? "blocked" : Number(b.lastAlert.threshold) })} at ${b.lastAlert.at}${b.lastAlert.delivered ? "" : b.lastAlert.error ? ` (not delivered: ${b.lastAlert.error})` : " (not delivered yet)"}`);
  }
  if (r.recentEvents.length > 0) {
    out.push("  recent events:");
    for (const e of r.recentEvents.slice(0, 10)) out.push(`    ${e.at} ${e.kind.padEnd(9)} ${e.budgetId}${e.runId ? ` run ${e.runId}` : ""}${e.detail ? ` — ${e.detail}` : ""}`);
  }
  return `${out.join("\n")}\n`;
}
