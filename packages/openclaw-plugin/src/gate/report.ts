/**
 * `openclaw clawtower gate status [--json]`: the gate's state, each protected chat's arm and latest request,
 * the last 24 h's counts and the recent audit trail (who triggered, what was sent, what was blocked and why),
 * read from the gate's SQLite. Nothing is decided or written (the tables are created if the file is new).
 */
import { normalizeChannel, normalizePeer } from "./peer.ts";
import { ReplyGate } from "./gate.ts";
import type { ChatState, GateEvent, GateEventKind } from "./store.ts";

/** What the hub lacks to take these events (said in status, so nobody looks for them there). */
export const HUB_NOTE = "recorded locally only: the hub has no ingest route or table for gate events yet (needs a per-chat gate_events table and an ingest route)";

export type GateReport = {
  gate: ReplyGate["state"];
  problem: string | null;
  dbPath: string | null;
  settings: { triggerRegex: string; triggerFlags: string; requireBodyAfterTrigger: boolean; armTtlMs: number; maxUsesPerArm: number; missedResponseTtlMs: number } | null;
  chats: (Omit<ChatState, "arm" | "lastRequest"> & {
    armed: boolean;
    usesLeft: number;
    armExpiresAt: string | null;
    lastRequest: (NonNullable<ChatState["lastRequest"]> & { at: string }) | null;
  })[];
  last24h: Record<GateEventKind, number>;
  recentEvents: (Omit<GateEvent, "at"> & { at: string })[];
  hub: string;
};

export function buildGateReport(pluginConfig: unknown, stateDir: string, now: number): GateReport {
  const gate = new ReplyGate();
  gate.configure(pluginConfig, () => stateDir, { info: () => {}, warn: () => {}, error: () => {} });
  const cfg = gate.config;
  const store = gate.open();
  try {
    const chats: GateReport["chats"] = [];
    if (store && cfg) {
      for (const c of cfg.chats) {
        const channel = normalizeChannel(c.channel);
        for (const p of c.peers) {
          const s = store.chat(channel, normalizePeer(channel, p));
          const live = s.arm !== null && s.arm.expiresAt > now && s.arm.usesLeft > 0;
          chats.push({
            channel: s.channel,
            peer: s.peer,
            armed: live,
            usesLeft: live ? s.arm!.usesLeft : 0,
            armExpiresAt: live ? new Date(s.arm!.expiresAt).toISOString() : null,
            lastRequest: s.lastRequest ? { ...s.lastRequest, at: new Date(s.lastRequest.createdAt).toISOString() } : null,
          });
        }
      }
    }
    return {
      gate: gate.state,
      problem: gate.problem,
      dbPath: gate.dbPath,
      settings: cfg
        ? { triggerRegex: cfg.triggerRegex, triggerFlags: cfg.triggerFlags, requireBodyAfterTrigger: cfg.requireBodyAfterTrigger, armTtlMs: cfg.armTtlMs, maxUsesPerArm: cfg.maxUsesPerArm, missedResponseTtlMs: cfg.missedResponseTtlMs }
        : null,
      chats,
      last24h: store ? store.counts(now - 86_400_000) : { request: 0, allowed: 0, blocked: 0, missed: 0 },
      recentEvents: store ? store.events(50).map((e) => ({ ...e, at: new Date(e.at).toISOString() })) : [],
      hub: HUB_NOTE,
    };
  } finally {
    gate.close();
  }
}

export function renderGate(r: GateReport): string {
  const out = [`clawtower reply gate: ${r.gate}${r.problem ? ` — ${r.problem}` : ""}`];
  if (r.settings) out.push(`  trigger /${r.settings.triggerRegex}/${r.settings.triggerFlags}, ${r.settings.maxUsesPerArm} uses per arm, arm ${r.settings.armTtlMs / 1000} s, watchdog ${r.settings.missedResponseTtlMs / 1000} s`);
  if (r.dbPath) out.push(`  database ${r.dbPath}`);
  out.push(`  last 24 h: ${r.last24h.request} triggers, ${r.last24h.allowed} replies allowed, ${r.last24h.blocked} blocked, ${r.last24h.missed} missed`);
  for (const c of r.chats) {
    const req = c.lastRequest ? `last trigger ${c.lastRequest.at} by ${c.lastRequest.sender} (${c.lastRequest.status}, ${c.lastRequest.responses} replies)` : "never triggered";
    out.push(`  ${c.channel}:${c.peer}  ${c.armed ? `armed, ${c.usesLeft} uses until ${c.armExpiresAt}` : "not armed"}; ${req}`);
  }
  if (r.recentEvents.length > 0) {
    out.push("  recent:");
    for (const e of r.recentEvents.slice(0, 15)) {
      const what = e.kind === "blocked" ? `blocked (${e.reason})` : e.kind === "allowed" ? `allowed via ${e.via}, ${e.usesLeft} left` : e.kind === "request" ? `trigger by ${e.sender}` : `missed (${e.reason})`;
      out.push(`    ${e.at} ${e.channel}:${e.peer} ${what}${e.content ? `: ${JSON.stringify(e.content.slice(0, 80))}` : ""}`);
    }
  }
  out.push(`  hub: ${r.hub}`);
  return `${out.join("\n")}\n`;
}

export function gateCommand(pluginConfig: unknown, stateDir: string, json: boolean, out: (s: string) => void): number {
  const r = buildGateReport(pluginConfig, stateDir, Date.now());
  out(json ? `${JSON.stringify(r, null, 2)}\n` : renderGate(r));
  return r.gate === "invalid" || r.gate === "error" ? 2 : 0;
}

/** The line in `openclaw clawtower status`, when the gate is configured. */
export function gateStatusOf(pluginConfig: unknown, stateDir: string): GateReport | null {
  if (!pluginConfig || typeof pluginConfig !== "object" || !("replyGate" in pluginConfig)) return null;
  try {
    return buildGateReport(pluginConfig, stateDir, Date.now());
  } catch {
    return null;
  }
}
