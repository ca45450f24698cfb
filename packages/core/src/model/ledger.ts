/**
 * Ledger records: what one read of one transcript part (a file, an archive, a session's SQLite rows)
 * contributes. They are keyed so that the same event found in several stores is counted once:
 * events and LLM calls by (session, event id), tool calls by (session, tool call id).
 *
 * Every transcript event lands in exactly one list: an LLM call in `llmCalls`, a tool result in its tool
 * call (or in `toolResults` when its call is not in this read), anything else in `events`.
 */
import type { TokenCounts } from "./facts.ts";
import type { Problem } from "./problems.ts";

/** Bit flags on an event record. */
export const EVENT_FLAGS = {
  error: 1, // assistant stopped with an error
  aborted: 2, // assistant aborted
  toolError: 4, // tool result with isError
  llmCall: 8, // assistant message that is an LLM call
  artifact: 16, // assistant transcript artifact (delivery mirror, zero usage)
  toolResult: 32, // tool result message
} as const;

export type EventRecord = {
  eventId: string;
  ts: number;
  type: string;
  /** Message role, for `message` events. */
  role: string | null;
  flags: number;
  bytes: number;
};

export type LlmCallRecord = {
  eventId: string;
  ts: number;
  provider: string;
  model: string;
  api: string | null;
  tokens: TokenCounts;
  /** `usage.cost.total` in USD as OpenClaw recorded it (≥ 0), or null. */
  recordedCostUsd: number | null;
  stopReason: string | null;
  runId: string | null;
  responseId: string | null;
  /** Persist time minus message start time, when both are known: an approximation of the call's latency. */
  latencyMs: number | null;
  toolCallCount: number;
};

export type ToolCallRecord = {
  callId: string;
  eventId: string;
  ts: number;
  name: string;
  via: string | null;
  argsBytes: number;
  /** The joined result, when it is in the same read (else it arrives as a ToolResultRecord, maybe later). */
  result: ToolResultRecord | null;
};

export type ToolResultRecord = {
  callId: string;
  eventId: string;
  ts: number;
  toolName: string | null;
  isError: boolean;
  resultBytes: number;
};

/** What a transcript part says about its session beyond its events. */
export type SessionHeader = {
  sessionId: string | null;
  ts: number | null;
  cwd: string | null;
  parentSession: string | null;
};

/** State carried from one read of a part to the next (tail reads continue where the last one stopped). */
export type PartCursor = {
  /** Events read so far (used to name events without an id). */
  ordinal: number;
  lastTs: number | null;
  lastProvider: string | null;
  lastModel: string | null;
};

export function newPartCursor(): PartCursor {
  return { ordinal: 0, lastTs: null, lastProvider: null, lastModel: null };
}

export type PartLedger = {
  events: EventRecord[];
  llmCalls: LlmCallRecord[];
  toolCalls: ToolCallRecord[];
  toolResults: ToolResultRecord[];
  header: SessionHeader | null;
  problems: Problem[];
  cursor: PartCursor;
};
