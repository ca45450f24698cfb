/**
 * What of a transcript event leaves the machine, per privacy mode:
 *   full      the event verbatim (its JSON text is passed through untouched)
 *   redacted  the whole event, with every content string masked (redact.ts); with only the built-in
 *             patterns, done on the raw JSON text without decoding the event (redact-raw.ts), ~4× faster
 *   metadata  a skeleton: ids, parent links, timestamps, types, roles, models, usage and cost, stop reasons,
 *             tool call ids and names, tool error flags, compaction token counts — no message text, tool
 *             arguments or results, thinking, summaries, prompts, or working directories
 * Events that are not valid JSON are never sent (they are counted locally as bad lines).
 */
import { textOf, type TextEncoding } from "@clawtower/core";
import { redactRawEvent } from "./redact-raw.ts";
import { redactValue, type Redactor } from "./redact.ts";

export type Privacy = "metadata" | "redacted" | "full";

/**
 * A prepared event: JSON text ready to embed in a request body. `latin1`: the text holds the event's UTF-8
 * bytes one per char (as read from the store), and goes on the wire as those bytes, never decoded.
 */
export type PreparedEvent = { json: string; encoding: TextEncoding };

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function pick(src: Obj, keys: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of keys) if (src[k] !== undefined) out[k] = src[k];
  return out;
}

const EVENT_KEYS = ["type", "id", "parentId", "timestamp", "version", "parentSession", "provider", "modelId", "thinkingLevel", "customType", "reason", "firstKeptEntryId", "tokensBefore", "tokensAfter", "fromHook"] as const;
const MESSAGE_KEYS = ["role", "timestamp", "api", "provider", "model", "usage", "stopReason", "responseId", "toolCallId", "toolName", "isError", "customType", "errorCode", "errorType", "excludeFromContext"] as const;
/** Argument keys that name the wrapped tool of the tool-search bridge (`tool_call {id: "sessions_spawn"}`). */
const WRAPPER_ARG_KEYS = ["id", "name", "tool"] as const;

function contentSkeleton(content: unknown): unknown {
  if (typeof content === "string") return "";
  if (!Array.isArray(content)) return undefined;
  return content.map((block) => {
    if (!isObj(block)) return {};
    const out = pick(block, ["type", "id", "name"]);
    if (block["type"] === "toolCall") {
      const args = isObj(block["arguments"]) ? block["arguments"] : {};
      out["arguments"] = block["name"] === "tool_call" ? pick(args, WRAPPER_ARG_KEYS.filter((k) => typeof args[k] === "string")) : {};
    } else if (block["type"] === "text") {
      out["text"] = "";
    }
    return out;
  });
}

export function metadataOf(event: Obj): Obj {
  const out = pick(event, EVENT_KEYS);
  if (isObj(event["data"]) && event["customType"] === "model-snapshot") out["data"] = pick(event["data"], ["timestamp", "provider", "modelApi", "modelId"]);
  const m = event["message"];
  if (isObj(m)) {
    const msg = pick(m, MESSAGE_KEYS);
    const content = contentSkeleton(m["content"]);
    if (content !== undefined) msg["content"] = content;
    const oc = m["__openclaw"];
    if (isObj(oc) && typeof oc["runId"] === "string") msg["__openclaw"] = { runId: oc["runId"] };
    const details = m["details"];
    // The bridge's nested-tool record: which tool ran inside `tool_call`, and whether it failed.
    if (isObj(details) && m["customType"] === "openclaw.nested-tool.v1") msg["details"] = pick(details, ["parentToolCallId", "toolCallId", "toolName", "afterEntryId"]);
    out["message"] = msg;
  }
  return out;
}

/** Transforms a valid event's JSON text (the caller validated it with extractEventFacts). */
export type EventTransform = (text: string, encoding?: TextEncoding) => PreparedEvent | null;

export function createEventTransform(privacy: Privacy, redactor: Redactor): EventTransform {
  return (text, encoding = "utf16") => {
    if (privacy === "full") return { json: text, encoding };
    if (privacy === "redacted" && redactor.builtInOnly) {
      const json = redactRawEvent(text, encoding, redactor);
      if (json !== undefined) return { json, encoding };
    }
    let event: unknown;
    try {
      event = JSON.parse(textOf({ text, encoding }));
    } catch {
      return null;
    }
    if (!isObj(event)) return null;
    return { json: JSON.stringify(privacy === "metadata" ? metadataOf(event) : redactValue(event, redactor)), encoding: "utf16" };
  };
}
