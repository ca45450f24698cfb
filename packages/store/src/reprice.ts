/**
 * Keeps stored estimates in step with prices: when the price book changes (the operator edited OpenClaw's
 * model costs, or a new bundled table shipped), every call that is not priced by a recorded cost is priced
 * again. Recorded costs never change.
 */
import { costOfCall, type PriceBook } from "@clawtower/core";
import type { StoreConnection } from "./connection.ts";

export async function repriceCalls(conn: StoreConnection, deploymentId: string, prices: PriceBook): Promise<boolean> {
  const { db } = conn;
  const key = `prices:${deploymentId}`;
  const current = await db.selectFrom("meta").select("value").where("key", "=", key).executeTakeFirst();
  if (current?.value === prices.fingerprint) return false;
  const first = current === undefined;
  await db.transaction().execute(async (trx) => {
    if (!first) {
      const rows = await trx
        .selectFrom("llm_calls")
        .select(["agent_id", "session_id", "event_id", "provider", "model", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "recorded_cost_usd"])
        .where("deployment_id", "=", deploymentId)
        .where("cost_source", "<>", "recorded")
        .execute();
      for (const r of rows) {
        const cost = costOfCall(
          {
            provider: r.provider,
            model: r.model,
            tokens: { input: r.input_tokens, output: r.output_tokens, cacheRead: r.cache_read_tokens, cacheWrite: r.cache_write_tokens },
            recordedCostUsd: r.recorded_cost_usd,
          },
          prices,
        );
        await trx
          .updateTable("llm_calls")
          .set({ cost_source: cost.source, cost_nanos: cost.nanos, price_ref: cost.priceRef })
          .where("deployment_id", "=", deploymentId)
          .where("agent_id", "=", r.agent_id)
          .where("session_id", "=", r.session_id)
          .where("event_id", "=", r.event_id)
          .execute();
      }
    }
    await trx.insertInto("meta").values({ key, value: prices.fingerprint }).onConflict((oc) => oc.column("key").doUpdateSet({ value: prices.fingerprint })).execute();
  });
  // On the very first sync there was nothing to re-price: report "no change" so only touched sessions recompute.
  return !first;
}
