/**
 * `clawtower` / `clawtower serve`: import the local OpenClaw home (progress bar on a terminal), serve the
 * hub and dashboard, and keep importing while running. `--demo` serves a generated dataset instead.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startHub, HubConfigError } from "@clawtower/hub";
import { openStore, problemCounts, startIntegrityCheck, syncHome } from "@clawtower/store";
import { resolveLocalConfig } from "../config.ts";
import { writeDemoHome } from "../demo/demo-home.ts";
import { loadPricing } from "../local.ts";
import { startLiveImport, type LiveImport } from "../live-import.ts";
import { createProgress } from "../progress.ts";
import { checkOnStart } from "../store-check.ts";
import { UsageError } from "../errors.ts";
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
  progress?: boolean;
  workers?: string;
};

/** packages/web/dist, next to this package in the repo. */
export function defaultWebDir(): string | null {
  const dir = fileURLToPath(new URL("../../../web/dist", import.meta.url));
  return fs.existsSync(path.join(dir, "index.html")) ? dir : null;
}

function adminToken(o: ServeOptions, env: NodeJS.ProcessEnv): string | null {
  if (o.adminTokenFile) {
    try {
      return fs.readFileSync(o.adminTokenFile, "utf8").trim();
    } catch (e) {
      throw new UsageError(`--admin-token-file: ${(e as Error).message}`);
    }
  }
  return env["CLAWTOWER_ADMIN_TOKEN"]?.trim() || null;
}

export async function runServe(o: ServeOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const cfg = resolveLocalConfig({ openclawHome: o.openclawHome, db: o.db });
  const host = o.host ?? env["CLAWTOWER_HOST"] ?? "127.0.0.1";
  const port = Number(o.port ?? env["CLAWTOWER_PORT"] ?? 4680);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0–65535 (got "${o.port ?? env["CLAWTOWER_PORT"]}")`);
  const intervalMs = Math.round(Number(o.interval ?? "2") * 1000);
  if (!Number.isFinite(intervalMs) || intervalMs < 200) throw new UsageError(`--interval must be a number of seconds ≥ 0.2`);

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
    log(`demo: generated ${demo.totals.sessions} sessions and ${demo.totals.llmCalls} LLM calls over the last 45 days in ${home}`);
  }
  const homeExists = fs.existsSync(home);
  const conn = await openStore(store);
  const integrity = await checkOnStart(conn.location, startIntegrityCheck(conn), log).catch(async (e: unknown) => {
    await conn.close();
    throw e;
  });
  const pricing = loadPricing(home);
  const deploymentId = o.demo ? "demo" : cfg.deploymentId;
  const deploymentName = o.demo ? "demo" : cfg.deploymentName;
  const importing = o.import !== false && homeExists;
  // Without --no-import, a home that does not exist yet is waited for by the live importer.
  const watching = o.import !== false;

  if (importing) {
    const progress = createProgress("Importing transcripts", o.progress !== false);
    const r = await syncHome(conn, { home, deploymentId, deploymentName, prices: pricing.book, workers: parseWorkers(o.workers), onProgress: (d, t) => progress.update(d, t) });
    progress.stop();
    log(`imported ${home}: ${r.parts.total} transcript parts (${r.parts.read + r.parts.appended + r.parts.rewritten} read, ${(r.bytesRead / 2 ** 20).toFixed(1)} MiB) in ${(r.durationMs / 1000).toFixed(1)} s`);
    // The store's count, not this run's: a restart over the same data must say so too.
    const problems = Object.values(await problemCounts(conn, { deployment: deploymentId })).reduce((a, b) => a + (b ?? 0), 0);
    if (problems > 0) log(`  warning: ${problems} input problem(s); details: clawtower doctor`);
  } else if (!homeExists && o.import !== false) {
    log(`no OpenClaw home at ${home} yet: it is imported as soon as it appears (start OpenClaw, or pass --openclaw-home DIR / set OPENCLAW_STATE_DIR), or try \`clawtower serve --demo\`.`);
  }

  let live: LiveImport | null = null;
  let hub;
  try {
    hub = await startHub({
      conn,
      prices: pricing.book,
      host,
      port,
      adminToken: adminToken(o, env),
      webDir: defaultWebDir(),
      log,
      info: () => ({
        version: "0.1.0",
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
    live = startLiveImport(conn, { home, deploymentId, deploymentName, prices: () => (fs.existsSync(home) ? loadPricing(home).book : pricing.book), intervalMs, log, onChange: () => hub.feed.poke() });
  }
  if (!defaultWebDir()) log("note: the dashboard is not built (npm run build -w @clawtower/web); the API is available.");
  const what = o.demo ? "the demo" : importing ? home : watching ? `${home} (once it exists)` : `the store ${conn.dialect === "postgres" ? "on PostgreSQL" : "in SQLite"} (no local import)`;
  process.stdout.write(`Clawtower is serving ${what} at ${hub.url}\n`);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  live?.stop();
  await hub.close();
  await conn.close();
  return 0;
}
