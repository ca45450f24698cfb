/** Generates (once) the 5 M-call hub datasets the hub bench uses, so a bench run measures, not generates. */
import path from "node:path";
import { openStore } from "@clawtower/store";
import { HUB_DATASET_VERSION, generateHubDataset } from "./hub-dataset.ts";

const root = path.resolve(import.meta.dirname, "..");
const targets = [
  { name: "SQLite", options: { kind: "sqlite" as const, path: path.join(root, "bench", ".corpus", `hub-5m-v${HUB_DATASET_VERSION}.db`) } },
  { name: "PostgreSQL", options: { kind: "postgres" as const, url: process.env["CLAWTOWER_BENCH_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test", schema: `clawtower_bench_5m_v${HUB_DATASET_VERSION}` } },
];
for (const t of targets) {
  const conn = await openStore(t.options);
  const ready = await conn.db.selectFrom("meta").select("value").where("key", "=", "bench:hub-dataset").executeTakeFirst();
  if (ready) console.log(`${t.name}: dataset present`);
  else {
    console.log(`${t.name}: generating …`);
    const started = performance.now();
    await generateHubDataset(conn, 5_000_000, (s) => console.log(s));
    console.log(`${t.name}: done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  await conn.close();
}
