/**
 * `openclaw clawtower orchestrator status [--json]`: the bindings (front session → orchestrator), each
 * orchestrator's workers with status, attempt and retries used, and recent audit events (binds, blocks,
 * bypasses, retries), read from the plugin's SQLite — what a Gateway or an `agent --local` turn wrote.
 */
import fs from "node:fs";
import { loadOrchestratorConfig } from "../config/load-orchestrator.ts";
import { describeIssues } from "../config/load.ts";
import { statePaths } from "../state/files.ts";
import { OrchestratorStore, type StoredOrchEvent } from "./store.ts";
import type { WorkerStatus } from "./policy.ts";

export type OrchestratorReport = {
  state: "off" | "invalid" | "ready";
  problem: string | null;
  bypass: { afterBlockedAttempts: number | null; recorded: number };
  bindings: {
    frontSessionKey: string;
    orchestratorSessionKey: string;
    label: string;
    createdAt: string;
    lastActiveAt: string;
    workers: { sessionKey: string; label: string | null; status: WorkerStatus; attempt: number; retriesUsed: number; task: string; startedAt: string; updatedAt: string }[];
  }[];
  recentEvents: (Omit<StoredOrchEvent, "at"> & { at: string })[];
};

const iso = (ms: number) => new Date(ms).toISOString();

export function buildOrchestratorReport(pluginConfig: unknown, stateDir: string): OrchestratorReport {
  const loaded = loadOrchestratorConfig(pluginConfig);
  const state = loaded.status === "ok" ? "ready" : loaded.status;
  const report: OrchestratorReport = {
    state,
    problem: loaded.status === "invalid" ? describeIssues(loaded.issues) : null,
    bypass: { afterBlockedAttempts: loaded.config?.bypassAfterBlockedAttempts ?? null, recorded: 0 },
    bindings: [],
    recentEvents: [],
  };
  const file = statePaths(stateDir).ledger;
  if (!fs.existsSync(file)) return report;
  const store = new OrchestratorStore(file);
  try {
    const s = store.load();
    for (const b of [...s.bindings].sort((x, y) => y.lastActiveAt - x.lastActiveAt)) {
      report.bindings.push({
        frontSessionKey: b.frontKey,
        orchestratorSessionKey: b.orchestratorKey,
        label: b.label,
        createdAt: iso(b.createdAt),
        lastActiveAt: iso(b.lastActiveAt),
        workers: s.workers
          .filter((w) => w.orchestratorKey === b.orchestratorKey)
          .sort((x, y) => y.updatedAt - x.updatedAt)
          .map((w) => ({ sessionKey: w.childKey, label: w.label, status: w.status, attempt: w.attempt, retriesUsed: s.retries.get(w.taskKey) ?? 0, task: w.taskPreview, startedAt: iso(w.startedAt), updatedAt: iso(w.updatedAt) })),
      });
    }
    report.bypass.recorded = store.countEvents("bypass");
    report.recentEvents = store.events(50).map((e) => ({ ...e, at: iso(e.at) }));
  } finally {
    store.close();
  }
  return report;
}

export function renderOrchestrator(r: OrchestratorReport): string {
  const out = [`clawtower orchestrator: ${r.state}${r.problem ? ` — ${r.problem}` : ""}`];
  out.push(`  bypass      ${r.bypass.afterBlockedAttempts === null ? "off" : `after ${r.bypass.afterBlockedAttempts} blocked attempts`}; ${r.bypass.recorded} recorded`);
  if (r.bindings.length === 0) out.push("  bindings    none");
  for (const b of r.bindings) {
    out.push(`  ${b.frontSessionKey} → ${b.orchestratorSessionKey} (${b.label}), last active ${b.lastActiveAt}`);
    for (const w of b.workers) out.push(`    [${w.status}] ${w.sessionKey} (${w.label ?? "no-label"})${w.attempt > 0 ? ` attempt ${w.attempt + 1}` : ""}, retries used ${w.retriesUsed} :: ${w.task}`);
  }
  const audit = r.recentEvents.filter((e) => e.kind === "bypass" || e.kind === "retry" || e.kind === "retry-exhausted").slice(0, 10);
  for (const e of audit) out.push(`  ${e.at} ${e.kind} ${e.sessionKey ?? ""} ${e.tool ?? ""} ${e.detail ?? ""}`.trimEnd());
  return `${out.join("\n")}\n`;
}

export function orchestratorStatusCommand(pluginConfig: unknown, stateDir: string, json: boolean, out: (s: string) => void): number {
  const r = buildOrchestratorReport(pluginConfig, stateDir);
  out(json ? `${JSON.stringify(r, null, 2)}\n` : renderOrchestrator(r));
  return r.state === "invalid" ? 2 : 0;
}
