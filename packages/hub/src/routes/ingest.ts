/**
 * Ingest APIs, all behind an API key:
 *   POST /api/v1/ingest/events          Clawtower: NDJSON or a JSON batch of transcript events, answered per line
 *   POST /v1/openclaw/ingest/sessions   Influxion-compatible `{lines: […]}` → `{accepted, rejected, batchId, errors}`
 *   POST /v1/openclaw/ingest/skills     Influxion-compatible `{fullSync, skills: […]}`
 *   POST /api/events/bulk               AgentWatch-compatible TelemetryEvent batches (session usage snapshots)
 * A key bound to a deployment may only write that deployment; an unbound key must name it per line.
 */
import crypto from "node:crypto";
import { Hono, type Context } from "hono";
import { INGEST_LIMITS, sessionMetaProblem, textProblem, timestampProblem, type PriceBook } from "@clawtower/core";
import { ingestLines, ingestSkills, ingestSnapshots, type IngestLine, type IngestSummary, type SkillInput, type StoreConnection, type UsageSnapshot } from "@clawtower/store";
import type { Principal } from "../auth.ts";
import { ndjsonLines, readBody, readJsonBody } from "../body.ts";
import { HubError } from "../errors.ts";
import { parseWith, z } from "../validation.ts";
import { SessionMeta, checkEventItem, controlFree, ingestId, nestingProblem, readNdjsonLine, type LineReading } from "./event-line.ts";
import { routeLinesToHomes, targetDeployments } from "./home-routing.ts";

export type IngestDeps = { conn: StoreConnection; prices: PriceBook; now: () => number; onChange: () => void };

const InfluxionLine = z.object({
  deploymentId: ingestId(INGEST_LIMITS.deploymentId).optional(),
  projectId: z.string().max(200).optional(),
  agentId: ingestId(INGEST_LIMITS.agentId),
  agentName: z.string().max(200).optional(),
  sessionId: ingestId(INGEST_LIMITS.sessionId),
  sessionFile: z.string().max(2000).optional(),
  lineIndex: z.number().int().min(0),
  capturedAt: z.string().max(64).optional(),
  idempotencyKey: controlFree(INGEST_LIMITS.idempotencyKey).optional(),
  payload: z.unknown(),
  session: SessionMeta.optional(),
});

/** Text a skill inventory stores (PostgreSQL text holds no NUL). */
const skillText = (max: number) => z.string().max(max).refine((s) => !textProblem(s), "must not contain NUL (U+0000)");

const SkillsBody = z.object({
  deploymentId: ingestId(INGEST_LIMITS.deploymentId).optional(),
  agentId: ingestId(INGEST_LIMITS.agentId).optional(),
  fullSync: z.boolean().default(false),
  skills: z
    .array(
      z
        .object({
          agentId: controlFree(INGEST_LIMITS.agentId).optional(),
          skillKey: skillText(300).optional(),
          name: skillText(300).min(1),
          source: skillText(300).nullish(),
          available: z.boolean().optional(),
          eligible: z.boolean().optional(),
          contentHash: skillText(200).nullish(),
          content: skillText(1_000_000).nullish(),
        })
        .passthrough(),
    )
    .max(10_000),
});

const TelemetryEvent = z
  .object({
    agent_name: z.string().max(300).optional(),
    agent_id: ingestId(INGEST_LIMITS.agentId),
    event_type: z.string().max(40).optional(),
    trace_id: z.string().max(300).optional(),
    session_id: ingestId(INGEST_LIMITS.sessionId),
    // Cumulative counts of a session: whole, and exact as doubles (a call's growth is then bounded by the ledger's rules).
    tokens: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    input_tokens: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    output_tokens: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    // Stored as the synthetic call's model (agentWatchSnapshot).
    model: controlFree(300).optional(),
    status: z.string().max(40).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    timestamp: z.string().max(64).optional(),
  })
  .passthrough();

function keyOf(c: Context) {
  const p = c.get("principal") as Principal;
  if (p.kind !== "key") throw new HubError("forbidden", "ingest needs an API key");
  return p.key;
}

/** The deployment a line writes to, given the key's binding. */
export function deploymentFor(c: Context, lineDeployment: string | undefined): string {
  const key = keyOf(c);
  if (key.deploymentId) {
    if (lineDeployment && lineDeployment !== key.deploymentId) {
      throw new HubError("forbidden", `this key is bound to deployment "${key.deploymentId}" and cannot write "${lineDeployment}"`);
    }
    return key.deploymentId;
  }
  if (!lineDeployment) throw new HubError("invalid_body", "deploymentId is required (this key is not bound to a deployment)");
  return lineDeployment;
}

const MAX_EVENTS = 50_000;

/**
 * Sessions per request. The store writes a session with a dozen statements and a big request in pieces
 * (other clients are served between them); beyond this a client splits its batch (413 names the limit).
 */
export const MAX_SESSIONS_PER_REQUEST = 1_000;

/** A 413 before anything is written when the lines name more than MAX_SESSIONS_PER_REQUEST sessions. */
function checkSessionCount(lines: readonly { deploymentId: string; agentId: string; sessionId: string }[]): void {
  const sessions = new Set(lines.map((l) => `${l.deploymentId}\u0000${l.agentId}\u0000${l.sessionId}`)).size;
  if (sessions > MAX_SESSIONS_PER_REQUEST) {
    throw new HubError("payload_too_large", `at most ${MAX_SESSIONS_PER_REQUEST.toLocaleString("en-US")} sessions per request (got ${sessions.toLocaleString("en-US")}): split the batch by session`);
  }
}

/** The lines of an events request, NDJSON or a JSON batch, each read or answered with why not. */
async function eventLines(c: Context): Promise<LineReading[]> {
  const type = c.req.header("content-type") ?? "";
  const tooMany = (n: number) => new HubError("payload_too_large", `at most ${MAX_EVENTS.toLocaleString("en-US")} events per request (got ${n})`);
  if (type.includes("ndjson") || type.includes("jsonl")) {
    const lines = ndjsonLines(await readBody(c));
    if (lines.length > MAX_EVENTS) throw tooMany(lines.length);
    return lines.map((l) => readNdjsonLine(l.bytes));
  }
  if (type.includes("json") || type === "") {
    const body = await readJsonBody(c);
    const items = Array.isArray(body) ? body : (body as { events?: unknown })?.events;
    if (!Array.isArray(items)) throw new HubError("invalid_body", 'expected NDJSON, a JSON array, or {"events": [...]}');
    if (items.length > MAX_EVENTS) throw tooMany(items.length);
    return items.map(checkEventItem);
  }
  throw new HubError("unsupported_media_type", `content-type "${type}" is not accepted: send application/x-ndjson or application/json`);
}

async function recordBatch(deps: IngestDeps, c: Context, format: string, lines: number, summary: Pick<IngestSummary, "accepted" | "rejected" | "duplicates">, deploymentId: string | null): Promise<string> {
  const batchId = crypto.randomUUID();
  await deps.conn.db
    .insertInto("ingest_batches")
    .values({
      batch_id: batchId,
      deployment_id: deploymentId,
      key_id: keyOf(c).keyId,
      format,
      received_at: deps.now(),
      lines,
      accepted: summary.accepted,
      rejected: summary.rejected,
      duplicates: summary.duplicates,
    })
    .execute();
  return batchId;
}

export function ingestRoutes(deps: IngestDeps): Hono {
  const app = new Hono();

  app.post("/api/v1/ingest/events", async (c) => {
    const readings = await eventLines(c);
    const lines: IngestLine[] = [];
    const early: { index: number; status: "rejected"; reason: string }[] = [];
    readings.forEach((r, index) => {
      if (!r.ok) {
        early.push({ index, status: "rejected", reason: r.reason });
        return;
      }
      const { deploymentId: lineDeployment, ...line } = r.line;
      try {
        lines.push({ index, deploymentId: deploymentFor(c, lineDeployment), ...line });
      } catch (e) {
        early.push({ index, status: "rejected", reason: (e as Error).message });
      }
    });
    checkSessionCount(lines);
    await routeLinesToHomes(c, deps.conn, lines, deps.now());
    const summary = await ingestLines(deps.conn, lines, deps.prices, deps.now());
    const results = [...summary.results, ...early].sort((a, b) => a.index - b.index).map(({ index, ...rest }) => ({ line: index, ...rest }));
    const counts = { accepted: summary.accepted, duplicates: summary.duplicates, rejected: summary.rejected + early.length };
    const batchId = await recordBatch(deps, c, "clawtower", readings.length, counts, summary.deployments[0] ?? null);
    if (summary.accepted > 0) deps.onChange();
    return c.json({ batchId, ...counts, results });
  });

  app.post("/v1/openclaw/ingest/sessions", async (c) => {
    const body = parseWith(z.object({ lines: z.array(z.unknown()).max(50_000) }), await readJsonBody(c), "body");
    const lines: IngestLine[] = [];
    // Influxion's errors name a line by its lineIndex, which lines of different sessions in one request may share:
    // each error also carries the line's position in the request (`index`) and its session, which Influxion
    // clients ignore and ours use to mark exactly that line.
    type LineError = { index: number; lineIndex: number | null; agentId?: string; sessionId?: string; reason: string };
    const errors: LineError[] = [];
    const sidecars = new Map<string, number>();
    body.lines.forEach((item, index) => {
      const r = InfluxionLine.safeParse(item);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        const lineIndex = (item as { lineIndex?: unknown })?.lineIndex;
        errors.push({ index, lineIndex: typeof lineIndex === "number" ? lineIndex : null, reason: `${issue.path.join(".") || "line"}: ${issue.message}` });
        return;
      }
      const l = r.data;
      const where = { index, lineIndex: l.lineIndex, agentId: l.agentId, sessionId: l.sessionId };
      const payload = l.payload;
      if (isTrajectorySidecar(l.sessionFile, l.sessionId, payload)) {
        const file = l.sessionFile ?? `${l.agentId}/${l.sessionId}`;
        sidecars.set(file, (sidecars.get(file) ?? 0) + 1);
        return;
      }
      if (!payload || typeof payload !== "object" || "raw" in payload) {
        errors.push({ ...where, reason: "unparseable transcript line (payload.raw): stored nowhere, counted as rejected" });
        return;
      }
      const deep = nestingProblem(payload);
      if (deep) {
        errors.push({ ...where, reason: `payload: ${deep}` });
        return;
      }
      try {
        lines.push({
          index,
          deploymentId: deploymentFor(c, l.deploymentId),
          agentId: l.agentId,
          sessionId: l.sessionId,
          seq: l.lineIndex,
          idempotencyKey: l.idempotencyKey || null, // an empty key is none
          event: JSON.stringify(payload),
          session: l.session,
        });
      } catch (e) {
        errors.push({ ...where, reason: (e as Error).message });
      }
    });
    checkSessionCount(lines);
    await routeLinesToHomes(c, deps.conn, lines, deps.now());
    const summary = await ingestLines(deps.conn, lines, deps.prices, deps.now());
    const byIndex = new Map(lines.map((l) => [l.index, l]));
    for (const r of summary.results) {
      if (r.status !== "rejected") continue;
      const l = byIndex.get(r.index);
      errors.push({ index: r.index, lineIndex: l?.seq ?? null, ...(l ? { agentId: l.agentId, sessionId: l.sessionId } : {}), reason: r.reason ?? "rejected" });
    }
    // Influxion counts a line it already had, or one it has no use for, as accepted: the client's work for it is done.
    const ignored = [...sidecars.values()].reduce((a, n) => a + n, 0);
    const accepted = summary.accepted + summary.duplicates + ignored;
    const batchId = await recordBatch(deps, c, "influxion", body.lines.length, { accepted: summary.accepted, duplicates: summary.duplicates + ignored, rejected: errors.length }, summary.deployments[0] ?? null);
    if (summary.accepted > 0) deps.onChange();
    const warnings = [...sidecars].map(([file, n]) => `${file}: ${n} line${n === 1 ? "" : "s"} of an OpenClaw trajectory sidecar ignored (a runtime trace, not a session; its usage repeats the transcript's)`);
    return c.json({ accepted, rejected: errors.length, duplicates: summary.duplicates, ignored, batchId, errors, ...(warnings.length > 0 ? { warnings } : {}) });
  });

  app.post("/v1/openclaw/ingest/skills", async (c) => {
    const body = parseWith(SkillsBody, await readJsonBody(c), "body");
    const own = deploymentFor(c, body.deploymentId);
    const deploymentId = (await targetDeployments(c, deps.conn, [own], deps.now(), (line) => console.error(line))).get(own) ?? own;
    const byAgent = new Map<string, SkillInput[]>();
    for (const s of body.skills) {
      const agentId = s.agentId ?? body.agentId ?? "*";
      const list = byAgent.get(agentId) ?? [];
      const { agentId: _a, skillKey, name, source, available, eligible, contentHash, content, ...metadata } = s;
      list.push({
        skillKey: skillKey ?? name,
        name,
        source: source ?? null,
        available: available ?? eligible ?? true,
        contentHash: contentHash ?? null,
        content: content ?? null,
        metadata,
      });
      byAgent.set(agentId, list);
    }
    if (byAgent.size === 0 && body.fullSync) byAgent.set(body.agentId ?? "*", []);
    let accepted = 0;
    for (const [agentId, skills] of byAgent) accepted += await ingestSkills(deps.conn, { deploymentId, agentId }, skills, body.fullSync, deps.now());
    const batchId = await recordBatch(deps, c, "influxion-skills", body.skills.length, { accepted, rejected: 0, duplicates: 0 }, deploymentId);
    deps.onChange();
    return c.json({ accepted, rejected: 0, batchId, errors: [] });
  });

  app.post("/api/events/bulk", async (c) => {
    const body = await readJsonBody(c);
    const items = Array.isArray(body) ? body : Array.isArray((body as { events?: unknown[] })?.events) ? (body as { events: unknown[] }).events : null;
    if (!items) throw new HubError("invalid_body", 'expected a JSON array of events or {"events": [...]}');
    if (items.length > MAX_TELEMETRY_EVENTS) {
      throw new HubError("payload_too_large", `at most ${MAX_TELEMETRY_EVENTS.toLocaleString("en-US")} events per request (got ${items.length.toLocaleString("en-US")})`);
    }
    const errors: { index: number; reason: string }[] = [];
    const snapshots: UsageSnapshot[] = [];
    for (const [index, item] of items.entries()) {
      const r = TelemetryEvent.safeParse(item);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        errors.push({ index, reason: `${issue.path.join(".") || "event"}: ${issue.message}` });
        continue;
      }
      try {
        // TelemetryEvents name no deployment: it comes from the key's binding or `?deployment=`.
        snapshots.push(agentWatchSnapshot(deps, deploymentFor(c, c.req.query("deployment")), r.data, index));
      } catch (e) {
        errors.push({ index, reason: (e as Error).message });
      }
    }
    await routeLinesToHomes(c, deps.conn, snapshots, deps.now());
    const summary = await ingestSnapshots(deps.conn, snapshots, deps.prices, deps.now());
    errors.sort((a, b) => a.index - b.index);
    await recordBatch(deps, c, "agentwatch", items.length, { accepted: summary.accepted, duplicates: summary.duplicates + summary.superseded, rejected: errors.length }, summary.deployments[0] ?? null);
    if (summary.accepted > 0) deps.onChange();
    // A duplicate or superseded snapshot is done with, for the client, like an accepted one.
    return c.json({ accepted: summary.accepted + summary.duplicates + summary.superseded, rejected: errors.length, duplicates: summary.duplicates, superseded: summary.superseded, errors });
  });

  return app;
}

/**
 * OpenClaw ≤ 2026.7 writes `<session>.trajectory.jsonl` runtime traces beside each transcript; the Influxion
 * collector uploads every `*.jsonl`, so they arrive as sessions named `<session>.trajectory` (`sessionFile`
 * says which file). They are not sessions, and their `model.completed` events repeat the transcript's usage.
 */
function isTrajectorySidecar(sessionFile: string | undefined, sessionId: string, payload: unknown): boolean {
  if (sessionFile !== undefined && /\.trajectory\.jsonl(\.|$)/.test(sessionFile)) return true;
  if (sessionId.endsWith(".trajectory")) return true;
  const schema = payload && typeof payload === "object" ? (payload as { traceSchema?: unknown }).traceSchema : undefined;
  return typeof schema === "string" && schema.startsWith("openclaw-trajectory");
}

/** Events per AgentWatch request (its syncer sends at most its batch size, 50 by default). */
const MAX_TELEMETRY_EVENTS = 1_000;

/** AgentWatch sends a session's cumulative totals, not calls: see the store's snapshots.ts for how they count. */
function agentWatchSnapshot(deps: IngestDeps, deploymentId: string, e: z.infer<typeof TelemetryEvent>, index: number): UsageSnapshot {
  const input = e.input_tokens ?? (e.tokens !== undefined && e.output_tokens !== undefined ? Math.max(0, e.tokens - e.output_tokens) : 0);
  const ts = e.timestamp && Number.isFinite(Date.parse(e.timestamp)) ? Date.parse(e.timestamp) : deps.now();
  const when = timestampProblem(ts, deps.now());
  if (when) throw new Error(`timestamp: ${when}`);
  const meta = e.metadata ?? {};
  const session = {
    kind: typeof meta["kind"] === "string" ? meta["kind"] : null,
    label: typeof meta["label"] === "string" ? meta["label"] : (e.agent_name ?? null),
    channel: typeof meta["channel"] === "string" ? meta["channel"] : null,
  };
  const stored = sessionMetaProblem(session);
  if (stored) throw new Error(`session ${stored.field}: ${stored.problem}`);
  return {
    index,
    deploymentId,
    agentId: e.agent_id,
    sessionId: e.session_id,
    ts,
    input,
    output: e.output_tokens ?? 0,
    provider: "agentwatch",
    model: e.model ?? "unknown",
    error: e.event_type === "error" || e.status === "error",
    session,
  };
}
