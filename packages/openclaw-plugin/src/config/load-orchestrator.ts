/**
 * `config.orchestrator`, validated on its own: never throws.
 *   off      absent or enabled:false (a full no-op)
 *   ok       delegation on
 *   invalid  one issue per wrong field, each naming its full config path; delegation stays off
 */
import { issuesOf, type ConfigIssue } from "./load.ts";
import { ORCHESTRATOR_KEY, OrchestratorConfigSchema, type OrchestratorConfig } from "./orchestrator-schema.ts";

export type LoadedOrchestrator =
  | { status: "off"; config: OrchestratorConfig; issues: [] }
  | { status: "ok"; config: OrchestratorConfig; issues: [] }
  | { status: "invalid"; config: null; issues: ConfigIssue[] };

export function loadOrchestratorConfig(pluginConfig: unknown): LoadedOrchestrator {
  const source = pluginConfig && typeof pluginConfig === "object" && !Array.isArray(pluginConfig) ? (pluginConfig as Record<string, unknown>) : {};
  const parsed = OrchestratorConfigSchema.safeParse(source[ORCHESTRATOR_KEY]);
  if (!parsed.success) {
    return { status: "invalid", config: null, issues: issuesOf(parsed.error.issues.map((i) => ({ ...i, path: [ORCHESTRATOR_KEY, ...i.path] }))) };
  }
  return parsed.data.enabled ? { status: "ok", config: parsed.data, issues: [] } : { status: "off", config: parsed.data, issues: [] };
}
