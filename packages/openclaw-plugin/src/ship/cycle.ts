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
 */
import crypto from "node:crypto";
import path from "node:path";
import {
  DbHandles,
  extractEventFacts,
  isExtractFailure,
  listHome,
  localHomeId,
  planResume,
  readEventTexts,
  sessionRefKey,
  type DiscoveredPart,
  type HomeListing,
  type ResumeAction,
  type SessionMetaOf,
} from "@clawtower/core";
import type { ResolvedConfig } from "../config/load.ts";
import { callRowFromFacts } from "../live/call-rows.ts";
import type { LlmCallRow, UsageLedger } from "../live/usage-ledger.ts";
import { createRedactor, type Redactor } from "../privacy/redact.ts";
import { createEventTransform, type EventTransform } from "../privacy/transform.ts";
import { ensureDir, filesIn, statePaths } from "../state/files.ts";
import { tryLock } from "../state/lock.ts";
import { loadShipState, saveShipState, type PartState, type ShipState } from "../state/ship-state.ts";
import { recordCycle, type CycleSummary, type ErrorEntry } from "../state/status-file.ts";
import { createSessionFilter, type SessionFilter } from "./filters.ts";
import { postWithRetry, type HttpResult } from "./http.ts";
import { planSkillUpload } from "./skills.ts";
import { wireFor, type LineAnswer, type SessionMetaWire, type Wire, type WireLine } from "./wire.ts";

export type CycleLogger = { info(m: string): void; warn(m: string): void; error(m: string): void };

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

export type BatchSizes = { chunkBytes: number; chunkEvents: number; requestBytes: number; requestLines: number; saveEveryMs: number };

const DEFAULT_SIZES: BatchSizes = { chunkBytes: 1024 * 1024, chunkEvents: 1000, requestBytes: 4 * 1024 * 1024, requestLines: 2000, saveEveryMs: 2000 };

/** A cycle lock older than this is taken over (a cycle never legitimately runs this long). */
const LOCK_STALE_MS = 6 * 3_600_000;

export type CycleResult = CycleSummary & { errors: ErrorEntry[] };

/** Older history first: archives, then files, then live rows. */
const PART_ORDER: Record<string, number> = { "cold-archive": 0, "sqlite-archive": 1, "jsonl-zst": 2, "jsonl-deleted": 3, "jsonl-reset": 3, jsonl: 4, sqlite: 5 };

const DB_KINDS = new Set(["sqlite", "sqlite-archive", "cold-archive"]);

type SessionWork = {
  key: string;
  agentId: string;
  sessionId: string;
  meta: SessionMetaOf | undefined;
  parts: { part: DiscoveredPart; action: ResumeAction }[];
  /** Every part is unchanged (nothing to do). */
  idle: boolean;
  /** Something of this session was acknowledged before (thresholds were met once). */
  qualified: boolean;
};

/** A chunk of one part's events on its way to the hub, and where the part stands once it is answered. */
type Chunk = { locator: string; lines: WireLine[]; after: PartState };

export function destinationOf(c: ResolvedConfig): string {
  return `${c.target}|${c.apiUrl}|${c.deploymentId}`;
}

function metaWire(m: SessionMetaOf | undefined): SessionMetaWire | undefined {
  if (!m) return undefined;
  return {
    sessionKey: m.sessionKey,
    kind: m.kind,
    channel: m.channel,
    chatType: m.chatType,
    label: m.label,
    parentSessionKey: m.parentSessionKey,
    spawnedBy: m.spawnedBy,
    createdVia: m.createdVia,
    skills: m.skills,
    forkSourceSessionId: m.forkSourceSessionId,
  };
}

/** A short, stable tag of a part for idempotency keys (its locator holds absolute paths). */
function partTag(part: DiscoveredPart): string {
  return `${part.kind}:${crypto.createHash("sha1").update(part.locator).digest("hex").slice(0, 10)}`;
}

function sessionFileOf(part: DiscoveredPart): string {
  return part.source.type === "file" ? path.basename(part.source.path) : `${part.kind}:${part.sessionId}`;
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
    const filter = createSessionFilter(cfg.filter);
    const redactor = createRedactor({ emails: cfg.redact.emails, patterns: [...cfg.redact.patterns, ...(cfg.redact.openclawPatterns ? opts.openclawRedactPatterns : [])] });
    for (const bad of redactor.invalid) error("config", `redaction pattern ${JSON.stringify(bad.pattern)} ignored: ${bad.error}`);
    const transform = createEventTransform(cfg.privacy, redactor);

    const listing = listSessions(opts.stateDir, state, filter, dbs);
    for (const p of listing.home.problems) error("read", `${p.source}: ${p.detail}`);
    summary.sessions.listed = listing.sessions.length;

    const sender = new Sender(opts, cfg, wireFor(cfg.target), state, summary, error, paths.shipState, sizes);
    const budget = { sessions: cfg.upload.maxFilesPerRun, bytes: cfg.upload.maxBytesPerRun, firstChunk: true };
    let stopped: string | null = null;
    const pending = new Set<string>();

    for (const work of listing.sessions) {
      if (work.idle) {
        summary.sessions.unchanged++;
        continue;
      }
      const denied = filter.sessionDenied(work.meta?.sessionKey ?? null, work.sessionId);
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
      if (!work.qualified && !qualifies(work, cfg, dbs, summary)) {
        summary.sessions.skippedSmall++;
        for (const p of work.parts) markSkipped(state, p.part);
        continue;
      }
      budget.sessions--;
      let sentSomething = false;
      for (const { part, action } of work.parts) {
        if (action === "unchanged" || stopped !== null) continue;
        const outcome = await shipPart(part, work, state, transform, sender, budget, sizes, dbs, opts, summary, error);
        if (outcome.sent) sentSomething = true;
        if (outcome.stop) stopped = outcome.stop;
        if (outcome.pending) {
          pending.add(work.key);
          summary.pending.bytes += outcome.pendingBytes;
        }
      }
      if (sentSomething) summary.sessions.sent++;
    }
    if (stopped === null) {
      const r = await sender.flush();
      if (r) stopped = r;
    }
    // Whatever a failed request held was not acknowledged: those sessions are still pending.
    for (const k of sender.unacknowledgedSessions()) pending.add(k);
    summary.pending.sessions = pending.size;
    // A database with pending sessions must be listed next cycle even if its files do not change.
    const pendingAgents = new Set([...pending].map((k) => k.split("\u0000")[0]));
    for (const db of listing.home.databases) if (pendingAgents.has(db.agentId)) delete state.databases[db.path];

    if (stopped === null && cfg.filter.includeSkills) stopped = await shipSkills(listing.home, state, opts, cfg, redactor, dbs, summary, error);

    forgetVanished(state, listing);
    saveShipState(paths.shipState, state);
    if (stopped !== null) {
      summary.outcome = stopped === "auth" ? "auth" : stopped === "aborted" ? "aborted" : "failed";
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

type Listed = { home: HomeListing; sessions: SessionWork[]; seenLocators: Set<string>; keptAgents: Set<string> };

/** Lists the home and plans every part; sessions come out in a stable order, unfinished work first. */
export function listSessions(stateDir: string, state: ShipState, filter: SessionFilter, dbs: DbHandles): Listed {
  const unfinishedDbAgents = new Set<string>();
  for (const p of Object.values(state.parts)) if (DB_KINDS.has(p.kind) && !p.done && !p.skipped) unfinishedDbAgents.add(p.agentId);
  const keptAgents = new Set<string>();
  const home = listHome(stateDir, {
    dbs,
    includeAgent: (a) => filter.agentAllowed(a),
    unchangedDb: (agentId, dbPath, fp) => {
      const known = state.databases[dbPath];
      if (!known || JSON.stringify(known.fingerprint) !== JSON.stringify(fp) || unfinishedDbAgents.has(agentId)) return null;
      keptAgents.add(agentId);
      return known.archiveNames;
    },
  });
  for (const db of home.databases) {
    if (db.status === "listed" && db.fingerprint) state.databases[db.path] = { fingerprint: db.fingerprint, archiveNames: db.archiveNames };
  }
  const bySession = new Map<string, SessionWork>();
  const seenLocators = new Set<string>();
  for (const part of home.parts) {
    seenLocators.add(part.locator);
    const key = sessionRefKey(part.agentId, part.sessionId);
    let work = bySession.get(key);
    if (!work) {
      work = { key, agentId: part.agentId, sessionId: part.sessionId, meta: home.sessions.get(key), parts: [], idle: true, qualified: false };
      bySession.set(key, work);
    }
    const remembered = state.parts[part.locator];
    let action: ResumeAction;
    if (remembered?.skipped) action = JSON.stringify(remembered.fingerprint) === JSON.stringify(part.source.fingerprint) ? "unchanged" : "read";
    else action = planResume(part, remembered);
    if (remembered && !remembered.skipped && (remembered.lines > 0 || remembered.done)) work.qualified = true;
    work.parts.push({ part, action });
    if (action !== "unchanged") work.idle = false;
  }
  const sessions = [...bySession.values()];
  for (const w of sessions) w.parts.sort((a, b) => (PART_ORDER[a.part.kind] ?? 9) - (PART_ORDER[b.part.kind] ?? 9) || (a.part.locator < b.part.locator ? -1 : 1));
  const rank = (w: SessionWork) => (w.parts.some((p) => p.action === "continue") ? 0 : 1);
  sessions.sort((a, b) => rank(a) - rank(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { home, sessions, seenLocators, keptAgents };
}

function startGeneration(state: ShipState, part: DiscoveredPart): void {
  const prev = state.parts[part.locator];
  state.parts[part.locator] = {
    agentId: part.agentId,
    sessionId: part.sessionId,
    kind: part.kind,
    fingerprint: null,
    resume: null,
    done: false,
    generation: (prev?.generation ?? 0) + 1,
    lines: 0,
  };
}

function markSkipped(state: ShipState, part: DiscoveredPart): void {
  const prev = state.parts[part.locator];
  state.parts[part.locator] = {
    agentId: part.agentId,
    sessionId: part.sessionId,
    kind: part.kind,
    fingerprint: part.source.fingerprint,
    resume: null,
    done: false,
    generation: prev?.generation ?? 0,
    lines: 0,
    skipped: true,
  };
}

/** minBytes from the parts' sizes, then minMessages by reading until enough messages were seen. */
function qualifies(work: SessionWork, cfg: ResolvedConfig, dbs: DbHandles, summary: CycleSummary): boolean {
  const bytes = work.parts.reduce((a, p) => a + p.part.sizeHint, 0);
  if (bytes < cfg.filter.minBytes) return false;
  const need = cfg.filter.minMessages;
  if (need === 0) return true;
  let messages = 0;
  for (const { part } of work.parts) {
    let from = null;
    for (;;) {
      const batch = readEventTexts(part, from, { maxBytes: 256 * 1024, maxEvents: 500 }, dbs);
      summary.bytesRead += batch.bytes;
      for (const ev of batch.events) {
        const f = extractEventFacts(ev.text, ev.encoding);
        if (!isExtractFailure(f) && f.type === "message" && f.message && f.message.role !== "") messages++;
        if (messages >= need) return true;
      }
      if (batch.done || batch.readError || batch.rewriteDetected || batch.events.length === 0) break;
      from = batch.resume;
    }
  }
  return false;
}

type PartOutcome = { sent: boolean; stop: string | null; pending: boolean; pendingBytes: number };

async function shipPart(
  part: DiscoveredPart,
  work: SessionWork,
  state: ShipState,
  transform: EventTransform,
  sender: Sender,
  budget: { sessions: number; bytes: number; firstChunk: boolean },
  sizes: BatchSizes,
  dbs: DbHandles,
  opts: CycleOptions,
  summary: CycleSummary,
  error: (kind: string, message: string) => void,
): Promise<PartOutcome> {
  const tag = partTag(part);
  const sessionFile = sessionFileOf(part);
  const meta = metaWire(work.meta);
  const sessionKey = work.meta?.sessionKey ?? null;
  let current: PartState = sender.latest(part.locator) ?? {
    agentId: part.agentId,
    sessionId: part.sessionId,
    kind: part.kind,
    fingerprint: null,
    resume: null,
    done: false,
    generation: 0,
    lines: 0,
  };
  if (current.skipped) current = { ...current, skipped: false, resume: null, done: false, lines: 0 };
  let rewrites = 0;
  let sent = false;
  let readBytes = 0;
  for (;;) {
    if (opts.signal.aborted) return { sent, stop: "aborted", pending: true, pendingBytes: Math.max(0, part.sizeHint - readBytes) };
    if (!budget.firstChunk && budget.bytes <= 0) return { sent, stop: null, pending: true, pendingBytes: Math.max(0, part.sizeHint - readBytes) };
    const batch = readEventTexts(part, current.resume, { maxBytes: Math.min(sizes.chunkBytes, Math.max(budget.bytes, 1)), maxEvents: sizes.chunkEvents }, dbs);
    if (batch.readError) {
      error("read", `${part.locator}: ${batch.readError}`);
      return { sent, stop: null, pending: false, pendingBytes: 0 };
    }
    if (batch.rewriteDetected) {
      if (++rewrites > 2) {
        error("read", `${part.locator} keeps changing while being read; will retry next cycle`);
        return { sent, stop: null, pending: true, pendingBytes: part.sizeHint };
      }
      current = { ...current, resume: null, done: false, lines: 0, generation: current.generation + 1 };
      continue;
    }
    budget.firstChunk = false;
    budget.bytes -= batch.bytes;
    readBytes += batch.bytes;
    summary.bytesRead += batch.bytes;
    const lines: WireLine[] = [];
    const calls: LlmCallRow[] = [];
    for (const ev of batch.events) {
      const facts = extractEventFacts(ev.text, ev.encoding);
      if (isExtractFailure(facts)) {
        summary.lines.bad++;
        continue;
      }
      const prepared = transform(ev.text, ev.encoding);
      if (!prepared) {
        summary.lines.bad++;
        continue;
      }
      const line: WireLine = {
        agentId: part.agentId,
        sessionId: part.sessionId,
        order: ev.order,
        hasId: facts.id !== undefined,
        idempotencyKey: `${opts.config.deploymentId}/${part.agentId}/${part.sessionId}/${tag}/g${current.generation}/${ev.order}`,
        event: prepared,
        sessionFile,
      };
      if (lines.length === 0 && meta) line.session = meta;
      lines.push(line);
      const call = opts.ledger ? callRowFromFacts({ agentId: part.agentId, sessionId: part.sessionId, sessionKey }, facts, "transcript") : null;
      if (call) calls.push(call);
    }
    if (calls.length > 0 && opts.ledger) {
      const ledger = opts.ledger;
      try {
        ledger.transaction(() => calls.forEach((c) => ledger.recordCall(c)));
      } catch (e) {
        error("ledger", `usage ledger: ${(e as Error).message}`);
      }
    }
    const after: PartState = { ...current, fingerprint: part.source.fingerprint, resume: batch.resume, done: batch.done, lines: current.lines + lines.length, skipped: false };
    delete after.skipped;
    const stop = await sender.add({ locator: part.locator, lines, after });
    if (lines.length > 0) sent = true;
    current = after;
    if (stop) return { sent, stop, pending: true, pendingBytes: Math.max(0, part.sizeHint - readBytes) };
    if (batch.done) return { sent, stop: null, pending: false, pendingBytes: 0 };
    if (batch.events.length === 0 && !batch.done) {
      // No progress possible (e.g. a partial last line being written): continue next cycle.
      return { sent, stop: null, pending: false, pendingBytes: 0 };
    }
  }
}

/**
 * Packs chunks of many sessions into requests and applies the hub's answers: a part's position moves to a
 * chunk's end once every line of the chunk was answered. A request the hub refuses as a whole (4xx other
 * than 401/403, e.g. 413) is split in halves down to single lines; a single line refused is recorded as
 * rejected and not sent again.
 */
class Sender {
  readonly #opts: CycleOptions;
  readonly #cfg: ResolvedConfig;
  readonly #wire: Wire;
  readonly #state: ShipState;
  readonly #summary: CycleSummary;
  readonly #error: (kind: string, message: string) => void;
  readonly #stateFile: string;
  readonly #sizes: BatchSizes;
  #queue: Chunk[] = [];
  #queuedBytes = 0;
  #queuedLines = 0;
  #lastSave: number;
  /** Positions of chunks queued but not yet answered (a part's next chunk continues from here). */
  readonly #latest = new Map<string, PartState>();
  readonly #unacked = new Set<string>();
  readonly #homeId: string;
  stopMessage: string | null = null;

  constructor(opts: CycleOptions, cfg: ResolvedConfig, wire: Wire, state: ShipState, summary: CycleSummary, error: (k: string, m: string) => void, stateFile: string, sizes: BatchSizes) {
    this.#opts = opts;
    this.#homeId = localHomeId(opts.stateDir);
    this.#cfg = cfg;
    this.#wire = wire;
    this.#state = state;
    this.#summary = summary;
    this.#error = error;
    this.#stateFile = stateFile;
    this.#sizes = sizes;
    this.#lastSave = (opts.now ?? Date.now)();
  }

  latest(locator: string): PartState | undefined {
    return this.#latest.get(locator) ?? this.#state.parts[locator];
  }

  unacknowledgedSessions(): Set<string> {
    return this.#unacked;
  }

  /** Queues a chunk; sends when the request is full. Returns a stop reason when the hub cannot take more. */
  async add(chunk: Chunk): Promise<string | null> {
    this.#queue.push(chunk);
    this.#latest.set(chunk.locator, chunk.after);
    this.#unacked.add(sessionRefKey(chunk.after.agentId, chunk.after.sessionId));
    this.#queuedLines += chunk.lines.length;
    this.#queuedBytes += chunk.lines.reduce((a, l) => a + l.event.json.length + 200, 0);
    if (this.#queuedLines >= this.#sizes.requestLines || this.#queuedBytes >= this.#sizes.requestBytes) return this.flush();
    return null;
  }

  async flush(): Promise<string | null> {
    const chunks = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#queuedLines = 0;
    if (chunks.length === 0) return null;
    const lines = chunks.flatMap((c) => c.lines);
    let answers: LineAnswer[] | null = null;
    if (lines.length > 0) {
      const r = await this.#send(lines);
      if ("stop" in r) {
        for (const c of chunks) this.#latest.delete(c.locator);
        return r.stop;
      }
      answers = r.answers;
    }
    let at = 0;
    for (const c of chunks) {
      for (let i = 0; i < c.lines.length; i++) {
        const a = answers![at + i]!;
        this.#summary.lines[a.status === "accepted" ? "accepted" : a.status === "duplicate" ? "duplicates" : "rejected"]++;
        if (a.status === "rejected") {
          const l = c.lines[i]!;
          this.#error("rejected", `hub rejected ${l.agentId}/${l.sessionId} #${l.order}: ${a.reason ?? "no reason given"}`);
        }
      }
      at += c.lines.length;
      this.#state.parts[c.locator] = c.after;
      if (this.#latest.get(c.locator) === c.after) this.#latest.delete(c.locator);
      this.#unacked.delete(sessionRefKey(c.after.agentId, c.after.sessionId));
    }
    const now = (this.#opts.now ?? Date.now)();
    if (now - this.#lastSave >= this.#sizes.saveEveryMs) {
      saveShipState(this.#stateFile, this.#state);
      this.#lastSave = now;
    }
    return null;
  }

  async #send(lines: WireLine[]): Promise<{ answers: LineAnswer[] } | { stop: string }> {
    if (this.#opts.signal.aborted) return { stop: "aborted" };
    const cfg = this.#cfg;
    const body = this.#wire.body(lines, { deploymentId: cfg.deploymentId, projectId: cfg.projectId }, (this.#opts.now ?? Date.now)());
    this.#summary.requests++;
    this.#summary.lines.sent += lines.length;
    const r: HttpResult = await postWithRetry(`${cfg.apiUrl}${this.#wire.path}`, body, this.#wire.contentType, {
      apiKey: cfg.apiKey,
      homeId: this.#homeId,
      timeoutMs: cfg.upload.timeoutMs,
      retryAttempts: cfg.upload.retryAttempts,
      retryBackoffMs: cfg.upload.retryBackoffMs,
      signal: this.#opts.signal,
      ...(this.#opts.random ? { random: this.#opts.random } : {}),
      onRetry: ({ attempt, waitMs, reason }) => {
        this.#summary.retries++;
        this.#opts.logger.warn(`clawtower: upload attempt ${attempt} failed (${reason}); retrying in ${waitMs} ms`);
      },
    });
    switch (r.kind) {
      case "ok": {
        const answers = this.#wire.answers(r.body, lines);
        if ("error" in answers) {
          this.stopMessage = `hub answer not understood: ${answers.error}`;
          this.#error("hub", this.stopMessage);
          return { stop: "failed" };
        }
        return { answers };
      }
      case "auth":
        this.stopMessage = `the hub refused the API key (${r.message}): check ${"plugins.entries.clawtower.config.apiKey"} and deploymentId; uploads stop until it is fixed`;
        this.#error("auth", this.stopMessage);
        return { stop: "auth" };
      case "aborted":
        this.stopMessage = "stopped";
        return { stop: "aborted" };
      case "failed":
        this.stopMessage = `hub unavailable: ${r.message}`;
        this.#error("hub", this.stopMessage);
        return { stop: "failed" };
      case "reject": {
        if (lines.length === 1) {
          return { answers: [{ status: "rejected", reason: `request refused (${r.message})` }] };
        }
        // Split: one bad or oversized line must not hold back the others.
        this.#summary.lines.sent -= lines.length;
        const mid = Math.ceil(lines.length / 2);
        const left = await this.#send(lines.slice(0, mid));
        if ("stop" in left) return left;
        const right = await this.#send(lines.slice(mid));
        if ("stop" in right) return right;
        return { answers: [...left.answers, ...right.answers] };
      }
    }
  }
}

async function shipSkills(
  home: HomeListing,
  state: ShipState,
  opts: CycleOptions,
  cfg: ResolvedConfig,
  redactor: Redactor,
  dbs: DbHandles,
  summary: CycleSummary,
  error: (kind: string, message: string) => void,
): Promise<string | null> {
  for (const agentId of home.agents) {
    const db = home.databases.find((d) => d.agentId === agentId);
    const sessionsJson = path.join(opts.stateDir, "agents", agentId, "sessions", "sessions.json");
    let upload;
    try {
      upload = planSkillUpload(agentId, state, cfg.deploymentId, db, sessionsJson, dbs, cfg.privacy, redactor);
    } catch (e) {
      error("skills", `skills of agent ${agentId}: ${(e as Error).message}`);
      continue;
    }
    if (!upload) continue;
    summary.requests++;
    const r = await postWithRetry(`${cfg.apiUrl}/v1/openclaw/ingest/skills`, upload.body, "application/json", {
      apiKey: cfg.apiKey,
      homeId: localHomeId(opts.stateDir),
      timeoutMs: cfg.upload.timeoutMs,
      retryAttempts: cfg.upload.retryAttempts,
      retryBackoffMs: cfg.upload.retryBackoffMs,
      signal: opts.signal,
      ...(opts.random ? { random: opts.random } : {}),
      onRetry: () => summary.retries++,
    });
    if (r.kind === "ok") {
      upload.commit();
      summary.skills.agents++;
      summary.skills.skills += upload.skills;
      summary.skills.contents += upload.contents;
      continue;
    }
    if (r.kind === "aborted") return "aborted";
    if (r.kind === "auth") {
      error("auth", `the hub refused the API key for skills (${r.message})`);
      return "auth";
    }
    error("skills", `skills of agent ${agentId} not uploaded: ${r.message}`);
    if (r.kind === "failed") return "failed";
  }
  return null;
}

/** Parts that disappeared from the home are forgotten (the hub keeps what it received). */
function forgetVanished(state: ShipState, listing: Listed): void {
  for (const [locator, p] of Object.entries(state.parts)) {
    if (listing.seenLocators.has(locator)) continue;
    // Agents filtered out keep their positions (allowing them again resumes, not resends); so do parts of
    // databases that were not opened because they did not change.
    if (!listing.home.agents.includes(p.agentId)) continue;
    if (DB_KINDS.has(p.kind) && listing.keptAgents.has(p.agentId)) continue;
    delete state.parts[locator];
  }
}
