/**
 * `clawtower` / `clawtower serve`: import the local OpenClaw home (progress bar on a terminal), serve the
 * hub and dashboard, and keep importing while running. `--demo` serves a generated dataset instead.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startHub, HubConfigError, weakAdminTokenReason } from "@clawtower/hub";
import { openStore, problemCounts, startIntegrityCheck, storeSchemaVersion, syncHome } from "@clawtower/store";
import { resolveLocalConfig } from "../config.ts";
import { writeDemoHome } from "../demo/demo-home.ts";
import { loadPricing } from "../local.ts";
import { startLiveImport, type LiveImport } from "../live-import.ts";
import { createProgress } from "../progress.ts";
import { checkOnStart } from "../store-check.ts";
import { UsageError } from "../errors.ts";
import { createLogger, parseLogFormat, type Logger } from "../log.ts";
import { VERSION } from "../version.ts";
import { metricsConfig } from "./metrics-config.ts";
import { parseWorkers } from "./shared.ts";

export type ServeOptions = {
  openclawHome?: string;
  db?: string;
  host?: string;
  port?: string;
  import?: boolean;
  demo?: boolean;
  interval?: string;
  adminTokenFile?: string;
  allowReadableTokenFile?: boolean;
  trustProxy?: boolean;
  progress?: boolean;
  workers?: string;
  logFormat?: string;
};

/** How long a stop signal waits for requests in flight (an ingest is answered once committed) before closing. */
export const DRAIN_MS = 30_000;

/**
 * The built dashboard: `web/` beside the bundle in the published package (dist/web), else packages/web/dist
 * in the repo.
 */
export function defaultWebDir(): string | null {
  for (const rel of ["./web", "../../../web/dist"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (fs.existsSync(path.join(dir, "index.html"))) return dir;
  }
  return null;
}

/**
 * The admin token from --admin-token-file (which group and others must not be able to read, unless
 * --allow-readable-token-file says so) or CLAWTOWER_ADMIN_TOKEN.
 */
export function adminToken(o: ServeOptions, env: NodeJS.ProcessEnv, log: (line: string) => void = () => {}): string | null {
  if (o.adminTokenFile) {
    const file = o.adminTokenFile;
    let text: string;
    try {
      const fd = fs.openSync(file, "r");
      try {
        // The mode of the file actually read, not of whatever the name points to a moment later.
        const mode = fs.fstatSync(fd).mode & 0o777;
        if (process.platform !== "win32" && (mode & 0o077) !== 0) {
          const who = mode & 0o007 ? "every user" : "its group";
          const how = mode & 0o044 ? "read" : "changed";
          const what = `--admin-token-file ${file} can be ${how} by ${who} (mode ${mode.toString(8).padStart(4, "0")})`;
          if (!o.allowReadableTokenFile) throw new UsageError(`${what}: run \`chmod 600 ${file}\` (or pass --allow-readable-token-file to accept it)`);
          log(`warning: ${what}; accepted because of --allow-readable-token-file`);
        }
        text = fs.readFileSync(fd, "utf8");
      } finally {
        fs.closeSync(fd);
      }
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`--admin-token-file: ${(e as Error).message}`);
    }
    const token = text.trim();
    if (!token) throw new UsageError(`--admin-token-file ${file} is empty`);
    return token;
  }
  return env["CLAWTOWER_ADMIN_TOKEN"]?.trim() || null;
}

export async function runServe(o: ServeOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const logger = createLogger(parseLogFormat(o.logFormat ?? env["CLAWTOWER_LOG_FORMAT"]));
  try {
    return await serve(o, env, logger);
  } catch (e) {
    // A service's log says why it stopped too (main still prints the error on stderr and sets the exit code).
    if (logger.format === "json") logger.log("error", "fatal", (e as Error).message);
    throw e;
  }
}

async function serve(o: ServeOptions, env: NodeJS.ProcessEnv, logger: Logger): Promise<number> {
  const log = logger.line;
  const cfg = resolveLocalConfig({ openclawHome: o.openclawHome, db: o.db });
  const host = o.host ?? env["CLAWTOWER_HOST"] ?? "127.0.0.1";
  const port = Number(o.port ?? env["CLAWTOWER_PORT"] ?? 4680);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0–65535 (got "${o.port ?? env["CLAWTOWER_PORT"]}")`);
  const intervalMs = Math.round(Number(o.interval ?? "2") * 1000);
  if (!Number.isFinite(intervalMs) || intervalMs < 200) throw new UsageError(`--interval must be a number of seconds ≥ 0.2`);
  // Before the import, which can take a while: a bad token file should fail at once.
  const token = adminToken(o, env, log);
  const weak = token === null ? null : await weakAdminTokenReason(token);
  if (weak) throw new UsageError(weak);
  const metrics = metricsConfig(env);

  let home = cfg.openclaw.home;
  let store = cfg.store;
  if (o.demo) {
    const demo = writeDemoHome(cfg.clawtowerHome, Date.now());
    home = demo.home;
    if (!o.db) {
      const dbPath = path.join(cfg.clawtowerHome, "demo", "clawtower-demo.db");
      for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) fs.rmSync(f, { force: true });
      store = { kind: "sqlite", path: dbPath };
    }
    logger.log("info", "demo", `demo: generated ${demo.totals.sessions} sessions and ${demo.totals.llmCalls} LLM calls over the last 45 days in ${home}`, {
      sessions: demo.totals.sessions,
      llmCalls: demo.totals.llmCalls,
      home,
    });
  }
  const homeExists = fs.existsSync(home);
  const conn = await openStore(store);
  const integrity = await checkOnStart(conn.location, startIntegrityCheck(conn), log).catch(async (e: unknown) => {
    await conn.close();
    throw e;
  });
  const pricing = loadPricing(home);
  const ownId = o.demo ? "demo" : cfg.deploymentId;
  // The home's deployment: our own id, or the plugin's when it reached this home first (store homes.ts).
  let deploymentId = ownId;
  const deploymentName = o.demo ? "demo" : cfg.deploymentName;
  const importing = o.import !== false && homeExists;
  // Without --no-import, a home that does not exist yet is waited for by the live importer.
  const watching = o.import !== false;

  if (importing) {
    const progress = createProgress("Importing transcripts", o.progress !== false && logger.format === "plain");
    const r = await syncHome(conn, { home, deploymentId: ownId, deploymentName, via: "watch", prices: pricing.book, workers: parseWorkers(o.workers), onProgress: (d, t) => progress.update(d, t) });
    progress.stop();
    deploymentId = r.deploymentId;
    const partsRead = r.parts.read + r.parts.appended + r.parts.rewritten;
    logger.log("info", "import", `imported ${home}: ${r.parts.total} transcript parts (${partsRead} read, ${(r.bytesRead / 2 ** 20).toFixed(1)} MiB) in ${(r.durationMs / 1000).toFixed(1)} s`, {
      home,
      parts: r.parts.total,
      partsRead,
      bytesRead: r.bytesRead,
      durationMs: r.durationMs,
    });
    // The store's count, not this run's: a restart over the same data must say so too.
    const problems = Object.values(await problemCounts(conn, { deployment: deploymentId })).reduce((a, b) => a + (b ?? 0), 0);
    if (problems > 0) logger.log("warn", "import", `  warning: ${problems} input problem(s); details: clawtower doctor`, { problems });
  } else if (!homeExists && o.import !== false) {
    logger.log("warn", "import", `no OpenClaw home at ${home} yet: it is imported as soon as it appears (start OpenClaw, or pass --openclaw-home DIR / set OPENCLAW_STATE_DIR), or try \`clawtower serve --demo\`.`, { home });
  }

  let live: LiveImport | null = null;
  const schemaVersion = await storeSchemaVersion(conn);
  let hub;
  try {
    hub = await startHub({
      conn,
      prices: pricing.book,
      host,
      port,
      adminToken: token,
      trustProxy: o.trustProxy === true || env["CLAWTOWER_TRUST_PROXY"] === "1",
      webDir: defaultWebDir(),
      metrics,
      log,
      alerts: alertEngineOptions(env),
      info: () => ({
        version: VERSION,
        store: { dialect: conn.dialect, schemaVersion },
        demo: o.demo === true,
        localDeployment: watching ? deploymentId : null,
        openclawHome: { path: home, exists: live?.status().homeExists ?? homeExists },
        liveImport: live?.status() ?? null,
        storeIntegrity: integrity(),
      }),
    });
  } catch (e) {
    await conn.close();
    if (e instanceof HubConfigError) throw new UsageError(e.message);
    throw e;
  }
  if (watching) {
    live = startLiveImport(conn, { home, deploymentId: ownId, deploymentName, prices: () => (fs.existsSync(home) ? loadPricing(home).book : pricing.book), intervalMs, log, onChange: () => hub.feed.poke() });
  }
  if (!defaultWebDir()) logger.log("warn", "serve", "note: the dashboard is not built (npm run build -w @clawtower/web); the API is available.");
  const what = o.demo ? "the demo" : importing ? home : watching ? `${home} (once it exists)` : `the store ${conn.dialect === "postgres" ? "on PostgreSQL" : "in SQLite"} (no local import)`;

  // A stop signal drains: no new connections, requests in flight are answered (an ingest once committed),
  // then the store closes and the exit code is 0. Later signals (a terminal's Ctrl-C reaches both the launcher,
  // which forwards it, and this process) do not cut the drain short. Listening before saying "serving": a
  // supervisor may signal as soon as it reads that line.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    let first = true;
    const onSignal = (s: NodeJS.Signals) => {
      if (first) resolve(s);
      else logger.log("info", "shutdown", `${s} again: still draining (at most ${DRAIN_MS / 1000} s)`, { signal: s });
      first = false;
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  logger.log("info", "serving", `Clawtower is serving ${what} at ${hub.url}`, { url: hub.url, version: VERSION, store: conn.dialect, schemaVersion, pid: process.pid });
  const signal = await stopSignal;
  const closing = hub.close({ drainMs: DRAIN_MS }); // stops listening before it returns
  logger.log("info", "shutdown", `${signal}: finishing requests in flight, then stopping`, { signal, drainMs: DRAIN_MS });
  await live?.stop();
  await closing;
  await conn.close();
  logger.log("info", "stopped", "Clawtower stopped", { signal });
  return 0;
}

/** Alert timer and retry settings from the environment (README, Alerts); unset ones keep their defaults. */
function alertEngineOptions(env: NodeJS.ProcessEnv): { tickMs?: number; delivery: { baseDelayMs?: number; maxAttempts?: number } } {
  const int = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === "") return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name}: a positive whole number (got ${v})`);
    return n;
  };
  const tickMs = int("CLAWTOWER_ALERT_TICK_MS");
  const baseDelayMs = int("CLAWTOWER_ALERT_RETRY_BASE_MS");
  const maxAttempts = int("CLAWTOWER_ALERT_RETRY_ATTEMPTS");
  return { ...(tickMs ? { tickMs } : {}), delivery: { ...(baseDelayMs ? { baseDelayMs } : {}), ...(maxAttempts ? { maxAttempts } : {}) } };
}
