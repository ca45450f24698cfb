/**
 * Which agents and sessions are shipped, decided from names alone — before any content is read.
 *   agents: deny always wins; an empty allow list allows every agent.
 *   sessions: deny globs, where `*` matches any run of characters and every other character is literal;
 *             a glob must match a whole session key or session id.
 */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((s) => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`, "s");
}

export type SessionFilter = {
  agentAllowed(agentId: string): boolean;
  /** The first deny glob matching the session key or id, or null. */
  sessionDenied(sessionKey: string | null, sessionId: string): string | null;
};

export function createSessionFilter(f: { agents: { allow: string[]; deny: string[] }; sessions: { deny: string[] } }): SessionFilter {
  const allow = new Set(f.agents.allow);
  const deny = new Set(f.agents.deny);
  const globs = f.sessions.deny.map((g) => ({ glob: g, re: globToRegExp(g) }));
  return {
    agentAllowed: (agentId) => !deny.has(agentId) && (allow.size === 0 || allow.has(agentId)),
    sessionDenied: (sessionKey, sessionId) => {
      for (const { glob, re } of globs) if ((sessionKey !== null && re.test(sessionKey)) || re.test(sessionId)) return glob;
      return null;
    },
  };
}
