/**
 * Reference implementation of extractEventFacts for differential tests: plain JSON.parse, written for
 * clarity, never for speed. The production scanner must agree with it on every valid line.
 */
import type { EventFacts, MessageFacts, ToolCallFacts, UsageFacts } from "../src/model/facts.ts";

const s = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function ts(v: unknown): number | undefined {
  if (typeof v === "string") {
    const ms = Date.parse(v);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return typeof v === "number" && Number.isFinite(v) ? Math.floor(v) : undefined;
}

function bytes(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v));
}

function usageOf(u: Record<string, unknown>): UsageFacts {
  const invalidFields: string[] = [];
  const field = (name: string): number => {
    if (!(name in u)) return 0;
    const v = u[name];
    if (v === null) return 0;
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 1e9) return v;
    invalidFields.push(name);
    return 0;
  };
  const tokens = { input: field("input"), output: field("output"), cacheRead: field("cacheRead"), cacheWrite: field("cacheWrite") };
  let recordedCost: number | undefined;
  const cost = u["cost"];
  if (cost && typeof cost === "object" && !Array.isArray(cost) && "total" in cost) {
    const t = (cost as Record<string, unknown>)["total"];
    if (typeof t === "number" && Number.isFinite(t) && t >= 0 && t <= 10_000) recordedCost = t;
    else if (t !== null) invalidFields.push("cost.total");
  }
  return { tokens, recordedCost, invalidFields };
}

export function referenceFacts(line: string): EventFacts | null {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return null;
  }
  if (!o || typeof o !== "object" || Array.isArray(o)) return null;
  const e = o as Record<string, unknown>;
  if (typeof e["type"] !== "string") return null;
  let message: MessageFacts | undefined;
  const m = e["message"];
  if (m && typeof m === "object" && !Array.isArray(m)) {
    const mm = m as Record<string, unknown>;
    const toolCalls: ToolCallFacts[] = [];
    const content = mm["content"];
    if (Array.isArray(content)) {
      for (const b of content) {
        if (!b || typeof b !== "object" || Array.isArray(b)) continue;
        const blk = b as Record<string, unknown>;
        if (blk["type"] !== "toolCall") continue;
        const name = s(blk["name"]);
        const args = blk["arguments"];
        let inner: string | undefined;
        if (name === "tool_call" && args && typeof args === "object" && !Array.isArray(args)) {
          const a = args as Record<string, unknown>;
          inner = s(a["id"]) ?? s(a["name"]) ?? s(a["tool"]);
        }
        toolCalls.push({ id: s(blk["id"]) ?? "", name: inner ?? name ?? "", via: inner !== undefined ? name : undefined, argsBytes: "arguments" in blk ? bytes(args) : 0 });
      }
    }
    const openclaw = mm["__openclaw"];
    const usage = mm["usage"];
    message = {
      role: s(mm["role"]) ?? "",
      timestamp: ts(mm["timestamp"]),
      provider: s(mm["provider"]),
      model: s(mm["model"]),
      api: s(mm["api"]),
      stopReason: s(mm["stopReason"]),
      errorMessage: s(mm["errorMessage"]),
      responseId: s(mm["responseId"]),
      runId: openclaw && typeof openclaw === "object" ? s((openclaw as Record<string, unknown>)["runId"]) : undefined,
      usage: usage && typeof usage === "object" && !Array.isArray(usage) ? usageOf(usage as Record<string, unknown>) : undefined,
      toolCalls,
      contentBytes: "content" in mm ? bytes(content) : 0,
      toolCallId: s(mm["toolCallId"]),
      toolName: s(mm["toolName"]),
      isError: typeof mm["isError"] === "boolean" ? (mm["isError"] as boolean) : undefined,
      customType: s(mm["customType"]),
    };
  }
  return {
    type: e["type"] as string,
    id: s(e["id"]),
    parentId: s(e["parentId"]),
    timestamp: ts(e["timestamp"]),
    message,
    provider: s(e["provider"]),
    modelId: s(e["modelId"]),
    customType: s(e["customType"]),
    cwd: s(e["cwd"]),
    parentSession: s(e["parentSession"]),
    bytes: Buffer.byteLength(line),
  };
}
