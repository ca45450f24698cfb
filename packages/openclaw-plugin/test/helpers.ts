/** Shared test setup: an in-process hub on loopback, fixture homes copied to temp dirs, configs. */
import fs from "node:fs";
import path from "node:path";
import { createPriceBook } from "@clawtower/core";
import { startHub } from "@clawtower/hub";
import { createApiKey, openStore, sessionsReport, summaryReport, toolsReport, type StoreConnection } from "@clawtower/store";
import { tmpDir } from "@clawtower/testkit";
import { loadConfig, type ResolvedConfig } from "../src/config/load.ts";
import type { PluginConfigInput } from "../src/config/schema.ts";

export const FIXTURES = path.resolve(import.meta.dirname, "../../testkit/fixtures");

export type TestHub = {
  url: string;
  key: string;
  conn: StoreConnection;
  dbPath: string;
  close(): Promise<void>;
  summary(): Promise<Awaited<ReturnType<typeof summaryReport>>>;
  sessions(): Promise<Awaited<ReturnType<typeof sessionsReport>>>;
  tools(): Promise<Awaited<ReturnType<typeof toolsReport>>>;
  rawEvents(): Promise<number>;
};

export async function startTestHub(deploymentId = "gw-test", dbPath = path.join(tmpDir("ct-hub-"), "hub.db")): Promise<TestHub> {
  const conn = await openStore({ kind: "sqlite", path: dbPath });
  const key = (await createApiKey(conn, { deploymentId }, Date.now())).token;
  const hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: null });
  const filters = { since: null, until: null, tz: "UTC", agent: null, deployment: deploymentId };
  return {
    url: hub.url,
    key,
    conn,
    dbPath,
    async close() {
      await hub.close();
      await conn.close();
    },
    summary: () => summaryReport(conn, filters as never, Date.now()),
    sessions: () => sessionsReport(conn, filters as never, { limit: 1000, offset: 0 } as never, Date.now()),
    tools: () => toolsReport(conn, filters as never, Date.now()),
    async rawEvents() {
      const r = await conn.db.selectFrom("raw_events").select((eb) => eb.fn.countAll<number>().as("n")).where("deployment_id", "=", deploymentId).executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}

/** A copy of a checked-in fixture home (`state/` of packages/testkit/fixtures/<name>). */
export function copyFixture(name: string): string {
  const dir = tmpDir("ct-home-");
  fs.cpSync(path.join(FIXTURES, name, "state"), dir, { recursive: true });
  return dir;
}

export function expectedOf(name: string): { transcriptTotals: { llmCallsWithUsage: number; input: number; output: number; cacheRead: number; cacheWrite: number; totalTokens: number; costUsd: number; toolCalls: number } } {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name, "expected.json"), "utf8"));
}

export function configFor(hub: { url: string; key: string }, extra: PluginConfigInput = {}): ResolvedConfig {
  const loaded = loadConfig({ apiKey: hub.key, deploymentId: "gw-test", apiUrl: hub.url, ...extra, upload: { retryBackoffMs: 10, ...extra.upload }, filter: { minMessages: 0, minBytes: 0, ...extra.filter } });
  if (loaded.status !== "ok") throw new Error(`test config: ${JSON.stringify(loaded.issues)}`);
  return loaded.config;
}

export const quietLogger = { info() {}, warn() {}, error() {} };

export function memoryLogger() {
  const lines: string[] = [];
  return { lines, info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) };
}
