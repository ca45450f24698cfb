/**
 * The reply gate's SQLite (`<stateDir>/clawtower/reply-gate.sqlite` unless `replyGate.dbPath`), WAL with a
 * busy timeout: arms and requests survive a gateway restart, and every inbound decision and outbound verdict
 * is one IMMEDIATE transaction (read the chat's state, decide with decide.ts, write), so two processes never
 * spend the same use twice.
 *   gate_seen      inbound message ids per channel (dedupe: a redelivery does nothing)
 *   gate_requests  triggers: received → responded | missed | superseded (a newer trigger took over)
 *   gate_arms      one live arm per chat
 *   gate_events    the audit trail: request, allowed, blocked (with the reason), missed
 */
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { ensureDir } from "../state/files.ts";
import { immediateTransaction } from "../state/sqlite-tx.ts";
import { decideInbound, decideOutbound, type Arm, type CompiledGate, type Inbound, type InboundDecision, type OutboundDecision, type RequestStatus, type Topic } from "./decide.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS gate_seen (
  channel TEXT NOT NULL, message_id TEXT NOT NULL, peer TEXT, sender TEXT, at INTEGER NOT NULL,
  PRIMARY KEY (channel, message_id)
);
CREATE INDEX IF NOT EXISTS gate_seen_at ON gate_seen (at);
CREATE TABLE IF NOT EXISTS gate_requests (
  id TEXT PRIMARY KEY, channel TEXT NOT NULL, peer TEXT NOT NULL, sender TEXT NOT NULL, message_id TEXT,
  body TEXT NOT NULL, topic TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  responses INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS gate_requests_chat ON gate_requests (channel, peer, status, created_at);
CREATE TABLE IF NOT EXISTS gate_arms (
  channel TEXT NOT NULL, peer TEXT NOT NULL, request_id TEXT NOT NULL, sender TEXT NOT NULL,
  expires_at INTEGER NOT NULL, uses_left INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (channel, peer)
);
CREATE TABLE IF NOT EXISTS gate_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, kind TEXT NOT NULL, channel TEXT NOT NULL, peer TEXT NOT NULL,
  sender TEXT, request_id TEXT, via TEXT, reason TEXT, uses_left INTEGER, content TEXT
);
CREATE INDEX IF NOT EXISTS gate_events_at ON gate_events (at);
CREATE INDEX IF NOT EXISTS gate_events_chat ON gate_events (channel, peer, id);
`;

export type GateEventKind = "request" | "allowed" | "blocked" | "missed";

export type GateEvent = {
  id: number;
  at: number;
  kind: GateEventKind;
  channel: string;
  peer: string;
  sender: string | null;
  requestId: string | null;
  via: string | null;
  reason: string | null;
  usesLeft: number | null;
  content: string | null;
};

export type ChatState = { channel: string; peer: string; arm: Arm | null; lastRequest: { id: string; sender: string; status: RequestStatus; topic: Topic; createdAt: number; responses: number } | null };

/** Stored text is capped: the audit trail says what was sent, it is not a transcript copy. */
const MAX_CONTENT = 2000;
const clip = (s: string): string => (s.length > MAX_CONTENT ? `${s.slice(0, MAX_CONTENT)}…` : s);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function defaultGateDbPath(stateDir: string): string {
  return path.join(stateDir, "clawtower", "reply-gate.sqlite");
}

export class GateStore {
  readonly #db: DatabaseSync;
  readonly #seen: StatementSync;
  readonly #insertSeen: StatementSync;
  readonly #arm: StatementSync;
  readonly #putArm: StatementSync;
  readonly #deleteArm: StatementSync;
  readonly #pending: StatementSync;
  readonly #insertRequest: StatementSync;
  readonly #setRequest: StatementSync;
  readonly #supersede: StatementSync;
  readonly #insertEvent: StatementSync;

  /** Throws when the file cannot be opened or is not a database; the caller turns the gate off. */
  constructor(file: string) {
    ensureDir(path.dirname(file));
    const existed = fs.existsSync(file);
    this.#db = new DatabaseSync(file, { timeout: 5000 });
    try {
      if (!existed) fs.chmodSync(file, 0o600);
      this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
      this.#db.exec(SCHEMA);
    } catch (e) {
      this.#db.close();
      throw e;
    }
    this.#seen = this.#db.prepare(`SELECT 1 FROM gate_seen WHERE channel = ? AND message_id = ?`);
    this.#insertSeen = this.#db.prepare(`INSERT INTO gate_seen (channel, message_id, peer, sender, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
    this.#arm = this.#db.prepare(`SELECT * FROM gate_arms WHERE channel = ? AND peer = ?`);
    this.#putArm = this.#db.prepare(
      `INSERT INTO gate_arms (channel, peer, request_id, sender, expires_at, uses_left, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (channel, peer) DO UPDATE SET request_id = excluded.request_id, sender = excluded.sender, expires_at = excluded.expires_at, uses_left = excluded.uses_left, updated_at = excluded.updated_at`,
    );
    this.#deleteArm = this.#db.prepare(`DELETE FROM gate_arms WHERE channel = ? AND peer = ?`);
    this.#pending = this.#db.prepare(`SELECT id, created_at FROM gate_requests WHERE channel = ? AND peer = ? AND status = 'received' ORDER BY created_at DESC, rowid DESC LIMIT 1`);
    this.#insertRequest = this.#db.prepare(
      `INSERT INTO gate_requests (id, channel, peer, sender, message_id, body, topic, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    );
    this.#setRequest = this.#db.prepare(`UPDATE gate_requests SET status = ?, updated_at = ?, responses = responses + ? WHERE id = ?`);
    this.#supersede = this.#db.prepare(`UPDATE gate_requests SET status = 'superseded', updated_at = ? WHERE channel = ? AND peer = ? AND status = 'received' AND id != ?`);
    this.#insertEvent = this.#db.prepare(`INSERT INTO gate_events (at, kind, channel, peer, sender, request_id, via, reason, uses_left, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  }

  #tx<T>(fn: () => T): T {
    return immediateTransaction(this.#db, fn);
  }

  /** Records the message id (if any) and, for a valid trigger, the request and the chat's new arm. */
  inbound(gate: CompiledGate, m: Omit<Inbound, "alreadySeen">): InboundDecision {
    return this.#tx(() => {
      let alreadySeen = false;
      if (m.messageId !== null) alreadySeen = Number(this.#insertSeen.run(m.channel, m.messageId, m.peer, m.sender, m.now).changes) === 0;
      const d = decideInbound(gate, { ...m, alreadySeen });
      if (d.kind === "armed") {
        const r = d.request;
        // Only the newest trigger may be answered late (watchdog): older unanswered ones are closed.
        this.#supersede.run(m.now, r.channel, r.peer, r.id);
        this.#insertRequest.run(r.id, r.channel, r.peer, r.sender, r.messageId, r.body, r.topic, r.status, r.createdAt, r.updatedAt);
        const a = d.arm;
        this.#putArm.run(a.channel, a.peer, a.requestId, a.sender, a.expiresAt, a.usesLeft, m.now);
        this.#insertEvent.run(m.now, "request", r.channel, r.peer, r.sender, r.id, null, null, a.usesLeft, clip(m.content));
      }
      return d;
    });
  }

  /** Decides one outbound reply to a protected chat and writes its effects. */
  outbound(gate: CompiledGate, o: { channel: string; peer: string; content: string; now: number }): OutboundDecision {
    return this.#tx(() => {
      const row = this.#arm.get(o.channel, o.peer) as Record<string, unknown> | undefined;
      const arm: Arm | null = row
        ? { channel: o.channel, peer: o.peer, requestId: String(row["request_id"]), sender: String(row["sender"]), expiresAt: Number(row["expires_at"]), usesLeft: Number(row["uses_left"]) }
        : null;
      const live = arm !== null && arm.expiresAt > o.now && arm.usesLeft > 0;
      const p = live ? undefined : (this.#pending.get(o.channel, o.peer) as Record<string, unknown> | undefined);
      const pending = p ? { id: String(p["id"]), createdAt: Number(p["created_at"]) } : null;
      const d = decideOutbound(gate, { ...o, arm, pending });
      if (d.verdict === "allow") {
        if (d.arm) this.#putArm.run(d.arm.channel, d.arm.peer, d.arm.requestId, d.arm.sender, d.arm.expiresAt, d.arm.usesLeft, o.now);
        else if (arm) this.#deleteArm.run(o.channel, o.peer);
        this.#setRequest.run("responded", o.now, 1, d.requestId);
        this.#insertEvent.run(o.now, "allowed", o.channel, o.peer, arm?.sender ?? null, d.requestId, d.via, null, d.usesLeft, clip(d.content));
      } else if (d.verdict === "block") {
        if (arm) this.#deleteArm.run(o.channel, o.peer);
        if (d.missedRequestId) {
          this.#setRequest.run("missed", o.now, 0, d.missedRequestId);
          this.#insertEvent.run(o.now, "missed", o.channel, o.peer, null, d.missedRequestId, null, d.detail, null, null);
        }
        this.#insertEvent.run(o.now, "blocked", o.channel, o.peer, null, d.missedRequestId, null, d.reason, null, clip(o.content));
      }
      return d;
    });
  }

  /** Drops what is older than `before` (arms only once expired). */
  prune(before: number, now: number): void {
    this.#tx(() => {
      this.#db.prepare(`DELETE FROM gate_seen WHERE at < ?`).run(before);
      this.#db.prepare(`DELETE FROM gate_events WHERE at < ?`).run(before);
      this.#db.prepare(`DELETE FROM gate_requests WHERE updated_at < ?`).run(before);
      this.#db.prepare(`DELETE FROM gate_arms WHERE expires_at <= ?`).run(now);
    });
  }

  chat(channel: string, peer: string): ChatState {
    const a = this.#arm.get(channel, peer) as Record<string, unknown> | undefined;
    const r = this.#db.prepare(`SELECT * FROM gate_requests WHERE channel = ? AND peer = ? ORDER BY created_at DESC, rowid DESC LIMIT 1`).get(channel, peer) as Record<string, unknown> | undefined;
    return {
      channel,
      peer,
      arm: a ? { channel, peer, requestId: String(a["request_id"]), sender: String(a["sender"]), expiresAt: Number(a["expires_at"]), usesLeft: Number(a["uses_left"]) } : null,
      lastRequest: r
        ? { id: String(r["id"]), sender: String(r["sender"]), status: String(r["status"]) as RequestStatus, topic: String(r["topic"]) as Topic, createdAt: Number(r["created_at"]), responses: Number(r["responses"]) }
        : null,
    };
  }

  counts(since: number): Record<GateEventKind, number> {
    const out: Record<GateEventKind, number> = { request: 0, allowed: 0, blocked: 0, missed: 0 };
    for (const r of this.#db.prepare(`SELECT kind, COUNT(*) AS n FROM gate_events WHERE at >= ? GROUP BY kind`).all(since) as Record<string, unknown>[]) {
      const k = String(r["kind"]) as GateEventKind;
      if (k in out) out[k] = Number(r["n"]);
    }
    return out;
  }

  events(limit = 50, chat?: { channel: string; peer: string }): GateEvent[] {
    const rows = (
      chat
        ? this.#db.prepare(`SELECT * FROM gate_events WHERE channel = ? AND peer = ? ORDER BY id DESC LIMIT ?`).all(chat.channel, chat.peer, limit)
        : this.#db.prepare(`SELECT * FROM gate_events ORDER BY id DESC LIMIT ?`).all(limit)
    ) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: Number(r["id"]),
      at: Number(r["at"]),
      kind: String(r["kind"]) as GateEventKind,
      channel: String(r["channel"]),
      peer: String(r["peer"]),
      sender: str(r["sender"]),
      requestId: str(r["request_id"]),
      via: str(r["via"]),
      reason: str(r["reason"]),
      usesLeft: num(r["uses_left"]),
      content: str(r["content"]),
    }));
  }

  close(): void {
    this.#db.close();
  }
}
