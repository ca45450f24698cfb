/** Store-side facts for `clawtower doctor`: what was imported from where, and what could not be priced. */
import { sql } from "kysely";
import type { StoreConnection } from "./connection.ts";

export type PartKindSummary = { agentId: string; kind: string; parts: number; present: number; gone: number; sessions: number };

export async function partsSummary(conn: StoreConnection, deploymentId: string): Promise<PartKindSummary[]> {
  const rows = await conn.db
    .selectFrom("parts")
    .select([
      "agent_id",
      "kind",
      sql<number>`count(*)`.as("parts"),
      sql<number>`count(*) FILTER (WHERE present = 1)`.as("present"),
      sql<number>`count(DISTINCT session_id)`.as("sessions"),
    ])
    .where("deployment_id", "=", deploymentId)
    .groupBy(["agent_id", "kind"])
    .orderBy("agent_id")
    .orderBy("kind")
    .execute();
  return rows.map((r) => ({ agentId: r.agent_id, kind: r.kind, parts: Number(r.parts), present: Number(r.present), gone: Number(r.parts) - Number(r.present), sessions: Number(r.sessions) }));
}

export type UnpricedModel = { provider: string; model: string; calls: number; tokens: number };

export async function unpricedModels(conn: StoreConnection, deploymentId: string): Promise<UnpricedModel[]> {
  const rows = await conn.db
    .selectFrom("llm_calls")
    .select(["provider", "model", sql<number>`count(*)`.as("calls"), sql<number>`sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)`.as("tokens")])
    .where("deployment_id", "=", deploymentId)
    .where("cost_source", "=", "unknown")
    .groupBy(["provider", "model"])
    .orderBy(sql`count(*)`, "desc")
    .execute();
  return rows.map((r) => ({ provider: r.provider, model: r.model, calls: Number(r.calls), tokens: Number(r.tokens) }));
}

export type StoreTotals = { sessions: number; goneSessions: number; events: number; llmCalls: number; toolCalls: number };

export async function storeTotals(conn: StoreConnection, deploymentId: string): Promise<StoreTotals> {
  const one = async (q: Promise<{ n: number } | undefined>) => Number((await q)?.n ?? 0);
  const { db } = conn;
  return {
    sessions: await one(db.selectFrom("sessions").select(sql<number>`count(*)`.as("n")).where("deployment_id", "=", deploymentId).executeTakeFirst()),
    goneSessions: await one(
      db.selectFrom("sessions").select(sql<number>`count(*)`.as("n")).where("deployment_id", "=", deploymentId).where("present", "=", 0).executeTakeFirst(),
    ),
    events: await one(db.selectFrom("events").select(sql<number>`count(*)`.as("n")).where("deployment_id", "=", deploymentId).executeTakeFirst()),
    llmCalls: await one(db.selectFrom("llm_calls").select(sql<number>`count(*)`.as("n")).where("deployment_id", "=", deploymentId).executeTakeFirst()),
    toolCalls: await one(
      db.selectFrom("tool_calls").select(sql<number>`count(*)`.as("n")).where("deployment_id", "=", deploymentId).where("call_event_id", "is not", null).executeTakeFirst(),
    ),
  };
}
