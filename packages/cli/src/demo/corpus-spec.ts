/** What the corpus generator is asked for, and the totals it tallies while generating. */

export type CorpusFormat = "legacy" | "sqlite";

/**
 * The shape of the sessions:
 *   large-events — fewer, larger events (about half of all tool results are 10–200 KB); the original bench corpus
 *   small-events — many small events (~3 KB on average, 7 % of tool results 10–200 KB, a few lines of 1–5 MB),
 *                  parallel tool calls, model switches, 12 models
 */
export type CorpusProfile = "large-events" | "small-events";

export const CORPUS_PROFILES: readonly CorpusProfile[] = ["large-events", "small-events"];

export type CorpusSpec = {
  format: CorpusFormat;
  /** Default "large-events". */
  profile?: CorpusProfile;
  targetBytes: number;
  seed: number;
  sessions: number;
  agents: number;
  /** OpenClaw's agent-database DDL (needed for the sqlite format; the test kit has a copy of the real one). */
  ddl?: string[];
  /** Sessions start within the 90 days before this instant (default: a fixed date, for reproducible corpora). */
  endAt?: number;
  /** Days the sessions are spread over (default 90). */
  days?: number;
};

export type CorpusTotals = {
  sessions: number;
  llmCalls: number;
  toolCalls: number;
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number; total: number };
  recordedCostNanos: number;
  /** Raw JSON bytes of every event (before compression). */
  rawBytes: number;
  /** Bytes on disk of the transcript stores (files, or database + cold files). */
  storeBytes: number;
  badLines: number;
  /** Events written (whole lines or rows; bad lines not included). */
  events: number;
  /** The longest event line, in UTF-16 code units of its JSON. */
  largestLineBytes: number;
};
