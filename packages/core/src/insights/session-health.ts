/**
 * Session health: a few deterministic signals computed from a session's ledger rows (no LLM). Each signal has
 * one definition, used by the sessions list, the replay and the insights:
 *   errored      LLM calls that stopped with `error`;
 *   aborted      LLM calls that stopped with `aborted`;
 *   toolErrors   tool results marked as errors, and their share of the session's tool calls;
 *   toolLoop     the longest run of consecutive tool calls (ordered by time, then call id) with the same tool name
 *                and the same argument size in bytes — the ledger keeps the size of a call's arguments, not their
 *                text, so equal size stands in for equal arguments;
 *   retries      LLM calls that directly follow a call that stopped with `error` (the run tried again);
 *   contextBloat the prompt (input + cache read + cache write) of the session's largest call over its first call's,
 *                in a session of at least CONTEXT_MIN_CALLS calls with no compaction.
 * A flag is raised when a signal passes its threshold below; `status` is `bad` when a run errored or aborted or a
 * tool loop was found, `warn` for any other flag, else `ok`.
 */

export const HEALTH_THRESHOLDS = {
  /** Tool error share that flags a session, with at least this many tool calls. */
  toolErrorRatio: 0.25,
  toolErrorMinCalls: 4,
  /** Same tool + same argument size this many times in a row. */
  toolLoop: 3,
  retries: 1,
  /** Largest prompt ≥ this many times the first one … */
  contextGrowth: 2,
  /** … in a session of at least this many calls. */
  contextMinCalls: 4,
} as const;

export const CONTEXT_MIN_CALLS = HEALTH_THRESHOLDS.contextMinCalls;

export type HealthCall = { promptTokens: number; stopReason: string | null };
export type HealthToolCall = { name: string | null; argsBytes: number | null; isError: boolean };

export type HealthFlag = "errored" | "aborted" | "tool-errors" | "tool-loop" | "retries" | "context-bloat";

export type SessionHealth = {
  status: "ok" | "warn" | "bad";
  flags: HealthFlag[];
  errored: number;
  aborted: number;
  toolCalls: number;
  toolErrors: number;
  /** toolErrors / toolCalls, 0 without tool calls. */
  toolErrorRatio: number;
  toolLoop: { tool: string | null; length: number } | null;
  retries: number;
  context: { firstPromptTokens: number; maxPromptTokens: number; growth: number } | null;
  compactions: number;
};

/** `calls` and `tools` in session order (time, then id). */
export function sessionHealth(calls: readonly HealthCall[], tools: readonly HealthToolCall[], compactions: number): SessionHealth {
  let errored = 0;
  let aborted = 0;
  let retries = 0;
  for (let i = 0; i < calls.length; i++) {
    const r = calls[i]!.stopReason;
    if (r === "error") errored++;
    if (r === "aborted") aborted++;
    if (i > 0 && calls[i - 1]!.stopReason === "error") retries++;
  }
  let toolErrors = 0;
  let best: { tool: string | null; length: number } | null = null;
  let run = 0;
  for (let i = 0; i < tools.length; i++) {
    const t = tools[i]!;
    if (t.isError) toolErrors++;
    const prev = tools[i - 1];
    run = prev && prev.name === t.name && prev.argsBytes === t.argsBytes ? run + 1 : 1;
    if (run > 1 && (best === null || run > best.length)) best = { tool: t.name, length: run };
  }
  let context: SessionHealth["context"] = null;
  if (calls.length > 0) {
    const first = calls[0]!.promptTokens;
    const max = calls.reduce((m, c) => Math.max(m, c.promptTokens), 0);
    context = { firstPromptTokens: first, maxPromptTokens: max, growth: first > 0 ? max / first : 0 };
  }
  const ratio = tools.length > 0 ? toolErrors / tools.length : 0;
  const flags: HealthFlag[] = [];
  if (errored > 0) flags.push("errored");
  if (aborted > 0) flags.push("aborted");
  if (tools.length >= HEALTH_THRESHOLDS.toolErrorMinCalls && ratio >= HEALTH_THRESHOLDS.toolErrorRatio) flags.push("tool-errors");
  if (best !== null && best.length >= HEALTH_THRESHOLDS.toolLoop) flags.push("tool-loop");
  if (retries >= HEALTH_THRESHOLDS.retries) flags.push("retries");
  if (isBloated(calls.length, context, compactions)) flags.push("context-bloat");
  const bad = flags.includes("errored") || flags.includes("aborted") || flags.includes("tool-loop");
  return {
    status: bad ? "bad" : flags.length > 0 ? "warn" : "ok",
    flags,
    errored,
    aborted,
    toolCalls: tools.length,
    toolErrors,
    toolErrorRatio: ratio,
    toolLoop: best,
    retries,
    context,
    compactions,
  };
}

/** The one context-bloat test (health flag and the context insight). */
export function isBloated(calls: number, context: { firstPromptTokens: number; maxPromptTokens: number } | null, compactions: number): boolean {
  return (
    compactions === 0 &&
    calls >= HEALTH_THRESHOLDS.contextMinCalls &&
    context !== null &&
    context.firstPromptTokens > 0 &&
    context.maxPromptTokens >= HEALTH_THRESHOLDS.contextGrowth * context.firstPromptTokens
  );
}
