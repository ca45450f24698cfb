/**
 * A fake OpenClaw host for register(): it implements PluginHost (the part of the host API the plugin uses,
 * typed by the real SDK, src/host-types.ts), records what the plugin registers, and hands hooks back typed by
 * their name, so a test that calls a hook with a payload or context the host never sends fails the typecheck.
 */
import type { HookCtx, HookEvent, HookName, OpenClawPluginService, PluginHost, TranscriptUpdate } from "../src/host-types.ts";

export type TypedHook<K extends HookName> = (event: HookEvent<K>, ctx: HookCtx<K>) => unknown;
type CliRegistration = { registrar: Parameters<PluginHost["registerCli"]>[0]; opts: Parameters<PluginHost["registerCli"]>[1] };

export type FakeHost = {
  api: PluginHost;
  hookNames(): HookName[];
  /** The handler registered for `name` (throws if there is none). */
  hook<K extends HookName>(name: K): TypedHook<K>;
  services: OpenClawPluginService[];
  clis: CliRegistration[];
  /** The one service registered (throws unless there is exactly one). */
  service(): OpenClawPluginService;
  /** The transcript listener the service subscribed, or null. */
  transcript(): ((update: TranscriptUpdate) => void) | null;
};

export function fakeHost(mode: PluginHost["registrationMode"], pluginConfig: PluginHost["pluginConfig"], config: PluginHost["config"] = {}): FakeHost {
  // One map for every hook name: what goes in is checked by the host's `on` signature, what comes out by hook().
  const hooks = new Map<HookName, unknown>();
  const services: OpenClawPluginService[] = [];
  const clis: CliRegistration[] = [];
  let listener: ((update: TranscriptUpdate) => void) | null = null;
  const api: PluginHost = {
    registrationMode: mode,
    pluginConfig,
    config,
    on: (name, handler) => void hooks.set(name, handler),
    registerService: (service) => void services.push(service),
    registerCli: (registrar, opts) => void clis.push({ registrar, opts }),
    runtime: {
      events: {
        onSessionTranscriptUpdate: (cb) => {
          listener = cb;
          return () => void (listener = null);
        },
      },
      state: {
        resolveStateDir: () => {
          throw new Error("no runtime in cli-metadata");
        },
      },
    },
  };
  return {
    api,
    hookNames: () => [...hooks.keys()],
    hook<K extends HookName>(name: K): TypedHook<K> {
      const h = hooks.get(name);
      if (h === undefined) throw new Error(`no handler registered for ${name}`);
      return h as TypedHook<K>;
    },
    services,
    clis,
    service() {
      if (services.length !== 1) throw new Error(`${services.length} services registered`);
      return services[0]!;
    },
    transcript: () => listener,
  };
}
