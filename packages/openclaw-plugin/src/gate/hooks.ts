/**
 * The reply gate's hooks (neither is a conversation hook: no hooks.allowConversationAccess needed). Nothing
 * is registered unless `replyGate.enabled` is true, so a gateway without the gate runs none of this.
 */
import type { HookName, PluginHost } from "../host-types.ts";
import { gateConfigured } from "../config/load-gate.ts";
import type { ReplyGate } from "./gate.ts";

type Logger = { info(m: string): void; warn(m: string): void; error(m: string): void };

export function registerGateHooks(api: Pick<PluginHost, "on" | "pluginConfig">, gate: ReplyGate, stateDirOf: () => string, logger?: Logger): void {
  // A reload without the gate must turn it off as well.
  gate.configure(api.pluginConfig, stateDirOf, logger);
  if (!gateConfigured(api.pluginConfig)) return;
  const on = (name: HookName, handler: (e: unknown, ctx: unknown) => unknown) => api.on(name, handler as never);
  on("message_received", (e, ctx) => gate.messageReceived(e, ctx));
  on("message_sending", (e, ctx) => gate.messageSending(e, ctx));
}
