/**
 * extractEventFacts: one OpenClaw transcript event (a JSONL line or an SQLite `event_json` text) → the facts
 * Clawtower accounts. This is the only event parser; both store formats and every fast path go through it.
 * It works on the event's UTF-8 bytes (json-bytes.ts) and materializes just the members it needs, skipping
 * the rest (tool output, thinking text, details): a 200 KB tool result costs one byte loop instead of a
 * full `JSON.parse`, and never becomes a string.
 */
import { isValidCostUsd, isValidTokenCount, type EventFacts, type MessageFacts, type ToolCallFacts, type UsageFacts } from "../model/facts.ts";
import type { ProblemKind } from "../model/problems.ts";
import {
  asBuffer,
  expectEnd,
  readBoolean,
  readNumber,
  readString,
  scanArray,
  scanObject,
  skipValue,
  skipWhitespace,
  valueKind,
  JsonScanError,
  type TextEncoding,
} from "./json-bytes.ts";

export type ExtractFailure = { failed: ProblemKind; detail: string };

export function isExtractFailure(r: EventFacts | ExtractFailure): r is ExtractFailure {
  return (r as ExtractFailure).failed !== undefined;
}


function optString(s: Buffer, i: number): { value: string | undefined; end: number } {
  if (valueKind(s, i) !== "string") return { value: undefined, end: skipValue(s, i) };
  return readString(s, i);
}

function parseTimestamp(s: Buffer, i: number): { value: number | undefined; end: number } {
  const kind = valueKind(s, i);
  if (kind === "string") {
    const { value, end } = readString(s, i);
    const ms = Date.parse(value);
    return { value: Number.isFinite(ms) ? ms : undefined, end };
  }
  if (kind === "number") {
    // Whole milliseconds, as a parsed ISO string gives (the store keeps instants as integers).
    const { value, end } = readNumber(s, i);
    return { value: value !== undefined && Number.isFinite(value) ? Math.floor(value) : undefined, end };
  }
  return { value: undefined, end: skipValue(s, i) };
}

function newMessage(): MessageFacts {
  return {
    role: "",
    timestamp: undefined,
    provider: undefined,
    model: undefined,
    api: undefined,
    stopReason: undefined,
    errorMessage: undefined,
    responseId: undefined,
    runId: undefined,
    usage: undefined,
    toolCalls: [],
    contentBytes: 0,
    toolCallId: undefined,
    toolName: undefined,
    isError: undefined,
    customType: undefined,
  };
}

/** A usage field counts when it is valid (`valid`); anything else counts as 0 and is reported. */
function usageNumber(s: Buffer, i: number, field: string, invalid: string[], valid: (n: number) => boolean): { value: number; end: number } {
  const { value, end } = readNumber(s, i);
  if (value === undefined || !valid(value)) {
    if (valueKind(s, i) !== "null") invalid.push(field);
    return { value: 0, end };
  }
  return { value, end };
}

function scanUsage(s: Buffer, i: number): { usage: UsageFacts; end: number } {
  const usage: UsageFacts = {
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    recordedCost: undefined,
    invalidFields: [],
  };
  const { tokens, invalidFields } = usage;
  const end = scanObject(s, i, (key, v) => {
    switch (key) {
      case "input":
      case "output":
      case "cacheRead":
      case "cacheWrite": {
        const r = usageNumber(s, v, key, invalidFields, isValidTokenCount);
        tokens[key] = r.value;
        return r.end;
      }
      case "cost": {
        if (valueKind(s, v) !== "object") return -1;
        return scanObject(s, v, (costKey, cv) => {
          if (costKey !== "total") return -1;
          const before = invalidFields.length;
          const r = usageNumber(s, cv, "cost.total", invalidFields, isValidCostUsd);
          usage.recordedCost = invalidFields.length === before && valueKind(s, cv) === "number" ? r.value : undefined;
          return r.end;
        });
      }
      default:
        return -1;
    }
  });
  return { usage, end };
}

/** The tool-search bridge records `tool_call {id: "<real tool>", args}`; report the real tool. */
const WRAPPER_TOOLS: ReadonlySet<string> = new Set(["tool_call"]);

function wrappedToolName(s: Buffer, argsStart: number): string | undefined {
  if (valueKind(s, argsStart) !== "object") return undefined;
  let name: string | undefined;
  scanObject(s, argsStart, (key, v) => {
    if ((key === "id" || key === "name" || key === "tool") && name === undefined && valueKind(s, v) === "string") {
      const r = readString(s, v);
      name = r.value;
      return r.end;
    }
    return -1;
  });
  return name;
}

function scanContentBlock(s: Buffer, i: number, calls: ToolCallFacts[]): number {
  if (valueKind(s, i) !== "object") return -1;
  let type: string | undefined;
  let id: string | undefined;
  let name: string | undefined;
  let argsStart = -1;
  let argsEnd = -1;
  const end = scanObject(s, i, (key, v) => {
    switch (key) {
      case "type": {
        const r = optString(s, v);
        type = r.value;
        return r.end;
      }
      case "id": {
        const r = optString(s, v);
        id = r.value;
        return r.end;
      }
      case "name": {
        const r = optString(s, v);
        name = r.value;
        return r.end;
      }
      case "arguments":
        argsStart = v;
        argsEnd = skipValue(s, v);
        return argsEnd;
      default:
        return -1;
    }
  });
  if (type === "toolCall") {
    const wrapper = name !== undefined && WRAPPER_TOOLS.has(name) ? name : undefined;
    const inner = wrapper !== undefined && argsStart >= 0 ? wrappedToolName(s, argsStart) : undefined;
    calls.push({
      id: id ?? "",
      name: inner ?? name ?? "",
      via: inner !== undefined ? wrapper : undefined,
      argsBytes: argsStart >= 0 ? argsEnd - argsStart : 0,
    });
  }
  return end;
}

function scanMessage(s: Buffer, i: number, m: MessageFacts): number {
  return scanObject(s, i, (key, v) => {
    switch (key) {
      case "role": {
        const r = optString(s, v);
        m.role = r.value ?? "";
        return r.end;
      }
      case "timestamp": {
        const r = parseTimestamp(s, v);
        m.timestamp = r.value;
        return r.end;
      }
      case "provider":
      case "model":
      case "api":
      case "stopReason":
      case "errorMessage":
      case "responseId":
      case "toolCallId":
      case "toolName":
      case "customType": {
        const r = optString(s, v);
        m[key] = r.value;
        return r.end;
      }
      case "isError": {
        const r = readBoolean(s, v);
        m.isError = r.value;
        return r.end;
      }
      case "usage": {
        if (valueKind(s, v) !== "object") return -1;
        const r = scanUsage(s, v);
        m.usage = r.usage;
        return r.end;
      }
      case "content": {
        const end =
          valueKind(s, v) === "array" ? scanArray(s, v, (_idx, e) => scanContentBlock(s, e, m.toolCalls)) : skipValue(s, v);
        m.contentBytes = end - v;
        return end;
      }
      case "__openclaw": {
        if (valueKind(s, v) !== "object") return -1;
        return scanObject(s, v, (k2, v2) => {
          if (k2 !== "runId") return -1;
          const r = optString(s, v2);
          m.runId = r.value;
          return r.end;
        });
      }
      default:
        return -1;
    }
  });
}

/**
 * @param text  the event's JSON text: its UTF-8 bytes (a JSONL line, an SQLite row), or a string —
 *              `encoding` "latin1" when that string is raw UTF-8 bytes decoded one byte per char
 */
export function extractEventFacts(text: string | Uint8Array, encoding: TextEncoding = "utf16"): EventFacts | ExtractFailure {
  const b = typeof text === "string" ? Buffer.from(text, encoding === "latin1" ? "latin1" : "utf8") : asBuffer(text);
  const start = skipWhitespace(b, 0);
  if (start === b.length) return { failed: "blank-line", detail: "blank line" };
  try {
    if (b[start] !== 0x7b) {
      expectEnd(b, skipValue(b, start));
      return { failed: "not-an-object", detail: `top-level value is ${valueKind(b, start)}` };
    }
    const { facts, end } = scanEvent(b, start);
    expectEnd(b, end);
    if (!isExtractFailure(facts)) facts.bytes = b.length;
    return facts;
  } catch (e) {
    if (e instanceof JsonScanError) return { failed: "invalid-json", detail: `${e.message} at column ${e.at + 1}` };
    if (e instanceof RangeError) return { failed: "invalid-json", detail: "nesting too deep" };
    throw e;
  }
}

/**
 * The facts of the event object that starts at byte `start` of a larger JSON text — an ingest line that
 * wraps the event — for a caller that scans the wrapper itself: the event is read in the same pass instead
 * of being cut out and scanned again. `facts` equals `extractEventFacts(bytes.subarray(start, end))`, except
 * that malformed JSON throws (JsonScanError, or RangeError when nested too deep) for the caller to handle.
 */
export function scanEventFactsAt(bytes: Uint8Array, start: number): { facts: EventFacts | ExtractFailure; end: number } {
  const b = asBuffer(bytes);
  const r = scanEvent(b, start);
  if (!isExtractFailure(r.facts)) r.facts.bytes = r.end - start;
  return r;
}

/** Scans the event object at `start`; `bytes` is left to the caller, who knows what text the event is. */
function scanEvent(text: Buffer, start: number): { facts: EventFacts | ExtractFailure; end: number } {
  const facts: EventFacts = {
    type: "",
    id: undefined,
    parentId: undefined,
    timestamp: undefined,
    message: undefined,
    provider: undefined,
    modelId: undefined,
    customType: undefined,
    cwd: undefined,
    parentSession: undefined,
    bytes: 0,
  };
  let hasType = false;
  const end = scanObject(text, start, (key, v) => {
    switch (key) {
      case "type": {
        const r = optString(text, v);
        facts.type = r.value ?? "";
        hasType = r.value !== undefined;
        return r.end;
      }
      case "id":
      case "parentId":
      case "provider":
      case "modelId":
      case "customType":
      case "cwd":
      case "parentSession": {
        const r = optString(text, v);
        facts[key] = r.value;
        return r.end;
      }
      case "timestamp": {
        const r = parseTimestamp(text, v);
        facts.timestamp = r.value;
        return r.end;
      }
      case "message": {
        if (valueKind(text, v) !== "object") return -1;
        const m = newMessage();
        facts.message = m;
        return scanMessage(text, v, m);
      }
      default:
        return -1;
    }
  });
  if (!hasType) return { facts: { failed: "missing-event-type", detail: "event has no string `type`" }, end };
  return { facts, end };
}
