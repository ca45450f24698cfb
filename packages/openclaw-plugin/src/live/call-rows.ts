/** Ledger rows from a transcript event's facts (the same rule as the hub's: an assistant message with usage). */
import { classifyAssistant, type EventFacts } from "@clawtower/core";
import type { LlmCallRow } from "./usage-ledger.ts";

export function callRowFromFacts(
  ref: { agentId: string; sessionId: string | null; sessionKey: string | null },
  facts: EventFacts,
  source: LlmCallRow["source"],
): LlmCallRow | null {
  const m = facts.message;
  if (!m || m.role !== "assistant" || facts.id === undefined || m.usage === undefined) return null;
  if (classifyAssistant(m) !== "call") return null;
  return {
    agentId: ref.agentId,
    eventId: facts.id,
    sessionId: ref.sessionId,
    sessionKey: ref.sessionKey,
    ts: m.timestamp ?? facts.timestamp ?? Date.now(),
    runId: m.runId ?? null,
    callId: null,
    responseId: m.responseId ?? null,
    provider: m.provider ?? null,
    model: m.model ?? null,
    tokens: { ...m.usage.tokens },
    costUsd: m.usage.recordedCost ?? null,
    latencyMs: null,
    outcome: m.stopReason === "error" ? "error" : "completed",
    success: true,
    source,
  };
}
