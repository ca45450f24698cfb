/**
 * The typed hooks the plugin listens to. Every handler only appends to the queue and returns (measured by
 * bench/plugin-hooks.ts); while no service runs (CLI processes, `agent --local`) they return at once.
 *
 * `llm_input` and `llm_output` are conversation hooks: OpenClaw registers them for a non-bundled plugin
 * only with `plugins.entries.clawtower.hooks.allowConversationAccess: true`. Everything else — including
 * per-call usage, which comes from transcript updates — works without it.
 */
import type { HookName, OpenClawPluginApi } from "../host-types.ts";
import type { HookQueue } from "./hook-queue.ts";

export const GATED_HOOKS = ["llm_input", "llm_output"] as const;
export const OPEN_HOOKS = ["model_call_ended", "after_tool_call", "session_start", "session_end", "message_received", "message_sending"] as const;
export const UNBLOCK_COMMAND = "openclaw config set plugins.entries.clawtower.hooks.allowConversationAccess true";

export type HookSwitch = { active: boolean };

/** True when OpenClaw lets this plugin register conversation hooks. */
export function conversationAccessAllowed(config: unknown): boolean {
  const entry = (config as { plugins?: { entries?: Record<string, { hooks?: { allowConversationAccess?: unknown } }> } } | undefined)?.plugins?.entries?.["clawtower"];
  return entry?.hooks?.allowConversationAccess === true;
}

export function blockedHooks(config: unknown): string[] {
  return conversationAccessAllowed(config) ? [] : [...GATED_HOOKS];
}

export function registerHooks(api: Pick<OpenClawPluginApi, "on">, queue: HookQueue, sw: HookSwitch, config: unknown): void {
  const on = (name: HookName, k: (typeof OPEN_HOOKS)[number] | (typeof GATED_HOOKS)[number]) => {
    api.on(name, ((e: unknown, ctx: unknown) => {
      if (sw.active) queue.push({ k, t: Date.now(), e, ctx } as never);
    }) as never);
  };
  for (const name of OPEN_HOOKS) on(name, name);
  // Registering a gated hook without access only earns one "blocked" diagnostic per hook; skip them.
  if (conversationAccessAllowed(config)) for (const name of GATED_HOOKS) on(name, name);
}
