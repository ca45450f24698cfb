/**
 * Everything a reader chose lives in the URL, so any view can be bookmarked, shared and reloaded:
 *   path   /, /models, /agents, /tools, /insights, /sessions, /budgets, /sessions/<deployment>/<agent>/<session>
 *   query  range (24h|7d|30d|90d|all|custom, with from/to days), tz, agent, deployment,
 *          bucket, metric, split (charts), kind, channel, model, q, sort, order, page (sessions list)
 * Pure: parse and serialize are inverse functions of plain values; the browser glue is in router.ts.
 */
import type { QueryParams } from "../api/client.ts";
import type { TimeBucket } from "../api/types.ts";

export type RangePreset = "24h" | "7d" | "30d" | "90d" | "all";
/** Custom ranges are calendar days in the chosen time zone; `to` is inclusive (as the API's `until`). */
export type Range = { preset: RangePreset } | { preset: "custom"; from: string; to: string };

export type Metric = "cost" | "tokens" | "calls";
/** What a timeline's bars are split into: the metric's parts (token kinds, recorded/estimated…), models or agents. */
export type Split = "parts" | "model" | "agent";
export type SessionSort = "last" | "cost" | "tokens" | "calls";
export type SortOrder = "asc" | "desc";

export type Route =
  | { view: "overview" }
  | { view: "models" }
  | { view: "agents" }
  | { view: "tools" }
  | { view: "insights" }
  | { view: "sessions" }
  | { view: "live" }
  | { view: "budgets" }
  | { view: "alerts" }
  | { view: "session"; deploymentId: string; agentId: string; sessionId: string };

export type View = Route["view"];

export type SessionFilters = {
  kind: string | null;
  channel: string | null;
  model: string | null;
  q: string;
  sort: SessionSort;
  order: SortOrder;
  /** 1-based. */
  page: number;
};

export type DashboardState = {
  route: Route;
  range: Range;
  tz: string;
  agent: string | null;
  deployment: string | null;
  /** Null: chosen from the range (see autoBucket). */
  bucket: TimeBucket | null;
  metric: Metric;
  split: Split;
  sessions: SessionFilters;
};

export const RANGE_PRESETS: readonly RangePreset[] = ["24h", "7d", "30d", "90d", "all"];
export const DEFAULT_RANGE: Range = { preset: "7d" };
export const SESSIONS_PAGE_SIZE = 50;

const BUCKETS: readonly TimeBucket[] = ["hour", "day", "week", "month"];
const METRICS: readonly Metric[] = ["cost", "tokens", "calls"];
const SPLITS: readonly Split[] = ["parts", "model", "agent"];
const SORTS: readonly SessionSort[] = ["last", "cost", "tokens", "calls"];
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

const oneOf = <T extends string>(list: readonly T[], v: string | null, fallback: T): T => (v !== null && (list as readonly string[]).includes(v) ? (v as T) : fallback);
const nonEmpty = (v: string | null): string | null => (v === null || v.trim() === "" ? null : v);

export function defaultSessionFilters(): SessionFilters {
  return { kind: null, channel: null, model: null, q: "", sort: "last", order: "desc", page: 1 };
}

export function defaultState(tz: string): DashboardState {
  return { route: { view: "overview" }, range: DEFAULT_RANGE, tz, agent: null, deployment: null, bucket: null, metric: "cost", split: "parts", sessions: defaultSessionFilters() };
}

export function parseRoute(pathname: string): Route {
  const parts = pathname.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const [first, ...rest] = parts;
  if (first === "sessions" && rest.length === 3) return { view: "session", deploymentId: rest[0]!, agentId: rest[1]!, sessionId: rest[2]! };
  if (first === "models" || first === "agents" || first === "tools" || first === "insights" || first === "sessions" || first === "live" || first === "budgets" || first === "alerts") return { view: first };
  return { view: "overview" };
}

export function routePath(route: Route): string {
  switch (route.view) {
    case "overview":
      return "/";
    case "session":
      return `/sessions/${[route.deploymentId, route.agentId, route.sessionId].map(encodeURIComponent).join("/")}`;
    default:
      return `/${route.view}`;
  }
}

function parseRange(q: URLSearchParams): Range {
  const preset = q.get("range");
  if (preset === "custom") {
    const from = q.get("from");
    const to = q.get("to");
    if (from && to && DAY_RE.test(from) && DAY_RE.test(to)) return from <= to ? { preset: "custom", from, to } : { preset: "custom", from: to, to: from };
    return DEFAULT_RANGE;
  }
  return { preset: oneOf(RANGE_PRESETS, preset, DEFAULT_RANGE.preset as RangePreset) };
}

/** Reads a location; anything missing or invalid falls back to its default (`tz` is the reader's zone). */
export function parseState(pathname: string, search: string, defaultTz: string): DashboardState {
  const q = new URLSearchParams(search);
  const page = Number(q.get("page"));
  return {
    route: parseRoute(pathname),
    range: parseRange(q),
    tz: nonEmpty(q.get("tz")) ?? defaultTz,
    agent: nonEmpty(q.get("agent")),
    deployment: nonEmpty(q.get("deployment")),
    bucket: (BUCKETS as readonly (string | null)[]).includes(q.get("bucket")) ? (q.get("bucket") as TimeBucket) : null,
    metric: oneOf(METRICS, q.get("metric"), "cost"),
    split: oneOf(SPLITS, q.get("split"), "parts"),
    sessions: {
      kind: nonEmpty(q.get("kind")),
      channel: nonEmpty(q.get("channel")),
      model: nonEmpty(q.get("model")),
      q: q.get("q") ?? "",
      sort: oneOf(SORTS, q.get("sort"), "last"),
      order: q.get("order") === "asc" ? "asc" : "desc",
      page: Number.isInteger(page) && page >= 1 ? page : 1,
    },
  };
}

/**
 * Path + query for a state. Range and time zone are always written, so a shared link shows the same
 * numbers to a reader in another zone; other parameters only when they differ from their defaults.
 */
export function stateUrl(s: DashboardState): string {
  const q = new URLSearchParams();
  q.set("range", s.range.preset);
  if (s.range.preset === "custom") {
    q.set("from", s.range.from);
    q.set("to", s.range.to);
  }
  q.set("tz", s.tz);
  if (s.agent) q.set("agent", s.agent);
  if (s.deployment) q.set("deployment", s.deployment);
  if (s.bucket) q.set("bucket", s.bucket);
  if (s.metric !== "cost") q.set("metric", s.metric);
  if (s.split !== "parts") q.set("split", s.split);
  const f = s.sessions;
  if (f.kind) q.set("kind", f.kind);
  if (f.channel) q.set("channel", f.channel);
  if (f.model) q.set("model", f.model);
  if (f.q) q.set("q", f.q);
  if (f.sort !== "last") q.set("sort", f.sort);
  if (f.order !== "desc") q.set("order", f.order);
  if (f.page !== 1) q.set("page", String(f.page));
  return `${routePath(s.route)}?${q.toString()}`;
}

/** The filters every report takes: since/until from the range, tz, agent, deployment. */
export function reportParams(s: Pick<DashboardState, "range" | "tz" | "agent" | "deployment">): QueryParams {
  const r = s.range;
  return {
    since: r.preset === "custom" ? r.from : r.preset === "all" ? null : r.preset,
    // Presets end now, so data dated in the future never counts as recent.
    until: r.preset === "custom" ? r.to : r.preset === "all" ? null : "now",
    tz: s.tz,
    agent: s.agent,
    deployment: s.deployment,
  };
}

/** The sessions list's query: report filters + the list's own filters and page. */
export function sessionsParams(s: DashboardState): QueryParams {
  const f = s.sessions;
  return {
    ...reportParams(s),
    kind: f.kind,
    channel: f.channel,
    model: f.model,
    q: f.q.trim() || null,
    sort: f.sort,
    order: f.order,
    limit: SESSIONS_PAGE_SIZE,
    offset: (f.page - 1) * SESSIONS_PAGE_SIZE,
  };
}

/** Hours for a day, days up to a quarter, days for "all" too (a month bucket hides too much on short histories). */
export function autoBucket(range: Range): TimeBucket {
  if (range.preset === "24h") return "hour";
  if (range.preset === "custom") {
    const days = (Date.parse(`${range.to}T00:00:00Z`) - Date.parse(`${range.from}T00:00:00Z`)) / 86_400_000 + 1;
    return days <= 2 ? "hour" : days <= 400 ? "day" : "month";
  }
  return "day";
}

export function effectiveBucket(s: Pick<DashboardState, "bucket" | "range">): TimeBucket {
  return s.bucket ?? autoBucket(s.range);
}

export function rangeLabel(range: Range): string {
  switch (range.preset) {
    case "24h":
      return "last 24 hours";
    case "7d":
      return "last 7 days";
    case "30d":
      return "last 30 days";
    case "90d":
      return "last 90 days";
    case "all":
      return "all time";
    case "custom":
      return range.from === range.to ? range.from : `${range.from} – ${range.to}`;
  }
}

/** A change of what is counted (range, zone, agent, list filters) starts the sessions list at page 1. */
export function withFilters(s: DashboardState, patch: Partial<Omit<DashboardState, "sessions">> & { sessions?: Partial<SessionFilters> }): DashboardState {
  const { sessions, ...rest } = patch;
  const page = sessions?.page ?? 1;
  return { ...s, ...rest, sessions: { ...s.sessions, ...sessions, page } };
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (YYYY-MM-DD) of an instant in a time zone. */
export function dayIn(ms: number, tz: string): string {
  let f = dayFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" });
    dayFormats.set(tz, f);
  }
  return f.format(ms);
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The custom range a reader starts from when switching to "Custom": the last 7 calendar days, today included. */
export function initialCustomRange(now: number, tz: string): Range {
  const to = dayIn(now, tz);
  return { preset: "custom", from: addDays(to, -6), to };
}
