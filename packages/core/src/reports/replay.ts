/**
 * Session replay: a session's transcript as a reader wants it — messages in order, each assistant call with
 * its tokens, cost and latency, each tool call with its arguments and its result, and per-turn totals.
 * Pure: takes parsed events (from any store, possibly duplicated across stores) and the accounted costs.
 */
import { isValidTokenCount } from "../model/facts.ts";
import { nanosToUsd } from "../pricing/pricing.ts";
import { isoInstant } from "../time/zone.ts";
import type { TokensJson } from "./usage.ts";

export const REPLAY_TEXT_LIMIT = 32 * 1024;

export type ReplayText = { text: string; bytes: number; truncated: boolean };

export type ReplayToolCall = {
  id: string;
  name: string;
  via: string | null;
  arguments: unknown;
  result: (ReplayText & { isError: boolean; ts: string | null }) | null;
};

export type ReplayEntry =
  | { kind: "user"; id: string; ts: string | null; content: ReplayText }
  | {
      kind: "assistant";
      id: string;
      ts: string | null;
      content: ReplayText;
      thinking: ReplayText | null;
      toolCalls: ReplayToolCall[];
      provider: string | null;
      model: string | null;
      stopReason: string | null;
      errorMessage: string | null;
      /** Null for transcript artifacts and messages without usage (not LLM calls). */
      tokens: TokensJson | null;
      cost: { source: string; usd: number } | null;
      latencyMs: number | null;
    }
  | { kind: "toolResult"; id: string; ts: string | null; toolCallId: string; toolName: string | null; isError: boolean; content: ReplayText }
  | { kind: "event"; id: string; ts: string | null; type: string; summary: string };

export type ReplayTurn = {
  index: number;
  /** Index in `entries` of the turn's first entry. */
  firstEntry: number;
  start: string | null;
  end: string | null;
  prompt: string;
  llmCalls: number;
  toolCalls: number;
  errors: number;
  tokens: TokensJson;
  costUsd: number;
  unpricedCalls: number;
  latencyMs: number;
};

export type CallCostInfo = { source: string; nanos: number };

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);
/** A usage field as the ledger counts it (facts.ts): invalid counts as 0. */
const tokenCount = (v: unknown): number => (typeof v === "number" && isValidTokenCount(v) ? v : 0);

function clip(text: string, limit = REPLAY_TEXT_LIMIT): ReplayText {
  const bytes = Buffer.byteLength(text);
  return bytes <= limit ? { text, bytes, truncated: false } : { text: text.slice(0, limit), bytes, truncated: true };
}

/** Text of a message's `content` (a string or an array of blocks), with tool calls and thinking set apart. */
function contentParts(content: unknown): { text: string; thinking: string; toolCalls: Obj[] } {
  if (typeof content === "string") return { text: content, thinking: "", toolCalls: [] };
  const text: string[] = [];
  const thinking: string[] = [];
  const toolCalls: Obj[] = [];
  if (Array.isArray(content)) {
    for (const b of content) {
      if (!isObj(b)) continue;
      if (b["type"] === "text" && typeof b["text"] === "string") text.push(b["text"]);
      else if (b["type"] === "thinking" && typeof b["thinking"] === "string") thinking.push(b["thinking"]);
      else if (b["type"] === "toolCall") toolCalls.push(b);
      else if (b["type"] === "image") text.push("[image]");
    }
  }
  return { text: text.join("\n"), thinking: thinking.join("\n"), toolCalls };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : isoInstant(ms);
}

function eventTime(e: Obj): number | null {
  const t = e["timestamp"];
  if (typeof t === "string") {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  const m = e["message"];
  if (isObj(m) && typeof m["timestamp"] === "number") return m["timestamp"];
  return null;
}

function summaryOf(e: Obj): string {
  switch (e["type"]) {
    case "model_change":
      return `model → ${str(e["provider"]) ?? "?"}/${str(e["modelId"]) ?? "?"}`;
    case "compaction":
      return `compacted (${num(e["tokensBefore"]).toLocaleString("en-US")} tokens before)`;
    case "reset":
      return `reset${str(e["reason"]) ? ` (${str(e["reason"])})` : ""}`;
    case "session":
      return `session started${str(e["cwd"]) ? ` in ${str(e["cwd"])}` : ""}`;
    case "thinking_level_change":
      return `thinking level → ${str(e["thinkingLevel"]) ?? "?"}`;
    case "custom":
    case "custom_message":
      return str(e["customType"]) ?? String(e["type"]);
    default:
      return String(e["type"]);
  }
}

/**
 * @param events  parsed events, in store order (duplicates across stores allowed; the first copy wins)
 * @param costs   accounted cost per LLM-call event id
 */
export function buildReplay(events: unknown[], costs: Map<string, CallCostInfo>): { entries: ReplayEntry[]; turns: ReplayTurn[] } {
  const seen = new Set<string>();
  const ordered: { e: Obj; ts: number | null; order: number }[] = [];
  events.forEach((raw, order) => {
    if (!isObj(raw)) return;
    const id = str(raw["id"]);
    if (id !== null) {
      if (seen.has(id)) return;
      seen.add(id);
    }
    ordered.push({ e: raw, ts: eventTime(raw), order });
  });
  // Stores keep events in order; sort only by time, stable, so copies from archives interleave correctly.
  ordered.sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0) || a.order - b.order);

  const entries: ReplayEntry[] = [];
  const callsById = new Map<string, ReplayToolCall>();
  for (const { e, ts, order } of ordered) {
    const id = str(e["id"]) ?? `~${order}`;
    const m = e["message"];
    if (e["type"] !== "message" || !isObj(m)) {
      entries.push({ kind: "event", id, ts: iso(ts), type: String(e["type"]), summary: summaryOf(e) });
      continue;
    }
    const role = str(m["role"]);
    if (role === "assistant") {
      const parts = contentParts(m["content"]);
      const toolCalls: ReplayToolCall[] = parts.toolCalls.map((b) => {
        const name = str(b["name"]) ?? "";
        const args = b["arguments"];
        const inner = name === "tool_call" && isObj(args) ? (str(args["id"]) ?? str(args["name"])) : null;
        const call: ReplayToolCall = { id: str(b["id"]) ?? "", name: inner ?? name, via: inner ? name : null, arguments: args ?? null, result: null };
        if (call.id) callsById.set(call.id, call);
        return call;
      });
      const usage = isObj(m["usage"]) ? m["usage"] : null;
      const cost = costs.get(id);
      const tokens = usage && cost ? { input: tokenCount(usage["input"]), output: tokenCount(usage["output"]), cacheRead: tokenCount(usage["cacheRead"]), cacheWrite: tokenCount(usage["cacheWrite"]), total: 0 } : null;
      if (tokens) tokens.total = tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite;
      const started = typeof m["timestamp"] === "number" ? m["timestamp"] : null;
      entries.push({
        kind: "assistant",
        id,
        ts: iso(ts),
        content: clip(parts.text),
        thinking: parts.thinking ? clip(parts.thinking) : null,
        toolCalls,
        provider: str(m["provider"]),
        model: str(m["model"]),
        stopReason: str(m["stopReason"]),
        errorMessage: str(m["errorMessage"]),
        tokens,
        cost: cost ? { source: cost.source, usd: nanosToUsd(cost.nanos) } : null,
        latencyMs: started !== null && ts !== null && ts >= started ? ts - started : null,
      });
    } else if (role === "toolResult") {
      const callId = str(m["toolCallId"]) ?? "";
      const text = contentParts(m["content"]).text;
      const isError = m["isError"] === true;
      const call = callsById.get(callId);
      if (call && call.result === null) call.result = { ...clip(text, 16 * 1024), isError, ts: iso(ts) };
      else entries.push({ kind: "toolResult", id, ts: iso(ts), toolCallId: callId, toolName: str(m["toolName"]), isError, content: clip(text, 16 * 1024) });
    } else if (role === "user") {
      entries.push({ kind: "user", id, ts: iso(ts), content: clip(contentParts(m["content"]).text) });
    } else {
      entries.push({ kind: "event", id, ts: iso(ts), type: `message:${role ?? "?"}`, summary: str(m["customType"]) ?? role ?? "message" });
    }
  }
  return { entries, turns: buildTurns(entries) };
}

/**
 * A turn starts at each user message. Bookkeeping events before the first user message belong to the
 * first turn; an assistant reply with no user message before it (cron, hooks) opens a turn of its own.
 */
function buildTurns(entries: ReplayEntry[]): ReplayTurn[] {
  const turns: ReplayTurn[] = [];
  let cur: ReplayTurn | null = null;
  const open = (i: number, prompt: string, start: string | null): ReplayTurn => ({
    index: turns.length,
    firstEntry: i,
    start,
    end: start,
    prompt: prompt.slice(0, 200),
    llmCalls: 0,
    toolCalls: 0,
    errors: 0,
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
    costUsd: 0,
    unpricedCalls: 0,
    latencyMs: 0,
  });
  entries.forEach((e, i) => {
    if (e.kind === "user" || (cur === null && e.kind !== "event")) {
      cur = open(turns.length === 0 ? 0 : i, e.kind === "user" ? e.content.text : "", e.ts);
      turns.push(cur);
    }
    if (cur === null) return;
    const t: ReplayTurn = cur;
    if (e.ts) t.end = e.ts;
    if (e.kind === "assistant") {
      t.toolCalls += e.toolCalls.length;
      t.errors += e.toolCalls.filter((c) => c.result?.isError).length + (e.stopReason === "error" ? 1 : 0);
      if (e.tokens) {
        t.llmCalls++;
        t.tokens.input += e.tokens.input;
        t.tokens.output += e.tokens.output;
        t.tokens.cacheRead += e.tokens.cacheRead;
        t.tokens.cacheWrite += e.tokens.cacheWrite;
        t.tokens.total += e.tokens.total;
        if (e.cost && e.cost.source !== "unknown") t.costUsd += e.cost.usd;
        else t.unpricedCalls++;
        t.latencyMs += e.latencyMs ?? 0;
      }
    }
  });
  return turns;
}
