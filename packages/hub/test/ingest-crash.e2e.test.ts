/**
 * Fault test: four clients stream transcript events into a real hub process; the hub is killed with
 * SIGKILL mid-ingest and restarted; the clients retry every batch that did not get an answer. Afterwards the
 * store must hold every event exactly once: nothing lost, nothing duplicated.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, it } from "node:test";
import { createApiKey, openStore } from "@clawtower/store";
import { describeStore, storeTargets, tmpDir } from "@clawtower/testkit";
import { freePort } from "@clawtower/testkit/openclaw-host";
import { dbArgOf, startHubProcess } from "@clawtower/testkit/hub-process";

const CLIENTS = 4;
const BATCHES_PER_CLIENT = 40;
const EVENTS_PER_BATCH = 50;


async function startHub(db: string, port: number): Promise<ChildProcess> {
  return (await startHubProcess({ db, port })).child;
}

function batch(client: number, b: number): string {
  const lines: string[] = [];
  for (let i = 0; i < EVENTS_PER_BATCH; i++) {
    const n = (client * BATCHES_PER_CLIENT + b) * EVENTS_PER_BATCH + i;
    lines.push(
      JSON.stringify({
        agentId: `agent-${client}`,
        sessionId: `session-${client}-${Math.floor(b / 10)}`,
        event: {
          type: "message",
          id: `ev-${n}`,
          timestamp: new Date(Date.UTC(2026, 10, 20) + n * 1000).toISOString(),
          message: { role: "assistant", provider: "anthropic", model: "claude-sonnet-5", usage: { input: n % 97, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: 0.001 } } },
        },
      }),
    );
  }
  return `${lines.join("\n")}\n`;
}

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

for (const target of targets) {
  describeStore(target, `[${target.name}] hub killed with SIGKILL mid-ingest`, () => {
    it("loses no event and duplicates none once clients retry", { timeout: 120_000 }, async () => {
      const options = target.options();
      const dbArg = dbArgOf(options);
      const conn = await openStore(options);
      const key = (await createApiKey(conn, { deploymentId: "crash-test" }, Date.now())).token;
      await conn.close();

      const port = await freePort();
      let hub = await startHub(dbArg, port);
      let sent = 0;
      let accepted = 0;
      let duplicates = 0;
      let retries = 0;

      const client = async (c: number) => {
        for (let b = 0; b < BATCHES_PER_CLIENT; b++) {
          const body = batch(c, b);
          for (;;) {
            try {
              const r = await fetch(`http://127.0.0.1:${port}/api/v1/ingest/events`, {
                method: "POST",
                headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" },
                body,
                signal: AbortSignal.timeout(10_000),
              });
              if (r.status >= 500) throw new Error(`status ${r.status}`);
              const j = (await r.json()) as { accepted: number; duplicates: number; rejected: number };
              assert.equal(j.rejected, 0);
              accepted += j.accepted;
              duplicates += j.duplicates;
              sent++;
              break;
            } catch {
              retries++;
              await new Promise((r) => setTimeout(r, 100));
            }
          }
        }
      };

      const killer = (async () => {
        while (sent < (CLIENTS * BATCHES_PER_CLIENT) / 3) await new Promise((r) => setTimeout(r, 5));
        hub.kill("SIGKILL");
        await new Promise((r) => hub.once("exit", r));
        await new Promise((r) => setTimeout(r, 300));
        hub = await startHub(dbArg, port);
      })();
      await Promise.all([...Array.from({ length: CLIENTS }, (_, c) => client(c)), killer]);
      hub.kill("SIGTERM");
      await new Promise((r) => hub.once("exit", r));

      const total = CLIENTS * BATCHES_PER_CLIENT * EVENTS_PER_BATCH;
      const check = await openStore(options);
      const raw = await check.db.selectFrom("raw_events").select((eb) => eb.fn.countAll<number>().as("n")).where("deployment_id", "=", "crash-test").executeTakeFirstOrThrow();
      const calls = await check.db
        .selectFrom("llm_calls")
        .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.sum<number>("input_tokens").as("input")])
        .where("deployment_id", "=", "crash-test")
        .executeTakeFirstOrThrow();
      const summary = await check.db.selectFrom("usage_rollup").select((eb) => eb.fn.sum<number>("calls").as("n")).where("deployment_id", "=", "crash-test").executeTakeFirstOrThrow();
      await check.close();
      let expectedInput = 0;
      for (let n = 0; n < total; n++) expectedInput += n % 97;
      assert.ok(retries > 0, "the kill interrupted requests (the test must exercise retries)");
      assert.equal(Number(raw.n), total, "every event stored once");
      assert.equal(Number(calls.n), total, "every call accounted once");
      assert.equal(Number(calls.input), expectedInput, "tokens exact");
      assert.equal(Number(summary.n), total, "rollups agree with the rows");
      // A batch committed just before the kill was never answered; its retry comes back as duplicates.
      assert.equal(accepted + duplicates, total, "every line acknowledged once, as accepted or (after a lost answer) duplicate");
    });
  });
}
