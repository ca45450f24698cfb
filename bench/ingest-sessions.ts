/**
 * Ingest throughput by sessions per request (`npm run bench -- --suite ingest-sessions [--per-batch 2,100,1000]
 * [--store sqlite|postgres]`): one client sends 10 requests of 2,000 lines each, spread over P sessions per
 * request (fresh sessions every request), to a real hub process on an empty store, while a second client reads
 * the summary every 20 ms. Prints events/s and the slowest read meanwhile (a request that blocks the hub shows
 * up there). Printed only; RESULTS.md is left as it is.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { createApiKey, openStore, type OpenStoreOptions } from "@clawtower/store";
import { dbArgOf, startHubProcess } from "@clawtower/testkit/hub-process";

export type IngestSessionsRow = { store: string; metric: string; value: string };

const LINES_PER_REQUEST = 2_000;
const REQUESTS = 10;

function requestBody(r: number, sessions: number): Buffer {
  const perSession = Math.max(1, Math.floor(LINES_PER_REQUEST / sessions));
  const lines: string[] = [];
  for (let k = 0; k < LINES_PER_REQUEST; k++) {
    const n = r * LINES_PER_REQUEST + k;
    const event = {
      type: "message",
      id: `e${n}`,
      timestamp: new Date(Date.UTC(2026, 10, 22) + n * 1000).toISOString(),
      message: { role: "assistant", provider: "anthropic", model: "claude-sonnet-5", usage: { input: 900, output: 40, cacheRead: 12000, cacheWrite: 0, cost: { total: 0.0069 } } },
    };
    lines.push(JSON.stringify({ agentId: "main", sessionId: `r${r}-s${Math.min(sessions - 1, Math.floor(k / perSession))}`, event }));
  }
  return Buffer.from(`${lines.join("\n")}\n`);
}

async function measure(o: OpenStoreOptions, sessions: number): Promise<{ eventsPerSecond: number; slowestReadMs: number }> {
  const conn = await openStore(o);
  const key = (await createApiKey(conn, { deploymentId: "bench-sessions" }, Date.now())).token;
  await conn.close();
  const { child, url } = await startHubProcess({ db: dbArgOf(o) });
  try {
    const bodies = Array.from({ length: REQUESTS }, (_, r) => requestBody(r, sessions));
    let done = false;
    let slowest = 0;
    const reader = (async () => {
      while (!done) {
        const t = performance.now();
        await (await fetch(`${url}/api/v1/reports/summary`)).arrayBuffer();
        slowest = Math.max(slowest, performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const t = performance.now();
    for (const body of bodies) {
      const r = await fetch(`${url}/api/v1/ingest/events`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" }, body });
      const j = (await r.json()) as { accepted?: number };
      if (j.accepted !== LINES_PER_REQUEST) throw new Error(`ingest: ${JSON.stringify(j).slice(0, 300)}`);
    }
    const seconds = (performance.now() - t) / 1000;
    done = true;
    await reader;
    return { eventsPerSecond: (REQUESTS * LINES_PER_REQUEST) / seconds, slowestReadMs: slowest };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

async function postgresUrl(): Promise<string | null> {
  const url = process.env["CLAWTOWER_BENCH_DATABASE_URL"] ?? process.env["CLAWTOWER_TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return url;
  } catch {
    return null;
  }
}

export async function runIngestSessionsBench(perBatch: number[], stores: string[]): Promise<IngestSessionsRow[]> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ct-bench-sessions-"));
  const rows: IngestSessionsRow[] = [];
  const pgUrl = stores.length === 0 || stores.includes("postgres") ? await postgresUrl() : null;
  try {
    for (const sessions of perBatch) {
      const targets: [string, OpenStoreOptions][] = [];
      if (stores.length === 0 || stores.includes("sqlite")) targets.push(["SQLite", { kind: "sqlite", path: path.join(scratch, `s${sessions}.db`) }]);
      if (pgUrl) targets.push(["PostgreSQL", { kind: "postgres", url: pgUrl, schema: `clawtower_bench_sessions_${process.pid}_${sessions}` }]);
      for (const [name, o] of targets) {
        const m = await measure(o, sessions);
        if (o.kind === "postgres") {
          const c = new pg.Client({ connectionString: o.url });
          await c.connect();
          await c.query(`DROP SCHEMA IF EXISTS ${o.schema} CASCADE`);
          await c.end();
        }
        rows.push({
          store: name,
          metric: `ingest, ${sessions.toLocaleString("en-US")} sessions per request (${REQUESTS} × ${LINES_PER_REQUEST.toLocaleString("en-US")} lines)`,
          value: `${Math.round(m.eventsPerSecond).toLocaleString("en-US")} events/s, slowest summary read meanwhile ${m.slowestReadMs.toFixed(0)} ms`,
        });
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return rows;
}
