/**
 * `clawtower insights` over the hub bench dataset (hub-dataset.ts: 5 M calls, 250,000 sessions) on SQLite and
 * PostgreSQL: generates the dataset once under its own name, then times insightsReport over all time and 30 days.
 *   node bench/insights.ts [calls]     (default 5,000,000; CLAWTOWER_BENCH_DATABASE_URL for PostgreSQL)
 */
import path from "node:path";
import { createPriceBook, loadBundledPrices } from "@clawtower/core";
import { insightsReport, openStore } from "@clawtower/store";
import { HUB_DATASET_VERSION, generateHubDataset } from "./hub-dataset.ts";

const calls = Number(process.argv[2] ?? 5_000_000);
const tag = `${calls / 1_000_000}m_v${HUB_DATASET_VERSION}`.replace(".", "_");
const root = path.resolve(import.meta.dirname, "..");
const only = process.env["BENCH_ONLY"];
const targets = [
  { name: "SQLite", options: { kind: "sqlite" as const, path: path.join(root, "bench", ".corpus", `insights-${tag}.db`) } },
  { name: "PostgreSQL", options: { kind: "postgres" as const, url: process.env["CLAWTOWER_BENCH_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test", schema: `clawtower_bench_insights_${tag}` } },
].filter((t) => !only || t.name.toLowerCase() === only);
const table = loadBundledPrices().prices;
const prices = createPriceBook([], table);
const END = Date.UTC(2026, 10, 22);
for (const t of targets) {
  const conn = await openStore(t.options);
  const ready = await conn.db.selectFrom("meta").select("value").where("key", "=", "bench:hub-dataset").executeTakeFirst();
  if (!ready) {
    console.log(`${t.name}: generating ${calls.toLocaleString("en-US")} calls …`);
    const started = performance.now();
    await generateHubDataset(conn, calls, (s) => console.log(s));
    console.log(`${t.name}: generated in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  for (const [label, since] of [["all time", null], ["last 30 days", END - 30 * 86_400_000]] as const) {
    const started = performance.now();
    const r = await insightsReport(conn, { since, until: since === null ? null : END, tz: "UTC", agent: null, deployment: null }, prices, table, END);
    const ms = performance.now() - started;
    console.log(`${t.name} ${label}: ${ms.toFixed(0)} ms (${r.modelWhatIfs.length} what-ifs, ${r.cron.length} cron jobs, ${r.context.length} context sessions, ${r.tools.hotSpots.length} tool hot spots)`);
  }
  await conn.close();
}
