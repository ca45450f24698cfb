/**
 * How the store names a session and a part, and the database handle every writer takes: shared by the writers,
 * the derived tables and the queries, so it lives apart from all of them (no import cycles).
 */
import { sql, type Kysely, type Transaction } from "kysely";
import type { Database } from "./schema.ts";

export type SessionRef = { deploymentId: string; agentId: string; sessionId: string };

export type PartRef = SessionRef & { kind: string; locator: string };

export type SessionMeta = SessionRef & {
  sessionKey?: string | null;
  kind?: string | null;
  channel?: string | null;
  chatType?: string | null;
  label?: string | null;
  parentSessionKey?: string | null;
  spawnedBy?: string | null;
  createdVia?: string | null;
  status?: string | null;
  windowReason?: string | null;
  previousSessionId?: string | null;
  cwd?: string | null;
  skills?: string[] | null;
  forkSourceSessionId?: string | null;
};

export type Db = Kysely<Database> | Transaction<Database>;

/** `(agent, session), …` row values for an IN list (SQLite ≥ 3.15 and PostgreSQL both take them). */
export function sessionPairs(sessions: SessionRef[]): ReturnType<typeof sql> {
  return sql.join(sessions.map((s) => sql`(${s.agentId}, ${s.sessionId})`));
}
