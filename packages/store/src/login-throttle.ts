/**
 * Failed sign-ins per client address, in the store so that replicas behind one load balancer share a single
 * budget. A sign-in takes its attempt before the token is checked (`takeLoginAttempt`), atomically, so a burst
 * of parallel guesses cannot all slip in before the first failure is written; a success clears the count.
 */
import { sql } from "kysely";
import type { StoreConnection } from "./connection.ts";

export type LoginThrottlePolicy = {
  /** Delay before the next attempt, in ms, after the n-th attempt without a success (index n - 1; the last repeats). */
  delaysMs: readonly number[];
  /** A client's count is forgotten this long after its last attempt. */
  forgetAfterMs: number;
};

export type LoginAttempt = { allowed: true; attempt: number } | { allowed: false; retryAfterMs: number };

/** The delay after attempt `n` (an SQL expression) as SQL; `now` is cast because PostgreSQL would type it integer. */
function delayCase(policy: LoginThrottlePolicy, n: string) {
  const arms = policy.delaysMs.map((ms, i) => `WHEN ${n} <= ${i + 1} THEN ${Math.round(ms)}`).join(" ");
  return `CASE ${arms} ELSE ${Math.round(policy.delaysMs.at(-1) ?? 0)} END`;
}

/**
 * Takes one attempt for a client: allowed unless the client is inside its delay. The count goes up now; the
 * caller clears it with `clearLoginAttempts` when the token turns out right.
 */
export async function takeLoginAttempt(conn: StoreConnection, client: string, policy: LoginThrottlePolicy, now: number): Promise<LoginAttempt> {
  await conn.db.deleteFrom("login_attempts").where("last_attempt_at", "<", now - policy.forgetAfterMs).execute();
  await conn.db.insertInto("login_attempts").values({ client, failures: 0, last_attempt_at: now, next_allowed_at: 0 }).onConflict((oc) => oc.column("client").doNothing()).execute();
  // One conditional UPDATE: on PostgreSQL the row lock makes concurrent attempts re-check next_allowed_at
  // after each other's write, so only attempts outside the delay are counted and allowed.
  const taken = await sql<{ failures: number }>`UPDATE login_attempts SET failures = failures + 1, last_attempt_at = ${now},
      next_allowed_at = CAST(${now} AS BIGINT) + ${sql.raw(delayCase(policy, "failures + 1"))}
    WHERE client = ${client} AND next_allowed_at <= ${now} RETURNING failures`.execute(conn.db);
  const row = taken.rows[0];
  if (row) return { allowed: true, attempt: Number(row.failures) };
  const held = await conn.db.selectFrom("login_attempts").select("next_allowed_at").where("client", "=", client).executeTakeFirst();
  return { allowed: false, retryAfterMs: Math.max(1, Number(held?.next_allowed_at ?? now + 1) - now) };
}

/** Whether a client is inside its delay now (for bearer tokens, checked before and counted only on failure). */
export async function loginLockedFor(conn: StoreConnection, client: string, now: number): Promise<number> {
  const row = await conn.db.selectFrom("login_attempts").select("next_allowed_at").where("client", "=", client).executeTakeFirst();
  const until = Number(row?.next_allowed_at ?? 0);
  return until > now ? until - now : 0;
}

/** Counts a failed bearer token (already known wrong) against its client. */
export async function recordLoginFailure(conn: StoreConnection, client: string, policy: LoginThrottlePolicy, now: number): Promise<void> {
  await conn.db.deleteFrom("login_attempts").where("last_attempt_at", "<", now - policy.forgetAfterMs).execute();
  await sql`INSERT INTO login_attempts (client, failures, last_attempt_at, next_allowed_at) VALUES (${client}, 1, ${now}, CAST(${now} AS BIGINT) + ${sql.raw(delayCase(policy, "1"))})
    ON CONFLICT (client) DO UPDATE SET failures = login_attempts.failures + 1, last_attempt_at = ${now},
      next_allowed_at = CAST(${now} AS BIGINT) + ${sql.raw(delayCase(policy, "login_attempts.failures + 1"))}`.execute(conn.db);
}

export async function clearLoginAttempts(conn: StoreConnection, client: string): Promise<void> {
  await conn.db.deleteFrom("login_attempts").where("client", "=", client).execute();
}
