/**
 * Gateway session rows (`sessions.list`) joined with their lifetime usage (`sessions.usage`) into the one shape
 * the watcher filters, fingerprints and pushes. Pure. Row token counters are the last run's, not lifetime
 * totals, so the totals come from `sessions.usage`; null when the gateway did not report them.
 */
import type { LiveStatus } from "@clawtower/store";

export type SessionKind = "main" | "subagent" | "group" | "cron" | "hook" | "node" | "other";
export const SESSION_KINDS: readonly SessionKind[] = ["main", "subagent", "group", "cron", "hook", "node", "other"];

export type WatchedSession = {
  sessionId: string;
  sessionKey: string;
  agentId: string;
  kind: SessionKind;
  label: string | null;
  channel: string | null;
  status: LiveStatus;
  provider: string | null;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  costUsd: number | null;
  contextTokens: number | null;
  contextWindow: number | null;
  updatedAt: number | null;
  lastActivityAt: number | null;
};

export type UsageTotals = { input: number; output: number; cacheRead: number; cacheWrite: number; totalCost: number | null };

type Row = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === "string" && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : null);

/** The seed's kinds, from the session key (`agent:<id>:cron:…`, `…:subagent:…`) and the row's chat kind. */
export function kindOf(row: Row): SessionKind {
  const key = str(row["key"]) ?? "";
  const parts = key.split(":");
  for (const k of ["cron", "subagent", "hook", "node"] as const) if (parts.includes(k)) return k;
  if (row["kind"] === "group" || row["chatType"] === "group") return "group";
  if (row["isMain"] === true || parts.at(-1) === "main") return "main";
  return "other";
}

/** running: a run is active; aborted: the last run was aborted; error: it failed; idle otherwise. */
export function statusOf(row: Row): LiveStatus {
  const s = str(row["status"]);
  if (row["hasActiveRun"] === true || s === "running") return "running";
  if (row["abortedLastRun"] === true || s === "aborted" || s === "killed" || s === "cancelled") return "aborted";
  if (s === "failed" || s === "error" || s === "timeout") return "error";
  return "idle";
}

export function usageTotalsOf(u: unknown): UsageTotals | null {
  if (!u || typeof u !== "object") return null;
  const r = u as Row;
  const input = num(r["input"]);
  const output = num(r["output"]);
  if (input === null || output === null) return null;
  return { input, output, cacheRead: num(r["cacheRead"]) ?? 0, cacheWrite: num(r["cacheWrite"]) ?? 0, totalCost: num(r["totalCost"]) };
}

export function toWatchedSession(row: Row, usage: UsageTotals | null): WatchedSession | null {
  const sessionId = str(row["sessionId"]);
  const sessionKey = str(row["key"]);
  if (!sessionId || !sessionKey) return null;
  const agentId = str(row["agentId"]) ?? sessionKey.split(":")[1] ?? "main";
  const activity = [num(row["lastActivityAt"]), num(row["lastInteractionAt"])].filter((v): v is number => v !== null);
  // totalTokens is the fresh prompt size (what the context holds) only when the gateway says it is fresh.
  const contextTokens = row["totalTokensFresh"] === true ? num(row["totalTokens"]) : null;
  return {
    sessionId,
    sessionKey,
    agentId,
    kind: kindOf(row),
    label: str(row["label"]) ?? str(row["displayName"]),
    channel: str(row["channel"]) ?? str(row["lastChannel"]),
    status: statusOf(row),
    provider: str(row["modelProvider"]),
    model: str(row["model"]),
    inputTokens: usage?.input ?? null,
    outputTokens: usage?.output ?? null,
    cacheReadTokens: usage?.cacheRead ?? null,
    cacheWriteTokens: usage?.cacheWrite ?? null,
    costUsd: usage?.totalCost ?? null,
    contextTokens,
    contextWindow: num(row["contextTokens"]),
    updatedAt: num(row["updatedAt"]),
    lastActivityAt: activity.length ? Math.max(...activity) : num(row["updatedAt"]),
  };
}

export function totalTokensOf(s: WatchedSession): number | null {
  if (s.inputTokens === null || s.outputTokens === null) return null;
  return s.inputTokens + s.outputTokens + (s.cacheReadTokens ?? 0) + (s.cacheWriteTokens ?? 0);
}

export function contextUsedPct(s: WatchedSession): number | null {
  if (s.contextTokens === null || !s.contextWindow) return null;
  return Math.round((s.contextTokens / s.contextWindow) * 1000) / 10;
}
