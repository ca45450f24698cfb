/**
 * Orchestrator delegation's hooks, registered only when `orchestrator.enabled` is true (a gateway without
 * it runs none of this). before_prompt_build is a conversation hook: registered only with
 * hooks.allowConversationAccess (without it, the prompt block and the last-user-message fallback are off;
 * status says so). The others are open.
 */
import type { HookName, PluginHost } from "../host-types.ts";
import { conversationAccessAllowed } from "../live/hooks.ts";
import type { Orchestrator } from "./runtime.ts";

export function registerOrchestratorHooks(api: Pick<PluginHost, "on" | "pluginConfig" | "config" | "runtime">, orch: Orchestrator): void {
  const logger = (api as { logger?: { info(m: string): void; warn(m: string): void; error(m: string): void } }).logger;
  orch.configure({ pluginConfig: api.pluginConfig, config: api.config, runtime: api.runtime, ...(logger ? { logger } : {}) });
  if (orch.state !== "ready") return;
  const on = (name: HookName, handler: (e: unknown, ctx: unknown) => unknown) => api.on(name, handler as never);
  // Guarded: a failure in a handler never fails the tool call (before_tool_call fails closed in the host).
  const safe =
    <R>(fn: (e: unknown, ctx: unknown) => R) =>
    (e: unknown, ctx: unknown): R | undefined => {
      try {
        return fn(e, ctx);
      } catch {
        return undefined;
      }
    };
  on("before_tool_call", safe((e, ctx) => orch.beforeToolCall(e, ctx)));
  on("after_tool_call", safe((e, ctx) => orch.afterToolCall(e, ctx)));
  on("subagent_ended", safe((e) => orch.subagentEnded(e)));
  on("session_end", safe((e, ctx) => orch.sessionEnd(e, ctx)));
  if (conversationAccessAllowed(api.config)) on("before_prompt_build", safe((e, ctx) => orch.beforePromptBuild(e, ctx)));
}
