/** /metrics settings from the environment for `clawtower serve` (see README, Prometheus). */
import { UsageError } from "../errors.ts";

export type MetricsConfig = { topModels?: number; activeWindowMs?: number };

export function metricsConfig(env: NodeJS.ProcessEnv): MetricsConfig {
  const out: MetricsConfig = {};
  const top = env["CLAWTOWER_METRICS_TOP_MODELS"];
  if (top !== undefined && top !== "") {
    const v = Number(top);
    if (!Number.isInteger(v) || v < 1 || v > 1000) throw new UsageError(`CLAWTOWER_METRICS_TOP_MODELS must be a whole number 1–1000 (got "${top}")`);
    out.topModels = v;
  }
  const minutes = env["CLAWTOWER_METRICS_ACTIVE_MINUTES"];
  if (minutes !== undefined && minutes !== "") {
    const v = Number(minutes);
    if (!Number.isFinite(v) || v <= 0) throw new UsageError(`CLAWTOWER_METRICS_ACTIVE_MINUTES must be a positive number of minutes (got "${minutes}")`);
    out.activeWindowMs = Math.round(v * 60_000);
  }
  return out;
}
