/**
 * Turns the facts of a sequence of transcript events into ledger records. Pure: no I/O, no clock.
 *
 * Rules (see the README's accounting section):
 * - an LLM call is an assistant message with usage whose four token kinds do not all equal 0 (or that
 *   recorded a cost), and that is not a transcript artifact (`openclaw/delivery-mirror`,
 *   `openclaw/gateway-injected`);
 * - an assistant message without `usage` is reported as a problem and is not a call;
 * - tool calls come from `toolCall` content blocks and are joined with `toolResult` messages by id
 *   (the join happens where both halves are stored, because they may arrive in different reads).
 */
import { KNOWN_EVENT_TYPES, totalTokens, usageFieldRule, type EventFacts, type MessageFacts } from "../model/facts.ts";
import {
  EVENT_FLAGS,
  type EventRecord,
  type LlmCallRecord,
  type PartCursor,
  type PartLedger,
  type SessionHeader,
  type ToolCallRecord,
  type ToolResultRecord,
} from "../model/ledger.ts";
import type { Problem, ProblemKind, ProblemLocation } from "../model/problems.ts";
import type { ExtractFailure } from "../parse/event-facts.ts";

/** Assistant rows OpenClaw writes for delivery bookkeeping; they never reached a model. */
const ARTIFACT_MODELS: ReadonlySet<string> = new Set(["delivery-mirror", "gateway-injected"]);

export type AssistantClass = "call" | "artifact" | "no-usage";

export function classifyAssistant(m: MessageFacts): AssistantClass {
  if (m.usage === undefined) return "no-usage";
  if (m.provider === "openclaw" && m.model !== undefined && ARTIFACT_MODELS.has(m.model)) return "artifact";
  if (totalTokens(m.usage.tokens) === 0 && !(m.usage.recordedCost !== undefined && m.usage.recordedCost > 0)) return "artifact";
  return "call";
}

/** Where an event sits in its source; used for problem locations and for naming events without an id. */
export type EventLocation = {
  line?: number;
  seq?: number;
  /** The id to use when the event has none (a pushed event's idempotency key). */
  eventId?: string;
  /** The store's own write time for the row (SQLite `created_at`), a timestamp fallback. */
  createdAt?: number;
};

export class PartAccumulator {
  readonly #source: string;
  readonly #sessionId: string | undefined;
  readonly #cursor: PartCursor;
  readonly #events: EventRecord[] = [];
  readonly #llmCalls: LlmCallRecord[] = [];
  readonly #toolCalls: ToolCallRecord[] = [];
  readonly #toolResults: ToolResultRecord[] = [];
  readonly #problems: Problem[] = [];
  #header: SessionHeader | null = null;

  /**
   * @param source  file or database path, for problem locations
   * @param sessionId  session the part belongs to (SQLite rows), for problem locations
   * @param cursor  state from the previous read of this part (tail reads), or a new cursor
   */
  constructor(source: string, sessionId: string | undefined, cursor: PartCursor) {
    this.#source = source;
    this.#sessionId = sessionId;
    this.#cursor = { ...cursor };
  }

  #at(loc: EventLocation): ProblemLocation {
    const at: ProblemLocation = { source: this.#source };
    if (loc.line !== undefined) at.line = loc.line;
    if (this.#sessionId !== undefined && loc.line === undefined) at.sessionId = this.#sessionId;
    if (loc.seq !== undefined) at.seq = loc.seq;
    return at;
  }

  problem(kind: ProblemKind, loc: EventLocation, detail: string): void {
    this.#problems.push({ kind, at: this.#at(loc), detail });
  }

  addFailure(failure: ExtractFailure, loc: EventLocation): void {
    this.#cursor.ordinal++;
    this.problem(failure.failed, loc, failure.detail);
  }

  add(f: EventFacts, loc: EventLocation): void {
    const ordinal = this.#cursor.ordinal++;
    const eventId = f.id ?? loc.eventId ?? (loc.seq !== undefined ? `~seq:${loc.seq}` : `~line:${loc.line ?? ordinal + 1}`);
    const m = f.type === "message" ? f.message : undefined;

    let ts = f.timestamp ?? m?.timestamp ?? loc.createdAt;
    if (ts === undefined) {
      this.problem("missing-timestamp", loc, `event ${eventId} has no timestamp`);
      ts = this.#cursor.lastTs ?? 0;
    }
    this.#cursor.lastTs = ts;

    if (!KNOWN_EVENT_TYPES.has(f.type)) this.problem("unknown-event-type", loc, `unknown event type "${f.type}"`);

    if (f.type === "session") {
      this.#header = {
        sessionId: f.id ?? null,
        ts,
        cwd: f.cwd ?? null,
        parentSession: f.parentSession ?? null,
      };
    } else if (f.type === "model_change") {
      if (f.provider !== undefined) this.#cursor.lastProvider = f.provider;
      if (f.modelId !== undefined) this.#cursor.lastModel = f.modelId;
    }

    const flags = m !== undefined ? this.#addMessage(m, eventId, ts, loc) : 0;
    // LLM calls and tool results have rows of their own; every other event is kept as an event record.
    if ((flags & (EVENT_FLAGS.llmCall | EVENT_FLAGS.toolResult)) === 0) {
      this.#events.push({ eventId, ts, type: f.type, role: m ? m.role : null, flags, bytes: f.bytes });
    }
  }

  #addMessage(m: MessageFacts, eventId: string, ts: number, loc: EventLocation): number {
    let flags = 0;
    if (m.role === "assistant") {
      if (m.stopReason === "error") flags |= EVENT_FLAGS.error;
      if (m.stopReason === "aborted") flags |= EVENT_FLAGS.aborted;
      for (const invalid of m.usage?.invalidFields ?? []) {
        this.problem("invalid-usage-field", loc, `usage.${invalid} ${usageFieldRule(invalid)}`);
      }
      const cls = classifyAssistant(m);
      if (cls === "no-usage") this.problem("assistant-without-usage", loc, `assistant message ${eventId} has no usage`);
      if (cls === "artifact") flags |= EVENT_FLAGS.artifact;
      if (cls === "call" && m.usage !== undefined) {
        flags |= EVENT_FLAGS.llmCall;
        const provider = m.provider ?? this.#cursor.lastProvider ?? "unknown";
        const model = m.model ?? this.#cursor.lastModel ?? "unknown";
        this.#llmCalls.push({
          eventId,
          ts,
          provider,
          model,
          api: m.api ?? null,
          tokens: { ...m.usage.tokens },
          recordedCostUsd: m.usage.recordedCost ?? null,
          stopReason: m.stopReason ?? null,
          runId: m.runId ?? null,
          responseId: m.responseId ?? null,
          latencyMs: m.timestamp !== undefined && ts >= m.timestamp ? ts - m.timestamp : null,
          toolCallCount: m.toolCalls.length,
        });
      }
      if (m.provider !== undefined && cls === "call") this.#cursor.lastProvider = m.provider;
      if (m.model !== undefined && cls === "call") this.#cursor.lastModel = m.model;
      for (const call of m.toolCalls) {
        this.#toolCalls.push({
          callId: call.id,
          eventId,
          ts,
          name: call.name,
          via: call.via ?? null,
          argsBytes: call.argsBytes,
          result: null,
        });
      }
    } else if (m.role === "toolResult") {
      flags |= EVENT_FLAGS.toolResult;
      if (m.isError === true) flags |= EVENT_FLAGS.toolError;
      this.#toolResults.push({
        callId: m.toolCallId ?? "",
        eventId,
        ts,
        toolName: m.toolName ?? null,
        isError: m.isError === true,
        resultBytes: m.contentBytes,
      });
    }
    return flags;
  }

  /** Joins tool results with calls of the same read; the rest are left for the store to join. */
  result(): PartLedger {
    const calls = new Map<string, ToolCallRecord>();
    for (const c of this.#toolCalls) if (c.callId !== "" && !calls.has(c.callId)) calls.set(c.callId, c);
    const unmatched: ToolResultRecord[] = [];
    for (const r of this.#toolResults) {
      const call = r.callId !== "" ? calls.get(r.callId) : undefined;
      if (call && call.result === null) call.result = r;
      else unmatched.push(r);
    }
    return {
      events: this.#events,
      llmCalls: this.#llmCalls,
      toolCalls: this.#toolCalls,
      toolResults: unmatched,
      header: this.#header,
      problems: this.#problems,
      cursor: { ...this.#cursor },
    };
  }
}
