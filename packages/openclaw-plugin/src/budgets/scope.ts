/**
 * A run's scope (who is spending: agent, channel, session kind, cron job, provider, model) and whether a
 * budget's scope covers it. Pure.
 */
import { classifySessionKind } from "@clawtower/core";
import type { BudgetScope } from "../config/budgets-schema.ts";

export type RunScope = {
  agent: string | null;
  channel: string | null;
  kind: string | null;
  cronJob: string | null;
  provider: string | null;
  model: string | null;
};

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** `agent:<id>:cron:<job>[:run:<id>]` / `cron:<job>` → the job id. */
export function cronJobOf(sessionKey: string | null): string | null {
  if (!sessionKey) return null;
  const parts = sessionKey.split(":");
  const at = parts[0] === "cron" ? 0 : parts[0] === "agent" && parts[2] === "cron" ? 2 : -1;
  return at >= 0 ? (parts[at + 1] ?? null) || null : null;
}

/** `agent:<id>:<channel>:direct|group|channel|room:<peer>` → the channel. */
export function channelOf(sessionKey: string | null): string | null {
  if (!sessionKey) return null;
  const parts = sessionKey.split(":");
  if (parts[0] !== "agent" || parts.length < 5) return null;
  return ["direct", "dm", "group", "channel", "room"].includes(parts[3]!) ? (parts[2] ?? null) : null;
}

/** The scope of a run from a hook's agent context (ids the host gives first, the session key's otherwise). */
export function runScopeOf(ctx: Record<string, unknown>): RunScope {
  const sessionKey = str(ctx["sessionKey"]);
  const kind = classifySessionKind(sessionKey);
  return {
    agent: str(ctx["agentId"]) ?? (sessionKey?.startsWith("agent:") ? (sessionKey.split(":")[1] ?? null) : null),
    channel: str(ctx["channel"]) ?? str(ctx["messageProvider"]) ?? channelOf(sessionKey),
    kind: ctx["trigger"] === "cron" && kind !== "subagent" ? "cron" : kind,
    cronJob: str(ctx["jobId"]) ?? cronJobOf(sessionKey),
    provider: str(ctx["modelProviderId"]),
    model: str(ctx["modelId"]),
  };
}

/** The scope of a recorded call whose run is not known (from its session key alone). */
export function callScopeOf(agentId: string | null, sessionKey: string | null, provider: string | null, model: string | null): RunScope {
  return { ...runScopeOf({ agentId, sessionKey }), provider, model };
}

/** A `provider/model` scope compares with the call's both; a bare model id with its model (or its `x/model` tail). */
function modelMatches(want: string, provider: string | null, model: string | null): boolean {
  if (model === null) return false;
  if (want === model) return true;
  if (want.includes("/")) return provider !== null && want === `${provider}/${model}`;
  const slash = model.lastIndexOf("/");
  return slash >= 0 && model.slice(slash + 1) === want;
}

/** True when every key the budget names matches the run (an unknown value never matches a named key). */
export function scopeCovers(scope: BudgetScope, run: RunScope): boolean {
  if (scope.agent !== undefined && scope.agent !== run.agent) return false;
  if (scope.channel !== undefined && scope.channel !== run.channel) return false;
  if (scope.kind !== undefined && scope.kind !== run.kind) return false;
  if (scope.cronJob !== undefined && scope.cronJob !== run.cronJob) return false;
  if (scope.provider !== undefined && scope.provider !== run.provider) return false;
  if (scope.model !== undefined && !modelMatches(scope.model, run.provider, run.model)) return false;
  return true;
}
