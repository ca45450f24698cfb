/**
 * The background service (OpenClaw starts services only under `openclaw gateway run`). All I/O starts here:
 *   - the usage ledger and the hook-queue drain (every `live.flushMs`), transcript-update subscription;
 *   - the upload scheduler: a first cycle shortly after start, then one `upload.every` after each cycle
 *     ends (never two at once; `openclaw clawtower sync` shares the cycle lock); an ended session asks
 *     for an early cycle;
 *   - `service.json`, live counters for `openclaw clawtower status`.
 * An invalid or incomplete config keeps uploads off and says why; the ledger still records.
 * `stop()` cancels timers, aborts in-flight requests and drains what the hooks queued.
 */
import fs from "node:fs";
import type { BudgetGuard } from "./budgets/guard.ts";
import { budgetSnapshot } from "./budgets/report.ts";
import { describeIssues, loadConfig, type LoadedConfig } from "./config/load.ts";
import { formatInterval } from "./config/interval.ts";
import type { OpenClawPluginService, OpenClawPluginServiceContext, PluginHost } from "./host-types.ts";
import type { HookQueue } from "./live/hook-queue.ts";
import type { HookSwitch } from "./live/hooks.ts";
import { LiveUsage } from "./live/live-usage.ts";
import { PromptAudit } from "./live/prompt-audit.ts";
import { UsageLedger } from "./live/usage-ledger.ts";
import { createRedactor } from "./privacy/redact.ts";
import { createEventTransform } from "./privacy/transform.ts";
import { runCycle, type CycleResult } from "./ship/cycle.ts";
import { ensureDir, statePaths, writeFileAtomic } from "./state/files.ts";

/** Delay before the first cycle after the Gateway starts (or the interval, when shorter). */
export const FIRST_CYCLE_DELAY_MS = 10_000;
/** An ended session brings the next cycle forward to this soon. */
export const SESSION_END_CYCLE_DELAY_MS = 5_000;
const SERVICE_FILE_EVERY_MS = 5_000;

export type ServiceDeps = {
  api: Pick<PluginHost, "pluginConfig" | "config" | "runtime">;
  queue: HookQueue;
  hooks: HookSwitch;
  /** The spend guard (loaded at start, written by the drain timer). */
  guard?: BudgetGuard;
};

export function redactPatternsOf(config: unknown): string[] {
  const p = (config as { logging?: { redactPatterns?: unknown } } | undefined)?.logging?.redactPatterns;
  return Array.isArray(p) ? p.filter((x): x is string => typeof x === "string") : [];
}

export function createService(deps: ServiceDeps): OpenClawPluginService & { runNow(): Promise<CycleResult | null> } {
  let stopped = true;
  let abort = new AbortController();
  let drainTimer: NodeJS.Timeout | undefined;
  let cycleTimer: NodeJS.Timeout | undefined;
  let running: Promise<CycleResult | null> | null = null;
  let unsubscribe: (() => void) | undefined;
  let ledger: UsageLedger | null = null;
  let live: LiveUsage | null = null;
  let audit: PromptAudit | null = null;
  let loaded: LoadedConfig = { status: "unconfigured", config: null, issues: [] };
  let stateDir = "";
  let logger: OpenClawPluginServiceContext["logger"] | null = null;
  let lastServiceWrite = 0;
  const startedAt = Date.now();

  const runNow = async (): Promise<CycleResult | null> => {
    if (running) return running;
    if (loaded.status !== "ok" || stopped) return null;
    const config = loaded.config;
    running = runCycle({
      stateDir,
      config,
      openclawRedactPatterns: redactPatternsOf(deps.api.config),
      logger: logger!,
      signal: abort.signal,
      trigger: "schedule",
      ledger,
    })
      .catch((e: unknown) => {
        logger?.error(`clawtower: upload cycle failed: ${(e as Error).message}`);
        return null;
      })
      .finally(() => {
        running = null;
        schedule(null);
      });
    return running;
  };

  /** Arms the next cycle: `delayMs`, or the configured interval. */
  const schedule = (delayMs: number | null) => {
    if (stopped || loaded.status !== "ok" || "off" in loaded.config.interval) return;
    const ms = delayMs ?? loaded.config.interval.ms;
    clearTimeout(cycleTimer);
    cycleTimer = setTimeout(() => void runNow(), ms);
    cycleTimer.unref?.();
  };

  const writeServiceFile = (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastServiceWrite < SERVICE_FILE_EVERY_MS) return;
    lastServiceWrite = now;
    try {
      writeFileAtomic(
        statePaths(stateDir).service,
        JSON.stringify({
          pid: process.pid,
          startedAt,
          updatedAt: now,
          running: !stopped,
          queue: { size: deps.queue.size, dropped: deps.queue.dropped },
          counters: live?.counters ?? null,
          budgets: deps.guard?.book ? budgetSnapshot(deps.guard.book, now) : null,
          budgetRunsInFlight: deps.guard?.book?.runsInFlight ?? 0,
          fleet: deps.guard?.fleet.describe() ?? null,
        }),
      );
    } catch {
      // status only; never fails the service
    }
  };

  const drain = () => {
    try {
      live?.drain(Date.now());
    } catch (e) {
      logger?.warn(`clawtower: draining hook events failed: ${(e as Error).message}`);
    }
    try {
      deps.guard?.flush();
      void deps.guard?.shipEvents();
    } catch (e) {
      logger?.warn(`clawtower: writing budget state failed: ${(e as Error).message}`);
    }
    writeServiceFile(false);
  };

  return {
    id: "clawtower",
    runNow,
    start(ctx: OpenClawPluginServiceContext) {
      stopped = false;
      abort = new AbortController();
      logger = ctx.logger;
      stateDir = ctx.stateDir;
      const paths = statePaths(stateDir);
      ensureDir(paths.dir);
      loaded = loadConfig(deps.api.pluginConfig);
      if (loaded.status === "invalid") ctx.logger.error(`clawtower: invalid config, uploads are off: ${describeIssues(loaded.issues)}`);
      else if (loaded.status === "unconfigured") ctx.logger.warn(`clawtower: not configured, uploads are off: ${describeIssues(loaded.issues)}`);

      const cfg = loaded.config;
      const liveEnabled = cfg ? cfg.live.enabled : true;
      if (liveEnabled) {
        try {
          ledger = new UsageLedger(paths.ledger);
        } catch (e) {
          ctx.logger.error(`clawtower: usage ledger ${paths.ledger} unavailable: ${(e as Error).message}`);
          ledger = null;
        }
      }
      const redactor = createRedactor({ emails: cfg?.redact.emails ?? true, patterns: [...(cfg?.redact.patterns ?? []), ...(cfg?.redact.openclawPatterns !== false ? redactPatternsOf(deps.api.config) : [])] });
      const threshold = cfg?.audit.largePromptChars ?? 100_000;
      audit = new PromptAudit({
        thresholdChars: threshold,
        file: paths.promptDump,
        maxBytes: cfg?.audit.dumpMaxBytes ?? 5_242_880,
        files: cfg?.audit.dumpFiles ?? 3,
        redactor,
        warn: (m) => ctx.logger.warn(m),
      });
      live = new LiveUsage({
        stateDir,
        queue: deps.queue,
        ledger,
        audit,
        config: cfg,
        transform: cfg ? createEventTransform(cfg.privacy, redactor) : null,
        onSessionEnded: () => schedule(SESSION_END_CYCLE_DELAY_MS),
        logger: ctx.logger,
        signal: abort.signal,
      });
      try {
        unsubscribe = deps.api.runtime.events.onSessionTranscriptUpdate((u) => {
          if (deps.hooks.active) deps.queue.push({ k: "transcript", t: Date.now(), u });
        });
      } catch (e) {
        ctx.logger.warn(`clawtower: transcript updates unavailable (${(e as Error).message}); usage is recorded by upload cycles only`);
      }
      deps.hooks.active = true;
      try {
        deps.guard?.attachService(stateDir, ctx.logger);
      } catch (e) {
        ctx.logger.error(`clawtower: spend guard failed to start: ${(e as Error).message}`);
      }
      drainTimer = setInterval(drain, cfg?.live.flushMs ?? 1000);
      drainTimer.unref?.();
      if (cfg) {
        const every = formatInterval(cfg.interval);
        ctx.logger.info(`clawtower: uploading to ${cfg.apiUrl} (${cfg.target}, privacy ${cfg.privacy}) every ${every}`);
        if (!("off" in cfg.interval)) schedule(Math.min(FIRST_CYCLE_DELAY_MS, cfg.interval.ms));
      }
      writeServiceFile(true);
    },
    async stop() {
      stopped = true;
      deps.hooks.active = false;
      clearTimeout(cycleTimer);
      clearInterval(drainTimer);
      unsubscribe?.();
      unsubscribe = undefined;
      // What the hooks queued until now still goes to the ledger (forwarding is left to the next cycle).
      try {
        live?.drain(Date.now());
      } catch {
        // best effort at shutdown
      }
      try {
        await deps.guard?.detachService();
      } catch {
        // best effort at shutdown
      }
      abort.abort();
      await Promise.race([running ?? Promise.resolve(null), new Promise((r) => setTimeout(r, 3000).unref())]);
      await Promise.race([Promise.all([live?.settle(), audit?.flush()]), new Promise((r) => setTimeout(r, 1000).unref())]);
      writeServiceFile(true);
      live?.close();
      ledger?.close();
      live = null;
      ledger = null;
    },
  };
}

/** For status: the Gateway service's last heartbeat, when there is one. */
export function readServiceFile(stateDir: string): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(statePaths(stateDir).service, "utf8")) as Record<string, unknown>;
  } catch {
    return null;
  }
}
