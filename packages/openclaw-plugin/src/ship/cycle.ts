/**
 * One upload cycle: find what the hub has not acknowledged, send it, remember what it acknowledged.
 *
 *   1. lock       one cycle at a time across the Gateway service and `openclaw clawtower sync`
 *   2. list       every transcript part of every allowed agent (an unchanged agent database is not opened)
 *   3. plan       per part, against the remembered position: unchanged / continue (grown or unfinished) /
 *                 read (new) / rewrite (new generation); per session, deny globs before anything is read
 *   4. qualify    a session never sent is sent once it has minBytes and minMessages real messages
 *   5. send       events in bounded chunks, packed into requests of many sessions; privacy applied to each
 *                 event before it is put into a body; a position moves only past lines the hub answered
 *   6. skills     each agent's inventory, content only when changed
 *   7. remember   the ship state (atomically), the cycle summary and errors for `status`
 * Limits (maxFilesPerRun sessions, maxBytesPerRun bytes) end a cycle early; what is left is reported
 * pending and continues next cycle. A hub that is down ends the cycle (nothing is lost: positions did not
 * move); a 401/403 ends it as a configuration error.
 *
 * This file runs the steps in order and does 1 and 7; planning.ts does 2–4, part.ts reads and prepares one
 * part and sender.ts sends (5), skills.ts does 6. They share one ShipContext (context.ts).
 */
import { DbHandles, localHomeId } from "@clawtower/core";
import type { ResolvedConfig } from "../config/load.ts";
import type { UsageLedger } from "../live/usage-ledger.ts";
import { createRedactor } from "../privacy/redact.ts";
import { createEventTransform } from "../privacy/transform.ts";
import { ensureDir, filesIn, statePaths } from "../state/files.ts";
import { tryLock } from "../state/lock.ts";
import { loadShipState, saveShipState } from "../state/ship-state.ts";
import { recordCycle, type CycleSummary, type ErrorEntry } from "../state/status-file.ts";
import { DEFAULT_SIZES, type BatchSizes, type CycleLogger, type ShipContext, type StopReason } from "./context.ts";
import { createSessionFilter } from "./filters.ts";
import { createHubClient } from "./hub-client.ts";
import { shipPart } from "./part.ts";
import { forgetVanished, listSessions, markSkipped, qualifies, startGeneration, type Listed } from "./planning.ts";
import { Sender } from "./sender.ts";
import { shipSkills } from "./skills.ts";

export type { BatchSizes, CycleLogger } from "./context.ts";

export type CycleOptions = {
  /** The OpenClaw state dir: transcripts under `agents/`, our files under `clawtower/`. */
  stateDir: string;
  config: ResolvedConfig;
  /** Where our files go (default `<stateDir>/clawtower`; benchmarks keep them out of a shared corpus). */
  filesDir?: string;
  /** OpenClaw's `logging.redactPatterns`. */
  openclawRedactPatterns: string[];
  logger: CycleLogger;
  signal: AbortSignal;
  trigger: CycleSummary["trigger"];
  ledger?: UsageLedger | null;
  now?: () => number;
  random?: () => number;
  /** Batch sizes (tests make them small). */
  sizes?: Partial<BatchSizes>;
};

/** A cycle lock older than this is taken over (a cycle never legitimately runs this long). */
const LOCK_STALE_MS = 6 * 3_600_000;

export type CycleResult = CycleSummary & { errors: ErrorEntry[] };

export function destinationOf(c: ResolvedConfig): string {
  return `${c.target}|${c.apiUrl}|${c.deploymentId}`;
}

export async function runCycle(opts: CycleOptions): Promise<CycleResult> {
  const now = opts.now ?? Date.now;
  const startedAt = now();
  const paths = opts.filesDir ? filesIn(opts.filesDir) : statePaths(opts.stateDir);
  const sizes = { ...DEFAULT_SIZES, ...opts.sizes };
  const cfg = opts.config;
  const errors: ErrorEntry[] = [];
  const error = (kind: string, message: string) => {
    errors.unshift({ at: now(), kind, message });
    opts.logger.warn(`clawtower: ${message}`);
  };
  const summary: CycleSummary = {
    startedAt,
    finishedAt: startedAt,
    durationMs: 0,
    trigger: opts.trigger,
    outcome: "ok",
    message: null,
    sessions: { listed: 0, sent: 0, unchanged: 0, skippedSmall: 0, denied: 0 },
    lines: { sent: 0, accepted: 0, duplicates: 0, rejected: 0, bad: 0 },
    bytesRead: 0,
    requests: 0,
    retries: 0,
    skills: { agents: 0, skills: 0, contents: 0 },
    pending: { sessions: 0, bytes: 0 },
  };
  const finish = (): CycleResult => {
    summary.finishedAt = now();
    summary.durationMs = summary.finishedAt - startedAt;
    if (summary.outcome !== "busy") {
      try {
        recordCycle(paths.status, summary, errors);
      } catch (e) {
        opts.logger.error(`clawtower: cannot write ${paths.status}: ${(e as Error).message}`);
      }
    }
    return { ...summary, errors };
  };

  ensureDir(paths.dir);
  const lock = tryLock(paths.lock, opts.trigger, { staleAfterMs: LOCK_STALE_MS, now });
  if (!lock.ok) {
    summary.outcome = "busy";
    summary.message = lock.owner ? `another cycle is running (pid ${lock.owner.pid}, ${lock.owner.purpose}, since ${new Date(lock.owner.startedAt).toISOString()})` : "another cycle holds the lock";
    return finish();
  }
  const dbs = new DbHandles();
  try {
    const loaded = loadShipState(paths.shipState, destinationOf(cfg));
    if (loaded.problem) error("state", `ship state ${loaded.problem}; resending everything (the hub answers duplicates for what it has)`);
    if (loaded.destinationChanged) opts.logger.info(`clawtower: new destination ${cfg.apiUrl} (${cfg.target}, deployment ${cfg.deploymentId}): starting from the beginning`);
    const state = loaded.value;
    // Sessions a changed filter now lets through may sit in unchanged databases: list every database again.
    const filterKey = JSON.stringify(cfg.filter);
    if (state.filterKey !== filterKey) {
      state.databases = {};
      state.filterKey = filterKey;
    }
    const redactor = createRedactor({ emails: cfg.redact.emails, patterns: [...cfg.redact.patterns, ...(cfg.redact.openclawPatterns ? opts.openclawRedactPatterns : [])] });
    for (const bad of redactor.invalid) error("config", `redaction pattern ${JSON.stringify(bad.pattern)} ignored: ${bad.error}`);
    const ctx: ShipContext = {
      stateDir: opts.stateDir,
      config: cfg,
      paths,
      state,
      sizes,
      dbs,
      hub: createHubClient(cfg, localHomeId(opts.stateDir), opts.signal, opts.random),
      filter: createSessionFilter(cfg.filter),
      redactor,
      transform: createEventTransform(cfg.privacy, redactor),
      ledger: opts.ledger ?? null,
      log: opts.logger,
      now,
      signal: opts.signal,
      summary,
      budget: { sessions: cfg.upload.maxFilesPerRun, bytes: cfg.upload.maxBytesPerRun, firstChunk: true },
      recordError: error,
    };

    const listing = listSessions(ctx);
    for (const p of listing.home.problems) error("read", `${p.source}: ${p.detail}`);
    summary.sessions.listed = listing.sessions.length;

    const sender = new Sender(ctx);
    const shipped = await shipSessions(ctx, sender, listing);
    const pending = shipped.pending;
    let stopped = shipped.stopped;
    summary.pending.sessions = pending.size;
    // A database with pending sessions must be listed next cycle even if its files do not change.
    const pendingAgents = new Set([...pending].map((k) => k.split("\u0000")[0]));
    for (const db of listing.home.databases) if (pendingAgents.has(db.agentId)) delete state.databases[db.path];

    if (stopped === null && cfg.filter.includeSkills) stopped = await shipSkills(ctx, listing.home);

    forgetVanished(state, listing);
    saveShipState(paths.shipState, state);
    if (stopped !== null) {
      summary.outcome = stopped;
      summary.message = sender.stopMessage ?? stopped;
    } else if (pending.size > 0) {
      summary.outcome = "partial";
      summary.message = `limits reached (upload.maxFilesPerRun ${cfg.upload.maxFilesPerRun}, upload.maxBytesPerRun ${cfg.upload.maxBytesPerRun}): ${pending.size} sessions pending`;
    }
    const l = summary.lines;
    opts.logger.info(
      `clawtower: cycle ${summary.outcome}: ${summary.sessions.sent} sessions, ${l.sent} lines (${l.accepted} accepted, ${l.duplicates} duplicate, ${l.rejected} rejected), ` +
        `${summary.bytesRead} bytes, ${summary.skills.agents} skill inventories, ${summary.pending.sessions} sessions pending`,
    );
    return finish();
  } catch (e) {
    summary.outcome = "failed";
    summary.message = `unexpected: ${(e as Error).message}`;
    error("internal", summary.message);
    return finish();
  } finally {
    dbs.closeAll();
    lock.lock.release();
  }
}


/**
 * Ships the listed sessions in order until a limit or a stop; returns why it stopped and the sessions
 * with work left (skipped for the limits, unfinished, or held by a request that failed).
 */
async function shipSessions(ctx: ShipContext, sender: Sender, listing: Listed): Promise<{ stopped: StopReason | null; pending: Set<string> }> {
  const { budget, summary, state } = ctx;
  let stopped: StopReason | null = null;
  const pending = new Set<string>();
  for (const work of listing.sessions) {
    if (work.idle) {
      summary.sessions.unchanged++;
      continue;
    }
    const denied = ctx.filter.sessionDenied(work.meta?.sessionKey ?? null, work.sessionId);
    if (denied !== null) {
      summary.sessions.denied++;
      continue;
    }
    if (stopped !== null || budget.sessions <= 0 || (!budget.firstChunk && budget.bytes <= 0)) {
      pending.add(work.key);
      summary.pending.bytes += work.parts.reduce((a, p) => a + (p.action === "unchanged" ? 0 : p.part.sizeHint), 0);
      continue;
    }
    for (const p of work.parts) if (p.action === "rewrite") startGeneration(state, p.part);
    if (!work.qualified && !qualifies(ctx, work)) {
      summary.sessions.skippedSmall++;
      for (const p of work.parts) markSkipped(state, p.part);
      continue;
    }
    budget.sessions--;
    let sentSomething = false;
    for (const { part, action } of work.parts) {
      if (action === "unchanged" || stopped !== null) continue;
      const outcome = await shipPart(ctx, sender, work, part);
      if (outcome.sent) sentSomething = true;
      if (outcome.stop) stopped = outcome.stop;
      if (outcome.pending) {
        pending.add(work.key);
        summary.pending.bytes += outcome.pendingBytes;
      }
    }
    if (sentSomething) summary.sessions.sent++;
  }
  if (stopped === null) stopped = await sender.flush();
  // Whatever a failed request held was not acknowledged: those sessions are still pending.
  for (const k of sender.unacknowledgedSessions()) pending.add(k);
  return { stopped, pending };
}
