/**
 * Session health (core's sessionHealth) for a page of sessions: their calls and tool calls in session order,
 * read by primary key. Health describes the whole session, whatever the report's time range.
 */
import { sql } from "kysely";
import { sessionHealth, type HealthCall, type HealthToolCall, type SessionHealth } from "@clawtower/core";
import type { StoreConnection } from "../connection.ts";

export type HealthRef = { deploymentId: string; agentId: string; sessionId: string; compactions: number };

const keyOf = (d: unknown, a: unknown, s: unknown) => `${String(d)}\u0000${String(a)}\u0000${String(s)}`;
export const healthKey = (r: { deploymentId: string; agentId: string; sessionId: string }) => keyOf(r.deploymentId, r.agentId, r.sessionId);

/** Sessions per statement: three parameters each, well under either database's limit. */
const CHUNK = 200;

export async function sessionHealthOf(conn: StoreConnection, refs: readonly HealthRef[]): Promise<Map<string, SessionHealth>> {
  const out = new Map<string, SessionHealth>();
  for (let i = 0; i < refs.length; i += CHUNK) {
    const chunk = refs.slice(i, i + CHUNK);
    const match = (alias: string) =>
      sql.join(
        chunk.map((r) => sql`(${sql.ref(`${alias}.deployment_id`)} = ${r.deploymentId} AND ${sql.ref(`${alias}.agent_id`)} = ${r.agentId} AND ${sql.ref(`${alias}.session_id`)} = ${r.sessionId})`),
        sql` OR `,
      );
    const calls = await sql<Record<string, unknown>>`
      SELECT l.deployment_id, l.agent_id, l.session_id, l.input_tokens + l.cache_read_tokens + l.cache_write_tokens AS prompt, l.stop_reason
      FROM llm_calls l WHERE ${match("l")} ORDER BY l.deployment_id, l.agent_id, l.session_id, l.ts, l.event_id`.execute(conn.db);
    const tools = await sql<Record<string, unknown>>`
      SELECT t.deployment_id, t.agent_id, t.session_id, t.name, t.args_bytes, t.is_error
      FROM tool_calls t WHERE ${match("t")} ORDER BY t.deployment_id, t.agent_id, t.session_id, t.ts, t.call_id`.execute(conn.db);
    const callsOf = new Map<string, HealthCall[]>();
    for (const c of calls.rows) {
      const k = keyOf(c["deployment_id"], c["agent_id"], c["session_id"]);
      const list = callsOf.get(k) ?? [];
      list.push({ promptTokens: Number(c["prompt"]), stopReason: (c["stop_reason"] as string | null) ?? null });
      callsOf.set(k, list);
    }
    const toolsOf = new Map<string, HealthToolCall[]>();
    for (const t of tools.rows) {
      const k = keyOf(t["deployment_id"], t["agent_id"], t["session_id"]);
      const list = toolsOf.get(k) ?? [];
      list.push({ name: (t["name"] as string | null) ?? null, argsBytes: t["args_bytes"] === null ? null : Number(t["args_bytes"]), isError: Number(t["is_error"]) === 1 });
      toolsOf.set(k, list);
    }
    for (const r of chunk) {
      const k = healthKey(r);
      out.set(k, sessionHealth(callsOf.get(k) ?? [], toolsOf.get(k) ?? [], r.compactions));
    }
  }
  return out;
}
