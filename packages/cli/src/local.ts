/** Opens the store and brings it up to date with the local OpenClaw home: the first step of every report. */
import fs from "node:fs";
import { createPriceBook, listAgents, loadBundledPrices, readConfigPrices, type PriceBook } from "@clawtower/core";
import { openStore, syncHome, type StoreConnection, type SyncReport } from "@clawtower/store";
import type { LocalConfig } from "./config.ts";
import { NoOpenClawHomeError } from "./errors.ts";
import { createProgress } from "./progress.ts";

export type PricingInfo = { book: PriceBook; configFiles: string[]; configErrors: { file: string; error: string }[]; tableSource: string; tableModels: number; configModels: number };

export function loadPricing(home: string): PricingInfo {
  const config = readConfigPrices(home, listAgents(home).map((a) => a.dir));
  const table = loadBundledPrices();
  return {
    book: createPriceBook(config.prices, table.prices),
    configFiles: config.files,
    configErrors: config.errors,
    tableSource: table.source,
    tableModels: table.prices.length,
    configModels: config.prices.length,
  };
}


export type Synced = { conn: StoreConnection; sync: SyncReport; pricing: PricingInfo };

export async function openAndSync(cfg: LocalConfig, opts: { progress: boolean; workers?: number | undefined }): Promise<Synced> {
  if (!fs.existsSync(cfg.openclaw.home)) throw new NoOpenClawHomeError(cfg.openclaw.home, cfg.openclaw.from);
  const conn = await openStore(cfg.store);
  const pricing = loadPricing(cfg.openclaw.home);
  const progress = createProgress("Reading transcripts", opts.progress);
  try {
    const sync = await syncHome(conn, {
      home: cfg.openclaw.home,
      deploymentId: cfg.deploymentId,
      deploymentName: cfg.deploymentName,
      prices: pricing.book,
      workers: opts.workers,
      onProgress: (done, total) => progress.update(done, total),
    });
    return { conn, sync, pricing };
  } catch (e) {
    await conn.close();
    throw e;
  } finally {
    progress.stop();
  }
}
