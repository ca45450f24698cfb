/**
 * The hub's read API as the dashboard sees it (JSON over HTTP). Session rows and replays are the core's own
 * JSON types, imported type-only from its pure report modules (erased from the bundle); the rest restate
 * only the fields the dashboard reads.
 */
import type { SessionRow as SessionRowBase } from "../../../core/src/reports/session-report.ts";
import type { SessionHealth } from "../../../core/src/insights/session-health.ts";
import type { InsightsReport } from "../../../core/src/insights/insights-report.ts";
import type { ReplayEntry, ReplayText, ReplayToolCall, ReplayTurn } from "../../../core/src/reports/replay.ts";

export type { InsightsReport, ReplayEntry, ReplayText, ReplayToolCall, ReplayTurn, SessionHealth };
/** A session row as the API sends it: with its health signals. */
export type SessionRow = SessionRowBase & { health: SessionHealth };

export type Tokens = { input: number; output: number; cacheRead: number; cacheWrite: number; total: number };
export type Cost = { recorded: number; estimated: number; total: number };

/** Usage of any slice (a model, a day, a session…): `unpriced*` is what has no price — never $0. */
export type Usage = {
  llmCalls: number;
  tokens: Tokens;
  cost: Cost;
  unpricedCalls: number;
  unpricedTokens: number;
};

export type ReportFiltersJson = { since: string | null; until: string | null; tz: string; agent: string | null; deployment: string | null };

export type Info = {
  schemaVersion: number;
  store: string;
  authRequired: boolean;
  /** Who is asking: the open loopback hub, the admin, or an API key (with the one deployment it may read). */
  access?: { kind: "open" | "admin" | "key"; deployment: string | null };
  version?: string;
  demo?: boolean;
  localDeployment?: string | null;
  openclawHome?: { path: string; exists: boolean };
  liveImport?: { home?: string; running: boolean; lastSyncAt: string | null; lastChange: string | null; lastError: string | null } | null;
};

/** How a deployment's data arrives: `local` import, `watch` (serve's live import), `plugin`, `ingest` API. */
export type DeploymentPath = { via: string; name: string; lastSeenAt: string };

export type Facets = {
  deployments: { id: string; name: string; kind: string; lastSeenAt: string; homeId?: string | null; paths?: DeploymentPath[] }[];
  agents: string[];
  models: string[];
  kinds: string[];
  channels: string[];
};

export type SummaryReport = {
  filters: ReportFiltersJson;
  totals: Usage & { sessions: number; toolCalls: number };
  byModel: (Usage & { provider: string; model: string })[];
  byDay: (Usage & { day: string })[];
  problems: Record<string, number>;
};

export type TimeBucket = "hour" | "day" | "week" | "month";
export type GroupBy = "none" | "model" | "agent";

export type TimeseriesPoint = Usage & { bucket: string; start: string; groups?: Record<string, Usage> };

export type TimeseriesReport = {
  filters: ReportFiltersJson;
  bucket: TimeBucket;
  groupBy: GroupBy;
  groups: string[];
  points: TimeseriesPoint[];
  totals: Usage;
};

export type Shares = { costShare: number | null; costPer1kTokens: number | null; cacheHitRate: number | null; sessions: number };
export type ModelRow = Usage & Shares & { provider: string; model: string };
export type AgentRow = Usage & Shares & { agentId: string };
export type ModelsReport = { rows: ModelRow[]; totals: Usage };
export type AgentsReport = { rows: AgentRow[]; totals: Usage };

export type ToolRow = {
  name: string;
  calls: number;
  withResult: number;
  errors: number;
  errorRate: number | null;
  argsBytes: number;
  resultBytes: number;
  maxResultBytes: number;
  avgResultBytes: number | null;
};
export type ToolsReport = { tools: ToolRow[]; totals: { calls: number; errors: number; resultBytes: number } };

export type SessionsPage = { sessions: SessionRow[]; total: number; page: { limit: number; offset: number } };


export type SessionReplay = {
  session: SessionRow;
  entries: ReplayEntry[];
  turns: ReplayTurn[];
  page: { offset: number; limit: number; total: number };
  sources: { locator: string; kind: string; events: number; error: string | null }[];
};

export type ApiErrorBody = { error: { code: string; message: string } };

/** GET /api/v1/live: sessions active now (see packages/store/src/session-snapshots.ts for the rules). */
export type LiveSessionStatus = "running" | "idle" | "error" | "aborted";
export type LiveSession = {
  deploymentId: string;
  agentId: string;
  sessionId: string;
  sessionKey: string | null;
  kind: string | null;
  label: string | null;
  channel: string | null;
  status: LiveSessionStatus;
  provider: string | null;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  contextTokens: number | null;
  contextWindow: number | null;
  contextUsedPct: number | null;
  costUsd: number | null;
  lastActivityAt: number;
  progressAt: number;
  stuck: boolean;
  source: "snapshot" | "ledger";
};
export type LiveReport = { schemaVersion: 1; generatedAt: number; activeMinutes: number; stuckMinutes: number; sessions: LiveSession[] };
