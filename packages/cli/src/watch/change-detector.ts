/**
 * Change detection: a session is sent to a sink again only when its fingerprint (token totals, cost, status,
 * model, context, updatedAt) differs from the one that sink last took. The sent fingerprints live in a 0600
 * state file written atomically, so a restarted watcher sends nothing twice.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { writePrivateFileAtomic } from "@clawtower/core";
import type { WatchedSession } from "./session-rows.ts";

export function fingerprintOf(s: WatchedSession): string {
  const facts = [s.sessionId, s.status, s.inputTokens, s.outputTokens, s.cacheReadTokens, s.cacheWriteTokens, s.costUsd, s.contextTokens, s.contextWindow, s.provider, s.model, s.updatedAt];
  return crypto.createHash("sha256").update(JSON.stringify(facts)).digest("hex").slice(0, 32);
}

type Entry = { fp: string; at: number };
type StateShape = { version: 1; gateway: string; sinks: Record<string, Record<string, Entry>> };

/** Entries of sessions not seen for this long are forgotten (a later change would be sent as new). */
const FORGET_AFTER_MS = 30 * 86_400_000;

export class ChangeState {
  readonly file: string;
  private state: StateShape;
  private dirty = false;

  private constructor(file: string, state: StateShape) {
    this.file = file;
    this.state = state;
  }

  static load(file: string, gateway: string): ChangeState {
    if (!fs.existsSync(file)) return new ChangeState(file, { version: 1, gateway, sinks: {} });
    let parsed: StateShape;
    try {
      parsed = JSON.parse(fs.readFileSync(file, "utf8")) as StateShape;
      if (parsed?.version !== 1 || typeof parsed.sinks !== "object" || parsed.sinks === null) throw new Error("not a watch state file (version 1)");
    } catch (e) {
      throw new Error(`${file}: ${(e as Error).message}; move it away to start over (every session would be sent again)`);
    }
    return new ChangeState(file, parsed);
  }

  /** The sessions whose fingerprint differs from the one `sink` last took. */
  changed(sink: string, sessions: WatchedSession[]): { session: WatchedSession; fingerprint: string }[] {
    const sent = this.state.sinks[sink] ?? {};
    const out: { session: WatchedSession; fingerprint: string }[] = [];
    for (const s of sessions) {
      const fp = fingerprintOf(s);
      if (sent[s.sessionId]?.fp !== fp) out.push({ session: s, fingerprint: fp });
    }
    return out;
  }

  markSent(sink: string, items: { session: WatchedSession; fingerprint: string }[], now: number): void {
    const sent = (this.state.sinks[sink] ??= {});
    for (const { session, fingerprint } of items) sent[session.sessionId] = { fp: fingerprint, at: now };
    if (items.length) this.dirty = true;
  }

  save(now: number): void {
    for (const sent of Object.values(this.state.sinks)) {
      for (const [id, e] of Object.entries(sent)) {
        if (now - e.at > FORGET_AFTER_MS) {
          delete sent[id];
          this.dirty = true;
        }
      }
    }
    if (!this.dirty && fs.existsSync(this.file)) return;
    writePrivateFileAtomic(this.file, `${JSON.stringify(this.state)}\n`);
    this.dirty = false;
  }
}
