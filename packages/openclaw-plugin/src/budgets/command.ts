/**
 * `openclaw clawtower budgets [--json]`: the period's spend rebuilt from the plugin's SQLite exactly as a
 * starting guard would (read only: nothing is written, no alert is sent), the reservations of the runs in
 * flight from the Gateway's heartbeat when one is running, blocked/downgraded runs and recent events.
 */
import { readServiceFile } from "../service.ts";
import { BudgetGuard, hubOf, type GuardApi } from "./guard.ts";
import { budgetSnapshot, renderBudgets, type BudgetRow, type BudgetsReport } from "./report.ts";

/** A heartbeat older than this is from a Gateway that is gone. */
const FRESH_MS = 20_000;

export function buildBudgetsReport(api: GuardApi, stateDir: string, now: number): BudgetsReport {
  const guard = new BudgetGuard();
  guard.configure(api, { info: () => {}, warn: () => {}, error: () => {} });
  guard.ensure(now, stateDir, { sendAlerts: false, connectFleet: false });
  try {
    const book = guard.book;
    const store = guard.store;
    const cfg = guard.budgets?.config ?? null;
    const rows: BudgetRow[] = book ? budgetSnapshot(book, now, store?.lastAlerts() ?? new Map()) : [];
    const events = store && book ? store.events(book.earliestStart) : [];
    for (const row of rows) {
      const inPeriod = events.filter((e) => e.budgetId === row.id && new Date(e.periodStart).toISOString() === row.periodStart);
      row.blockedRuns = inPeriod.filter((e) => e.kind === "block").length;
      row.downgradedRuns = inPeriod.filter((e) => e.kind === "downgrade").length;
    }
    const service = readServiceFile(stateDir) as { updatedAt?: number; running?: boolean; budgets?: BudgetRow[] | null; budgetRunsInFlight?: number; fleet?: string } | null;
    const fresh = service?.running === true && typeof service.updatedAt === "number" && now - service.updatedAt < FRESH_MS && Array.isArray(service.budgets);
    if (fresh) {
      for (const row of rows) {
        const live = service!.budgets!.find((b) => b.id === row.id && b.periodStart === row.periodStart);
        if (live) {
          row.reservedUsd = live.reservedUsd;
          row.reservedTokens = live.reservedTokens;
        }
      }
      // Fleet budgets are known to the running Gateway (fetched from the hub), not to this command.
      for (const live of service!.budgets!) if (live.id.startsWith("fleet:") && !rows.some((r) => r.id === live.id)) rows.push(live);
    }
    return {
      guard: guard.state,
      problem: guard.problem,
      failMode: cfg?.budgetFailMode ?? null,
      alerts: { webhook: cfg?.budgetAlerts.webhook ? `${cfg.budgetAlerts.webhook.format} webhook ${new URL(cfg.budgetAlerts.webhook.url).origin}` : null },
      fleet: fresh && typeof service!.fleet === "string" ? `fleet budgets: ${service!.fleet}` : hubOf(api.pluginConfig) ? "fleet budgets: fetched from the hub by the Gateway (none running)" : "local budgets only (no hub configured for fleet budgets)",
      budgets: rows,
      reservationsFrom: fresh ? "gateway" : "none",
      runsInFlight: fresh ? (service!.budgetRunsInFlight ?? 0) : 0,
      recentEvents: events.slice(0, 50).map((e) => ({ ...e, at: new Date(e.at).toISOString(), periodStart: new Date(e.periodStart).toISOString() })),
    };
  } finally {
    guard.close({ flush: false });
  }
}

export function budgetsCommand(api: GuardApi, stateDir: string, json: boolean, out: (s: string) => void): number {
  const r = buildBudgetsReport(api, stateDir, Date.now());
  out(json ? `${JSON.stringify(r, null, 2)}\n` : renderBudgets(r));
  return r.guard === "invalid" ? 2 : 0;
}
