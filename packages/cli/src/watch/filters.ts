/** The watcher's code-only filters (no LLM): one decision per session, with the reason logged on DEBUG. */
import { totalTokensOf, type SessionKind, type WatchedSession } from "./session-rows.ts";

export type FilterOptions = { kinds: ReadonlySet<SessionKind>; activeMinutes: number; minTokens: number };
export type FilterDecision = { keep: boolean; reason: string };

export const DEFAULT_KINDS: readonly SessionKind[] = ["main", "subagent", "group", "hook", "node", "other"];

export function decide(s: WatchedSession, seen: ReadonlySet<string>, o: FilterOptions, now: number): FilterDecision {
  if (seen.has(s.sessionId)) return { keep: false, reason: "duplicate session id in this poll" };
  if (!o.kinds.has(s.kind)) return { keep: false, reason: `kind ${s.kind} not watched` };
  const at = s.lastActivityAt ?? s.updatedAt;
  if (at === null) return { keep: false, reason: "no activity time" };
  const age = now - at;
  if (s.status !== "running" && age > o.activeMinutes * 60_000) return { keep: false, reason: `inactive for ${Math.round(age / 60_000)} min (> ${o.activeMinutes})` };
  const total = totalTokensOf(s);
  if (total !== null && total < o.minTokens) return { keep: false, reason: `${total} tokens (< ${o.minTokens})` };
  return { keep: true, reason: total === null ? "kept (token totals not reported)" : `kept (${total} tokens, ${s.status})` };
}

/** Applies `decide` to a poll's sessions in order, so the first row of a session id wins. */
export function filterSessions(list: WatchedSession[], o: FilterOptions, now: number, onDecision?: (s: WatchedSession, d: FilterDecision) => void): WatchedSession[] {
  const seen = new Set<string>();
  const kept: WatchedSession[] = [];
  for (const s of list) {
    const d = decide(s, seen, o, now);
    seen.add(s.sessionId);
    onDecision?.(s, d);
    if (d.keep) kept.push(s);
  }
  return kept;
}
