/**
 * What every step of an upload cycle works with, built once per cycle by cycle.ts and passed down as one
 * object: the configuration, the ship state being advanced, the hub, the privacy transforms, the clock, the
 * abort signal, and the cycle's summary, budget and error list.
 */
import type { DbHandles } from "@clawtower/core";
import type { ResolvedConfig } from "../config/load.ts";
import type { UsageLedger } from "../live/usage-ledger.ts";
import type { Redactor } from "../privacy/redact.ts";
import type { EventTransform } from "../privacy/transform.ts";
import type { StatePaths } from "../state/files.ts";
import type { ShipState } from "../state/ship-state.ts";
import type { CycleSummary } from "../state/status-file.ts";
import type { SessionFilter } from "./filters.ts";
import type { HubClient } from "./hub-client.ts";

export type CycleLogger = { info(m: string): void; warn(m: string): void; error(m: string): void };

export type BatchSizes = { chunkBytes: number; chunkEvents: number; requestBytes: number; requestLines: number; saveEveryMs: number };

export const DEFAULT_SIZES: BatchSizes = { chunkBytes: 1024 * 1024, chunkEvents: 1000, requestBytes: 4 * 1024 * 1024, requestLines: 2000, saveEveryMs: 2000 };

/** Why a cycle ended before its work was done. */
export type StopReason = "auth" | "aborted" | "failed";

/** What is left of the cycle's limits; the first chunk always goes, so a cycle never sends nothing. */
export type CycleBudget = { sessions: number; bytes: number; firstChunk: boolean };

export type ShipContext = {
  /** The OpenClaw state dir: transcripts under `agents/`. */
  stateDir: string;
  config: ResolvedConfig;
  /** Our files (ship state, status, lock). */
  paths: StatePaths;
  /** Advanced in place as the hub answers; saved by cycle.ts and, every `saveEveryMs`, by the sender. */
  state: ShipState;
  sizes: BatchSizes;
  /** Agent databases opened during the cycle (closed when it ends). */
  dbs: DbHandles;
  hub: HubClient;
  filter: SessionFilter;
  redactor: Redactor;
  transform: EventTransform;
  ledger: UsageLedger | null;
  log: CycleLogger;
  now: () => number;
  signal: AbortSignal;
  summary: CycleSummary;
  budget: CycleBudget;
  /** Records an error for `status` and logs it. */
  recordError(kind: string, message: string): void;
};
