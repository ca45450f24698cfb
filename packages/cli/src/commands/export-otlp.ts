/**
 * `clawtower export otlp --endpoint URL [--since] [--follow] [--headers k=v,…]`: the store's LLM calls and tool
 * calls as GenAI spans over OTLP/HTTP protobuf (the OpenTelemetry JS exporter), resumable: each session's
 * progress is saved in the store after the destination acknowledged it (span-export.ts), per destination.
 * It reads the store only; `clawtower serve` (or a report) keeps the store up to date.
 */
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { ExportResultCode } from "@opentelemetry/core";
import { parseTimeBound } from "@clawtower/core";
import {
  changedSessions,
  loadExportMarks,
  loadExportWatermark,
  openStore,
  saveExportMarks,
  sessionKeyString,
  sessionSpanRows,
  type ChangedSession,
  type ExportMark,
  type SessionKey,
  type StoreConnection,
} from "@clawtower/store";
import { resolveLocalConfig } from "../config.ts";
import { UsageError } from "../errors.ts";
import { sessionSpans } from "./export-spans.ts";

export type ExportOtlpOptions = {
  endpoint?: string;
  since?: string;
  follow?: boolean;
  headers?: string;
  interval?: string;
  batchSize?: string;
  db?: string;
};

/** Sessions updated this long before the last pass's start are looked at again (writers' clocks differ). */
const CLOCK_MARGIN_MS = 5 * 60_000;
/** A tool call without a result is held back this long before it is sent without one. */
const TOOL_SETTLE_MS = 10 * 60_000;

export function tracesUrl(endpoint: string): string {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw new UsageError(`--endpoint must be a URL such as http://127.0.0.1:4318 (got "${endpoint}")`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new UsageError(`--endpoint must be http:// or https:// (got "${endpoint}")`);
  // As OTEL_EXPORTER_OTLP_ENDPOINT: a base URL gets the signal path; a URL already ending in it is kept.
  return u.pathname.endsWith("/v1/traces") ? u.toString() : `${u.toString().replace(/\/+$/, "")}/v1/traces`;
}

export function parseHeaders(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value) return out;
  for (const pair of value.split(",")) {
    const i = pair.indexOf("=");
    if (i <= 0) throw new UsageError(`--headers takes key=value pairs separated by commas (got "${pair}")`);
    out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
  }
  return out;
}

type Pending = { spans: ReadableSpan[]; marks: (SessionKey & ExportMark)[] };

export type ExportStats = { spans: number; sessions: number };

/** One pass: everything the store has beyond the saved marks, in batches each acknowledged before its marks are saved. */
export async function exportPass(
  conn: StoreConnection,
  o: { exporter: string; send: (spans: ReadableSpan[]) => Promise<void>; since: number; batchSize: number; now: number; resource: (deploymentId: string) => Resource },
): Promise<ExportStats> {
  const started = o.now;
  const watermark = await loadExportWatermark(conn, o.exporter);
  const from = watermark === null ? 0 : watermark - CLOCK_MARGIN_MS;
  const stats: ExportStats = { spans: 0, sessions: 0 };
  let pending: Pending = { spans: [], marks: [] };
  // One batch in flight while the next is read; its marks are saved once it is acknowledged, in order.
  let inflight: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (pending.marks.length === 0) return;
    const batch = pending;
    pending = { spans: [], marks: [] };
    await inflight;
    inflight = (async () => {
      if (batch.spans.length > 0) await o.send(batch.spans);
      await saveExportMarks(conn, o.exporter, batch.marks, null);
      stats.spans += batch.spans.length;
    })();
    // A failure surfaces at the next flush or at the end; until then it must not go unhandled.
    inflight.catch(() => {});
  };
  let after: ChangedSession | null = null;
  for (;;) {
    const page = await changedSessions(conn, from, after, 500);
    if (page.length === 0) break;
    const marks = await loadExportMarks(conn, o.exporter, page);
    for (const s of page) {
      const mark = marks.get(sessionKeyString(s)) ?? { callTs: null, callId: null, toolTs: null, toolId: null };
      const rows = await sessionSpanRows(conn, s, mark, o.since, started - TOOL_SETTLE_MS);
      if (rows.calls.length === 0 && rows.tools.length === 0) continue;
      const lastCall = rows.calls.at(-1);
      const lastTool = rows.tools.at(-1);
      pending.spans.push(...sessionSpans(s, rows, o.resource(s.deploymentId)));
      pending.marks.push({
        deploymentId: s.deploymentId,
        agentId: s.agentId,
        sessionId: s.sessionId,
        callTs: lastCall ? lastCall.ts : mark.callTs,
        callId: lastCall ? lastCall.eventId : mark.callId,
        toolTs: lastTool ? lastTool.ts : mark.toolTs,
        toolId: lastTool ? lastTool.callId : mark.toolId,
      });
      stats.sessions++;
      if (pending.spans.length >= o.batchSize) await flush();
    }
    after = page.at(-1)!;
  }
  await flush();
  await inflight;
  // Only now is everything updated before `started` sent: the next pass starts there (minus the margin).
  await saveExportMarks(conn, o.exporter, [], started);
  return stats;
}

/** Sends spans through the OpenTelemetry OTLP/HTTP protobuf exporter; rejects when the destination refuses them. */
export function otlpSender(url: string, headers: Record<string, string>): { send: (spans: ReadableSpan[]) => Promise<void>; close: () => Promise<void> } {
  const exporter = new OTLPTraceExporter({ url, headers, timeoutMillis: 30_000 });
  return {
    send: (spans) =>
      new Promise((resolve, reject) => {
        exporter.export(spans, (r) => (r.code === ExportResultCode.SUCCESS ? resolve() : reject(new Error(`OTLP export to ${url} failed: ${r.error?.message ?? "unknown error"}`))));
      }),
    close: () => exporter.shutdown(),
  };
}

export async function runExportOtlp(o: ExportOtlpOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (!o.endpoint) throw new UsageError("--endpoint is required (an OTLP/HTTP base URL such as http://127.0.0.1:4318)");
  const url = tracesUrl(o.endpoint);
  const headers = parseHeaders(o.headers ?? env["OTEL_EXPORTER_OTLP_HEADERS"]);
  const now = Date.now();
  let since = 0;
  if (o.since !== undefined) {
    try {
      since = parseTimeBound(o.since, "UTC", now, "--since");
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const intervalMs = Math.round(Number(o.interval ?? "5") * 1000);
  if (!Number.isFinite(intervalMs) || intervalMs < 200) throw new UsageError("--interval must be a number of seconds ≥ 0.2");
  const batchSize = Number(o.batchSize ?? "2000");
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError("--batch-size must be a positive whole number");
  const cfg = resolveLocalConfig({ db: o.db }, env);
  const conn = await openStore(cfg.store);
  const sender = otlpSender(url, headers);
  // One cursor per destination and time window: another endpoint (or --since) starts its own.
  const exporter = `otlp ${url} since ${since}`;
  const resources = new Map<string, Resource>();
  const resource = (deploymentId: string) => {
    let r = resources.get(deploymentId);
    if (!r) {
      r = resourceFromAttributes({ "service.name": "openclaw", "clawtower.deployment.id": deploymentId });
      resources.set(deploymentId, r);
    }
    return r;
  };
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    do {
      const started = performance.now();
      const stats = await exportPass(conn, { exporter, send: sender.send, since, batchSize, now: Date.now(), resource });
      if (stats.spans > 0 || !o.follow) {
        process.stderr.write(`export otlp: ${stats.spans} span(s) from ${stats.sessions} session(s) to ${url} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      }
      if (o.follow && !stop.signal.aborted) await new Promise((r) => { const t = setTimeout(r, intervalMs); stop.signal.addEventListener("abort", () => { clearTimeout(t); r(undefined); }, { once: true }); });
    } while (o.follow && !stop.signal.aborted);
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await sender.close();
    await conn.close();
  }
}
