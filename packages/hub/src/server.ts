/**
 * Runs the hub on a host and port. Binding to anything but loopback requires an admin token: data is never
 * served unauthenticated on a public interface.
 */
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import type { PriceBook } from "@clawtower/core";
import { startBackgroundCheckpoints, type StoreConnection } from "@clawtower/store";
import { createHubApp } from "./app.ts";
import type { MetricsOptions } from "./routes/metrics.ts";
import { isLoopbackHost } from "./auth.ts";
import { startAlertEngine, type AlertEngine, type AlertEngineOptions } from "./alerts/engine.ts";
import { createChangeFeed, type ChangeFeed } from "./live.ts";
import type { StreamLimits } from "./stream-limits.ts";
import { weakAdminTokenReason } from "./token-strength.ts";

export class HubConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HubConfigError";
  }
}

export type HubServerOptions = {
  conn: StoreConnection;
  prices: PriceBook;
  host: string;
  port: number;
  adminToken: string | null;
  /** Believe X-Forwarded-For / X-Forwarded-Proto from a reverse proxy in front of the hub (request-origin.ts). */
  trustProxy?: boolean;
  webDir: string | null;
  bodyLimitBytes?: number;
  streamLimits?: StreamLimits;
  now?: () => number;
  info?: () => Record<string, unknown>;
  log?: (line: string) => void;
  metrics?: Partial<MetricsOptions>;
  /** Alert evaluation and delivery (on unless false). */
  alerts?: AlertEngineOptions | false;
};

export type RunningHub = {
  url: string;
  port: number;
  feed: ChangeFeed;
  alerts: AlertEngine | null;
  /**
   * Stops listening and ends live streams. With `drainMs`, requests in flight are answered first (idle
   * keep-alive connections close at once), and only what is still open after `drainMs` is cut.
   */
  close(opts?: { drainMs?: number }): Promise<void>;
};

export async function startHub(opts: HubServerOptions): Promise<RunningHub> {
  const loopbackOnly = isLoopbackHost(opts.host);
  if (!loopbackOnly && !opts.adminToken) {
    throw new HubConfigError(
      `refusing to serve on ${opts.host} without authentication: set CLAWTOWER_ADMIN_TOKEN (or --admin-token-file) to a secret, or bind to 127.0.0.1`,
    );
  }
  if (opts.adminToken !== null) {
    const weak = await weakAdminTokenReason(opts.adminToken);
    if (weak) throw new HubConfigError(weak);
  }
  const feed = await createChangeFeed(opts.conn);
  const app = createHubApp({
    conn: opts.conn,
    prices: opts.prices,
    auth: { adminToken: opts.adminToken, loopbackOnly, trustProxy: opts.trustProxy === true },
    feed,
    webDir: opts.webDir,
    ...(opts.bodyLimitBytes !== undefined ? { bodyLimitBytes: opts.bodyLimitBytes } : {}),
    ...(opts.streamLimits ? { streamLimits: opts.streamLimits } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.info ? { info: opts.info } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port }, () => resolve(s));
    s.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new HubConfigError(`port ${opts.port} on ${opts.host} is already in use (set --port or CLAWTOWER_PORT)`) : e),
    );
  });
  // The main thread parses requests and writes; WAL checkpoints run beside it.
  const stopCheckpoints = startBackgroundCheckpoints(opts.conn);
  const alerts = opts.alerts === false ? null : startAlertEngine(opts.conn, feed, opts.now ?? Date.now, opts.log ?? ((l) => process.stderr.write(`${l}\n`)), opts.alerts ?? {});
  const port = (server.address() as AddressInfo).port;
  const shownHost = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    feed,
    alerts,
    close: async ({ drainMs = 0 } = {}) => {
      const alertsStopped = alerts?.close(); // stops new passes at once; the one running finishes below
      feed.close();
      const http = server as unknown as { closeIdleConnections(): void; closeAllConnections(): void };
      let closed = false;
      const done = new Promise<void>((resolve) => server.close(() => resolve())).then(() => {
        closed = true;
      });
      // A connection whose request is answered turns idle: close it then, until none is left or time is up.
      const deadline = Date.now() + drainMs;
      while (!closed && Date.now() < deadline) {
        http.closeIdleConnections();
        await Promise.race([done, new Promise((r) => setTimeout(r, 50))]);
      }
      http.closeAllConnections();
      await done;
      await alertsStopped;
      await stopCheckpoints();
    },
  };
}
