import assert from "node:assert/strict";
import { after, it } from "node:test";
import { createPriceBook, loadBundledPrices, type PriceBook } from "@clawtower/core";
import { describeStore, storeTargets } from "@clawtower/testkit";
import { ingestLines, openStore, recomputeSessions, refreshRollups, Touched, type IngestLine, type StoreConnection } from "../src/index.ts";

const DEP = "dep-ingest";
const T0 = Date.parse("2026-11-20T09:58:00Z"); // events straddle slot, hour and (below) day boundaries

function message(id: string, at: number, message: Record<string, unknown>) {
  return { type: "message", id, timestamp: new Date(at).toISOString(), message };
}

function assistant(id: string, at: number, o: { model?: string; cost?: number; stop?: string; calls?: { id: string; name?: string }[] } = {}) {
  return message(id, at, {
    role: "assistant",
    provider: o.model === "gpt-6-sol" ? "openai" : "anthropic",
    model: o.model ?? "claude-sonnet-5",
    content: (o.calls ?? []).map((c) => ({ type: "toolCall", id: c.id, ...(c.name ? { name: c.name } : {}), arguments: { path: "a.md" } })),
    usage: { input: 100, output: 20, cacheRead: 300, cacheWrite: 5, ...(o.cost !== undefined ? { cost: { total: o.cost } } : {}) },
    stopReason: o.stop ?? "toolUse",
  });
}

function result(id: string, at: number, callId: string, o: { isError?: boolean; bytes?: number; name?: string } = {}) {
  return message(id, at, { role: "toolResult", toolCallId: callId, toolName: o.name ?? "read", content: [{ type: "text", text: "x".repeat(o.bytes ?? 10) }], isError: o.isError ?? false });
}

function lines(sessionId: string, events: object[], agentId = "main"): IngestLine[] {
  return events.map((event, index) => ({ index, deploymentId: DEP, agentId, sessionId, seq: null, event: JSON.stringify(event) }));
}

/** Requests that exercise every kind of increment: new rows, tool rows completed later, duplicates, odd input. */
function requests(): IngestLine[][] {
  const m = 60_000;
  return [
    lines("s1", [
      { type: "session", version: 4, id: "s1", timestamp: new Date(T0).toISOString() },
      message("u1", T0, { role: "user", content: "hi" }),
      assistant("a1", T0 + m, { cost: 0.01, calls: [{ id: "c1" }, { id: "c2", name: "write" }] }),
      result("r1", T0 + 2 * m, "c1", { bytes: 500 }),
      // c2's result comes in a later request; c3's result comes before its call.
      result("r3", T0 + 3 * m, "c3", { bytes: 70, isError: true, name: "exec" }),
      assistant("a2", T0 + 4 * m, { model: "gpt-6-sol", stop: "error" }),
      assistant("a2", T0 + 4 * m, { model: "gpt-6-sol", stop: "error" }), // repeated inside the request
      { type: "compaction", id: "k1", timestamp: new Date(T0 + 5 * m).toISOString() },
      message("x1", T0 + 5 * m, { role: "custom", content: "?" }),
    ]),
    lines("s2", [
      assistant("b1", T0 + 6 * m, { model: "mystery-7b", stop: "aborted", calls: [{ id: "d1" }] }),
      result("q1", T0 + 7 * m, "d1", { bytes: 5, isError: true }),
      { type: "reset", id: "z1", timestamp: new Date(T0 + 8 * m).toISOString() },
    ], "helper"),
    lines("s1", [
      result("r2", T0 + 9 * m, "c2", { bytes: 900, name: "write" }),
      assistant("a3", T0 + 10 * m, { calls: [{ id: "c3", name: "exec" }], cost: 0.02 }),
      message("u2", T0 + 24 * 3_600_000, { role: "user", content: "next day" }),
      assistant("a4", T0 + 24 * 3_600_000 + m, { cost: 0.03 }),
    ]),
  ];
}

const DERIVED: [string, string][] = [
  ["sessions", "deployment_id, agent_id, session_id"],
  ["usage_rollup", "deployment_id, slot, agent_id, provider, model"],
  ["usage_rollup_hour", "deployment_id, bucket, agent_id, provider, model"],
  ["usage_rollup_day", "deployment_id, bucket, agent_id, provider, model"],
  ["tool_rollup", "deployment_id, slot, agent_id, name"],
  ["tool_rollup_hour", "deployment_id, bucket, agent_id, name"],
  ["tool_rollup_day", "deployment_id, bucket, agent_id, name"],
  ["session_models", "deployment_id, agent_id, session_id, provider, model"],
  ["session_hour_usage", "deployment_id, hour, agent_id, session_id"],
];

/** Every derived row, as comparable JSON (bookkeeping columns left out). */
async function derived(conn: StoreConnection): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, order] of DERIVED) {
    const rows = (await conn.db.selectFrom(table as "sessions").selectAll().where("deployment_id", "=", DEP).execute()) as Record<string, unknown>[];
    const keys = order.split(", ");
    out[table] = rows
      .map((r) => {
        const { updated_at: _u, models, ...rest } = r as Record<string, unknown> & { models?: string | null };
        const norm = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v]));
        return table === "sessions" ? { ...norm, models: models ? (JSON.parse(models) as string[]).filter(Boolean).sort() : [] } : norm;
      })
      .sort((a, b) => (keys.map((k) => String(a[k])).join("|") < keys.map((k) => String(b[k])).join("|") ? -1 : 1));
  }
  return out;
}

/** The same tables rebuilt from the rows, the way a full re-aggregation does it. */
async function recomputed(conn: StoreConnection): Promise<Record<string, unknown[]>> {
  const sessions = await conn.db.selectFrom("sessions").select(["agent_id", "session_id"]).where("deployment_id", "=", DEP).execute();
  const refs = sessions.map((s) => ({ deploymentId: DEP, agentId: s.agent_id, sessionId: s.session_id }));
  await conn.db.transaction().execute(async (trx) => {
    await recomputeSessions(trx, conn.dialect, DEP, "all", Date.now());
    const touched = new Touched();
    touched.everything(DEP);
    for (const r of refs) touched.session(r);
    await refreshRollups(trx, touched);
  });
  return derived(conn);
}

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

for (const target of targets) {
  describeStore(target, `[${target.name}] ingest`, () => {
    const prices = createPriceBook([], loadBundledPrices().prices);

    it("keeps session aggregates and rollups equal to a re-aggregation of the rows, request after request", async () => {
      const conn = await openStore(target.options());
      const all = requests();
      for (const r of all) await ingestLines(conn, r, prices, Date.now());
      const incremental = await derived(conn);
      assert.ok((incremental["tool_rollup"] ?? []).length > 0 && (incremental["usage_rollup_day"] ?? []).length > 1);
      assert.deepEqual(incremental, await recomputed(conn));
      await conn.close();
    });

    it("writes concurrent requests together, answering each on its own, and a re-sent batch changes nothing", async () => {
      const conn = await openStore(target.options());
      const all = requests();
      const answers = await Promise.all(all.map((r) => ingestLines(conn, r, prices, Date.now())));
      assert.deepEqual(
        answers.map((a) => [a.accepted, a.duplicates, a.rejected]),
        [[8, 1, 0], [3, 0, 0], [4, 0, 0]],
      );
      assert.deepEqual(answers[0]!.results.map((r) => r.index), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
      assert.equal(answers[0]!.results[6]!.status, "duplicate", "the second copy of a2 in the same request");
      const changes = await conn.db.selectFrom("changes").select("detail").where("deployment_id", "=", DEP).execute();
      assert.ok(changes.length < all.length, `one transaction for concurrent requests (${changes.length})`);
      const before = await derived(conn);
      assert.deepEqual(before, await recomputed(conn));
      const again = await Promise.all(all.map((r) => ingestLines(conn, r, prices, Date.now())));
      assert.deepEqual(again.map((a) => [a.accepted, a.duplicates]), [[0, 9], [0, 3], [0, 4]]);
      assert.deepEqual(await derived(conn), before);
      await conn.close();
    });

    it("fails only the request that fails when requests share a transaction", async () => {
      const conn = await openStore(target.options());
      const broken: PriceBook = {
        fingerprint: "broken",
        lookup: () => {
          throw new Error("price table unavailable");
        },
      };
      const [good, bad] = await Promise.allSettled([
        ingestLines(conn, lines("ok", [assistant("g1", T0, { cost: 0.5 })]), prices, Date.now()),
        ingestLines(conn, lines("ko", [assistant("h1", T0, { model: "gpt-6-sol" })]), broken, Date.now()),
      ]);
      assert.equal(good.status, "fulfilled");
      assert.equal(good.status === "fulfilled" && good.value.accepted, 1);
      assert.equal(bad.status, "rejected");
      const raw = await conn.db.selectFrom("raw_events").select("session_id").where("deployment_id", "=", DEP).execute();
      assert.deepEqual(raw.map((r) => r.session_id), ["ok"], "nothing of the failed request is stored");
      assert.deepEqual(await derived(conn), await recomputed(conn));
      await conn.close();
    });
  });
}
