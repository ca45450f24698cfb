/**
 * Packs chunks of many sessions into requests and applies the hub's answers: a part's position moves to a
 * chunk's end once every line of the chunk was answered. A request the hub refuses as a whole (4xx other
 * than 401/403, e.g. 413) is split in halves down to single lines; a single line refused is recorded as
 * rejected and not sent again.
 */
import { sessionRefKey } from "@clawtower/core";
import { saveShipState, type PartState } from "../state/ship-state.ts";
import type { ShipContext, StopReason } from "./context.ts";
import { wireFor, type LineAnswer, type Wire, type WireLine } from "./wire.ts";

/** A chunk of one part's events on its way to the hub, and where the part stands once it is answered. */
export type Chunk = { locator: string; lines: WireLine[]; after: PartState };

export class Sender {
  readonly #ctx: ShipContext;
  readonly #wire: Wire;
  #queue: Chunk[] = [];
  #queuedBytes = 0;
  #queuedLines = 0;
  #lastSave: number;
  /** Positions of chunks queued but not yet answered (a part's next chunk continues from here). */
  readonly #latest = new Map<string, PartState>();
  readonly #unacked = new Set<string>();
  stopMessage: string | null = null;

  constructor(ctx: ShipContext) {
    this.#ctx = ctx;
    this.#wire = wireFor(ctx.config.target);
    this.#lastSave = ctx.now();
  }

  latest(locator: string): PartState | undefined {
    return this.#latest.get(locator) ?? this.#ctx.state.parts[locator];
  }

  unacknowledgedSessions(): Set<string> {
    return this.#unacked;
  }

  /** Queues a chunk; sends when the request is full. Returns a stop reason when the hub cannot take more. */
  async add(chunk: Chunk): Promise<StopReason | null> {
    this.#queue.push(chunk);
    this.#latest.set(chunk.locator, chunk.after);
    this.#unacked.add(sessionRefKey(chunk.after.agentId, chunk.after.sessionId));
    this.#queuedLines += chunk.lines.length;
    this.#queuedBytes += chunk.lines.reduce((a, l) => a + l.event.json.length + 200, 0);
    const sizes = this.#ctx.sizes;
    if (this.#queuedLines >= sizes.requestLines || this.#queuedBytes >= sizes.requestBytes) return this.flush();
    return null;
  }

  async flush(): Promise<StopReason | null> {
    const ctx = this.#ctx;
    const chunks = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#queuedLines = 0;
    if (chunks.length === 0) return null;
    const lines = chunks.flatMap((c) => c.lines);
    let answers: LineAnswer[] | null = null;
    if (lines.length > 0) {
      const r = await this.#send(lines);
      if ("stop" in r) {
        for (const c of chunks) this.#latest.delete(c.locator);
        return r.stop;
      }
      answers = r.answers;
    }
    let at = 0;
    for (const c of chunks) {
      for (let i = 0; i < c.lines.length; i++) {
        const a = answers![at + i]!;
        ctx.summary.lines[a.status === "accepted" ? "accepted" : a.status === "duplicate" ? "duplicates" : "rejected"]++;
        if (a.status === "rejected") {
          const l = c.lines[i]!;
          ctx.recordError("rejected", `hub rejected ${l.agentId}/${l.sessionId} #${l.order}: ${a.reason ?? "no reason given"}`);
        }
      }
      at += c.lines.length;
      ctx.state.parts[c.locator] = c.after;
      if (this.#latest.get(c.locator) === c.after) this.#latest.delete(c.locator);
      this.#unacked.delete(sessionRefKey(c.after.agentId, c.after.sessionId));
    }
    const now = ctx.now();
    if (now - this.#lastSave >= ctx.sizes.saveEveryMs) {
      saveShipState(ctx.paths.shipState, ctx.state);
      this.#lastSave = now;
    }
    return null;
  }

  async #send(lines: WireLine[]): Promise<{ answers: LineAnswer[] } | { stop: StopReason }> {
    const ctx = this.#ctx;
    if (ctx.signal.aborted) return { stop: "aborted" };
    const cfg = ctx.config;
    const body = this.#wire.body(lines, { deploymentId: cfg.deploymentId, projectId: cfg.projectId }, ctx.now());
    ctx.summary.requests++;
    ctx.summary.lines.sent += lines.length;
    const r = await ctx.hub.post(this.#wire.path, body, this.#wire.contentType, ({ attempt, waitMs, reason }) => {
      ctx.summary.retries++;
      ctx.log.warn(`clawtower: upload attempt ${attempt} failed (${reason}); retrying in ${waitMs} ms`);
    });
    switch (r.kind) {
      case "ok": {
        const answers = this.#wire.answers(r.body, lines);
        if ("error" in answers) {
          this.stopMessage = `hub answer not understood: ${answers.error}`;
          ctx.recordError("hub", this.stopMessage);
          return { stop: "failed" };
        }
        return { answers };
      }
      case "auth":
        this.stopMessage = `the hub refused the API key (${r.message}): check ${"plugins.entries.clawtower.config.apiKey"} and deploymentId; uploads stop until it is fixed`;
        ctx.recordError("auth", this.stopMessage);
        return { stop: "auth" };
      case "aborted":
        this.stopMessage = "stopped";
        return { stop: "aborted" };
      case "failed":
        this.stopMessage = `hub unavailable: ${r.message}`;
        ctx.recordError("hub", this.stopMessage);
        return { stop: "failed" };
      case "reject": {
        if (lines.length === 1) {
          return { answers: [{ status: "rejected", reason: `request refused (${r.message})` }] };
        }
        // Split: one bad or oversized line must not hold back the others.
        ctx.summary.lines.sent -= lines.length;
        const mid = Math.ceil(lines.length / 2);
        const left = await this.#send(lines.slice(0, mid));
        if ("stop" in left) return left;
        const right = await this.#send(lines.slice(mid));
        if ("stop" in right) return right;
        return { answers: [...left.answers, ...right.answers] };
      }
    }
  }
}
