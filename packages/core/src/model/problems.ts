/**
 * Bad input never stops a scan and is never silent: every anomaly becomes a Problem, counted by kind and
 * listed with its location (file:line or db:session:seq).
 */

import { MAX_COST_USD_PER_CALL, MAX_TOKENS_PER_CALL } from "./facts.ts";

export const PROBLEM_KINDS = {
  "invalid-json": "line or row is not valid JSON (skipped)",
  "truncated-line": "last line of a file ends without a newline and is incomplete (skipped; re-read when it grows)",
  "blank-line": "blank line (skipped)",
  "not-an-object": "valid JSON that is not an object (skipped)",
  "missing-event-type": "event has no string `type` (skipped)",
  "unknown-event-type": "event type Clawtower does not know (kept as an event, not accounted)",
  "assistant-without-usage": "assistant message with no `usage` (not an LLM call)",
  "invalid-usage-field": `usage field out of range: a token count that is not a whole number from 0 to ${MAX_TOKENS_PER_CALL.toLocaleString("en-US")} (counted as 0), or a cost.total not from 0 to $${MAX_COST_USD_PER_CALL.toLocaleString("en-US")} (not used)`,
  "missing-timestamp": "event without a usable timestamp (the previous event's time is used)",
  "line-too-long": "line larger than the per-line limit (skipped)",
  "unreadable-file": "file could not be read",
  "unreadable-database": "SQLite store could not be opened or read (corrupt, locked or not a database)",
  "zstd-decode-failed": "compressed row or archive could not be decompressed (skipped)",
  "missing-archive": "a cold archive the store references is missing or does not match its recorded hash",
  "unknown-schema": "a store table has an unexpected shape",
  "future-timestamp": "session with events dated more than 10 minutes after now (a clock ahead?): counted at their own time, so outside every range that ends now",
} as const;

/** How far ahead of the reader's clock an event may be dated before it is a problem (clocks across a fleet drift). */
export const FUTURE_SKEW_MS = 10 * 60_000;

export type ProblemKind = keyof typeof PROBLEM_KINDS;

export type ProblemLocation = {
  /** File path (JSONL, archive) or database path. */
  source: string;
  /** 1-based line in a file. */
  line?: number;
  /** Session id and sequence for SQLite rows. */
  sessionId?: string;
  seq?: number;
};

export type Problem = {
  kind: ProblemKind;
  at: ProblemLocation;
  detail: string;
};

export function formatLocation(at: ProblemLocation): string {
  if (at.line !== undefined) return `${at.source}:${at.line}`;
  if (at.sessionId !== undefined) return `${at.source}:${at.sessionId}${at.seq !== undefined ? `:${at.seq}` : ""}`;
  return at.source;
}

export type ProblemCounts = Partial<Record<ProblemKind, number>>;

export function countProblems(problems: Iterable<Pick<Problem, "kind">>, into: ProblemCounts = {}): ProblemCounts {
  for (const p of problems) into[p.kind] = (into[p.kind] ?? 0) + 1;
  return into;
}
