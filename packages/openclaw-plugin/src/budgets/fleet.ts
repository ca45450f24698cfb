/**
 * Where fleet budgets come from (the hub's `GET /api/v1/budgets/effective`, fleet-hub.ts): budgets that
 * apply to this deployment, each with the spend the rest of the fleet has in its scope and period.
 * The guard adds `fleetSpend` to its own counters; with no source (no hub configured) it is zero.
 */
import type { ResolvedBudget } from "../config/load-budgets.ts";

export type FleetBudgetSnapshot = {
  /** Budgets defined on the hub for this deployment (same shape as local ones, ids prefixed `fleet:` by the source). */
  budgets: ResolvedBudget[];
  /** Spend of other gateways in each budget's current period, by budget id. */
  fleetSpend: Map<string, { nanos: number; tokens: number; periodStart: number }>;
  /** When the hub answered last; status says how old the figures are when it is unreachable. */
  fetchedAt: number;
};

export type FleetBudgetSource = {
  /** The last snapshot (never blocks: fetching happens in the background). */
  current(): FleetBudgetSnapshot | null;
  /** Human-readable state for status: "local only", "hub ok", "hub unreachable since …". */
  describe(): string;
};

export const LOCAL_ONLY: FleetBudgetSource = { current: () => null, describe: () => "local budgets only (no hub configured for fleet budgets)" };
