/**
 * Live session snapshots pushed by `clawtower watch` (one row per observed state of a gateway session), and
 * the Live view's query: the sessions active now, from those snapshots or, for sessions no watcher reports,
 * from the ledger (local import, plugin uploads).
 */
import { sql } from "kysely";
import { durableTransaction } from "./durable-commit.ts";
import { ensureDeploymentAndAgent } from "./ingest.ts";
import type { StoreConnection } from "./connection.ts";

export type LiveStatus = "running" | "idle" | "error" | "aborted";

export type SessionSnapshotInput = {
  sessionId: string;
  fingerprint: string;
  sessionKey: string;
  agentId: string;
  kind: string | null;
  label: string | null;
  channel: string | null;
  status: LiveStatus;
  provider: string | null;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  /** Tokens in the context now (the gateway's fresh prompt total), when it knows them. */
  contextTokens: number | null;
  /** The session's real context window, when the gateway reports it. */
  contextWindow: number | null;
  costUsd: number | null;
  lastActivityAt: number | null;
  observedAt: number;
};

export type SnapshotWriteResult = { accepted: number; duplicates: number };

/**
 * Stores snapshots, idempotent per (deployment, session, fingerprint). `progress_at` is when the session's
 * token totals last changed, so a running session whose totals stand still can be marked stuck.
 */
export async function recordSessionSnapshots(conn: StoreConnection, deploymentId: string, snapshots: SessionSnapshotInput[], now: number): Promise<SnapshotWriteResult> {
  if (snapshots.length === 0) return { accepted: 0, duplicates: 0 };
  return durableTransaction(conn, async (trx) => {
    let accepted = 0;
    const agents = new Set<string>();
    for (const s of snapshots) {
      if (!agents.has(s.agentId)) {
        await ensureDeploymentAndAgent(trx, { deploymentId, agentId: s.agentId, sessionId: s.sessionId }, now);
        agents.add(s.agentId);
      }
      const prev = await trx
        .selectFrom("session_snapshots")
        .select(["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "progress_at", "observed_at"])
        .where("deployment_id", "=", deploymentId)
        .where("session_id", "=", s.sessionId)
        .orderBy("observed_at", "desc")
        .limit(1)
        .executeTakeFirst();
      const sameTotals =
        prev !== undefined &&
        Number(prev.input_tokens ?? -1) === (s.inputTokens ?? -1) &&
        Number(prev.output_tokens ?? -1) === (s.outputTokens ?? -1) &&
        Number(prev.cache_read_tokens ?? -1) === (s.cacheReadTokens ?? -1) &&
        Number(prev.cache_write_tokens ?? -1) === (s.cacheWriteTokens ?? -1);
      // Totals that grew since the previous snapshot grew by this one; a first snapshot's best guess is the activity time.
      const progressAt = sameTotals ? Number(prev.progress_at) : prev ? s.observedAt : (s.lastActivityAt ?? s.observedAt);
      const r = await trx
        .insertInto("session_snapshots")
        .values({
          deployment_id: deploymentId,
          session_id: s.sessionId,
          fingerprint: s.fingerprint,
          session_key: s.sessionKey,
          agent_id: s.agentId,
          kind: s.kind,
          label: s.label,
          channel: s.channel,
          status: s.status,
          provider: s.provider,
          model: s.model,
          input_tokens: s.inputTokens,
          output_tokens: s.outputTokens,
          cache_read_tokens: s.cacheReadTokens,
          cache_write_tokens: s.cacheWriteTokens,
          context_tokens: s.contextTokens,
          context_window: s.contextWindow,
          cost_usd: s.costUsd,
          last_activity_at: s.lastActivityAt,
          observed_at: s.observedAt,
          progress_at: progressAt,
          received_at: now,
        })
        .onConflict((oc) => oc.columns(["deployment_id", "session_id", "fingerprint"]).doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0) accepted++;
    }
    if (accepted > 0) await trx.insertInto("changes").values({ deployment_id: deploymentId, at: now, kind: "snapshots", detail: JSON.stringify({ sessions: accepted }) }).execute();
    return { accepted, duplicates: snapshots.length - accepted };
  });
}

export type LiveSession = {
  deploymentId: string;
  agentId: string;
  sessionId: string;
  sessionKey: string | null;
  kind: string | null;
  label: string | null;
  channel: string | null;
  status: LiveStatus;
  provider: string | null;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  contextTokens: number | null;
  contextWindow: number | null;
  /** contextTokens / contextWindow in percent, only when both are known. */
  contextUsedPct: number | null;
  costUsd: number | null;
  lastActivityAt: number;
  /** When the session last made progress (its token totals changed). */
  progressAt: number;
  stuck: boolean;
  /** snapshot: reported by `clawtower watch`; ledger: derived from the session's recorded calls. */
  source: "snapshot" | "ledger";
};

export type LiveQuery = { now: number; activeWithinMs: number; stuckAfterMs: number; deployment?: string | null };

/** Maps a ledger session's last LLM call to a live status (no live run state exists in transcripts). */
export function statusFromStopReason(stopReason: string | null): LiveStatus {
  if (stopReason === "error") return "error";
  if (stopReason === "aborted") return "aborted";
  // The model asked for a tool: the turn goes on with the tool's result.
  if (stopReason === "toolUse") return "running";
  return "idle";
}

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export async function liveSessions(conn: StoreConnection, q: LiveQuery): Promise<LiveSession[]> {
  const since = q.now - q.activeWithinMs;
  const dep = q.deployment ?? null;
  const snap = await sql<Record<string, unknown>>`
    SELECT * FROM (
      SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.deployment_id, s.session_id ORDER BY s.observed_at DESC, s.received_at DESC) AS rn
      FROM session_snapshots s
      WHERE s.observed_at >= ${since} ${dep === null ? sql`` : sql`AND s.deployment_id = ${dep}`}
    ) t WHERE t.rn = 1`.execute(conn.db);
  const out: LiveSession[] = [];
  const seen = new Set<string>();
  for (const r of snap.rows) {
    const lastActivityAt = n(r["last_activity_at"]) ?? Number(r["observed_at"]);
    if (lastActivityAt < since && r["status"] !== "running") continue;
    const contextTokens = n(r["context_tokens"]);
    const contextWindow = n(r["context_window"]);
    const progressAt = Number(r["progress_at"]);
    const status = r["status"] as LiveStatus;
    seen.add(`${r["deployment_id"]}\u0000${r["session_id"]}`);
    out.push({
      deploymentId: String(r["deployment_id"]),
      agentId: String(r["agent_id"]),
      sessionId: String(r["session_id"]),
      sessionKey: String(r["session_key"]),
      kind: (r["kind"] as string | null) ?? null,
      label: (r["label"] as string | null) ?? null,
      channel: (r["channel"] as string | null) ?? null,
      status,
      provider: (r["provider"] as string | null) ?? null,
      model: (r["model"] as string | null) ?? null,
      inputTokens: n(r["input_tokens"]),
      outputTokens: n(r["output_tokens"]),
      cacheReadTokens: n(r["cache_read_tokens"]),
      cacheWriteTokens: n(r["cache_write_tokens"]),
      contextTokens,
      contextWindow,
      contextUsedPct: contextTokens !== null && contextWindow ? Math.round((contextTokens / contextWindow) * 1000) / 10 : null,
      costUsd: n(r["cost_usd"]),
      lastActivityAt,
      progressAt,
      stuck: status === "running" && q.now - progressAt > q.stuckAfterMs,
      source: "snapshot",
    });
  }
  let ledger = conn.db
    .selectFrom("sessions")
    .select(["deployment_id", "agent_id", "session_id", "session_key", "kind", "label", "channel", "last_ts", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_recorded_nanos", "cost_estimated_nanos"])
    .where("last_ts", ">=", since)
    .orderBy("last_ts", "desc")
    .limit(500);
  if (dep !== null) ledger = ledger.where("deployment_id", "=", dep);
  for (const r of await ledger.execute()) {
    if (seen.has(`${r.deployment_id}\u0000${r.session_id}`)) continue;
    const last = await conn.db
      .selectFrom("llm_calls")
      .select(["provider", "model", "stop_reason", "input_tokens", "cache_read_tokens", "cache_write_tokens", "ts"])
      .where("deployment_id", "=", r.deployment_id)
      .where("agent_id", "=", r.agent_id)
      .where("session_id", "=", r.session_id)
      .orderBy("ts", "desc")
      .limit(1)
      .executeTakeFirst();
    const status = statusFromStopReason(last?.stop_reason ?? null);
    const lastActivityAt = Number(r.last_ts);
    out.push({
      deploymentId: r.deployment_id,
      agentId: r.agent_id,
      sessionId: r.session_id,
      sessionKey: r.session_key,
      kind: r.kind,
      label: r.label,
      channel: r.channel,
      status,
      provider: last?.provider ?? null,
      model: last?.model ?? null,
      inputTokens: Number(r.input_tokens),
      outputTokens: Number(r.output_tokens),
      cacheReadTokens: Number(r.cache_read_tokens),
      cacheWriteTokens: Number(r.cache_write_tokens),
      // The last call's prompt is what the context held; transcripts do not name the window, so no percentage.
      contextTokens: last ? Number(last.input_tokens) + Number(last.cache_read_tokens) + Number(last.cache_write_tokens) : null,
      contextWindow: null,
      contextUsedPct: null,
      costUsd: (Number(r.cost_recorded_nanos) + Number(r.cost_estimated_nanos)) / 1e9,
      lastActivityAt,
      progressAt: lastActivityAt,
      stuck: status === "running" && q.now - lastActivityAt > q.stuckAfterMs,
      source: "ledger",
    });
  }
  return out.sort((a, b) => b.lastActivityAt - a.lastActivityAt);
}
