/**
 * Joins the two halves of one LLM call: the transcript's assistant message (tokens, cost) and the
 * `model_call_ended` hook (latency, outcome). Within a run, model calls happen one after another, so the
 * n-th completed call of a run is the n-th assistant message with usage of that run — whichever arrives
 * first waits for the other. Failed calls leave no message and are not queued. Unmatched halves expire.
 */
export type CallEnd = { callId: string; runId: string; durationMs: number | null; outcome: string; at: number };
export type MessageHalf = { agentId: string; eventId: string; runId: string; at: number };

export class CallJoiner {
  readonly #calls = new Map<string, CallEnd[]>();
  readonly #messages = new Map<string, MessageHalf[]>();

  /** A completed call; returns the message it belongs to when that arrived first. */
  callEnded(c: CallEnd): MessageHalf | null {
    const waiting = this.#messages.get(c.runId);
    if (waiting && waiting.length > 0) {
      const m = waiting.shift()!;
      if (waiting.length === 0) this.#messages.delete(c.runId);
      return m;
    }
    const list = this.#calls.get(c.runId) ?? [];
    list.push(c);
    this.#calls.set(c.runId, list);
    return null;
  }

  /** An assistant message with usage; returns its call when that ended first. */
  message(m: MessageHalf): CallEnd | null {
    const waiting = this.#calls.get(m.runId);
    if (waiting && waiting.length > 0) {
      const c = waiting.shift()!;
      if (waiting.length === 0) this.#calls.delete(m.runId);
      return c;
    }
    const list = this.#messages.get(m.runId) ?? [];
    list.push(m);
    this.#messages.set(m.runId, list);
    return null;
  }

  /** Drops halves older than `maxAgeMs`; returns the calls that never met a message (e.g. compaction summaries). */
  expire(now: number, maxAgeMs: number): CallEnd[] {
    const orphans: CallEnd[] = [];
    for (const [run, list] of this.#calls) {
      const keep = list.filter((c) => now - c.at <= maxAgeMs);
      orphans.push(...list.filter((c) => now - c.at > maxAgeMs));
      if (keep.length > 0) this.#calls.set(run, keep);
      else this.#calls.delete(run);
    }
    for (const [run, list] of this.#messages) {
      const keep = list.filter((m) => now - m.at <= maxAgeMs);
      if (keep.length > 0) this.#messages.set(run, keep);
      else this.#messages.delete(run);
    }
    return orphans;
  }

  get waiting(): number {
    let n = 0;
    for (const l of this.#calls.values()) n += l.length;
    for (const l of this.#messages.values()) n += l.length;
    return n;
  }
}
