/**
 * `openclaw clawtower status [--json] | sync [--json] | budgets [--json] | gate status [--json] | ledger reset [--sessions|--skills]`.
 * Inside the openclaw CLI, console.log goes to stderr: output is written with process.stdout.write.
 * `sync` runs one blocking cycle (waiting for a running one to finish) and exits non-zero on failure.
 */
import os from "node:os";
import { resolveOpenClawHome } from "@clawtower/core";
import { budgetsCommand } from "../budgets/command.ts";
import { describeIssues, loadConfig } from "../config/load.ts";
import { gateCommand } from "../gate/report.ts";
import { CLI_COMMAND } from "../identity.ts";
import { UsageLedger } from "../live/usage-ledger.ts";
import { orchestratorStatusCommand } from "../orchestrator/command.ts";
import { redactPatternsOf } from "../service.ts";
import { runCycle, type CycleResult, destinationOf } from "../ship/cycle.ts";
import { ensureDir, statePaths } from "../state/files.ts";
import { tryLock } from "../state/lock.ts";
import { emptyShipState, loadShipState, saveShipState } from "../state/ship-state.ts";
import { buildStatus, renderStatus } from "../status.ts";
import type { PluginHost } from "../host-types.ts";

type CliApi = Pick<PluginHost, "pluginConfig" | "config" | "registerCli" | "runtime">;

/** The state dir: the runtime's answer when it has one (Gateway), else OPENCLAW_STATE_DIR or ~/.openclaw. */
export function resolveStateDir(api: Pick<PluginHost, "runtime">): string {
  try {
    const dir = api.runtime.state.resolveStateDir();
    if (typeof dir === "string" && dir !== "") return dir;
  } catch {
    // the runtime is not available during CLI registration
  }
  return resolveOpenClawHome({ env: process.env, userHome: os.homedir() }).home;
}

/** Where command output goes: stdout (inside the openclaw CLI console.log writes to stderr). */
export type Write = (s: string) => void;
const stdout: Write = (s) => {
  process.stdout.write(s);
};

/** How long `sync` waits for a cycle that is already running. */
const SYNC_WAIT_MS = 120_000;

export async function syncCommand(api: CliApi, json: boolean, out: Write = stdout): Promise<number> {
  const loaded = loadConfig(api.pluginConfig);
  if (loaded.status !== "ok") {
    out(json ? `${JSON.stringify({ ok: false, config: loaded.status, issues: loaded.issues })}\n` : `clawtower: ${loaded.status === "invalid" ? "invalid config" : "not configured"}: ${describeIssues(loaded.issues)}\n`);
    return 2;
  }
  const stateDir = resolveStateDir(api);
  ensureDir(statePaths(stateDir).dir);
  let ledger: UsageLedger | null = null;
  if (loaded.config.live.enabled) {
    try {
      ledger = new UsageLedger(statePaths(stateDir).ledger);
    } catch {
      ledger = null;
    }
  }
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const logger = { info: () => {}, warn: (m: string) => process.stderr.write(`${m}\n`), error: (m: string) => process.stderr.write(`${m}\n`) };
  let result: CycleResult;
  const deadline = Date.now() + SYNC_WAIT_MS;
  try {
    for (;;) {
      result = await runCycle({ stateDir, config: loaded.config, openclawRedactPatterns: redactPatternsOf(api.config), logger, signal: controller.signal, trigger: "cli", ledger });
      if (result.outcome !== "busy" || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    ledger?.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const ok = result.outcome === "ok" || result.outcome === "partial";
  if (json) {
    out(`${JSON.stringify({ ok, ...result })}\n`);
  } else {
    const l = result.lines;
    out(
      `clawtower sync: ${result.outcome}${result.message ? ` — ${result.message}` : ""}\n` +
        `  ${result.sessions.sent} sessions, ${l.sent} lines sent (${l.accepted} accepted, ${l.duplicates} duplicate, ${l.rejected} rejected), ` +
        `${result.bytesRead} bytes read, ${result.skills.agents} skill inventories, ${result.pending.sessions} sessions pending, ${result.durationMs} ms\n`,
    );
  }
  return ok ? 0 : 1;
}

export function statusCommand(api: CliApi, json: boolean, out: Write = stdout): number {
  const loaded = loadConfig(api.pluginConfig);
  const s = buildStatus(resolveStateDir(api), loaded, api.pluginConfig, api.config);
  out(json ? `${JSON.stringify(s, null, 2)}\n` : renderStatus(s, Date.now()));
  return 0;
}

export function ledgerResetCommand(api: CliApi, what: { sessions: boolean; skills: boolean }, out: Write = stdout): number {
  const loaded = loadConfig(api.pluginConfig);
  const stateDir = resolveStateDir(api);
  const paths = statePaths(stateDir);
  ensureDir(paths.dir);
  const lock = tryLock(paths.lock, "ledger reset", { staleAfterMs: 6 * 3_600_000 });
  if (!lock.ok) {
    out(`clawtower: an upload cycle is running (pid ${lock.owner?.pid ?? "?"}); try again when it ends\n`);
    return 1;
  }
  try {
    const destination = loaded.config ? destinationOf(loaded.config) : "";
    const state = loaded.config ? loadShipState(paths.shipState, destination).value : emptyShipState(destination);
    const both = !what.sessions && !what.skills;
    if (both || what.sessions) {
      state.parts = {};
      state.databases = {};
    }
    if (both || what.skills) state.skills = {};
    saveShipState(paths.shipState, state);
    out(`clawtower: forgot what was uploaded (${both ? "sessions and skills" : what.sessions ? "sessions" : "skills"}); the next cycle sends it again (the hub answers duplicates)\n`);
    return 0;
  } finally {
    lock.lock.release();
  }
}

type Command = {
  command(name: string): Command;
  description(text: string): Command;
  option(flags: string, description?: string): Command;
  action(fn: (...args: unknown[]) => unknown): Command;
};

function exitWith(code: number): void {
  if (code !== 0) process.exitCode = code;
}

export function registerCommands(api: CliApi, out: Write = stdout): void {
  api.registerCli(
    ({ program }) => {
      const root = (program as unknown as Command).command(CLI_COMMAND.name).description(CLI_COMMAND.description);
      root
        .command("status")
        .description("Configuration, last upload cycle, pending work, blocked hooks, recent errors")
        .option("--json", "machine-readable output")
        .action((o: unknown) => exitWith(statusCommand(api, Boolean((o as { json?: boolean })?.json), out)));
      root
        .command("sync")
        .description("Run one upload cycle now (exit code 1 on failure)")
        .option("--json", "machine-readable output")
        .action(async (o: unknown) => exitWith(await syncCommand(api, Boolean((o as { json?: boolean })?.json), out)));
      root
        .command("budgets")
        .description("Spend guard: each budget's spend, limit, state, reservations, reset time and last alert")
        .option("--json", "machine-readable output")
        .action((o: unknown) => exitWith(budgetsCommand(api, resolveStateDir(api), Boolean((o as { json?: boolean })?.json), out)));
      root
        .command("orchestrator")
        .description("Orchestrator delegation")
        .command("status")
        .description("Bindings (front session → hidden orchestrator), workers with outcomes and retries, bypass and retry audit")
        .option("--json", "machine-readable output")
        .action((o: unknown) => exitWith(orchestratorStatusCommand(api.pluginConfig, resolveStateDir(api), Boolean((o as { json?: boolean })?.json), out)));
      root
        .command("gate")
        .description("Reply gate")
        .command("status")
        .description("Reply gate: protected chats, arms, triggers, allowed and blocked replies")
        .option("--json", "machine-readable output")
        .action((o: unknown) => exitWith(gateCommand(api.pluginConfig, resolveStateDir(api), Boolean((o as { json?: boolean })?.json), out)));
      const ledger = root.command("ledger").description("The record of what the hub has acknowledged");
      ledger
        .command("reset")
        .description("Forget what was uploaded (sessions, skills, or both): the next cycle sends everything again")
        .option("--sessions", "only session positions")
        .option("--skills", "only the skills inventory")
        .action((o: unknown) => exitWith(ledgerResetCommand(api, { sessions: Boolean((o as { sessions?: boolean })?.sessions), skills: Boolean((o as { skills?: boolean })?.skills) }, out)));
    },
    { commands: [CLI_COMMAND.name], descriptors: [{ ...CLI_COMMAND }] },
  );
}
