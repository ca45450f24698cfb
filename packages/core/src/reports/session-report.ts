/** `report sessions`: one row per session active in the range, with its usage in the range. */
import { isoInstant } from "../time/zone.ts";
import { REPORT_SCHEMA_VERSION, filtersJson, usageJson, type ReportFilters, type UsageJson, type UsageSum } from "./usage.ts";

export type SessionAggregate = UsageSum & {
  deploymentId: string;
  agentId: string;
  sessionId: string;
  sessionKey: string | null;
  kind: string;
  channel: string | null;
  label: string | null;
  parentSessionKey: string | null;
  firstTs: number | null;
  lastTs: number | null;
  messages: { user: number; assistant: number; toolResult: number; other: number };
  toolCalls: number;
  toolErrors: number;
  errors: number;
  aborts: number;
  compactions: number;
  resets: number;
  models: string[];
  skills: string[] | null;
  present: boolean;
  /** Deleted or reset in OpenClaw (only its archive is left), or null while live (see sources/session-ending.ts). */
  ended: "deleted" | "reset" | null;
};

export type SessionRow = UsageJson &
  Omit<SessionAggregate, keyof UsageSum | "firstTs" | "lastTs"> & { firstActivity: string | null; lastActivity: string | null };

export type SessionsReport = {
  schemaVersion: number;
  report: "sessions";
  generatedAt: string;
  filters: ReturnType<typeof filtersJson>;
  sessions: SessionRow[];
  total: number;
};

export function sessionRow(s: SessionAggregate): SessionRow {
  const { calls, input, output, cacheRead, cacheWrite, recordedNanos, estimatedNanos, unpricedCalls, unpricedTokens, firstTs, lastTs, ...rest } = s;
  return {
    ...rest,
    firstActivity: firstTs === null ? null : isoInstant(firstTs),
    lastActivity: lastTs === null ? null : isoInstant(lastTs),
    ...usageJson({ calls, input, output, cacheRead, cacheWrite, recordedNanos, estimatedNanos, unpricedCalls, unpricedTokens }),
  };
}

export function buildSessionsReport(sessions: SessionAggregate[], total: number, filters: ReportFilters, generatedAt: number): SessionsReport {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    report: "sessions",
    generatedAt: new Date(generatedAt).toISOString(),
    filters: filtersJson(filters),
    sessions: sessions.map(sessionRow),
    total,
  };
}
