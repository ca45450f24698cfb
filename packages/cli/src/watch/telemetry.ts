/** What the watcher sends: the seed's AgentWatch TelemetryEvent, and the hub's session snapshot. Pure. */
import crypto from "node:crypto";
import type { SessionSnapshot } from "@clawtower/hub/snapshot-contract";
import { contextUsedPct, type WatchedSession } from "./session-rows.ts";

export type TelemetryEvent = {
  agent_name: string;
  agent_id: string;
  event_type: "execution" | "completion" | "error";
  trace_id: string;
  session_id: string;
  /** Omitted (never invented) when the gateway did not report them. */
  input_tokens?: number;
  output_tokens?: number;
  model?: string;
  status: string;
  metadata: { kind: string; label: string | null; channel: string | null; context_used_pct: number | null; session_key: string; cache_read_tokens: number | null; cache_write_tokens: number | null; cost_usd: number | null };
  timestamp: string;
};

/** A stable UUID per session (name-based, SHA-256), so every event of a session shares one trace. */
export function traceIdOf(sessionId: string): string {
  const h = crypto.createHash("sha256").update(`clawtower-watch:${sessionId}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function toTelemetryEvent(s: WatchedSession, observedAt: number): TelemetryEvent {
  const known = {
    ...(s.inputTokens !== null ? { input_tokens: s.inputTokens } : {}),
    ...(s.outputTokens !== null ? { output_tokens: s.outputTokens } : {}),
    ...(s.model !== null ? { model: s.model } : {}),
  };
  return {
    agent_name: s.label ?? s.sessionKey,
    agent_id: s.agentId,
    event_type: s.status === "running" ? "execution" : s.status === "idle" ? "completion" : "error",
    trace_id: traceIdOf(s.sessionId),
    session_id: s.sessionId,
    ...known,
    status: s.status,
    metadata: {
      kind: s.kind,
      label: s.label,
      channel: s.channel,
      context_used_pct: contextUsedPct(s),
      session_key: s.sessionKey,
      cache_read_tokens: s.cacheReadTokens,
      cache_write_tokens: s.cacheWriteTokens,
      cost_usd: s.costUsd,
    },
    timestamp: new Date(s.lastActivityAt ?? observedAt).toISOString(),
  };
}

export function toHubSnapshot(s: WatchedSession, fingerprint: string, observedAt: number): SessionSnapshot {
  return {
    sessionId: s.sessionId,
    fingerprint,
    sessionKey: s.sessionKey,
    agentId: s.agentId,
    kind: s.kind,
    label: s.label,
    channel: s.channel,
    status: s.status,
    provider: s.provider,
    model: s.model,
    inputTokens: s.inputTokens,
    outputTokens: s.outputTokens,
    cacheReadTokens: s.cacheReadTokens,
    cacheWriteTokens: s.cacheWriteTokens,
    contextTokens: s.contextTokens,
    contextWindow: s.contextWindow,
    costUsd: s.costUsd,
    lastActivityAt: s.lastActivityAt,
    observedAt,
  };
}
