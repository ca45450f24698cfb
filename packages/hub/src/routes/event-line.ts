/**
 * One line of POST /api/v1/ingest/events, `{deploymentId?, agentId, sessionId, seq?, lineIndex?,
 * idempotencyKey?, event, session?}`, checked and turned into what ingest needs.
 *
 * The zod schema is the contract and words every rejection. NDJSON lines first go through a fast path
 * that scans the line's bytes once with core's JSON scanner: it checks the envelope fields by hand, reads
 * the event's facts in the same pass, and keeps the event's exact JSON text (the only part of the line
 * decoded to a string) — instead of JSON.parse, zod, JSON.stringify of the event and a second scan of that
 * text (about 3× the work).
 * The fast path only ever accepts what the schema accepts, with the same values; whenever it is not sure
 * (a field it does not check itself, a value out of range, malformed JSON…) the line takes the zod path.
 * The rules themselves (id lengths and characters, stored text, instants, nesting) are core's ingest-line.ts;
 * a line's answer names the field, and its position is the answer's `line` (0-based), never the text.
 */
import { isUtf8 } from "node:buffer";
import {
  INGEST_LIMITS,
  JsonScanError,
  NO_CONTROL_CHARACTERS,
  hasControlCharacter,
  isExtractFailure,
  jsonBytes,
  nestsDeeperThan,
  scanEventFactsAt,
  sessionMetaProblem,
  type EventFacts,
} from "@clawtower/core";
import type { SessionMetaInput } from "@clawtower/store";
import { z } from "../validation.ts";

export const SessionMeta = z
  .object({
    sessionKey: z.string().max(500).nullish(),
    kind: z.string().max(40).nullish(),
    channel: z.string().max(200).nullish(),
    chatType: z.string().max(40).nullish(),
    label: z.string().max(500).nullish(),
    parentSessionKey: z.string().max(500).nullish(),
    spawnedBy: z.string().max(500).nullish(),
    createdVia: z.string().max(40).nullish(),
    skills: z.array(z.string().max(200)).max(1000).nullish(),
  })
  .passthrough()
  .superRefine((meta, ctx) => {
    const bad = sessionMetaProblem(meta);
    if (bad) ctx.addIssue({ code: "custom", path: [bad.field], message: bad.problem });
  });

/** At most `max` characters, none of them a control character (core's rule for ids). */
export function controlFree(max: number) {
  return z
    .string()
    .max(max)
    .refine((s) => !hasControlCharacter(s), NO_CONTROL_CHARACTERS);
}

/** An id of the envelope: 1 to `max` characters, none of them a control character. */
export function ingestId(max: number) {
  return controlFree(max).min(1);
}

/**
 * Deepest event the schema path walks: beyond the JSON scanner's own limit (which ingest applies to every
 * event, as "nesting too deep"), so that the guard never refuses what the fast path takes; it only keeps
 * JSON.stringify from overflowing the stack.
 */
export const NESTING_GUARD = 2 * INGEST_LIMITS.maxNestingDepth;

/** Why a parsed event cannot be turned back into JSON text, or undefined. */
export function nestingProblem(event: unknown): string | undefined {
  return nestsDeeperThan(event, NESTING_GUARD) ? `nests arrays and objects deeper than ${INGEST_LIMITS.maxNestingDepth} levels` : undefined;
}

const EventLine = z.object({
  deploymentId: ingestId(INGEST_LIMITS.deploymentId).optional(),
  agentId: ingestId(INGEST_LIMITS.agentId),
  sessionId: ingestId(INGEST_LIMITS.sessionId),
  seq: z.number().int().min(0).optional(),
  lineIndex: z.number().int().min(0).optional(),
  idempotencyKey: ingestId(INGEST_LIMITS.idempotencyKey).optional(),
  event: z.union([z.record(z.string(), z.unknown()), z.string().min(2)]),
  session: SessionMeta.optional(),
});

/** A valid line, as ingest takes it (less the deployment, which the route checks against the key). */
export type EventLineFields = {
  deploymentId: string | undefined;
  agentId: string;
  sessionId: string;
  seq: number | null;
  idempotencyKey: string | null;
  /** The event's JSON text. */
  event: string;
  /** The event's facts, when the fast path read them in passing. */
  facts?: EventFacts;
  session: SessionMetaInput | undefined;
};

export type LineReading = { ok: true; line: EventLineFields } | { ok: false; reason: string };

const { expectEnd, mayBeLenient, readNumber, readString, scanObject, skipValue, skipWhitespace, valueKind } = jsonBytes;

/** One NDJSON line, as its bytes. */
export function readNdjsonLine(line: Buffer | string): LineReading {
  const bytes = typeof line === "string" ? Buffer.from(line, "utf8") : line;
  const fast = scanLine(bytes);
  if (fast) return { ok: true, line: fast };
  let item: unknown;
  try {
    item = JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    return { ok: false, reason: `not valid JSON: ${(e as Error).message}` };
  }
  return checkEventItem(item);
}

/** One item of a JSON batch (or an NDJSON line the fast path left to the schema). */
export function checkEventItem(item: unknown): LineReading {
  const r = EventLine.safeParse(item);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    return { ok: false, reason: `${issue.path.join(".") || "line"}: ${issue.message}` };
  }
  const l = r.data;
  const deep = typeof l.event === "string" ? undefined : nestingProblem(l.event);
  if (deep) return { ok: false, reason: `event: ${deep}` };
  return {
    ok: true,
    line: {
      deploymentId: l.deploymentId,
      agentId: l.agentId,
      sessionId: l.sessionId,
      seq: l.seq ?? l.lineIndex ?? null,
      idempotencyKey: l.idempotencyKey ?? null,
      event: typeof l.event === "string" ? l.event : JSON.stringify(l.event),
      session: l.session,
    },
  };
}

/** The fast path: the line's fields when it is surely valid, else undefined (the schema decides). */
function scanLine(bytes: Buffer): EventLineFields | undefined {
  // Only text free of what the scanner tolerates and JSON.parse does not may be kept as the event's JSON;
  // bytes that are not UTF-8 are left to the schema path, which decodes them as the rest of the hub does.
  if (mayBeLenient(bytes) || !isUtf8(bytes)) return undefined;
  const f: Partial<EventLineFields> & { seq?: number; lineIndex?: number } = {};
  let sure = true;
  /** The end of a value the fast path took, or -1 (skip it) after marking the line as one for the schema. */
  const took = (end: number | undefined): number => {
    if (end === undefined) sure = false;
    return end ?? -1;
  };
  try {
    const end = scanObject(bytes, skipWhitespace(bytes, 0), (key, v) => {
      switch (key) {
        case "deploymentId":
        case "agentId":
        case "sessionId":
        case "idempotencyKey": {
          const r = boundedString(bytes, v, INGEST_LIMITS[key]);
          if (r) f[key] = r.value;
          return took(r?.end);
        }
        case "seq":
        case "lineIndex": {
          const r = readNumber(bytes, v);
          const ok = r.value !== undefined && Number.isSafeInteger(r.value) && r.value >= 0;
          if (ok) f[key] = r.value;
          return took(ok ? r.end : undefined);
        }
        case "event":
          return took(readEvent(bytes, v, f));
        case "session":
          return took(readSession(bytes, v, f));
        default:
          return -1; // the schema drops unknown keys
      }
    });
    expectEnd(bytes, end);
  } catch (e) {
    if (e instanceof JsonScanError || e instanceof RangeError) return undefined;
    throw e;
  }
  if (!sure || f.agentId === undefined || f.sessionId === undefined || f.event === undefined) return undefined;
  return {
    deploymentId: f.deploymentId,
    agentId: f.agentId,
    sessionId: f.sessionId,
    seq: f.seq ?? f.lineIndex ?? null,
    idempotencyKey: f.idempotencyKey ?? null,
    event: f.event,
    ...(f.facts ? { facts: f.facts } : {}),
    session: f.session,
  };
}

/** An id as ingestId takes it (1 to `max` UTF-16 units, zod's measure; no control character), else undefined. */
function boundedString(bytes: Buffer, v: number, max: number): { value: string; end: number } | undefined {
  if (valueKind(bytes, v) !== "string") return undefined;
  const r = readString(bytes, v);
  return r.value.length >= 1 && r.value.length <= max && !hasControlCharacter(r.value) ? r : undefined;
}

/** `event`: an object, kept as its exact text with its facts, or a string (≥ 2 chars) holding the event's JSON. */
function readEvent(bytes: Buffer, v: number, f: Partial<EventLineFields>): number | undefined {
  const kind = valueKind(bytes, v);
  if (kind === "object") {
    const { facts, end } = scanEventFactsAt(bytes, v);
    f.event = bytes.toString("utf8", v, end);
    // An event that is not one (no type…) is rejected by ingest, which words the reason from the text.
    f.facts = isExtractFailure(facts) ? undefined : facts;
    return end;
  }
  if (kind !== "string") return undefined;
  const r = readString(bytes, v);
  if (r.value.length < 2) return undefined;
  f.event = r.value;
  f.facts = undefined;
  return r.end;
}

/** `session`: small and sent once per session and request, so parsed and checked by the schema itself. */
function readSession(bytes: Buffer, v: number, f: Partial<EventLineFields>): number | undefined {
  if (valueKind(bytes, v) !== "object") return undefined;
  const end = skipValue(bytes, v);
  const r = SessionMeta.safeParse(JSON.parse(bytes.toString("utf8", v, end)));
  if (!r.success) return undefined;
  f.session = r.data;
  return end;
}
