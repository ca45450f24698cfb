/**
 * Drains the hook queue (on the service's timer, never inside a hook):
 *   transcript update   assistant message with usage → one ledger row per LLM call (joined with
 *                       `model_call_ended` for latency); every message → forwarded to the hub as the
 *                       persisted event itself (same id, same seq), so the shipper's later copy is a duplicate
 *   model_call_ended    latency for the call's row; a failed call gets its own row (no tokens)
 *   llm_output          per-run totals (cross-check); llm_input → large-prompt audit
 *   after_tool_call     tool timings; session_end → an early upload cycle; message_* → counters
 */
import { DbHandles, extractEventFacts, isExtractFailure, localHomeId } from "@clawtower/core";
import type { ResolvedConfig } from "../config/load.ts";
import type { EventTransform } from "../privacy/transform.ts";
import { postWithRetry } from "../ship/http.ts";
import { wireFor, type WireLine } from "../ship/wire.ts";
import { callRowFromFacts } from "./call-rows.ts";
import { CallJoiner } from "./call-joiner.ts";
import { lookupEvent } from "./event-lookup.ts";
import type { HookQueue, QueueItem } from "./hook-queue.ts";
import type { PromptAudit } from "./prompt-audit.ts";
import type { LlmCallRow, UsageLedger } from "./usage-ledger.ts";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" ? (v as Obj) : {});
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Unmatched halves of a call are given up after this long (a compaction summary has no message). */
const JOIN_MAX_AGE_MS = 10 * 60_000;

export type LiveCounters = {
  callsRecorded: number;
  failedCalls: number;
  forwarded: number;
  forwardFailures: number;
  lastForwardError: string | null;
  messagesIn: number;
  messagesOut: number;
  sessionsStarted: number;
  sessionsEnded: number;
  largePrompts: number;
  lastEventAt: number | null;
};

export type LiveUsageOptions = {
  stateDir: string;
  queue: HookQueue;
  ledger: UsageLedger | null;
  audit: PromptAudit | null;
  /** Null when uploads are off (unconfigured): the ledger still records. */
  config: ResolvedConfig | null;
  transform: EventTransform | null;
  /** An ended session asks for an upload cycle soon. */
  onSessionEnded?: () => void;
  logger: { warn(m: string): void };
  signal: AbortSignal;
};

export class LiveUsage {
  readonly #o: LiveUsageOptions;
  readonly #joiner = new CallJoiner();
  readonly #dbs = new DbHandles();
  #forwarding: Promise<void> = Promise.resolve();
  readonly counters: LiveCounters = {
    callsRecorded: 0,
    failedCalls: 0,
    forwarded: 0,
    forwardFailures: 0,
    lastForwardError: null,
    messagesIn: 0,
    messagesOut: 0,
    sessionsStarted: 0,
    sessionsEnded: 0,
    largePrompts: 0,
    lastEventAt: null,
  };

  constructor(o: LiveUsageOptions) {
    this.#o = o;
  }

  /** Processes everything queued; forwarding runs in the background (one request at a time). */
  drain(now: number): void {
    const items = this.#o.queue.take();
    const lines: WireLine[] = [];
    const rows: (() => void)[] = [];
    for (const item of items) this.#handle(item, lines, rows);
    for (const orphan of this.#joiner.expire(now, JOIN_MAX_AGE_MS)) {
      // A completed call whose transcript message never came (compaction summaries are not in transcripts).
      rows.push(() => this.#record({ ...this.#callEndRow(orphan.callId, orphan.runId, null, null, orphan.at), latencyMs: orphan.durationMs, outcome: orphan.outcome, success: true }));
    }
    const ledger = this.#o.ledger;
    if (ledger && rows.length > 0) {
      try {
        ledger.transaction(() => rows.forEach((r) => r()));
      } catch (e) {
        this.#o.logger.warn(`clawtower: usage ledger write failed: ${(e as Error).message}`);
      }
    }
    if (lines.length > 0) this.#forward(lines);
  }

  #record(row: LlmCallRow): void {
    if (this.#o.ledger?.recordCall(row)) {
      if (row.success) this.counters.callsRecorded++;
      else this.counters.failedCalls++;
    }
  }

  #callEndRow(callId: string, runId: string, agentId: string | null, ctx: Obj | null, at: number): LlmCallRow {
    return {
      agentId: agentId ?? str(ctx?.["agentId"]) ?? "unknown",
      eventId: `call:${callId}`,
      sessionId: str(ctx?.["sessionId"]),
      sessionKey: str(ctx?.["sessionKey"]),
      ts: at,
      runId,
      callId,
      responseId: null,
      provider: null,
      model: null,
      tokens: null,
      costUsd: null,
      latencyMs: null,
      outcome: null,
      success: false,
      source: "model_call_ended",
    };
  }

  #handle(item: QueueItem, lines: WireLine[], rows: (() => void)[]): void {
    this.counters.lastEventAt = item.t;
    switch (item.k) {
      case "transcript":
        return this.#transcript(item.u, item.t, lines, rows);
      case "model_call_ended": {
        const e = obj(item.e);
        const ctx = obj(item.ctx);
        const callId = str(e["callId"]);
        const runId = str(e["runId"]) ?? str(ctx["runId"]);
        if (!callId || !runId) return;
        const outcome = str(e["outcome"]) ?? "completed";
        const durationMs = num(e["durationMs"]);
        if (outcome !== "completed") {
          const row = this.#callEndRow(callId, runId, null, { ...ctx, sessionId: e["sessionId"] ?? ctx["sessionId"], sessionKey: e["sessionKey"] ?? ctx["sessionKey"] }, item.t);
          rows.push(() => this.#record({ ...row, provider: str(e["provider"]), model: str(e["model"]), latencyMs: durationMs, outcome: str(e["errorCategory"]) ?? outcome }));
          return;
        }
        const m = this.#joiner.callEnded({ callId, runId, durationMs, outcome, at: item.t });
        if (m) rows.push(() => this.#o.ledger?.setLatency(m.agentId, m.eventId, durationMs, callId, outcome));
        return;
      }
      case "llm_output": {
        const e = obj(item.e);
        const ctx = obj(item.ctx);
        const runId = str(e["runId"]);
        const u = obj(e["usage"]);
        if (!runId || !e["usage"]) return;
        rows.push(() =>
          this.#o.ledger?.recordRun({
            runId,
            agentId: str(ctx["agentId"]),
            sessionId: str(e["sessionId"]),
            sessionKey: str(ctx["sessionKey"]),
            ts: item.t,
            provider: str(e["provider"]),
            model: str(e["model"]),
            input: num(u["input"]) ?? 0,
            output: num(u["output"]) ?? 0,
            cacheRead: num(u["cacheRead"]) ?? 0,
            cacheWrite: num(u["cacheWrite"]) ?? 0,
            costUsd: num(obj(u["cost"])["total"]),
          }),
        );
        return;
      }
      case "after_tool_call": {
        const e = obj(item.e);
        const ctx = obj(item.ctx);
        const toolCallId = str(e["toolCallId"]) ?? str(ctx["toolCallId"]);
        const toolName = str(e["toolName"]) ?? str(ctx["toolName"]);
        if (!toolCallId || !toolName) return;
        rows.push(() =>
          this.#o.ledger?.recordTool({
            agentId: str(ctx["agentId"]),
            sessionId: str(ctx["sessionId"]),
            toolCallId,
            runId: str(e["runId"]) ?? str(ctx["runId"]),
            toolName,
            durationMs: num(e["durationMs"]),
            error: typeof e["error"] === "string" && e["error"] !== "",
            ts: item.t,
          }),
        );
        return;
      }
      case "llm_input":
        if (this.#o.audit?.check(obj(item.e), obj(item.ctx), item.t)) this.counters.largePrompts++;
        return;
      case "session_start":
        this.counters.sessionsStarted++;
        return;
      case "session_end":
        this.counters.sessionsEnded++;
        this.#o.onSessionEnded?.();
        return;
      case "message_received":
        this.counters.messagesIn++;
        return;
      case "message_sending":
        this.counters.messagesOut++;
        return;
    }
  }

  #transcript(u: unknown, at: number, lines: WireLine[], rows: (() => void)[]): void {
    const upd = obj(u);
    const target = obj(upd["target"]);
    const agentId = str(target["agentId"]) ?? str(upd["agentId"]);
    const sessionId = str(target["sessionId"]) ?? str(upd["sessionId"]);
    const sessionKey = str(target["sessionKey"]) ?? str(upd["sessionKey"]);
    const messageId = str(upd["messageId"]);
    const message = upd["message"];
    if (!agentId || !sessionId || !messageId || !message || typeof message !== "object") return;

    // The persisted event when the store has it (exact text and seq); otherwise the event rebuilt from the update.
    const persisted = lookupEvent(this.#dbs, this.#o.stateDir, agentId, sessionId, messageId);
    const m = message as Obj;
    const ts = num(m["timestamp"]) ?? at;
    const text = persisted?.text ?? JSON.stringify({ type: "message", id: messageId, timestamp: new Date(ts).toISOString(), message });
    const facts = extractEventFacts(text);
    if (isExtractFailure(facts)) return;

    const call = callRowFromFacts({ agentId, sessionId, sessionKey }, facts, "transcript-update");
    if (call && this.#o.ledger) {
      const runId = call.runId ?? str(upd["runId"]);
      const ended = runId ? this.#joiner.message({ agentId, eventId: call.eventId, runId, at }) : null;
      rows.push(() => this.#record(ended ? { ...call, runId, callId: ended.callId, latencyMs: ended.durationMs, outcome: ended.outcome } : { ...call, runId }));
    }

    const cfg = this.#o.config;
    if (!cfg || !cfg.live.forward || !this.#o.transform) return;
    const prepared = this.#o.transform(text);
    if (!prepared) return;
    lines.push({
      agentId,
      sessionId,
      order: persisted?.seq ?? num(upd["messageSeq"]) ?? 0,
      // Without the row's seq the event is named by its id alone (the shipper's copy carries the seq).
      hasId: persisted !== null,
      idempotencyKey: `${cfg.deploymentId}/${agentId}/${sessionId}/live/${messageId}`,
      event: prepared,
      sessionFile: `sqlite:${sessionId}`,
      ...(sessionKey ? { session: { sessionKey, kind: null, channel: null, chatType: null, label: null, parentSessionKey: null, spawnedBy: null, createdVia: null, skills: null, forkSourceSessionId: null } } : {}),
    });
  }

  #forward(lines: WireLine[]): void {
    const cfg = this.#o.config;
    if (!cfg) return;
    const wire = wireFor(cfg.target);
    this.#forwarding = this.#forwarding.then(async () => {
      if (this.#o.signal.aborted) return;
      // Best effort: one attempt, short timeout. What does not arrive now is shipped by the next cycle.
      const r = await postWithRetry(`${cfg.apiUrl}${wire.path}`, wire.body(lines, { deploymentId: cfg.deploymentId, projectId: cfg.projectId }, Date.now()), wire.contentType, {
        apiKey: cfg.apiKey,
        homeId: localHomeId(this.#o.stateDir),
        timeoutMs: Math.min(cfg.upload.timeoutMs, 10_000),
        retryAttempts: 0,
        retryBackoffMs: 0,
        signal: this.#o.signal,
      });
      if (r.kind === "ok") {
        this.counters.forwarded += lines.length;
      } else if (r.kind !== "aborted") {
        this.counters.forwardFailures += lines.length;
        this.counters.lastForwardError = r.message;
      }
    });
  }

  /** Waits for the forward in flight (used on stop and in tests). */
  settle(): Promise<void> {
    return this.#forwarding;
  }

  close(): void {
    this.#dbs.closeAll();
  }
}
