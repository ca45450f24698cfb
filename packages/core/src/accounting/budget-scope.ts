/**
 * Who spent (agent, channel, session kind, cron job, provider, model) and whether a budget's scope covers it.
 * Pure; the plugin's guard and the hub's fleet spend decide the same way.
 */
import type { BudgetScope } from "../model/budget.ts";

export type SpendScope = {
  agent: string | null;
  channel: string | null;
  kind: string | null;
  cronJob: string | null;
  provider: string | null;
  model: string | null;
};

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

/** A `provider/model` scope compares with the call's both; a bare model id with its model (or its `x/model` tail). */
function modelMatches(want: string, provider: string | null, model: string | null): boolean {
  if (model === null) return false;
  if (want === model) return true;
  if (want.includes("/")) return provider !== null && want === `${provider}/${model}`;
  const slash = model.lastIndexOf("/");
  return slash >= 0 && model.slice(slash + 1) === want;
}

/** True when every key the budget names matches (an unknown value never matches a named key). */
export function budgetScopeCovers(scope: BudgetScope, s: SpendScope): boolean {
  if (scope.agent !== undefined && scope.agent !== s.agent) return false;
  if (scope.channel !== undefined && scope.channel !== s.channel) return false;
  if (scope.kind !== undefined && scope.kind !== s.kind) return false;
  if (scope.cronJob !== undefined && scope.cronJob !== s.cronJob) return false;
  if (scope.provider !== undefined && scope.provider !== s.provider) return false;
  if (scope.model !== undefined && !modelMatches(scope.model, s.provider, s.model)) return false;
  return true;
}
