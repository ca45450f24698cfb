/**
 * Read API behind the dashboard. Every report takes the same filters as query parameters (since, until,
 * tz, agent, deployment) and returns the same JSON as the matching `clawtower report … --json`. A key bound
 * to a deployment reads only that deployment: its filter is forced, and naming another one is refused.
 */
import { Hono, type Context } from "hono";
import { assertTimeZone, bucketBoundaries, buildTimeseries, isoInstant, isRelativeBound, parseTimeBound, type ReportFilters } from "@clawtower/core";
import {
  agentsReport,
  dataRange,
  facets,
  modelsReport,
  periodReport,
  sessionReplay,
  sessionsReport,
  summaryReport,
  toolsReport,
  usageAggregates,
  type StoreConnection,
} from "@clawtower/store";
import { readableDeployment } from "../auth.ts";
import { HubError } from "../errors.ts";
import { FilterQuery, ReplayQuery, SessionsQuery, TimeseriesQuery, parseWith } from "../validation.ts";

export type ReadDeps = { conn: StoreConnection; now: () => number; info: () => Record<string, unknown> };

export function filtersFrom(q: { since?: string | undefined; until?: string | undefined; tz?: string | undefined; agent?: string | undefined; deployment?: string | undefined }, now: number): ReportFilters {
  const tz = q.tz ?? "UTC";
  try {
    assertTimeZone(tz);
    const since = q.since ? parseTimeBound(q.since, tz, now, "--since") : null;
    // "The last 7 days" ends now: data dated in the future (a clock ahead) is not recent (it is flagged as a problem).
    const until = q.until ? parseTimeBound(q.until, tz, now, "--until") : q.since && isRelativeBound(q.since) ? now : null;
    if (since !== null && until !== null && since >= until) throw new Error("since must be before until");
    return { since, until, tz, agent: q.agent ?? null, deployment: q.deployment ?? null };
  } catch (e) {
    throw new HubError("invalid_query", (e as Error).message.replace(/^--/, ""));
  }
}

function query(c: Context): Record<string, string> {
  return c.req.query();
}

/** The deployment the caller may read (null: any), refusing a request for another one. */
function boundDeployment(c: Context, asked: string | null | undefined): string | null {
  const only = readableDeployment(c.get("principal"));
  if (only !== null && asked !== null && asked !== undefined && asked !== only) throw new HubError("forbidden", `this API key may read deployment ${only} only`);
  return only;
}

/** The query with the caller's deployment forced onto it. */
function scoped<Q extends { deployment?: string | undefined }>(c: Context, q: Q): Q {
  const only = boundDeployment(c, q.deployment);
  return only === null ? q : { ...q, deployment: only };
}

export function readRoutes(deps: ReadDeps): Hono {
  const { conn, now } = deps;
  const app = new Hono();

  app.get("/api/v1/info", (c) => {
    const p = c.get("principal");
    return c.json({ ...deps.info(), access: { kind: p.kind, deployment: readableDeployment(p) } });
  });

  app.get("/api/v1/reports/summary", async (c) => {
    const q = scoped(c, parseWith(FilterQuery, query(c), "query"));
    return c.json(await summaryReport(conn, filtersFrom(q, now()), now()));
  });

  for (const [path, bucket] of [["daily", "day"], ["weekly", "week"], ["monthly", "month"]] as const) {
    app.get(`/api/v1/reports/${path}`, async (c) => {
      const q = scoped(c, parseWith(FilterQuery, query(c), "query"));
      return c.json(await periodReport(conn, filtersFrom(q, now()), bucket, now()));
    });
  }

  app.get("/api/v1/reports/timeseries", async (c) => {
    const q = scoped(c, parseWith(TimeseriesQuery, query(c), "query"));
    const f = filtersFrom(q, now());
    const range = await dataRange(conn, f);
    const from = f.since ?? range?.first ?? null;
    const to = f.until ?? (range ? range.last + 1 : null);
    if (q.bucket === "hour" && from !== null && to !== null && to - from > 400 * 86_400_000) {
      throw new HubError("invalid_query", "hour buckets are limited to ranges of 400 days; use day, week or month");
    }
    const boundaries = from !== null && to !== null && to > from ? bucketBoundaries(from, to, f.tz, q.bucket) : [];
    const rows = boundaries.length ? await usageAggregates(conn, f, boundaries) : [];
    return c.json(buildTimeseries(rows, { bucket: q.bucket, groupBy: q.groupBy, filters: f, generatedAt: now(), dataRange: range }));
  });

  app.get("/api/v1/reports/models", async (c) => c.json(await modelsReport(conn, filtersFrom(scoped(c, parseWith(FilterQuery, query(c), "query")), now()), now())));
  app.get("/api/v1/reports/agents", async (c) => c.json(await agentsReport(conn, filtersFrom(scoped(c, parseWith(FilterQuery, query(c), "query")), now()), now())));
  app.get("/api/v1/reports/tools", async (c) => c.json(await toolsReport(conn, filtersFrom(scoped(c, parseWith(FilterQuery, query(c), "query")), now()), now())));

  app.get("/api/v1/sessions", async (c) => {
    const q = scoped(c, parseWith(SessionsQuery, query(c), "query"));
    const f = filtersFrom(q, now());
    const r = await sessionsReport(conn, f, { limit: q.limit, offset: q.offset, sort: q.sort, order: q.order, kind: q.kind, channel: q.channel, model: q.model, q: q.q }, now());
    return c.json({ ...r, page: { limit: q.limit, offset: q.offset } });
  });

  app.get("/api/v1/sessions/:deployment/:agent/:session", async (c) => {
    const q = parseWith(ReplayQuery, query(c), "query");
    const ref = { deploymentId: c.req.param("deployment"), agentId: c.req.param("agent"), sessionId: c.req.param("session") };
    boundDeployment(c, ref.deploymentId);
    const replay = await sessionReplay(conn, ref, q);
    if (!replay) throw new HubError("not_found", `no session ${ref.sessionId} of agent ${ref.agentId} in deployment ${ref.deploymentId}`);
    return c.json(replay);
  });

  /** What the filters can choose from. */
  app.get("/api/v1/facets", async (c) => {
    const q = scoped(c, parseWith(FilterQuery.pick({ deployment: true }), query(c), "query"));
    const only = readableDeployment(c.get("principal"));
    let listed = conn.db.selectFrom("deployments").select(["deployment_id", "name", "kind", "last_seen_at", "home_id"]);
    if (only !== null) listed = listed.where("deployment_id", "=", only);
    const deployments = await listed.orderBy("name").execute();
    let pathRows = conn.db.selectFrom("deployment_paths").select(["deployment_id", "via", "name", "last_seen_at"]);
    if (only !== null) pathRows = pathRows.where("deployment_id", "=", only);
    const paths = await pathRows.orderBy("via").orderBy("name").execute();
    const found = await facets(conn, q.deployment ?? null);
    return c.json({
      deployments: deployments.map((d) => ({
        id: d.deployment_id,
        name: d.name,
        kind: d.kind,
        homeId: d.home_id,
        lastSeenAt: isoInstant(Number(d.last_seen_at)),
        // Through which paths its data arrives: local import, watch (serve's live import), plugin, ingest API.
        paths: paths.filter((p) => p.deployment_id === d.deployment_id).map((p) => ({ via: p.via, name: p.name, lastSeenAt: isoInstant(Number(p.last_seen_at)) })),
      })),
      ...found,
    });
  });

  return app;
}
