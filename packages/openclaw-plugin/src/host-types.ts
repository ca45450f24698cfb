/**
 * Types of the OpenClaw plugin host (openclaw 2026.9.6), derived from the public SDK entry point. Most hook
 * event types are not exported by name, so they are read off `api.on`'s signature: a field OpenClaw renames
 * fails the typecheck here instead of failing silently at run time.
 */
import type { OpenClawPluginApi, OpenClawPluginService, OpenClawPluginServiceContext, PluginLogger } from "openclaw/plugin-sdk/plugin-entry";

export type { OpenClawPluginApi, OpenClawPluginService, OpenClawPluginServiceContext, PluginLogger };

declare const api: OpenClawPluginApi;
export type HookName = Parameters<OpenClawPluginApi["on"]>[0];
type HookHandler<K extends HookName> = Parameters<typeof api.on<K>>[1];
export type HookEvent<K extends HookName> = Parameters<HookHandler<K>>[0];
export type HookCtx<K extends HookName> = Parameters<HookHandler<K>>[1];

export type TranscriptUpdate = Parameters<Parameters<OpenClawPluginApi["runtime"]["events"]["onSessionTranscriptUpdate"]>[0]>[0];

/**
 * The part of the host API the plugin uses, as the host types it: register(), the service and the CLI take
 * this, so a fake host in tests implements exactly it (typed, no cast) and the real `api` fits it as it is.
 */
export type PluginHost = Pick<OpenClawPluginApi, "registrationMode" | "pluginConfig" | "config" | "on" | "registerService" | "registerCli"> & {
  runtime: {
    events: Pick<OpenClawPluginApi["runtime"]["events"], "onSessionTranscriptUpdate">;
    state: Pick<OpenClawPluginApi["runtime"]["state"], "resolveStateDir">;
  };
};
