/**
 * Stored LLM calls and tool calls as OpenTelemetry spans with the GenAI semantic conventions, at their real
 * historical times. Pure: the ids are derived from what the spans describe, so a span sent again (after a crash
 * between the send and the saved mark) has the same trace and span id.
 *
 *   - a turn is the events from one user message to the next (before the first: the session's start); each
 *     turn is one trace, its id from (deployment, agent, session, the turn's user message id);
 *   - an LLM call is a `chat` span (CLIENT) ending at the assistant message's time and starting `latency_ms`
 *     earlier when the latency is known; a tool call an `execute_tool` span (INTERNAL) from the call to its
 *     result, child of the LLM call that requested it;
 *   - gen_ai.usage.input_tokens counts every input token, cached ones included (as the conventions ask);
 *     gen_ai.usage.cache_read.input_tokens / cache_creation.input_tokens give the cached parts; the
 *     uncached input is clawtower.usage.uncached_input_tokens, the cost clawtower.cost.usd + clawtower.cost.source.
 */
import crypto from "node:crypto";
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime } from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import type { ChangedSession, SessionSpanRows } from "@clawtower/store";
import { VERSION } from "../version.ts";

const SCOPE = { name: "clawtower", version: VERSION };

function idHex(bytes: number, ...parts: string[]): string {
  return crypto.createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, bytes * 2);
}

export function hrTimeOfMs(ms: number): HrTime {
  return [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
}

function hrDuration(a: number, b: number): HrTime {
  return hrTimeOfMs(Math.max(0, b - a));
}

/** The user message that opens the turn holding instant `ts` ("" before the first). */
function turnAt(users: SessionSpanRows["userMessages"], ts: number): string {
  let lo = 0;
  let hi = users.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (users[mid]!.ts <= ts) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? "" : users[lo - 1]!.eventId;
}

function span(o: {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  start: number;
  end: number;
  attributes: Attributes;
  error: string | null;
  resource: Resource;
}): ReadableSpan {
  const ctx = { traceId: o.traceId, spanId: o.spanId, traceFlags: TraceFlags.SAMPLED };
  return {
    name: o.name,
    kind: o.kind,
    spanContext: () => ctx,
    ...(o.parentSpanId ? { parentSpanContext: { traceId: o.traceId, spanId: o.parentSpanId, traceFlags: TraceFlags.SAMPLED } } : {}),
    startTime: hrTimeOfMs(o.start),
    endTime: hrTimeOfMs(o.end),
    duration: hrDuration(o.start, o.end),
    status: o.error ? { code: SpanStatusCode.ERROR, message: o.error } : { code: SpanStatusCode.UNSET },
    attributes: o.attributes,
    links: [],
    events: [],
    ended: true,
    resource: o.resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

export function sessionSpans(s: ChangedSession, rows: SessionSpanRows, resource: Resource): ReadableSpan[] {
  const out: ReadableSpan[] = [];
  const traceOf = (ts: number) => idHex(16, s.deploymentId, s.agentId, s.sessionId, "turn", turnAt(rows.userMessages, ts));
  const callSpanId = (eventId: string) => idHex(8, s.deploymentId, s.agentId, s.sessionId, "llm", eventId);
  const common = { "gen_ai.conversation.id": s.sessionId, "gen_ai.agent.id": s.agentId, "clawtower.deployment.id": s.deploymentId, "clawtower.session.kind": s.kind };
  const callTrace = new Map<string, string>();
  for (const c of rows.calls) {
    const traceId = traceOf(c.ts);
    callTrace.set(c.eventId, traceId);
    const attributes: Attributes = {
      ...common,
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": c.provider,
      "gen_ai.request.model": c.model,
      "gen_ai.response.model": c.model,
      "gen_ai.usage.input_tokens": c.inputTokens + c.cacheReadTokens + c.cacheWriteTokens,
      "gen_ai.usage.output_tokens": c.outputTokens,
      "gen_ai.usage.cache_read.input_tokens": c.cacheReadTokens,
      "gen_ai.usage.cache_creation.input_tokens": c.cacheWriteTokens,
      "clawtower.usage.uncached_input_tokens": c.inputTokens,
      "clawtower.cost.source": c.costSource,
    };
    if (c.costSource !== "unknown") attributes["clawtower.cost.usd"] = c.costNanos / 1e9;
    if (c.responseId) attributes["gen_ai.response.id"] = c.responseId;
    if (c.stopReason) attributes["gen_ai.response.finish_reasons"] = [c.stopReason];
    const failed = c.stopReason === "error";
    if (failed) attributes["error.type"] = "llm_error";
    out.push(
      span({
        name: `chat ${c.model}`,
        kind: SpanKind.CLIENT,
        traceId,
        spanId: callSpanId(c.eventId),
        parentSpanId: null,
        start: c.ts - (c.latencyMs ?? 0),
        end: c.ts,
        attributes,
        error: failed ? "the model call ended with an error" : null,
        resource,
      }),
    );
  }
  for (const t of rows.tools) {
    const name = t.name ?? "(unknown)";
    const failed = t.isError === 1;
    const attributes: Attributes = { ...common, "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name, "gen_ai.tool.call.id": t.callId };
    if (failed) attributes["error.type"] = "tool_error";
    // The parent is the requesting call's span: in this batch, or sent before (same derived ids either way).
    const parent = t.callEventId ? callSpanId(t.callEventId) : null;
    out.push(
      span({
        name: `execute_tool ${name}`,
        kind: SpanKind.INTERNAL,
        traceId: (t.callEventId && callTrace.get(t.callEventId)) || traceOf(t.ts),
        spanId: idHex(8, s.deploymentId, s.agentId, s.sessionId, "tool", t.callId),
        parentSpanId: parent,
        start: t.ts,
        end: t.resultTs ?? t.ts,
        attributes,
        error: failed ? "the tool returned an error" : null,
        resource,
      }),
    );
  }
  return out;
}
