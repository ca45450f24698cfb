/**
 * GET /metrics: Prometheus exposition of the store's all-time totals (so counters survive hub restarts and
 * never go backwards), labelled by deployment, agent, provider and model with the models bounded per
 * deployment (metrics-labels.ts), never by session. Each scrape builds its own registry from one read of
 * the store, so concurrent scrapes cannot mix each other's values.
 */
import { Hono } from "hono";
import { Counter, Gauge, Registry } from "prom-client";
import { metricsTotals, type MetricsTotals, type StoreConnection } from "@clawtower/store";
import { readableDeployment } from "../auth.ts";
import { boundModels } from "./metrics-labels.ts";

export type MetricsOptions = {
  /** (provider, model) pairs per deployment named in labels; the rest are "other". */
  topModels: number;
  /** A session is active when its last event is at most this old. */
  activeWindowMs: number;
};

export const DEFAULT_METRICS_OPTIONS: MetricsOptions = { topModels: 20, activeWindowMs: 15 * 60_000 };

const USAGE_LABELS = ["deployment", "agent", "provider", "model"] as const;

/** The exposition text for a set of totals (pure apart from prom-client's formatting). */
export async function renderMetrics(totals: MetricsTotals, opts: MetricsOptions): Promise<{ body: string; contentType: string }> {
  const registry = new Registry();
  const registers = [registry];
  const tokens = new Counter({ name: "clawtower_tokens_total", help: "LLM tokens, all time, by kind", labelNames: [...USAGE_LABELS, "kind"], registers });
  const cost = new Counter({
    name: "clawtower_cost_usd_total",
    help: "LLM cost in USD, all time: recorded by the provider, or estimated from the price table (unpriced calls count nothing)",
    labelNames: [...USAGE_LABELS, "source"],
    registers,
  });
  const llmCalls = new Counter({ name: "clawtower_llm_calls_total", help: "LLM calls, all time", labelNames: USAGE_LABELS, registers });
  const toolCalls = new Counter({ name: "clawtower_tool_calls_total", help: "Tool calls, all time", labelNames: ["deployment", "agent"], registers });
  const toolErrors = new Counter({ name: "clawtower_tool_errors_total", help: "Tool calls whose result was an error, all time", labelNames: ["deployment", "agent"], registers });
  const active = new Gauge({
    name: "clawtower_active_sessions",
    help: `Sessions with activity in the last ${Math.round(opts.activeWindowMs / 60_000)} minutes`,
    labelNames: ["deployment", "agent", "session_kind"],
    registers,
  });
  // Budget gauges (clawtower_budget_*) belong here once the hub has budgets: a gauge per budget fed from the
  // same store read; none is exported until then.
  for (const r of boundModels(totals.usage, opts.topModels)) {
    const l = { deployment: r.deploymentId, agent: r.agentId, provider: r.provider, model: r.model };
    tokens.inc({ ...l, kind: "input" }, r.inputTokens);
    tokens.inc({ ...l, kind: "output" }, r.outputTokens);
    tokens.inc({ ...l, kind: "cache_read" }, r.cacheReadTokens);
    tokens.inc({ ...l, kind: "cache_write" }, r.cacheWriteTokens);
    cost.inc({ ...l, source: "recorded" }, r.recordedNanos / 1e9);
    cost.inc({ ...l, source: "estimated" }, r.estimatedNanos / 1e9);
    llmCalls.inc(l, r.calls);
  }
  for (const r of totals.tools) {
    toolCalls.inc({ deployment: r.deploymentId, agent: r.agentId }, r.calls);
    toolErrors.inc({ deployment: r.deploymentId, agent: r.agentId }, r.errors);
  }
  for (const r of totals.active) active.set({ deployment: r.deploymentId, agent: r.agentId, session_kind: r.kind }, r.sessions);
  return { body: await registry.metrics(), contentType: registry.contentType };
}

export function metricsRoutes(deps: { conn: StoreConnection; now: () => number; options: MetricsOptions }): Hono {
  const app = new Hono();
  app.get("/metrics", async (c) => {
    // A key bound to a deployment reads only that deployment, here as on every read route.
    const totals = await metricsTotals(deps.conn, deps.now() - deps.options.activeWindowMs, readableDeployment(c.get("principal")));
    const { body, contentType } = await renderMetrics(totals, deps.options);
    return c.body(body, 200, { "content-type": contentType, "cache-control": "no-store" });
  });
  return app;
}
