/** OTLP backfill throughput: a generated store exported to a loopback receiver that decodes every request. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { openStore } from "@clawtower/store";
import { startOtlpReceiver } from "@clawtower/testkit";
import { exportPass, otlpSender } from "../packages/cli/src/commands/export-otlp.ts";
import { generateHubDataset } from "./hub-dataset.ts";
import type { HubBenchRow } from "./hub.ts";

export async function runOtlpBench(calls = 200_000): Promise<HubBenchRow[]> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ct-bench-otlp-"));
  const conn = await openStore({ kind: "sqlite", path: path.join(scratch, "otlp.db") });
  await generateHubDataset(conn, calls);
  const receiver = await startOtlpReceiver();
  const sender = otlpSender(`${receiver.url}/v1/traces`, {});
  const resource = resourceFromAttributes({ "service.name": "openclaw" });
  const t = performance.now();
  const stats = await exportPass(conn, { exporter: "bench", send: sender.send, since: 0, batchSize: 2000, now: Date.now(), resource: () => resource });
  const seconds = (performance.now() - t) / 1000;
  await sender.close();
  await receiver.close();
  await conn.close();
  fs.rmSync(scratch, { recursive: true, force: true });
  if (receiver.spans.length !== stats.spans) throw new Error(`receiver decoded ${receiver.spans.length} spans, export sent ${stats.spans}`);
  return [
    { store: "SQLite", metric: `OTLP backfill: ${stats.spans.toLocaleString("en-US")} spans (${calls.toLocaleString("en-US")} calls, ${stats.sessions.toLocaleString("en-US")} sessions)`, value: `${seconds.toFixed(1)} s · ${Math.round(stats.spans / seconds).toLocaleString("en-US")} spans/s` },
  ];
}
