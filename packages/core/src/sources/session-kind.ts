/**
 * Session kind from what OpenClaw records: the session key pattern first (docs: reference/
 * session-management-compaction/schema.md), then `created_via` / chat type hints.
 *   agent:<id>:main                           → main
 *   agent:<id>:<channel>:group:<id>           → group   (also :channel: and :room:)
 *   agent:<id>:<channel>:direct:<peer>        → direct
 *   agent:<id>:subagent:<uuid>                → subagent
 *   cron:<job> / agent:<id>:cron:<job>        → cron
 *   hook:<uuid> / agent:<id>:hook:<uuid>      → hook
 */
export type SessionKind = "main" | "direct" | "group" | "subagent" | "cron" | "hook" | "other" | "unknown";

export const SESSION_KINDS: readonly SessionKind[] = ["main", "direct", "group", "subagent", "cron", "hook", "other", "unknown"];

export function classifySessionKind(
  sessionKey: string | null | undefined,
  hints: { createdVia?: string | null; chatType?: string | null; spawnedBy?: string | null } = {},
): SessionKind {
  if (sessionKey) {
    const parts = sessionKey.split(":");
    if (parts[0] === "cron") return "cron";
    if (parts[0] === "hook") return "hook";
    if (parts[0] === "agent" && parts.length >= 3) {
      const rest = parts.slice(2);
      if (rest.includes("subagent")) return "subagent";
      if (rest[0] === "cron") return "cron";
      if (rest[0] === "hook") return "hook";
      if (rest.includes("group") || rest.includes("channel") || rest.includes("room")) return "group";
      if (rest.includes("direct") || rest.includes("dm")) return "direct";
      if (rest.length === 1 && rest[0] === "main") return "main";
    }
  }
  if (hints.createdVia === "spawn" || hints.spawnedBy) return "subagent";
  if (hints.createdVia === "cron") return "cron";
  if (hints.chatType === "group" || hints.chatType === "channel" || hints.chatType === "room") return "group";
  if (hints.chatType === "direct") return "direct";
  return sessionKey ? "other" : "unknown";
}

/**
 * The session id named by a transcript header's `parentSession`: `sqlite:<agent>:<sessionId>:<db path>`
 * (2026.9 operator forks) or a path to `<sessionId>.jsonl` (older versions).
 */
export function parentSessionId(parentSession: string | null | undefined): string | null {
  if (!parentSession) return null;
  const m = /^sqlite:[^:]+:([^:]+):/.exec(parentSession);
  if (m) return m[1]!;
  const base = parentSession.split(/[\\/]/).pop() ?? "";
  const j = base.indexOf(".jsonl");
  return j > 0 ? base.slice(0, j) : null;
}
