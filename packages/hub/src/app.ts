/**
 * The hub's HTTP application: read API + SSE for the dashboard, ingest APIs for gateways, the dashboard's
 * static files, and one error handler that turns every failure into `{ error: { code, message } }`.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { PriceBook } from "@clawtower/core";
import { isStoreFullError, type StoreConnection } from "@clawtower/store";
import { bodyLimit } from "./body.ts";
import { hostGuard, readableDeployment, requireApiKey, requireReader, type AuthConfig } from "./auth.ts";
import { HubError, errorBody } from "./errors.ts";
import type { ChangeFeed } from "./live.ts";
import { requestClient } from "./request-origin.ts";
import { budgetReadRoutes, budgetRoutes } from "./routes/budgets.ts";
import { alertRoutes } from "./routes/alerts.ts";
import { ingestRoutes } from "./routes/ingest.ts";
import { insightsRoutes } from "./routes/insights.ts";
import { DEFAULT_METRICS_OPTIONS, metricsRoutes, type MetricsOptions } from "./routes/metrics.ts";
import { readRoutes } from "./routes/read.ts";
import { signInRoutes } from "./routes/sign-in.ts";
import { createStreamSlots, DEFAULT_STREAM_LIMITS, type StreamLimits } from "./stream-limits.ts";
import { liveReadRoutes, snapshotIngestRoutes } from "./routes/snapshots.ts";

export type HubAppOptions = {
  conn: StoreConnection;
  prices: PriceBook;
  auth: AuthConfig;
  feed: ChangeFeed;
  /** Directory of the built dashboard (packages/web/dist); null serves the API only. */
  webDir: string | null;
  /** Largest accepted request body, in bytes. */
  bodyLimitBytes?: number;
  /** Concurrent live-update streams allowed per client and in all (DEFAULT_STREAM_LIMITS). */
  streamLimits?: StreamLimits;
  now?: () => number;
  /** Facts for /api/v1/info (version, live import status, …). */
  info?: () => Record<string, unknown>;
  log?: (line: string) => void;
  /** /metrics: models named per deployment, and what counts as an active session. */
  metrics?: Partial<MetricsOptions>;
};

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

/** Seconds a client is asked to wait before resending after the store's disk was full. */
const STORE_FULL_RETRY_AFTER_S = 60;

export function createHubApp(opts: HubAppOptions): Hono {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const limit = opts.bodyLimitBytes ?? 32 * 1024 * 1024;
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof HubError) {
      if (err.retryAfterSeconds !== null) c.header("retry-after", String(err.retryAfterSeconds));
      return c.json(errorBody(err.code, err.message), err.status);
    }
    // A full disk is the operator's to fix, not a bug: say so, and have clients (the plugin honours
    // Retry-After on a 503) come back later. The failed transaction kept nothing, and ingest is idempotent.
    if (isStoreFullError(err)) {
      log(`hub: database or disk is full (store ${opts.conn.location}) on ${c.req.method} ${c.req.path}: the failed write kept nothing; free space, clients resend`);
      c.header("Retry-After", String(STORE_FULL_RETRY_AFTER_S));
      return c.json(errorBody("storage_full", "database or disk is full: the hub cannot store this now; send it again later (lines already stored are answered as duplicates)"), 503);
    }
    const id = crypto.randomUUID().slice(0, 8);
    log(`hub: internal error ${id} on ${c.req.method} ${c.req.path}: ${(err as Error).stack ?? String(err)}`);
    return c.json(errorBody("internal", `internal error (id ${id}); see the hub's log`), 500);
  });
  app.notFound((c) => c.json(errorBody("not_found", `no route ${c.req.method} ${c.req.path}`), 404));

  app.use("*", hostGuard(opts.auth));
  app.get("/healthz", async (c) => {
    await opts.conn.db.selectFrom("meta").select("key").limit(1).execute();
    return c.json({ ok: true, store: opts.conn.dialect });
  });

  app.use("/api/v1/ingest/*", bodyLimit(limit), requireApiKey(opts.conn, now));
  app.use("/v1/openclaw/*", bodyLimit(limit), requireApiKey(opts.conn, now));
  app.use("/api/events/*", bodyLimit(limit), requireApiKey(opts.conn, now));
  app.route("/", ingestRoutes({ conn: opts.conn, prices: opts.prices, now, onChange: () => opts.feed.poke() }));
  app.route("/", snapshotIngestRoutes({ conn: opts.conn, now, onChange: () => opts.feed.poke() }));

  app.route("/", signInRoutes({ conn: opts.conn, auth: opts.auth, now }));

  // Before the reader check: gateways fetch their effective budgets with their ingest key.
  const budgets = { conn: opts.conn, auth: opts.auth, now, onChange: () => opts.feed.poke() };
  app.route("/", budgetRoutes(budgets));

  app.use("/api/v1/*", requireReader(opts.conn, opts.auth, now));
  app.route("/", budgetReadRoutes(budgets));
  app.route("/", alertRoutes({ conn: opts.conn, now, onChange: () => opts.feed.poke() }));
  app.route(
    "/",
    readRoutes({
      conn: opts.conn,
      now,
      info: () => ({ schemaVersion: 1, store: opts.conn.dialect, authRequired: !(opts.auth.loopbackOnly && !opts.auth.adminToken), ...(opts.info?.() ?? {}) }),
    }),
  );

  // The same reader check as the read API: whatever it grants or refuses, /metrics grants or refuses too.
  app.use("/metrics", requireReader(opts.conn, opts.auth, now));
  app.route("/", metricsRoutes({ conn: opts.conn, now, options: { ...DEFAULT_METRICS_OPTIONS, ...opts.metrics } }));

  app.route("/", liveReadRoutes({ conn: opts.conn, now }));
  app.route("/", insightsRoutes({ conn: opts.conn, prices: opts.prices, now }));

  const streamLimits = opts.streamLimits ?? DEFAULT_STREAM_LIMITS;
  const streams = createStreamSlots(streamLimits);
  app.get("/api/v1/stream", (c) => {
    const slot = streams.acquire(requestClient(c, opts.auth.trustProxy === true));
    if ("refused" in slot) {
      if (slot.refused === "client") throw new HubError("too_many_requests", `at most ${streamLimits.perClient} live-update streams per client; close other dashboard tabs`, 30);
      throw new HubError("unavailable", `the hub serves at most ${streamLimits.total} live-update streams at once; try again later`, 30);
    }
    // A key bound to a deployment hears only about changes to that deployment.
    const only = readableDeployment(c.get("principal"));
    return streamSSE(c, async (stream) => {
      let id = 0;
      const unsubscribe = opts.feed.subscribe((all) => {
        const changes = only === null ? all : all.filter((x) => x.deploymentId === only);
        if (changes.length === 0) return;
        void stream.writeSSE({ event: "change", id: String(++id), data: JSON.stringify({ changes: changes.length, deployments: [...new Set(changes.map((x) => x.deploymentId))], at: now() }) });
      });
      try {
        await stream.writeSSE({ event: "hello", data: JSON.stringify({ at: now() }) });
        // Comments keep proxies from closing an idle stream. The wait ends early when the client goes away or the
        // hub shuts down, so no timer keeps a closing process alive.
        const gone = new AbortController();
        stream.onAbort(() => gone.abort());
        if (stream.aborted) gone.abort(); // the client left before the listener was there
        const ended = AbortSignal.any([gone.signal, opts.feed.closed]);
        while (!ended.aborted) {
          await waitOrAbort(15_000, ended);
          if (!ended.aborted) await stream.write(": keep-alive\n\n");
        }
      } finally {
        unsubscribe();
        slot.release();
      }
    });
  });

  if (opts.webDir) {
    const root = path.resolve(opts.webDir);
    app.get("*", (c) => {
      const rel = decodeURIComponent(c.req.path).replace(/^\/+/, "");
      let file = path.resolve(root, rel);
      if (!file.startsWith(root)) throw new HubError("not_found", "not found");
      // The dashboard is a single-page app: unknown paths are its routes (deep links), so serve index.html.
      if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(root, "index.html");
      if (!fs.existsSync(file)) throw new HubError("not_found", "the dashboard is not built: run `npm run build -w @clawtower/web`");
      const type = MIME[path.extname(file)] ?? "application/octet-stream";
      const cache = file.includes(`${path.sep}assets${path.sep}`) ? "public, max-age=31536000, immutable" : "no-cache";
      return c.body(fs.readFileSync(file), 200, { "content-type": type, "cache-control": cache });
    });
  }
  return app;
}

function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
