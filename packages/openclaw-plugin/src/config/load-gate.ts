/**
 * The reply gate's part of `plugins.entries.clawtower.config`, validated on its own: never throws; an invalid
 * gate field turns the gate off (and says which path), while uploads and budgets go on.
 *   off      replyGate absent or enabled:false
 *   ok       a gate to enforce
 *   invalid  one issue per wrong field, each naming its full config path
 */
import { GATE_KEYS, GateConfigSchema, type ReplyGateConfig } from "./gate-schema.ts";
import { issuesOf, type ConfigIssue } from "./load.ts";

export type LoadedGate =
  | { status: "off"; config: ReplyGateConfig; issues: [] }
  | { status: "ok"; config: ReplyGateConfig; issues: [] }
  | { status: "invalid"; config: null; issues: ConfigIssue[] };

export function loadGateConfig(raw: unknown): LoadedGate {
  const source = raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const picked: Record<string, unknown> = {};
  for (const k of GATE_KEYS) if (source[k] !== undefined) picked[k] = source[k];
  const parsed = GateConfigSchema.safeParse(picked);
  if (!parsed.success) return { status: "invalid", config: null, issues: issuesOf(parsed.error.issues) };
  const config = parsed.data.replyGate;
  return config.enabled ? { status: "ok", config, issues: [] } : { status: "off", config, issues: [] };
}

export function gateConfigured(pluginConfig: unknown): boolean {
  const g = (pluginConfig as { replyGate?: { enabled?: unknown } } | undefined)?.replyGate;
  return Boolean(g && typeof g === "object" && g.enabled === true);
}
