/** OTLP backfill throughput: a generated store exported to a loopback receiver (another process) that decodes every request. */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { openStore } from "@clawtower/store";
import { exportPass, otlpSender } from "../packages/cli/src/commands/export-otlp.ts";
import { generateHubDataset } from "./hub-dataset.ts";
import type { HubBenchRow } from "./hub.ts";

export async function runOtlpBench(calls = 200_000): Promise<HubBenchRow[]> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ct-bench-otlp-"));
  const conn = await openStore({ kind: "sqlite", path: path.join(scratch, "otlp.db") });
  await generateHubDataset(conn, calls);
  const child = spawn(process.execPath, [path.join(import.meta.dirname, "otlp-receiver-process.ts")], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(d.toString().trim())));
  const sender = otlpSender(`${url}/v1/traces`, {});
  const resource = resourceFromAttributes({ "service.name": "openclaw" });
  const t = performance.now();
  const cpu = process.cpuUsage();
  const stats = await exportPass(conn, { exporter: "bench", send: sender.send, since: 0, batchSize: 2000, now: Date.now(), resource: () => resource });
  const seconds = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  await sender.close();
  const decoded = ((await (await fetch(`${url}/stats`)).json()) as { spans: number }).spans;
  child.kill("SIGTERM");
  await conn.close();
  fs.rmSync(scratch, { recursive: true, force: true });
  if (decoded !== stats.spans) throw new Error(`receiver decoded ${decoded} spans, export sent ${stats.spans}`);
  return [
    { store: "SQLite", metric: `OTLP backfill: ${stats.spans.toLocaleString("en-US")} spans (${calls.toLocaleString("en-US")} calls, ${stats.sessions.toLocaleString("en-US")} sessions)`, value: `${seconds.toFixed(1)} s · ${Math.round(stats.spans / seconds).toLocaleString("en-US")} spans/s · exporter CPU ${cpuSeconds.toFixed(1)} s (${Math.round(stats.spans / cpuSeconds).toLocaleString("en-US")} spans per CPU-second)` },
  ];
}
