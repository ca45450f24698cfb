/**
 * The shipper against real hub processes (`clawtower serve`) that die: killed with SIGKILL between
 * requests and restarted while the cycle retries (nothing lost), and killed right after committing a batch
 * whose answer never reached the plugin (the next cycle resends it; nothing is stored twice).
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { after, describe, it } from "node:test";
import { createApiKey, openStore } from "@clawtower/store";
import { tmpDir } from "@clawtower/testkit";
import { runCycle } from "../src/ship/cycle.ts";
import { startFaultProxy } from "./fault-proxy.ts";
import { configFor, copyFixture, expectedOf, quietLogger, startTestHub } from "./helpers.ts";
import { freePort } from "@clawtower/testkit/openclaw-host";
import { killHubProcess, startHubProcess } from "@clawtower/testkit/hub-process";

const FIXTURE = "openclaw-2026.9.6";
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill("SIGKILL");
});


/** A hub on `db`, remembered so that `after` kills whatever a failed test left running. */
async function startHub(db: string, port: number): Promise<ChildProcess> {
  const { child } = await startHubProcess({ db, port });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

async function hubStore(): Promise<{ db: string; key: string }> {
  const db = path.join(tmpDir("ct-hubproc-"), "hub.db");
  const conn = await openStore({ kind: "sqlite", path: db });
  const key = (await createApiKey(conn, { deploymentId: "gw-test" }, Date.now())).token;
  await conn.close();
  return { db, key };
}

async function counts(db: string) {
  const conn = await openStore({ kind: "sqlite", path: db });
  try {
    const raw = await conn.db.selectFrom("raw_events").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    const calls = await conn.db.selectFrom("llm_calls").select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.sum<number>("input_tokens").as("input")]).executeTakeFirstOrThrow();
    return { raw: Number(raw.n), calls: Number(calls.n), input: Number(calls.input) };
  } finally {
    await conn.close();
  }
}

/** Raw events and calls a clean upload of the fixture stores. */
async function reference() {
  const hub = await startTestHub();
  await runCycle({ stateDir: copyFixture(FIXTURE), config: configFor(hub), openclawRedactPatterns: [], logger: quietLogger, signal: new AbortController().signal, trigger: "test" });
  await hub.close();
  return counts(hub.dbPath);
}

const SIZES = { requestLines: 10, chunkEvents: 10 };

describe("real hub processes that die", { timeout: 120_000 }, () => {
  it("hub down during a cycle, then up again: the cycle's retries deliver everything", async () => {
    const want = await reference();
    const { db, key } = await hubStore();
    const port = await freePort();
    let hub = await startHub(db, port);
    let restarting: Promise<void> | null = null;
    const proxy = await startFaultProxy(
      () => `http://127.0.0.1:${port}`,
      (n) => {
        if (n === 3) {
          restarting = (async () => {
            await killHubProcess(hub);
            await new Promise((r) => setTimeout(r, 400));
            hub = await startHub(db, port);
          })();
        }
        return { kind: "forward" };
      },
    );
    try {
      const r = await runCycle({
        stateDir: copyFixture(FIXTURE),
        config: configFor({ url: proxy.url, key }, { upload: { retryAttempts: 6, retryBackoffMs: 300 } }),
        openclawRedactPatterns: [],
        logger: quietLogger,
        signal: new AbortController().signal,
        trigger: "test",
        sizes: SIZES,
      });
      await restarting;
      assert.equal(r.outcome, "ok", JSON.stringify(r));
      assert.ok(r.retries >= 1, "the dead hub was retried");
      await killHubProcess(hub);
      assert.deepEqual(await counts(db), want);
      assert.equal(want.calls, expectedOf(FIXTURE).transcriptTotals.llmCallsWithUsage);
    } finally {
      await proxy.close();
      await killHubProcess(hub);
    }
  });

  it("hub killed after committing a batch it never answered: the resend is a duplicate, nothing is stored twice", async () => {
    const want = await reference();
    const { db, key } = await hubStore();
    const port = await freePort();
    let hub = await startHub(db, port);
    const home = copyFixture(FIXTURE);
    const proxy = await startFaultProxy(
      () => `http://127.0.0.1:${port}`,
      (n) => {
        // The hub commits this batch; then it dies before the answer gets out.
        if (n === 4) return { kind: "forward-then-drop", after: () => killHubProcess(hub) };
        return { kind: "forward" };
      },
    );
    try {
      const config = configFor({ url: proxy.url, key }, { upload: { retryAttempts: 1, retryBackoffMs: 100 } });
      const opts = { stateDir: home, config, openclawRedactPatterns: [], logger: quietLogger, signal: new AbortController().signal, trigger: "test" as const, sizes: SIZES };
      const first = await runCycle(opts);
      assert.equal(first.outcome, "failed", JSON.stringify(first));
      assert.ok(first.pending.sessions > 0);
      hub = await startHub(db, port);
      const second = await runCycle(opts);
      assert.equal(second.outcome, "ok", JSON.stringify(second));
      assert.ok(second.lines.duplicates > 0, "the unanswered batch came back as duplicates");
      await killHubProcess(hub);
      assert.deepEqual(await counts(db), want);
    } finally {
      await proxy.close();
      await killHubProcess(hub);
    }
  });
});
