/**
 * Turns `plugins.entries.clawtower.config` into a usable configuration, or says exactly why not. Never
 * throws: an invalid or incomplete config leaves the plugin loaded with uploads off.
 *   ok            every required key present and every value valid
 *   unconfigured  valid values, but apiKey / deploymentId (/ projectId for influxion) missing
 *   invalid       one issue per wrong field, each naming its full config path
 */
import type { z } from "zod";
import { BUDGET_KEYS } from "./budgets-schema.ts";
import { GATE_KEYS } from "./gate-schema.ts";
import { ORCHESTRATOR_KEY } from "./orchestrator-schema.ts";
import { parseInterval, type Interval } from "./interval.ts";
import { ConfigSchema, DEFAULT_API_URL, type PluginConfig } from "./schema.ts";

export const CONFIG_PATH = "plugins.entries.clawtower.config";

export type ConfigIssue = { path: string; message: string };

export type ResolvedConfig = PluginConfig & { apiKey: string; deploymentId: string; apiUrl: string; interval: Interval };

export type LoadedConfig =
  | { status: "ok"; config: ResolvedConfig; issues: [] }
  | { status: "unconfigured"; config: null; issues: ConfigIssue[] }
  | { status: "invalid"; config: null; issues: ConfigIssue[] };

export function pathOf(segments: readonly PropertyKey[]): string {
  return [CONFIG_PATH, ...segments.map(String)].join(".");
}

/** The config without the spend guard's, the orchestrator's and the reply gate's keys (validated on their own: load-budgets.ts, load-orchestrator.ts, load-gate.ts). */
function withoutBudgetKeys(raw: unknown): unknown {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const rest: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const k of [...BUDGET_KEYS, ...GATE_KEYS]) delete rest[k];
  delete rest[ORCHESTRATOR_KEY];
  return rest;
}

/** zod's issues as config issues, each naming its full path (one per unknown key). */
export function issuesOf(zodIssues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of zodIssues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) issues.push({ path: pathOf([...issue.path, key]), message: "unknown key (misspelt?)" });
    } else {
      issues.push({ path: pathOf(issue.path), message: issue.message });
    }
  }
  return issues;
}

export function loadConfig(raw: unknown): LoadedConfig {
  const parsed = ConfigSchema.safeParse(withoutBudgetKeys(raw ?? {}));
  if (!parsed.success) return { status: "invalid", config: null, issues: issuesOf(parsed.error.issues) };
  const c = parsed.data;
  const missing: ConfigIssue[] = [];
  if (!c.apiKey) missing.push({ path: pathOf(["apiKey"]), message: "required (the hub's API key)" });
  if (!c.deploymentId) missing.push({ path: pathOf(["deploymentId"]), message: "required (this Gateway's deployment id)" });
  if (c.target === "influxion" && !c.projectId) missing.push({ path: pathOf(["projectId"]), message: "required when target is \"influxion\"" });
  if (missing.length > 0 || !c.apiKey || !c.deploymentId) return { status: "unconfigured", config: null, issues: missing };
  const interval = parseInterval(c.upload.every);
  // The schema already rejected unparseable intervals.
  if ("error" in interval) return { status: "invalid", config: null, issues: [{ path: pathOf(["upload", "every"]), message: interval.error }] };
  return {
    status: "ok",
    config: { ...c, apiKey: c.apiKey, deploymentId: c.deploymentId, apiUrl: (c.apiUrl ?? DEFAULT_API_URL[c.target]).replace(/\/+$/, ""), interval },
    issues: [],
  };
}

/** `ct_abcd…wxyz`: enough to tell keys apart, never enough to use one. */
export function maskKey(key: string | undefined | null): string | null {
  if (!key) return null;
  if (key.length <= 8) return "****";
  return `${key.slice(0, 4)}…${key.slice(-4)}`;
}

export function describeIssues(issues: ConfigIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("; ");
}
