/**
 * Hub benchmarks, on embedded SQLite and on PostgreSQL (when reachable):
 *   - p50 / p95 of every dashboard API call on a 5 M LLM-call store (generated once, cached);
 *   - ingest events/s with 4 concurrent clients, and hub RSS at rest and under that load;
 *   - import throughput of the legacy bench corpus into each store.
 * Each measurement talks to a real hub process over loopback HTTP.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { createPriceBook, listAgents, loadBundledPrices, readConfigPrices } from "@clawtower/core";
import { createApiKey, openStore, syncHome, type OpenStoreOptions } from "@clawtower/store";
import { HUB_DATASET_VERSION, generateHubDataset } from "./hub-dataset.ts";
import { dbArgOf, startHubProcess, type HubProcess } from "@clawtower/testkit/hub-process";

const root = path.resolve(import.meta.dirname, "..");
const log = (s: string) => process.stderr.write(`${s}\n`);

export type HubBenchRow = { store: string; metric: string; value: string };


function startHub(o: OpenStoreOptions, bin?: string): Promise<HubProcess> {
  return startHubProcess({ db: dbArgOf(o), ...(bin ? { bin } : {}) });
}

function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ENDPOINTS: [string, string][] = [
  ["summary, all time", "/api/v1/reports/summary"],
  ["summary, 7 d", "/api/v1/reports/summary?since=7d"],
  ["summary, 24 h, Asia/Kolkata", "/api/v1/reports/summary?since=24h&tz=Asia/Kolkata"],
  ["timeseries day × model, 30 d", "/api/v1/reports/timeseries?bucket=day&groupBy=model&since=30d"],
  ["timeseries hour, 24 h", "/api/v1/reports/timeseries?bucket=hour&since=24h"],
  ["timeseries month, all", "/api/v1/reports/timeseries?bucket=month"],
  ["models, 30 d", "/api/v1/reports/models?since=30d"],
  ["agents, all", "/api/v1/reports/agents"],
  ["tools, 30 d", "/api/v1/reports/tools?since=30d"],
  ["sessions, latest 50", "/api/v1/sessions?limit=50"],
  ["sessions, costliest 50", "/api/v1/sessions?limit=50&sort=cost"],
  ["sessions, 7 d, latest", "/api/v1/sessions?limit=50&since=7d"],
  ["sessions, 7 d, costliest", "/api/v1/sessions?limit=50&since=7d&sort=cost"],
  ["sessions, kind=cron, page 20", "/api/v1/sessions?limit=50&kind=cron&offset=1000"],
  ["sessions, model filter", "/api/v1/sessions?limit=50&model=openai/gpt-6-sol"],
  ["sessions, text search", "/api/v1/sessions?limit=50&q=sess-1234"],
  ["facets", "/api/v1/facets"],
  ["metrics (Prometheus scrape)", "/metrics"],
];

async function latency(url: string, rounds = 30): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 3; i++) await (await fetch(url)).arrayBuffer();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    const r = await fetch(url);
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

function ingestBatch(client: number, b: number, size: number): string {
  const lines: string[] = [];
  for (let k = 0; k < size; k++) {
    const n = (client * 1_000_000 + b) * size + k;
    const session = `s-${client}-${Math.floor(b / 20)}`;
    const ts = new Date(Date.UTC(2026, 10, 22) - 3_600_000 + (n % 3_600_000)).toISOString();
    const event =
      k % 2 === 0
        ? { type: "message", id: `e${n}`, timestamp: ts, message: { role: "assistant", provider: "anthropic", model: "claude-sonnet-5", content: [{ type: "toolCall", id: `c${n}`, name: "read", arguments: { path: "a.md" } }], usage: { input: 900, output: 40, cacheRead: 12000, cacheWrite: 0, cost: { total: 0.0069 } } } }
        : { type: "message", id: `e${n}`, timestamp: ts, message: { role: "toolResult", toolCallId: `c${n - 1}`, toolName: "read", content: [{ type: "text", text: "x".repeat(1500) }], isError: false } };
    lines.push(JSON.stringify({ agentId: `agent${client}`, sessionId: session, event }));
  }
  return `${lines.join("\n")}\n`;
}

const INGEST_CLIENTS = 4;
const INGEST_BATCH = 500;
const INGEST_EVENTS = 80_000;

async function ingestThroughput(o: OpenStoreOptions): Promise<{ eventsPerSecond: number; rssRest: number; rssPeak: number }> {
  const conn = await openStore(o);
  const key = (await createApiKey(conn, { deploymentId: "bench-ingest" }, Date.now())).token;
  await conn.close();
  const { child, url } = await startHub(o);
  await new Promise((r) => setTimeout(r, 1500));
  const rssRest = rssMiB(child.pid!);
  let peak = rssRest;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(child.pid!))), 100);
  const size = INGEST_BATCH;
  const batchesPerClient = INGEST_EVENTS / INGEST_CLIENTS / INGEST_BATCH;
  // Request bodies are built (and encoded) before the clock starts: the clients stand for other machines, and
  // generating 80,000 events inside the timed window took ~2.3 s of CPU from the hub on a 2-core machine.
  const bodies = Array.from({ length: INGEST_CLIENTS }, (_, c) => Array.from({ length: batchesPerClient }, (_, b) => Buffer.from(ingestBatch(c, b, size))));
  const t = performance.now();
  await Promise.all(
    Array.from({ length: INGEST_CLIENTS }, async (_, c) => {
      for (let b = 0; b < batchesPerClient; b++) {
        const r = await fetch(`${url}/api/v1/ingest/events`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" }, body: bodies[c]![b]! });
        const j = (await r.json()) as { accepted: number };
        if (j.accepted !== size) throw new Error(`ingest: ${JSON.stringify(j).slice(0, 300)}`);
      }
    }),
  );
  const seconds = (performance.now() - t) / 1000;
  clearInterval(sampler);
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  return { eventsPerSecond: INGEST_EVENTS / seconds, rssRest, rssPeak: peak };
}

async function postgresUrl(): Promise<string | null> {
  const url = process.env["CLAWTOWER_BENCH_DATABASE_URL"] ?? process.env["CLAWTOWER_TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return url;
  } catch {
    log(`PostgreSQL not reachable at ${url}: PostgreSQL rows are skipped`);
    return null;
  }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
}

type BenchStore = { name: string; options: OpenStoreOptions; fresh: () => Promise<OpenStoreOptions> };

/** The stores to measure: SQLite always, PostgreSQL when reachable; `fresh` gives an empty one in `scratch`. */
async function benchStores(scratch: string): Promise<BenchStore[]> {
  const pgUrl = await postgresUrl();
  const stores: BenchStore[] = [];
  let n = 0;
  stores.push({
    name: "SQLite",
    options: { kind: "sqlite", path: path.join(root, "bench", ".corpus", `hub-5m-v${HUB_DATASET_VERSION}.db`) },
    fresh: async () => ({ kind: "sqlite", path: path.join(scratch, `fresh-${n++}.db`) }),
  });
  if (pgUrl) {
    stores.push({
      name: "PostgreSQL",
      options: { kind: "postgres", url: pgUrl, schema: `clawtower_bench_5m_v${HUB_DATASET_VERSION}` },
      fresh: async () => {
        const schema = `clawtower_bench_fresh_${process.pid}_${n++}`;
        await dropSchema(pgUrl, schema);
        return { kind: "postgres", url: pgUrl, schema };
      },
    });
  }
  return stores;
}

/** Ingest events/s into a fresh store, as two rows (throughput, RSS). */
async function ingestRows(store: BenchStore): Promise<HubBenchRow[]> {
  const ingestStore = await store.fresh();
  const ing = await ingestThroughput(ingestStore);
  if (ingestStore.kind === "postgres" && ingestStore.schema) await dropSchema(ingestStore.url, ingestStore.schema);
  return [
    { store: store.name, metric: `ingest, 4 concurrent clients (${INGEST_EVENTS.toLocaleString("en-US")} events, ${INGEST_BATCH} per batch)`, value: `${Math.round(ing.eventsPerSecond).toLocaleString("en-US")} events/s` },
    { store: store.name, metric: "hub RSS at rest / peak under ingest", value: `${ing.rssRest.toFixed(0)} / ${ing.rssPeak.toFixed(0)} MiB` },
  ];
}

/** Only the ingest measurement, on fresh stores (no 5 M-call datasets needed): `npm run bench -- --suite ingest`. */
export async function runIngestBench(): Promise<HubBenchRow[]> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ct-bench-hub-"));
  const rows: HubBenchRow[] = [];
  for (const store of await benchStores(scratch)) rows.push(...(await ingestRows(store)));
  fs.rmSync(scratch, { recursive: true, force: true });
  return rows;
}

export type DashboardBenchOptions = {
  /** Substrings of endpoint names (see ENDPOINTS) to measure; empty: all. */
  queries: string[];
  /** "sqlite" / "postgres"; empty: both (PostgreSQL when reachable). */
  stores: string[];
  rounds: number;
  /** Another checkout of the repository (its packages/cli/bin/clawtower.js) to measure on the same store, alternating with this one. */
  baseline: string | null;
};

/** Times `rounds` requests to each URL, alternating between them (the order swapped every round), after 3 warm-up requests each. */
async function latencies(urls: string[], rounds: number): Promise<{ p50: number; p95: number }[]> {
  for (const url of urls) for (let i = 0; i < 3; i++) await (await fetch(url)).arrayBuffer();
  const times: number[][] = urls.map(() => []);
  for (let i = 0; i < rounds; i++) {
    const order = urls.map((_, k) => k);
    if (i % 2 === 1) order.reverse();
    for (const k of order) {
      const t = performance.now();
      const r = await fetch(urls[k]!);
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`${urls[k]}: ${r.status}`);
      times[k]!.push(performance.now() - t);
    }
  }
  return times.map((ts) => {
    ts.sort((a, b) => a - b);
    return { p50: percentile(ts, 50), p95: percentile(ts, 95) };
  });
}

/**
 * Only the dashboard latency on the 5 M-call datasets (generate them first: `node bench/gen-hub-datasets.ts`):
 * `npm run bench -- --suite dashboard [--query "text search" …] [--store sqlite|postgres] [--rounds 30] [--baseline DIR]`.
 * With a baseline checkout, both hubs serve the same store and each query is timed on both in alternation,
 * so a before/after comparison sees the same machine load.
 */
export async function runDashboardBench(opts: DashboardBenchOptions): Promise<HubBenchRow[]> {
  const rows: HubBenchRow[] = [];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ct-bench-hub-"));
  const endpoints = ENDPOINTS.filter(([name]) => opts.queries.length === 0 || opts.queries.some((q) => name.includes(q)));
  for (const store of await benchStores(scratch)) {
    if (opts.stores.length > 0 && !opts.stores.includes(store.options.kind)) continue;
    const conn = await openStore(store.options);
    const ready = await conn.db.selectFrom("meta").select("value").where("key", "=", "bench:hub-dataset").executeTakeFirst();
    await conn.close();
    if (!ready) throw new Error(`${store.name}: no 5 M-call dataset; run node bench/gen-hub-datasets.ts first`);
    const hubs = [{ label: "", ...(await startHub(store.options)) }];
    if (opts.baseline) hubs.unshift({ label: "baseline: ", ...(await startHub(store.options, path.join(path.resolve(opts.baseline), "packages/cli/bin/clawtower.js"))) });
    for (const [name, pathAndQuery] of endpoints) {
      const results = await latencies(hubs.map((h) => `${h.url}${pathAndQuery}`), opts.rounds);
      hubs.forEach((h, k) => rows.push({ store: store.name, metric: `${h.label}${name}`, value: `p50 ${results[k]!.p50.toFixed(1)} ms · p95 ${results[k]!.p95.toFixed(1)} ms` }));
    }
    for (const h of hubs) {
      h.child.kill("SIGTERM");
      await new Promise((r) => h.child.once("exit", r));
    }
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  return rows;
}

export async function runHubBench(opts: { legacyCorpus: string | null; corpusMiB: number | null }): Promise<HubBenchRow[]> {
  const rows: HubBenchRow[] = [];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ct-bench-hub-"));
  const stores = await benchStores(scratch);
  for (const store of stores) {
    // ---- 5 M-call dataset and dashboard latency
    const conn = await openStore(store.options);
    const ready = await conn.db.selectFrom("meta").select("value").where("key", "=", "bench:hub-dataset").executeTakeFirst();
    if (!ready) {
      log(`${store.name}: generating the 5 M-call dataset (once; cached) …`);
      await generateHubDataset(conn, 5_000_000, log);
    }
    const calls = await conn.db.selectFrom("llm_calls").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    await conn.close();
    const { child, url } = await startHub(store.options);
    await new Promise((r) => setTimeout(r, 1500));
    rows.push({ store: store.name, metric: "hub RSS at rest (5 M-call store)", value: `${rssMiB(child.pid!).toFixed(0)} MiB` });
    let worst = 0;
    for (const [name, pathAndQuery] of ENDPOINTS) {
      const { p50, p95 } = await latency(`${url}${pathAndQuery}`);
      worst = Math.max(worst, p95);
      rows.push({ store: store.name, metric: `${name} (${Number(calls.n).toLocaleString("en-US")} calls)`, value: `p50 ${p50.toFixed(1)} ms · p95 ${p95.toFixed(1)} ms` });
    }
    rows.push({ store: store.name, metric: "worst p95 over all dashboard calls", value: `${worst.toFixed(1)} ms` });
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));

    // ---- ingest with 4 concurrent clients, into a fresh store
    rows.push(...(await ingestRows(store)));

    // ---- import of the legacy bench corpus
    if (opts.legacyCorpus && opts.corpusMiB) {
      const target = await store.fresh();
      const c2 = await openStore(target);
      const home = opts.legacyCorpus;
      const cfg = readConfigPrices(home, listAgents(home).map((a) => a.dir));
      const t = performance.now();
      await syncHome(c2, { home, deploymentId: "bench-import", deploymentName: "bench", prices: createPriceBook(cfg.prices, loadBundledPrices().prices) });
      const s = (performance.now() - t) / 1000;
      await c2.close();
      rows.push({ store: store.name, metric: `import of the ${opts.corpusMiB.toFixed(0)} MiB legacy corpus`, value: `${(opts.corpusMiB / s).toFixed(0)} MiB/s (${s.toFixed(1)} s)` });
      if (target.kind === "postgres" && target.schema) await dropSchema(target.url, target.schema);
    }
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  return rows;
}
