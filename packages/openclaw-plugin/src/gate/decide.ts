/**
 * The reply gate's state machine, pure: what an inbound message does to a chat's arm, and whether an
 * outbound reply may go. No I/O, no clock: the store (store.ts) reads the arm and the chat's latest
 * unanswered request, calls these in one transaction, and writes what they return.
 *
 *   inbound   protected chat + allowed sender + trigger (+ a body, if required) → a `received` request and
 *             a fresh arm (armTtlMs, maxUsesPerArm uses). A messageId already seen does nothing at all.
 *   outbound  unprotected chat → passes (wrapped if it is a wrapper chat). Protected: a live arm → allowed,
 *             one use spent, TTL slides, request `responded`, arm gone at 0 uses. No live arm: the watchdog
 *             grants exactly one reply if the latest `received` request is younger than missedResponseTtlMs
 *             (a trigger the agent answered late); an older one is marked `missed`; else blocked.
 */
import type { ReplyGateConfig } from "../config/gate-schema.ts";
import { normalizeChannel, normalizePeer } from "./peer.ts";

/** `superseded`: a newer trigger in the same chat took over before this one was answered. */
export type RequestStatus = "received" | "responded" | "missed" | "superseded";

export type GateRequest = {
  id: string;
  channel: string;
  peer: string;
  sender: string;
  messageId: string | null;
  body: string;
  topic: Topic;
  status: RequestStatus;
  createdAt: number;
  updatedAt: number;
};

export type Arm = { channel: string; peer: string; requestId: string; sender: string; expiresAt: number; usesLeft: number };

export type Topic = "media" | "scheduling" | "general";

/** The config compiled once: lookups on the hot path are Map/Set hits. */
export type CompiledGate = {
  /** channel → peer → allowed senders */
  chats: Map<string, Map<string, Set<string>>>;
  wrap: Map<string, Set<string>>;
  trigger: RegExp;
  requireBody: boolean;
  armTtlMs: number;
  maxUses: number;
  missedTtlMs: number;
  prefix: string;
  suffix: string;
};

export function compileGate(cfg: ReplyGateConfig): CompiledGate {
  const chats = new Map<string, Map<string, Set<string>>>();
  for (const c of cfg.chats) {
    const channel = normalizeChannel(c.channel);
    const peers = chats.get(channel) ?? new Map<string, Set<string>>();
    chats.set(channel, peers);
    for (const p of c.peers) {
      const peer = normalizePeer(channel, p);
      const senders = peers.get(peer) ?? new Set<string>();
      for (const s of c.allowedSenders) senders.add(normalizePeer(channel, s));
      peers.set(peer, senders);
    }
  }
  const wrap = new Map<string, Set<string>>();
  for (const c of cfg.wrapper.chats) {
    const channel = normalizeChannel(c.channel);
    const set = wrap.get(channel) ?? new Set<string>();
    for (const p of c.peers) set.add(normalizePeer(channel, p));
    wrap.set(channel, set);
  }
  return {
    chats,
    wrap,
    trigger: new RegExp(cfg.triggerRegex, cfg.triggerFlags),
    requireBody: cfg.requireBodyAfterTrigger,
    armTtlMs: cfg.armTtlMs,
    maxUses: cfg.maxUsesPerArm,
    missedTtlMs: cfg.missedResponseTtlMs,
    prefix: cfg.wrapper.prefix,
    suffix: cfg.wrapper.suffix,
  };
}

/** True when the gate has anything to do on this channel (unrelated channels skip the database entirely). */
export function gatesChannel(gate: CompiledGate, channel: string): boolean {
  return gate.chats.has(channel) || gate.wrap.has(channel);
}

export function isProtected(gate: CompiledGate, channel: string, peer: string): boolean {
  return gate.chats.get(channel)?.has(peer) ?? false;
}

export function classifyTopic(body: string): Topic {
  const t = body.toLowerCase();
  if (/(movie|show|episode|series|plex|radarr|sonarr)/.test(t)) return "media";
  if (/(calendar|remind|reminder|schedule|meeting)/.test(t)) return "scheduling";
  return "general";
}

/** Wraps once: text already between prefix and suffix is returned as it is. */
export function wrapText(content: string, prefix: string, suffix: string): string {
  const trimmed = content.trim();
  if (!trimmed) return content;
  if (trimmed.startsWith(prefix) && trimmed.endsWith(suffix) && trimmed.length >= prefix.length + suffix.length) return content;
  return `${prefix}\n${trimmed}\n${suffix}`;
}

export type Inbound = { channel: string; peer: string; sender: string; content: string; messageId: string | null; alreadySeen: boolean; now: number };

export type IgnoreReason = "unprotected-chat" | "sender-not-allowed" | "no-trigger" | "empty-body";

export type InboundDecision =
  | { kind: "duplicate" }
  | { kind: "ignored"; reason: IgnoreReason }
  | { kind: "armed"; request: GateRequest; arm: Arm };

export function decideInbound(gate: CompiledGate, m: Inbound): InboundDecision {
  // A redelivered message must neither re-arm nor reset uses, whatever it says.
  if (m.alreadySeen) return { kind: "duplicate" };
  const senders = gate.chats.get(m.channel)?.get(m.peer);
  if (!senders) return { kind: "ignored", reason: "unprotected-chat" };
  if (!senders.has(m.sender)) return { kind: "ignored", reason: "sender-not-allowed" };
  const content = m.content.trim();
  if (!gate.trigger.test(content)) return { kind: "ignored", reason: "no-trigger" };
  const body = content.replace(gate.trigger, "").trim();
  if (gate.requireBody && !/[\p{L}\p{N}]/u.test(body)) return { kind: "ignored", reason: "empty-body" };
  const id = `${m.channel}:${m.peer}:${m.messageId ?? `t${m.now}`}`;
  const request: GateRequest = { id, channel: m.channel, peer: m.peer, sender: m.sender, messageId: m.messageId, body, topic: classifyTopic(body), status: "received", createdAt: m.now, updatedAt: m.now };
  const arm: Arm = { channel: m.channel, peer: m.peer, requestId: id, sender: m.sender, expiresAt: m.now + gate.armTtlMs, usesLeft: gate.maxUses };
  return { kind: "armed", request, arm };
}

export type Outbound = {
  channel: string;
  peer: string;
  content: string;
  /** The chat's stored arm, live or not. */
  arm: Arm | null;
  /** The chat's latest request still `received` (for the watchdog). */
  pending: { id: string; createdAt: number } | null;
  now: number;
};

export type BlockReason = "not-armed" | "request-missed";

export type OutboundDecision =
  | { verdict: "pass"; content: string; wrapped: boolean }
  | { verdict: "allow"; via: "arm" | "watchdog"; content: string; wrapped: boolean; requestId: string; usesLeft: number; arm: Arm | null }
  | { verdict: "block"; reason: BlockReason; missedRequestId: string | null; detail: string };

export function armIsLive(arm: Arm | null, now: number): arm is Arm {
  return arm !== null && arm.expiresAt > now && arm.usesLeft > 0;
}

export function decideOutbound(gate: CompiledGate, o: Outbound): OutboundDecision {
  const wrapped = gate.wrap.get(o.channel)?.has(o.peer) === true ? wrapText(o.content, gate.prefix, gate.suffix) : o.content;
  const didWrap = wrapped !== o.content;
  if (!isProtected(gate, o.channel, o.peer)) return { verdict: "pass", content: wrapped, wrapped: didWrap };
  if (armIsLive(o.arm, o.now)) {
    const usesLeft = o.arm.usesLeft - 1;
    const arm = usesLeft > 0 ? { ...o.arm, usesLeft, expiresAt: o.now + gate.armTtlMs } : null;
    return { verdict: "allow", via: "arm", content: wrapped, wrapped: didWrap, requestId: o.arm.requestId, usesLeft, arm };
  }
  if (o.pending) {
    const age = o.now - o.pending.createdAt;
    if (age <= gate.missedTtlMs) return { verdict: "allow", via: "watchdog", content: wrapped, wrapped: didWrap, requestId: o.pending.id, usesLeft: 0, arm: null };
    return { verdict: "block", reason: "request-missed", missedRequestId: o.pending.id, detail: `latest trigger ${o.pending.id} is ${Math.round(age / 1000)} s old (watchdog window ${Math.round(gate.missedTtlMs / 1000)} s): marked missed` };
  }
  return { verdict: "block", reason: "not-armed", missedRequestId: null, detail: "no trigger from an allowed sender armed this chat" };
}
