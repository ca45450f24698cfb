/**
 * What `register(api)` does, separated from the SDK entry so tests can drive it with a fake host.
 * Registration has no side effects: it declares hooks (which only enqueue, and only while the service
 * runs), the service and the CLI.
 *
 * OpenClaw calls register 2–3 times per process (full, then discovery; cli-metadata for CLI commands), and
 * hooks are dispatched from the most recently activated registry — in a Gateway that is the discovery one,
 * not the full one whose service runs (observed on 2026.9.6: hooks registered only in full mode never
 * fired). So hooks are registered in every mode that takes them, and every registration shares one queue
 * per process, which the one service drains.
 */
import type { PluginHost } from "./host-types.ts";
import { processGuard, type BudgetGuard } from "./budgets/guard.ts";
import { registerBudgetHooks } from "./budgets/hooks.ts";
import { registerCommands, resolveStateDir } from "./cli/commands.ts";
import { processGate, type ReplyGate } from "./gate/gate.ts";
import { registerGateHooks } from "./gate/hooks.ts";
import { HookQueue } from "./live/hook-queue.ts";
import { registerHooks, type HookSwitch } from "./live/hooks.ts";
import { registerOrchestratorHooks } from "./orchestrator/hooks.ts";
import { processOrchestrator, type Orchestrator } from "./orchestrator/runtime.ts";
import { createService } from "./service.ts";

export type ProcessHooks = { queue: HookQueue; hooks: HookSwitch; guard?: BudgetGuard; orchestrator?: Orchestrator; gate?: ReplyGate };

/**
 * One per process, kept on globalThis: the host may load this module more than once (one instance per
 * registry), and the registry whose hooks fire is not necessarily the one whose service drains them.
 */
const PROCESS_KEY = Symbol.for("clawtower.openclaw-plugin.hooks");
function processHooks(): ProcessHooks {
  const g = globalThis as { [PROCESS_KEY]?: ProcessHooks };
  return (g[PROCESS_KEY] ??= { queue: new HookQueue(), hooks: { active: false } });
}

export function registerClawtower(api: PluginHost, shared: ProcessHooks = processHooks()): void {
  registerCommands(api);
  // CLI metadata scans have no runtime; nothing else is needed there.
  if (api.registrationMode === "cli-metadata") return;
  registerHooks(api, shared.queue, shared.hooks, api.config);
  const guard = shared.guard ?? processGuard();
  registerBudgetHooks(api, guard);
  registerOrchestratorHooks(api, shared.orchestrator ?? processOrchestrator());
  registerGateHooks(api, shared.gate ?? processGate(), () => resolveStateDir(api));
  if (api.registrationMode === "full") api.registerService(createService({ api, queue: shared.queue, hooks: shared.hooks, guard }));
}
