/**
 * The facts Clawtower takes from one OpenClaw transcript event. Both store formats (SQLite rows and JSONL
 * lines) carry the same event JSON, so everything downstream of `extractEventFacts` is format-agnostic.
 */

export type TokenCounts = {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
};

export const TOKEN_KINDS = ["input", "output", "cacheRead", "cacheWrite"] as const;

export function zeroTokens(): TokenCounts {
  return { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
}

/** Total tokens = the sum of the four kinds (never a stored `totalTokens`, which some providers fill differently). */
export function totalTokens(t: TokenCounts): number {
  return t.input + t.output + t.cacheRead + t.cacheWrite;
}

/**
 * Ceilings of one call's usage, for every source (local files and ingest alike). They keep each stored value
 * an exact integer in a double and in PostgreSQL's bigint, with room for sums: 1e9 tokens of one kind is 100×
 * the largest context window on offer, and 2^53 still holds ~9 million such calls; $10,000 for one call is
 * far above any catalog price × that ceiling in practice, and is 1e13 nano-dollars (900 such calls per 2^53).
 */
export const MAX_TOKENS_PER_CALL = 1_000_000_000;
export const MAX_COST_USD_PER_CALL = 10_000;

/** A token count counts when it is a whole number from 0 to MAX_TOKENS_PER_CALL. */
export function isValidTokenCount(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_TOKENS_PER_CALL;
}

/** A recorded cost (USD) counts when it is a finite number from 0 to MAX_COST_USD_PER_CALL. */
export function isValidCostUsd(n: number): boolean {
  return Number.isFinite(n) && n >= 0 && n <= MAX_COST_USD_PER_CALL;
}

/** Why a usage field listed in `invalidFields` did not count, for problem details. */
export function usageFieldRule(field: string): string {
  return field === "cost.total"
    ? `is not a number from 0 to ${MAX_COST_USD_PER_CALL.toLocaleString("en-US")} (USD); not used`
    : `is not a whole number from 0 to ${MAX_TOKENS_PER_CALL.toLocaleString("en-US")}; counted as 0`;
}

export type UsageFacts = {
  tokens: TokenCounts;
  /** `usage.cost.total` as recorded by OpenClaw, when it is valid (isValidCostUsd). */
  recordedCost: number | undefined;
  /** Usage fields that were present but not valid (isValidTokenCount, isValidCostUsd): counted as 0 / not used. */
  invalidFields: string[];
};

export type ToolCallFacts = {
  id: string;
  /** The real tool. For the tool-search bridge's `tool_call` wrapper this is the wrapped tool's id. */
  name: string;
  /** Set when the call went through a wrapper tool (e.g. `tool_call`). */
  via: string | undefined;
  /** UTF-8 bytes of the JSON text of the call's arguments. */
  argsBytes: number;
};

export type MessageFacts = {
  role: string;
  /** `message.timestamp` (epoch ms), when present. */
  timestamp: number | undefined;
  provider: string | undefined;
  model: string | undefined;
  api: string | undefined;
  stopReason: string | undefined;
  errorMessage: string | undefined;
  responseId: string | undefined;
  runId: string | undefined;
  /** `undefined` when the message has no `usage` member at all. */
  usage: UsageFacts | undefined;
  toolCalls: ToolCallFacts[];
  /** UTF-8 bytes of the JSON text of `content`. */
  contentBytes: number;
  toolCallId: string | undefined;
  toolName: string | undefined;
  isError: boolean | undefined;
  customType: string | undefined;
};

export type EventFacts = {
  type: string;
  id: string | undefined;
  parentId: string | undefined;
  /** Top-level ISO `timestamp` as epoch ms. */
  timestamp: number | undefined;
  message: MessageFacts | undefined;
  /** `model_change`: provider and model id. */
  provider: string | undefined;
  modelId: string | undefined;
  customType: string | undefined;
  /** Session header: `cwd` and `parentSession`. */
  cwd: string | undefined;
  parentSession: string | undefined;
  /** UTF-8 bytes of the whole event text. */
  bytes: number;
};

/** Event types OpenClaw writes (2026.x). Anything else is counted as `unknown-event-type`. */
export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set([
  "session",
  "message",
  "model_change",
  "thinking_level_change",
  "custom",
  "custom_message",
  "compaction",
  "branch_summary",
  "reset",
  "label",
  "session_info",
]);
