/**
 * A run's scope from a hook's agent context (who is spending: agent, channel, session kind, cron job,
 * provider, model). Pure. Whether a budget covers it is core's `budgetScopeCovers` (the hub decides alike).
 */
import { channelOf, classifySessionKind, cronJobOf, type SpendScope } from "@clawtower/core";

export type RunScope = SpendScope;

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

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
