/**
 * `openclaw clawtower status [--json]`: is it configured (and if not, which fields are wrong), where it
 * uploads (the key masked), the last cycle, what is pending now (planned from the home without reading
 * any content), hooks OpenClaw blocked and the one config line that unblocks them, recent errors, and the
 * local usage ledger's totals.
 */
import fs from "node:fs";
import { DbHandles } from "@clawtower/core";
import { buildBudgetsReport } from "./budgets/command.ts";
import { buildOrchestratorReport } from "./orchestrator/command.ts";
import { budgetsConfigured } from "./budgets/hooks.ts";
import type { BudgetsReport } from "./budgets/report.ts";
import { gateStatusOf, type GateReport } from "./gate/report.ts";
import { formatInterval } from "./config/interval.ts";
import { CONFIG_PATH, maskKey, type ConfigIssue, type LoadedConfig } from "./config/load.ts";
import { blockedHooks, UNBLOCK_COMMAND } from "./live/hooks.ts";
import { UsageLedger, type LedgerSummary } from "./live/usage-ledger.ts";
import { readServiceFile } from "./service.ts";
import { destinationOf } from "./ship/cycle.ts";
import { createSessionFilter } from "./ship/filters.ts";
import { listSessions } from "./ship/planning.ts";
import { statePaths } from "./state/files.ts";
import { loadShipState } from "./state/ship-state.ts";
import { readStatusFile, type CycleSummary, type ErrorEntry } from "./state/status-file.ts";

export type StatusReport = {
  plugin: "clawtower";
  configured: boolean;
  config: { status: LoadedConfig["status"]; path: string; issues: ConfigIssue[] };
  uploads: "on" | "off" | "manual";
  target: string | null;
  apiUrl: string | null;
  deploymentId: string | null;
  apiKey: string | null;
  privacy: string | null;
  every: string | null;
  stateDir: string;
  lastCycle: CycleSummary | null;
  lastSuccessAt: string | null;
  pending: { sessions: number; bytes: number } | null;
  blockedHooks: string[];
  unblock: string | null;
  recentErrors: (ErrorEntry & { time: string })[];
  ledger: LedgerSummary | null;
  service: Record<string, unknown> | null;
  /** The spend guard, when budgets are configured (`openclaw clawtower budgets` has the details). */
  budgets: BudgetsReport | null;
  /** Orchestrator delegation, when configured (`openclaw clawtower orchestrator status` has the details). */
  orchestrator: { state: string; problem: string | null; bindings: number; workers: number; bypassesRecorded: number } | null;
  /** The reply gate, when `replyGate` is set (`openclaw clawtower gate status` has the details). */
  replyGate: GateReport | null;
};

/** Sessions with parts the hub has not acknowledged, planned as a cycle would (no content is read). */
export function pendingWork(stateDir: string, loaded: LoadedConfig): { sessions: number; bytes: number } | null {
  if (loaded.status !== "ok") return null;
  const cfg = loaded.config;
  // Read-only: a damaged state file is left for the next cycle to move aside (everything counts as pending).
  const state = loadShipState(statePaths(stateDir).shipState, destinationOf(cfg), { readOnly: true });
  const dbs = new DbHandles();
  try {
    const filter = createSessionFilter(cfg.filter);
    const listing = listSessions({ stateDir, state: state.value, filter, dbs });
    let sessions = 0;
    let bytes = 0;
    for (const w of listing.sessions) {
      if (w.idle || filter.sessionDenied(w.meta?.sessionKey ?? null, w.sessionId) !== null) continue;
      sessions++;
      for (const p of w.parts) if (p.action !== "unchanged") bytes += p.part.sizeHint;
    }
    return { sessions, bytes };
  } finally {
    dbs.closeAll();
  }
}

export function buildStatus(stateDir: string, loaded: LoadedConfig, rawPluginConfig: unknown, openclawConfig: unknown): StatusReport {
  const paths = statePaths(stateDir);
  const status = readStatusFile(paths.status);
  const raw = (rawPluginConfig ?? {}) as Record<string, unknown>;
  const cfg = loaded.config;
  let ledger: LedgerSummary | null = null;
  if (fs.existsSync(paths.ledger)) {
    try {
      const l = new UsageLedger(paths.ledger);
      ledger = l.summary();
      l.close();
    } catch {
      ledger = null;
    }
  }
  let pending: StatusReport["pending"] = null;
  try {
    pending = pendingWork(stateDir, loaded);
  } catch {
    pending = null;
  }
  const blocked = blockedHooks(openclawConfig);
  return {
    plugin: "clawtower",
    configured: loaded.status === "ok",
    config: { status: loaded.status, path: CONFIG_PATH, issues: loaded.issues },
    uploads: !cfg ? "off" : "off" in cfg.interval ? "manual" : "on",
    target: cfg?.target ?? (typeof raw["target"] === "string" ? raw["target"] : null),
    apiUrl: cfg?.apiUrl ?? (typeof raw["apiUrl"] === "string" ? raw["apiUrl"] : null),
    deploymentId: cfg?.deploymentId ?? (typeof raw["deploymentId"] === "string" ? raw["deploymentId"] : null),
    apiKey: maskKey(typeof raw["apiKey"] === "string" ? raw["apiKey"] : null),
    privacy: cfg?.privacy ?? null,
    every: cfg ? formatInterval(cfg.interval) : null,
    stateDir: paths.dir,
    lastCycle: status.lastCycle,
    lastSuccessAt: status.lastSuccessAt ? new Date(status.lastSuccessAt).toISOString() : null,
    pending,
    blockedHooks: blocked,
    unblock: blocked.length > 0 ? UNBLOCK_COMMAND : null,
    recentErrors: status.recentErrors.slice(0, 10).map((e) => ({ ...e, time: new Date(e.at).toISOString() })),
    ledger,
    service: readServiceFile(stateDir),
    budgets: budgetsOf(stateDir, rawPluginConfig, openclawConfig),
    orchestrator: orchestratorOf(stateDir, rawPluginConfig),
    replyGate: gateStatusOf(rawPluginConfig, stateDir),
  };
}

function budgetsOf(stateDir: string, pluginConfig: unknown, config: unknown): BudgetsReport | null {
  if (!budgetsConfigured(pluginConfig)) return null;
  try {
    return buildBudgetsReport({ pluginConfig: pluginConfig as Record<string, unknown>, config }, stateDir, Date.now());
  } catch {
    return null;
  }
}

function orchestratorOf(stateDir: string, pluginConfig: unknown): BuildStatusOrchestrator {
  if ((pluginConfig as { orchestrator?: unknown } | undefined)?.orchestrator === undefined) return null;
  try {
    const r = buildOrchestratorReport(pluginConfig, stateDir);
    return { state: r.state, problem: r.problem, bindings: r.bindings.length, workers: r.bindings.reduce((a, b) => a + b.workers.length, 0), bypassesRecorded: r.bypass.recorded };
  } catch (e) {
    return { state: "error", problem: (e as Error).message, bindings: 0, workers: 0, bypassesRecorded: 0 };
  }
}
type BuildStatusOrchestrator = StatusReport["orchestrator"];

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s}s ago`;
  if (s < 5400) return `${Math.round(s / 60)}m ago`;
  if (s < 129_600) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
}

export function renderStatus(s: StatusReport, now: number): string {
  const out: string[] = [];
  if (s.configured) {
    out.push(`Clawtower: configured — uploads ${s.uploads === "on" ? `every ${s.every}` : s.uploads === "manual" ? "manual only (upload.every is 0)" : "off"}`);
  } else {
    out.push(`Clawtower: ${s.config.status === "invalid" ? "INVALID CONFIG" : "not configured"} — uploads are off`);
    for (const i of s.config.issues) out.push(`  ${i.path}: ${i.message}`);
  }
  out.push(`  target      ${s.target ?? "-"} ${s.apiUrl ?? ""}`.trimEnd());
  out.push(`  deployment  ${s.deploymentId ?? "-"}`);
  out.push(`  api key     ${s.apiKey ?? "(none)"}`);
  if (s.privacy) out.push(`  privacy     ${s.privacy}`);
  const c = s.lastCycle;
  if (c) {
    out.push(
      `  last cycle  ${c.outcome} ${ago(now - c.finishedAt)} (${c.trigger}, ${c.durationMs} ms): ${c.sessions.sent} sessions, ${c.lines.sent} lines ` +
        `(${c.lines.accepted} accepted, ${c.lines.duplicates} duplicate, ${c.lines.rejected} rejected)${c.message ? ` — ${c.message}` : ""}`,
    );
  } else {
    out.push("  last cycle  never");
  }
  if (s.lastSuccessAt) out.push(`  last success ${s.lastSuccessAt}`);
  if (s.pending) out.push(`  pending     ${s.pending.sessions} sessions, ~${s.pending.bytes} bytes`);
  if (s.ledger) out.push(`  ledger      ${s.ledger.calls} LLM calls, ${s.ledger.tokens} tokens, $${s.ledger.costUsd.toFixed(6)}${s.ledger.failedCalls ? `, ${s.ledger.failedCalls} failed calls` : ""}`);
  if (s.blockedHooks.length > 0) {
    out.push(`  blocked hooks: ${s.blockedHooks.join(", ")} (large-prompt audit and per-run totals; per-call usage still works)`);
    out.push(`    to allow them: ${s.unblock}`);
  }
  if (s.budgets) {
    const b = s.budgets;
    const over = b.budgets.filter((x) => x.state !== "ok").map((x) => `${x.id} ${x.state}`);
    const unpriced = b.budgets.reduce((a, x) => a + x.unpricedCalls, 0);
    out.push(`  budgets     guard ${b.guard}, ${b.budgets.length} budgets${over.length ? ` (${over.join(", ")})` : ", all ok"}${unpriced ? `, ${unpriced} unpriced calls counted by tokens` : ""} — openclaw clawtower budgets`);
    if (b.problem) out.push(`    ${b.problem}`);
  }
  if (s.orchestrator) {
    const o = s.orchestrator;
    out.push(`  orchestrator ${o.state}, ${o.bindings} bindings, ${o.workers} workers, ${o.bypassesRecorded} bypasses recorded — openclaw clawtower orchestrator status`);
    if (o.problem) out.push(`    ${o.problem}`);
  }
  if (s.replyGate) {
    const g = s.replyGate;
    out.push(`  reply gate  ${g.gate}, ${g.chats.length} protected chats, last 24 h ${g.last24h.request} triggers, ${g.last24h.allowed} allowed, ${g.last24h.blocked} blocked — openclaw clawtower gate status`);
    if (g.problem) out.push(`    ${g.problem}`);
  }
  if (s.recentErrors.length > 0) {
    out.push("  recent errors:");
    for (const e of s.recentErrors.slice(0, 5)) out.push(`    ${e.time} [${e.kind}] ${e.message}`);
  }
  return `${out.join("\n")}\n`;
}
