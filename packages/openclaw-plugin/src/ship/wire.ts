/**
 * The two wire formats (`target`), as request bodies built from prepared lines and per-line answers read
 * back from the hub's response:
 *   clawtower  POST /api/v1/ingest/events, NDJSON `{deploymentId, agentId, sessionId, seq?, idempotencyKey,
 *              event, session?}` → `{results: [{line, status: accepted|duplicate|rejected, reason?}]}`
 *   influxion  POST /v1/openclaw/ingest/sessions, `{lines: [{deploymentId, projectId, agentId, agentName,
 *              sessionId, sessionFile, lineIndex, capturedAt, idempotencyKey, payload, session?}]}` →
 *              `{accepted, rejected, errors: [{lineIndex, reason, index?, agentId?, sessionId?}]}` (a line already
 *              stored counts as accepted; `index`, the line's position in the request, is a Clawtower addition)
 * Event JSON is spliced into the body as prepared (privacy/transform.ts), never re-serialised. Bodies are built
 * as bytes: a string body built by concatenation is a rope that must be flattened, checked for lone surrogates
 * and encoded, and events read from the store are UTF-8 bytes already.
 */
import type { PreparedEvent } from "../privacy/transform.ts";

/** What the hub may know about a session besides its events. */
export type SessionMetaWire = {
  sessionKey: string | null;
  kind: string | null;
  channel: string | null;
  chatType: string | null;
  label: string | null;
  parentSessionKey: string | null;
  spawnedBy: string | null;
  createdVia: string | null;
  skills: string[] | null;
  forkSourceSessionId: string | null;
};

export type WireLine = {
  agentId: string;
  sessionId: string;
  /** Row seq or line number in the part. */
  order: number;
  /**
   * The event carries an id (the hub names it by that). Events without one are named by the idempotency key
   * alone: their seq is left out, because a rewritten part reuses positions for different events.
   */
  hasId: boolean;
  idempotencyKey: string;
  event: PreparedEvent;
  /** Sent with the first line of each session in a request. */
  session?: SessionMetaWire;
  /** Influxion's `sessionFile` (a part name, never a path). */
  sessionFile: string;
};

export type LineAnswer = { status: "accepted" | "duplicate" | "rejected"; reason?: string };

export type WireIdentity = { deploymentId: string; projectId: string | undefined };

export type Wire = {
  path: string;
  contentType: string;
  body(lines: WireLine[], id: WireIdentity, now: number): Buffer;
  /** Per-line answers in request order, or an error when the response cannot be read as an answer. */
  answers(response: unknown, lines: WireLine[]): LineAnswer[] | { error: string };
};

const J = JSON.stringify;

/** Collects a body: the text between events as one string, each event as its bytes. */
class BodyBuilder {
  readonly #parts: Buffer[] = [];
  #text = "";
  text(s: string): void {
    this.#text += s;
  }
  event(e: PreparedEvent): void {
    this.#flushText();
    this.#parts.push(Buffer.from(e.json, e.encoding === "latin1" ? "latin1" : "utf8"));
  }
  done(): Buffer {
    this.#flushText();
    return Buffer.concat(this.#parts);
  }
  #flushText(): void {
    if (this.#text === "") return;
    this.#parts.push(Buffer.from(this.#text, "utf8"));
    this.#text = "";
  }
}

export const clawtowerWire: Wire = {
  path: "/api/v1/ingest/events",
  contentType: "application/x-ndjson",
  body(lines, id) {
    const out = new BodyBuilder();
    const deployment = J(id.deploymentId);
    for (const l of lines) {
      out.text(`{"deploymentId":${deployment},"agentId":${J(l.agentId)},"sessionId":${J(l.sessionId)},`);
      if (l.hasId) out.text(`"seq":${l.order},`);
      out.text(`"idempotencyKey":${J(l.idempotencyKey)},"event":`);
      out.event(l.event);
      if (l.session) out.text(`,"session":${J(l.session)}`);
      out.text("}\n");
    }
    return out.done();
  },
  answers(response, lines) {
    const results = (response as { results?: unknown })?.results;
    if (!Array.isArray(results)) return { error: "the hub's answer has no per-line results" };
    const out: (LineAnswer | undefined)[] = new Array(lines.length);
    for (const r of results as { line?: unknown; status?: unknown; reason?: unknown }[]) {
      if (typeof r?.line !== "number" || r.line < 0 || r.line >= lines.length) continue;
      if (r.status !== "accepted" && r.status !== "duplicate" && r.status !== "rejected") continue;
      out[r.line] = typeof r.reason === "string" ? { status: r.status, reason: r.reason } : { status: r.status };
    }
    const missing = out.findIndex((a) => a === undefined);
    if (missing >= 0) return { error: `the hub did not answer for line ${missing}` };
    return out as LineAnswer[];
  },
};

export const influxionWire: Wire = {
  path: "/v1/openclaw/ingest/sessions",
  contentType: "application/json",
  body(lines, id, now) {
    const capturedAt = J(new Date(now).toISOString());
    const out = new BodyBuilder();
    out.text(`{"lines":[`);
    lines.forEach((l, i) => {
      out.text(`${i > 0 ? "," : ""}{"deploymentId":${J(id.deploymentId)},`);
      if (id.projectId !== undefined) out.text(`"projectId":${J(id.projectId)},`);
      out.text(`"agentId":${J(l.agentId)},"agentName":${J(l.agentId)},"sessionId":${J(l.sessionId)},"sessionFile":${J(l.sessionFile)},"lineIndex":${l.order},"capturedAt":${capturedAt},"idempotencyKey":${J(l.idempotencyKey)},"payload":`);
      out.event(l.event);
      if (l.session) out.text(`,"session":${J(l.session)}`);
      out.text("}");
    });
    out.text("]}");
    return out.done();
  },
  answers(response, lines) {
    const r = response as { accepted?: unknown; errors?: unknown };
    if (typeof r?.accepted !== "number") return { error: "the hub's answer has no accepted count" };
    // Influxion's errors name a line by its lineIndex, which several sessions in one request may share: such an
    // error marks every line with that index (each is then reported, none is retried). A Clawtower hub adds the
    // line's position in the request (`index`) and its session, which mark exactly one line.
    const byIndex = new Map<number, string>();
    const byLineIndex = new Map<number, string>();
    if (Array.isArray(r.errors)) {
      for (const e of r.errors as { index?: unknown; lineIndex?: unknown; reason?: unknown }[]) {
        const reason = typeof e?.reason === "string" ? e.reason : "rejected";
        if (typeof e?.index === "number") byIndex.set(e.index, reason);
        else if (typeof e?.lineIndex === "number") byLineIndex.set(e.lineIndex, reason);
      }
    }
    return lines.map((l, i) => {
      const reason = byIndex.get(i) ?? byLineIndex.get(l.order);
      return reason !== undefined ? { status: "rejected", reason } : { status: "accepted" };
    });
  },
};

export function wireFor(target: "clawtower" | "influxion"): Wire {
  return target === "influxion" ? influxionWire : clawtowerWire;
}
