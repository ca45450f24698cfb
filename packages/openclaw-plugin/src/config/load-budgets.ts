/**
 * The spend guard's part of `plugins.entries.clawtower.config`, validated on its own: never throws; an
 * invalid budget field turns the guard off (and says which path), while uploads go on.
 *   off      no budgets configured
 *   ok       budgets to enforce (time zones resolved)
 *   invalid  one issue per wrong field, each naming its full config path
 */
import { BUDGET_KEYS, BudgetConfigSchema, hostTimeZone, type Budget, type BudgetConfig } from "./budgets-schema.ts";
import { issuesOf, type ConfigIssue } from "./load.ts";

export type ResolvedBudget = Budget & { timeZone: string };
export type ResolvedBudgetConfig = Omit<BudgetConfig, "budgets"> & { budgets: ResolvedBudget[] };

export type LoadedBudgets =
  | { status: "off"; config: ResolvedBudgetConfig; issues: [] }
  | { status: "ok"; config: ResolvedBudgetConfig; issues: [] }
  | { status: "invalid"; config: null; issues: ConfigIssue[] };

export function loadBudgetConfig(raw: unknown, defaultZone: string = hostTimeZone()): LoadedBudgets {
  const source = raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const picked: Record<string, unknown> = {};
  for (const k of BUDGET_KEYS) if (source[k] !== undefined) picked[k] = source[k];
  const parsed = BudgetConfigSchema.safeParse(picked);
  if (!parsed.success) return { status: "invalid", config: null, issues: issuesOf(parsed.error.issues) };
  const config: ResolvedBudgetConfig = { ...parsed.data, budgets: parsed.data.budgets.map((b) => ({ ...b, timeZone: b.timeZone ?? defaultZone })) };
  return config.budgets.length === 0 ? { status: "off", config, issues: [] } : { status: "ok", config, issues: [] };
}
