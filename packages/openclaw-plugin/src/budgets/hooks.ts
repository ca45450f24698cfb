/**
 * The spend guard's hooks. `before_model_resolve`, `before_agent_run` and `agent_end` are conversation
 * hooks (OpenClaw registers them for a non-bundled plugin only with hooks.allowConversationAccess), so
 * they are registered only when it is set — and only when budgets are configured, so a gateway without
 * budgets runs none of this. `before_tool_call` is open. Each handler returns at once when the guard is off.
 */
import type { HookName, PluginHost } from "../host-types.ts";
import { conversationAccessAllowed } from "../live/hooks.ts";
import { hubOf, type BudgetGuard } from "./guard.ts";

export function budgetsConfigured(pluginConfig: unknown): boolean {
  const b = (pluginConfig as { budgets?: unknown } | undefined)?.budgets;
  return Array.isArray(b) && b.length > 0;
}

const SUBSCRIBED = Symbol.for("clawtower.openclaw-plugin.budget-transcripts");

export function registerBudgetHooks(api: Pick<PluginHost, "on" | "pluginConfig" | "config" | "runtime" | "registrationMode">, guard: BudgetGuard): void {
  // A reload without budgets must turn the guard off as well.
  guard.configure(api);
  // Fleet budgets come from the hub the uploads go to: a gateway with a hub and conversation access enforces
  // them even without local budgets.
  if (!budgetsConfigured(api.pluginConfig) && !(hubOf(api.pluginConfig) && conversationAccessAllowed(api.config))) return;
  const on = (name: HookName, handler: (e: unknown, ctx: unknown) => unknown) => api.on(name, handler as never);
  on("before_tool_call", (e, ctx) => guard.beforeToolCall(e, ctx));
  if (conversationAccessAllowed(api.config)) {
    on("before_model_resolve", (e, ctx) => guard.beforeModelResolve(e, ctx));
    on("before_agent_run", (e, ctx) => guard.beforeAgentRun(e, ctx));
    on("agent_end", (e, ctx) => guard.agentEnd(e, ctx));
  }
  // Per-call spend comes from transcript updates, in every process that runs agents (the Gateway and each
  // `agent --local` turn, where no service runs): one listener per guard.
  const g = guard as unknown as { [SUBSCRIBED]?: boolean };
  if (api.registrationMode === "full" && !g[SUBSCRIBED]) {
    try {
      api.runtime.events.onSessionTranscriptUpdate((u) => guard.onTranscript(u));
      g[SUBSCRIBED] = true;
    } catch {
      // no runtime events in this registration; a later full registration subscribes
    }
  }
}
