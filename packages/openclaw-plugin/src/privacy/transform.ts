/**
 * What of a transcript event leaves the machine, per privacy mode:
 *   full      the event verbatim (its JSON text is passed through untouched)
 *   redacted  the whole event, with every content string masked (redact.ts); with only the built-in
 *             patterns, done on the JSON text without decoding the event (redact-raw.ts)
 *   metadata  a skeleton: ids, parent links, timestamps, types, roles, models, usage and cost, stop reasons,
 *             tool call ids and names, tool error flags, compaction token counts — no message text, tool
 *             arguments or results, thinking, summaries, prompts, or working directories (metadata.ts; made
 *             from the JSON text, decoding only when that cannot decide)
 * Events the ledger's scanner rejects never get here (the caller counts them as bad lines); one whose result
 * would not be JSON is not sent either (null).
 */
import { textOf, type TextEncoding } from "@clawtower/core";
import { metadataOf, metadataRaw } from "./metadata.ts";
import { redactRawEvent } from "./redact-raw.ts";
import { redactValue, type Redactor } from "./redact.ts";

export type Privacy = "metadata" | "redacted" | "full";

/**
 * A prepared event: JSON text ready to embed in a request body. `latin1`: the text holds the event's UTF-8
 * bytes one per char (as read from the store), and goes on the wire as those bytes, never decoded.
 */
export type PreparedEvent = { json: string; encoding: TextEncoding };

/** Transforms a valid event's JSON text (the caller validated it with extractEventFacts). */
export type EventTransform = (text: string, encoding?: TextEncoding) => PreparedEvent | null;

export function createEventTransform(privacy: Privacy, redactor: Redactor): EventTransform {
  return (text, encoding = "utf16") => {
    if (privacy === "full") return { json: text, encoding };
    if (privacy === "metadata") {
      const json = metadataRaw(text, encoding);
      if (json !== undefined) return { json, encoding };
    } else if (redactor.builtInOnly) {
      const json = redactRawEvent(text, encoding, redactor);
      if (json !== undefined) return { json, encoding };
    }
    let event: unknown;
    try {
      event = JSON.parse(textOf({ text, encoding }));
    } catch {
      return null;
    }
    if (typeof event !== "object" || event === null || Array.isArray(event)) return null;
    return { json: JSON.stringify(privacy === "metadata" ? metadataOf(event as Record<string, unknown>) : redactValue(event, redactor)), encoding: "utf16" };
  };
}
