/**
 * The hub's read API as the dashboard sees it (JSON over HTTP). These mirror the report types in
 * @clawtower/core and @clawtower/store; they are restated here, not imported, because the browser bundle
 * must not pull in server code. Only the fields the dashboard reads are listed.
 */

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
  version?: string;
  demo?: boolean;
  localDeployment?: string | null;
  openclawHome?: { path: string; exists: boolean };
  liveImport?: { home?: string; running: boolean; lastSyncAt: string | null; lastChange: string | null; lastError: string | null } | null;
};

export type Facets = {
  deployments: { id: string; name: string; kind: string; lastSeenAt: string }[];
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

export type SessionRow = Usage & {
  deploymentId: string;
  agentId: string;
  sessionId: string;
  sessionKey: string | null;
  kind: string;
  channel: string | null;
  label: string | null;
  parentSessionKey: string | null;
  firstActivity: string | null;
  lastActivity: string | null;
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
};

export type SessionsPage = { sessions: SessionRow[]; total: number; page: { limit: number; offset: number } };

export type ReplayText = { text: string; bytes: number; truncated: boolean };

export type ReplayToolCall = {
  id: string;
  name: string;
  via: string | null;
  arguments: unknown;
  result: (ReplayText & { isError: boolean; ts: string | null }) | null;
};

export type ReplayEntry =
  | { kind: "user"; id: string; ts: string | null; content: ReplayText }
  | {
      kind: "assistant";
      id: string;
      ts: string | null;
      content: ReplayText;
      thinking: ReplayText | null;
      toolCalls: ReplayToolCall[];
      provider: string | null;
      model: string | null;
      stopReason: string | null;
      errorMessage: string | null;
      tokens: Tokens | null;
      cost: { source: string; usd: number } | null;
      latencyMs: number | null;
    }
  | { kind: "toolResult"; id: string; ts: string | null; toolCallId: string; toolName: string | null; isError: boolean; content: ReplayText }
  | { kind: "event"; id: string; ts: string | null; type: string; summary: string };

export type ReplayTurn = {
  index: number;
  firstEntry: number;
  start: string | null;
  end: string | null;
  prompt: string;
  llmCalls: number;
  toolCalls: number;
  errors: number;
  tokens: Tokens;
  costUsd: number;
  unpricedCalls: number;
  latencyMs: number;
};

export type SessionReplay = {
  session: SessionRow;
  entries: ReplayEntry[];
  turns: ReplayTurn[];
  page: { offset: number; limit: number; total: number };
  sources: { locator: string; kind: string; events: number; error: string | null }[];
};

export type ApiErrorBody = { error: { code: string; message: string } };
