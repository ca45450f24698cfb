/**
 * `clawtower watch` against a real `openclaw gateway run` (2026.9.6) and a real hub: sessions made by real agent
 * turns against the fake LLM. Expected tokens and cost come from the fake LLM's request log and the configured
 * prices; the context window from the model config the test wrote — never from the watcher's own output.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createPriceBook } from "@clawtower/core";
import { createApiKey, openStore, type StoreConnection } from "@clawtower/store";
import { startHub } from "@clawtower/hub";
import { tmpDir } from "@clawtower/testkit";
import { recordedUsage, startFakeLlm, type FakeLlmServer } from "@clawtower/testkit/fake-llm";
import { createOpenClawHome, ensureOpenClaw, runAgentTurn, runProcess, startGateway, type Gateway, type OpenClawHome } from "@clawtower/testkit/openclaw-host";

const BIN = path.resolve(import.meta.dirname, "../bin/clawtower.js");
const SESSION_KEY = "agent:main:e2e-watch";
const CONTEXT_WINDOW = 128_000; // what createOpenClawHome configures for fake/fake-model

describe("clawtower watch → real gateway → real hub", { timeout: 900_000 }, () => {
  let llm: FakeLlmServer;
  let home: OpenClawHome;
  let gw: Gateway;
  let conn: StoreConnection;
  let hub: Awaited<ReturnType<typeof startHub>>;
  let key = "";
  let dir = "";
  let tokenFile = "";

  before(async () => {
    const install = await ensureOpenClaw("2026.9.6");
    llm = await startFakeLlm({ cacheWriteTokens: 500 });
    dir = tmpDir("ct-watch-e2e-");
    home = await createOpenClawHome({ dir: path.join(dir, "home"), fakeLlmBaseUrl: llm.baseUrl, install });
    // `agent --local` refuses to run while a gateway serves the same state directory: the first turn goes first.
    const turn = await runAgentTurn(home, "hello there", { sessionKey: SESSION_KEY, timeoutMs: 240_000 });
    assert.equal(turn.code, 0, turn.stderr.slice(-2000));
    gw = await startGateway(home, { readyTimeoutMs: 120_000 });
    tokenFile = path.join(dir, "gateway.token");
    fs.writeFileSync(tokenFile, gw.token, { mode: 0o600 });
    conn = await openStore({ kind: "sqlite", path: path.join(dir, "hub.db") });
    key = (await createApiKey(conn, { deploymentId: "gw-e2e" }, Date.now())).token;
    hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: null });
  });
  after(async () => {
    await gw?.stop();
    await hub?.close();
    await conn?.close();
    await llm?.close();
  });

  const watch = (extra: string[]) =>
    runProcess(process.execPath, [BIN, "watch", "--openclaw-url", `http://127.0.0.1:${gw.port}`, "--token-file", tokenFile, "--hub-url", hub.url, "--active-minutes", "120", ...extra], {
      env: { ...process.env, CLAWTOWER_HOME: path.join(dir, "ct-home"), CLAWTOWER_API_KEY: key, OPENCLAW_GATEWAY_TOKEN: "" },
      timeoutMs: 120_000,
    });

  const snapshots = () => conn.db.selectFrom("session_snapshots").selectAll().where("session_key", "=", SESSION_KEY).orderBy("observed_at").execute();

  async function latestMatches(want: ReturnType<typeof recordedUsage>): Promise<boolean> {
    const last = (await snapshots()).at(-1);
    return !!last && Number(last.input_tokens) === want.input && Number(last.output_tokens) === want.output && last.status === "idle";
  }

  it("--once pushes the session with its real tokens and context window; a second --once sends nothing", async () => {
    const r = await watch(["--once", "--log-level", "DEBUG"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[INFO\] - Poll #1: \d+ sessions → 1 events \(\d+\.\d\ds\)/);
    assert.match(r.stderr, /\[DEBUG\] - keep agent:main:e2e-watch/);
    assert.ok(!r.stderr.includes(gw.token) && !r.stderr.includes(key), "no secret in the log");
    const want = recordedUsage(llm.requests, home.modelCost);
    const [s, ...rest] = await snapshots();
    assert.equal(rest.length, 0);
    assert.ok(s);
    assert.deepEqual(
      [s.input_tokens, s.output_tokens, s.cache_read_tokens, s.cache_write_tokens].map(Number),
      [want.input, want.output, want.cacheRead, want.cacheWrite],
    );
    assert.ok(Math.abs(Number(s.cost_usd) - want.usd) < 1e-9, `cost ${s.cost_usd} vs ${want.usd}`);
    assert.equal(Number(s.context_window), CONTEXT_WINDOW);
    assert.equal(s.status, "idle");
    assert.equal(s.model, "fake-model");

    const llmCalls = llm.requests.length;
    const again = await watch(["--once"]);
    assert.equal(llm.requests.length, llmCalls, "watching makes no LLM calls");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /Poll #1: \d+ sessions → 0 events/);
    assert.equal((await snapshots()).length, 1);
  });

  it("running as a daemon, it subscribes, sends the changed session after another turn, and stops cleanly on SIGTERM", async () => {
    const daemon = spawn(process.execPath, [BIN, "watch", "--openclaw-url", `http://127.0.0.1:${gw.port}`, "--token-file", tokenFile, "--hub-url", hub.url, "--active-minutes", "120", "--poll-interval", "5", "--log-level", "DEBUG"], {
      env: { ...process.env, CLAWTOWER_HOME: path.join(dir, "ct-home"), CLAWTOWER_API_KEY: key, OPENCLAW_GATEWAY_TOKEN: "" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    daemon.stderr.setEncoding("utf8").on("data", (c: string) => (log += c));
    const exited = new Promise<number | null>((r) => daemon.once("close", (code) => r(code)));
    try {
      const before = llm.requests.length;
      await gw.call("chat.send", { sessionKey: SESSION_KEY, message: "one more thing", idempotencyKey: `e2e-watch-${Date.now()}` });
      await waitFor(async () => llm.requests.length > before && llm.requests.at(-1)!.status === 200, 120_000);
      const want = recordedUsage(llm.requests, home.modelCost);
      // The run ends and the gateway's usage cache refreshes shortly after the reply; the daemon catches up.
      await waitFor(() => latestMatches(want), 120_000).catch((e) => assert.fail(`${(e as Error).message}\n${log}`));
      const latest = (await snapshots()).at(-1)!;
      assert.deepEqual([latest.cache_read_tokens, latest.cache_write_tokens].map(Number), [want.cacheRead, want.cacheWrite]);
      assert.ok((await snapshots()).length >= 2);
      assert.match(log, /subscribed to sessions\.changed/);
    } finally {
      daemon.kill("SIGTERM");
    }
    assert.equal(await exited, 0, log);
    assert.match(log, /SIGTERM: stopping after the poll in flight[\s\S]*Stopped \(state saved\)/);
    const llmCalls = llm.requests.length;
    const after = await watch(["--once"]);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stderr, /→ 0 events/, "the daemon saved what it sent");
    assert.equal(llm.requests.length, llmCalls, "watching makes no LLM calls");
  });

  it("a dead gateway with --max-errors 2 exits non-zero", async () => {
    await gw.stop();
    const r = await watch(["--max-errors", "2", "--poll-interval", "0.2"]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal((r.stderr.match(/\[ERROR\] - Poll #\d+ failed/g) ?? []).length, 2, r.stderr);
    assert.match(r.stderr, /\[CRITICAL\] - 2 consecutive polls failed; stopping/);
    const once = await watch(["--once"]);
    assert.equal(once.code, 1);
  });
});

async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
