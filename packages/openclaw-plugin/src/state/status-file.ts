/**
 * `<stateDir>/clawtower/status.json`: the last cycle's summary and the most recent errors, for
 * `openclaw clawtower status` (which runs in another process than the Gateway's service).
 */
import { readJsonState, writeFileAtomic } from "./files.ts";

export type ErrorEntry = { at: number; kind: string; message: string };

export type CycleSummary = {
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  trigger: "schedule" | "cli" | "test";
  outcome: "ok" | "partial" | "failed" | "auth" | "busy" | "aborted" | "disabled";
  message: string | null;
  sessions: { listed: number; sent: number; unchanged: number; skippedSmall: number; denied: number };
  lines: { sent: number; accepted: number; duplicates: number; rejected: number; bad: number };
  bytesRead: number;
  requests: number;
  retries: number;
  skills: { agents: number; skills: number; contents: number };
  pending: { sessions: number; bytes: number };
};

export type StatusFile = { schemaVersion: 1; lastCycle: CycleSummary | null; lastSuccessAt: number | null; recentErrors: ErrorEntry[] };

export const MAX_RECENT_ERRORS = 20;

export function readStatusFile(file: string): StatusFile {
  return readJsonState<StatusFile>(
    file,
    () => ({ schemaVersion: 1, lastCycle: null, lastSuccessAt: null, recentErrors: [] }),
    (v) => ((v as StatusFile)?.schemaVersion === 1 && Array.isArray((v as StatusFile).recentErrors) ? null : "unknown status file"),
    // Only a summary: a damaged one is replaced by the next cycle's, not kept aside.
    { moveAside: false },
  ).value;
}

export function recordCycle(file: string, summary: CycleSummary, errors: ErrorEntry[]): StatusFile {
  const prev = readStatusFile(file);
  const next: StatusFile = {
    schemaVersion: 1,
    lastCycle: summary,
    lastSuccessAt: summary.outcome === "ok" || summary.outcome === "partial" ? summary.finishedAt : prev.lastSuccessAt,
    recentErrors: [...errors, ...prev.recentErrors].slice(0, MAX_RECENT_ERRORS),
  };
  writeFileAtomic(file, JSON.stringify(next, null, 2));
  return next;
}
