/**
 * The rules one ingested line must meet, whichever route brought it (Clawtower, Influxion- or
 * AgentWatch-compatible): one definition for the hub's route schemas and the store's ingest, checked before
 * anything is written, so that SQLite and PostgreSQL take and refuse the same lines and one bad line never
 * fails the others. Pure and without zod (every CLI command loads core; zod costs ~50 ms to load): the hub's
 * zod schemas call these predicates.
 *
 * Usage numbers are not checked here: they follow the parser's rules for every source (facts.ts; invalid
 * counts as 0 and is reported), so a transcript shipped to a hub gives the ledger its local import gives.
 */
import type { EventFacts } from "./facts.ts";
import { MAX_JSON_DEPTH } from "../parse/json-bytes.ts";

export const INGEST_LIMITS = {
  /** Longest id of each envelope field, in UTF-16 code units (zod's measure of a string). */
  deploymentId: 200,
  agentId: 200,
  sessionId: 300,
  idempotencyKey: 500,
  /** Earliest event instant taken: OpenClaw did not exist before it, so an earlier one is a broken clock or unit. */
  earliestTimestampMs: Date.UTC(2020, 0, 1),
  /** How far after the hub's clock an event may be dated: clock skew across a fleet, never a year. */
  maxFutureMs: 24 * 3_600_000,
  /** Deepest nesting of arrays and objects in an event: the JSON scanner's limit. */
  maxNestingDepth: MAX_JSON_DEPTH,
} as const;

// C0 and C1 controls and DEL: invisible in every listing, and NUL cannot be stored in PostgreSQL text at all.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function hasControlCharacter(s: string): boolean {
  return CONTROL.test(s);
}

export const NO_CONTROL_CHARACTERS = "must not contain control characters (U+0000–U+001F, U+007F–U+009F)";

/** Why `value` cannot be an id of at most `max` characters, or undefined when it can. */
export function idProblem(value: string, max: number): string | undefined {
  if (value.length < 1 || value.length > max) return `must be 1 to ${max} characters`;
  if (hasControlCharacter(value)) return NO_CONTROL_CHARACTERS;
  return undefined;
}

/** Why free text cannot be stored, or undefined: a NUL, which PostgreSQL text cannot hold. */
export function textProblem(value: string): string | undefined {
  return value.includes("\u0000") ? "must not contain NUL (U+0000)" : undefined;
}

function describeInstant(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms after 1970`;
}

/** Why an event instant is outside the window ingest takes, or undefined. */
export function timestampProblem(ms: number, now: number): string | undefined {
  if (ms < INGEST_LIMITS.earliestTimestampMs) return `${describeInstant(ms)} is before ${describeInstant(INGEST_LIMITS.earliestTimestampMs)}, the earliest instant taken`;
  if (ms > now + INGEST_LIMITS.maxFutureMs) return `${describeInstant(ms)} is more than 24 h after the hub's clock (${describeInstant(now)})`;
  return undefined;
}

/** Session metadata fields that are ids (the rest is free text). */
const SESSION_ID_FIELDS: ReadonlySet<string> = new Set(["sessionKey", "parentSessionKey", "spawnedBy", "forkSourceSessionId"]);

/** Which field of a sender's session metadata cannot be stored and why, or undefined. */
export function sessionMetaProblem(meta: Record<string, unknown>): { field: string; problem: string } | undefined {
  for (const [field, v] of Object.entries(meta)) {
    const values = typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
    for (const s of values) {
      const problem = SESSION_ID_FIELDS.has(field) && hasControlCharacter(s) ? NO_CONTROL_CHARACTERS : textProblem(s);
      if (problem) return { field, problem };
    }
  }
  return undefined;
}

/** What ingest stores of a line besides its event: the envelope every route fills in. */
export type IngestEnvelope = {
  deploymentId: string;
  agentId: string;
  sessionId: string;
  idempotencyKey?: string | null | undefined;
  /** The event's JSON text, as stored for replay. */
  event: string;
  session?: Record<string, unknown> | undefined;
};

/**
 * Why the line cannot be ingested, or undefined: an id that is empty, too long or holds a control character,
 * text to store holding a NUL, or an event dated outside [INGEST_LIMITS.earliestTimestampMs, now + maxFutureMs].
 */
export function ingestLineProblem(line: IngestEnvelope, facts: EventFacts, now: number): string | undefined {
  // Checked on every ingested line: plain loops over constant field lists, nothing allocated unless a line fails.
  for (const field of ENVELOPE_IDS) {
    const value = line[field];
    const problem = value === null || value === undefined ? undefined : idProblem(value, INGEST_LIMITS[field]);
    if (problem) return `${field}: ${problem}`;
  }
  const meta = line.session ? sessionMetaProblem(line.session) : undefined;
  if (meta) return `session.${meta.field}: ${meta.problem}`;
  // Only an event sent as a string of JSON can hold a raw NUL (inside a string the scanner skipped).
  const raw = textProblem(line.event);
  if (raw) return `event: ${raw}`;
  return factsProblem(facts, now);
}

const ENVELOPE_IDS = ["deploymentId", "agentId", "sessionId", "idempotencyKey"] as const;
const EVENT_IDS = ["id", "parentId"] as const;
const EVENT_TEXTS = ["type", "provider", "modelId", "customType", "cwd", "parentSession"] as const;
const MESSAGE_TEXTS = ["role", "provider", "model", "api", "stopReason", "errorMessage", "responseId", "runId", "toolName", "customType"] as const;

/** The event's own checks: its ids, the text the store keeps of it, its instants. */
function factsProblem(f: EventFacts, now: number): string | undefined {
  for (const k of EVENT_IDS) if (f[k] !== undefined && hasControlCharacter(f[k])) return `event.${k}: ${NO_CONTROL_CHARACTERS}`;
  for (const k of EVENT_TEXTS) if (f[k]?.includes("\u0000")) return `event.${k}: ${textProblem(f[k])}`;
  const m = f.message;
  if (m) {
    if (m.toolCallId !== undefined && hasControlCharacter(m.toolCallId)) return `event.message.toolCallId: ${NO_CONTROL_CHARACTERS}`;
    for (const k of MESSAGE_TEXTS) if (m[k]?.includes("\u0000")) return `event.message.${k}: ${textProblem(m[k])}`;
    for (let i = 0; i < m.toolCalls.length; i++) {
      const c = m.toolCalls[i]!;
      const at = `event.message.content[toolCall ${i}]`;
      if (hasControlCharacter(c.id)) return `${at}.id: ${NO_CONTROL_CHARACTERS}`;
      if (c.name.includes("\u0000")) return `${at}.name: ${textProblem(c.name)}`;
      if (c.via?.includes("\u0000")) return `${at}.via: ${textProblem(c.via)}`;
    }
  }
  const ts = f.timestamp === undefined ? undefined : timestampProblem(f.timestamp, now);
  if (ts) return `event.timestamp: ${ts}`;
  const mts = m?.timestamp === undefined ? undefined : timestampProblem(m.timestamp, now);
  if (mts) return `event.message.timestamp: ${mts}`;
  return undefined;
}

/**
 * Whether a parsed JSON value nests arrays and objects deeper than `limit`, found without recursion (a
 * recursive walk, JSON.stringify included, overflows the stack at a few thousand levels).
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}
