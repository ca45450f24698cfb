/**
 * Keeps the store in step with the OpenClaw home while the hub runs: a sync every `intervalMs`, and one
 * soon after the file system reports a change under `agents/`, so new transcript data shows up within a
 * couple of seconds. Syncs never overlap; an unchanged home costs a few stat calls. A home that does not exist
 * yet (OpenClaw installed after `npm start`) is looked for on every tick and imported when it appears.
 */
import fs from "node:fs";
import path from "node:path";
import type { PriceBook } from "@clawtower/core";
import { syncHome, type StoreConnection, type SyncReport } from "@clawtower/store";

export type LiveImportStatus = {
  home: string;
  running: boolean;
  /** False until the home exists: then nothing is imported, and the importer waits for it. */
  homeExists: boolean;
  lastSyncAt: string | null;
  lastSyncMs: number | null;
  lastChange: string | null;
  lastError: string | null;
};

/** `stop` resolves once a sync in progress has finished (the store may be closed then). */
export type LiveImport = { status(): LiveImportStatus; syncNow(): Promise<void>; stop(): Promise<void> };

export type LiveImportOptions = {
  home: string;
  deploymentId: string;
  deploymentName: string;
  /** Asked again when the home appears: its openclaw.json may hold prices. */
  prices: () => PriceBook;
  intervalMs: number;
  onChange: (r: SyncReport) => void;
  log: (line: string) => void;
};

export function startLiveImport(conn: StoreConnection, opts: LiveImportOptions): LiveImport {
  const status: LiveImportStatus = { home: opts.home, running: true, homeExists: fs.existsSync(opts.home), lastSyncAt: null, lastSyncMs: null, lastChange: null, lastError: null };
  let prices = opts.prices();
  let busy: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  let watcher: fs.FSWatcher | null = null;
  let debounce: NodeJS.Timeout | null = null;

  // Watching needs agents/ to exist: retried on every tick until it does (or after the watched directory went away).
  const ensureWatcher = () => {
    if (watcher || stopped) return;
    try {
      watcher = fs.watch(path.join(opts.home, "agents"), { recursive: true }, () => {
        if (debounce) clearTimeout(debounce);
        debounce = setTimeout(() => void syncNow(), 250);
      });
      watcher.on("error", () => {
        watcher?.close();
        watcher = null;
      });
    } catch {
      // no agents/ yet, or no recursive watch here: the interval still picks changes up
    }
  };

  const run = async () => {
    if (!fs.existsSync(opts.home)) {
      if (status.homeExists) opts.log(`import: ${opts.home} is gone; waiting for it to come back`);
      status.homeExists = false;
      return;
    }
    if (!status.homeExists) {
      opts.log(`import: found the OpenClaw home ${opts.home}; importing it`);
      status.homeExists = true;
      prices = opts.prices();
    }
    ensureWatcher();
    try {
      const r = await syncHome(conn, { home: opts.home, deploymentId: opts.deploymentId, deploymentName: opts.deploymentName, via: "watch", prices });
      status.lastSyncAt = new Date().toISOString();
      status.lastSyncMs = r.durationMs;
      if (status.lastError) opts.log(`import: recovered (${opts.home})`);
      status.lastError = null;
      if (r.sessionsTouched > 0 || r.parts.gone > 0) {
        status.lastChange = status.lastSyncAt;
        opts.onChange(r);
      }
    } catch (e) {
      const message = (e as Error).message;
      if (message !== status.lastError) opts.log(`import: ${message}`);
      status.lastError = message;
    }
  };
  const syncNow = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (busy) {
      again = true;
      return busy;
    }
    busy = (async () => {
      do {
        again = false;
        await run();
      } while (again && !stopped);
      busy = null;
    })();
    return busy;
  };

  const timer = setInterval(() => void syncNow(), opts.intervalMs);
  if (status.homeExists) ensureWatcher();
  return {
    status: () => ({ ...status, running: !stopped }),
    syncNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (debounce) clearTimeout(debounce);
      watcher?.close();
      await busy;
    },
  };
}
