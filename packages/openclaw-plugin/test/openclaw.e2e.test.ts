/**
 * The plugin in the real host, end to end: openclaw@2026.9.6 (from npm, Node 24), the plugin installed from
 * its `npm pack` tarball, the fake OpenAI-compatible LLM, a hub on loopback.
 *
 *   1. `agent --local` turn with a tool call (no service runs there: its transcript waits for a cycle)
 *   2. `gateway run` + `chat.send`: the service starts, transcript updates and model/session/message hooks
 *      fire, the turn reaches the hub within seconds (forwarded), the service's first cycle ships turn 1
 *   3. `openclaw clawtower sync` after the Gateway stopped: the hub holds exactly the sessions, LLM calls,
 *      tool calls, tokens and costs the LLM served (from its request log and the configured prices), and
 *      the local ledger has exactly one row per call
 *   4. `status --json`, then status without hooks.allowConversationAccess (names the blocked hooks and the
 *      line that unblocks them), then an install from a local path
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { recordedUsage, startFakeLlm, type FakeLlmServer } from "@clawtower/testkit/fake-llm";
import { createOpenClawHome, ensureOpenClaw, parseJsonOutput, runAgentTurn, runOpenClaw, startGateway, type OpenClawHome } from "@clawtower/testkit/openclaw-host";
import { tmpDir } from "@clawtower/testkit";
import { startTestHub, type TestHub } from "./helpers.ts";
import { packPlugin, waitFor } from "./e2e-helpers.ts";

const PLUGIN_DIR = path.resolve(import.meta.dirname, "..");
const DEPLOYMENT = "gw-test";



function editConfig(home: OpenClawHome, edit: (cfg: Record<string, any>) => void): void {
  const file = path.join(home.stateDir, "openclaw.json");
  const cfg = JSON.parse(fs.readFileSync(file, "utf8"));
  edit(cfg);
  fs.writeFileSync(file, `${JSON.stringify(cfg, null, 2)}\n`);
}


describe("Clawtower plugin in OpenClaw 2026.9.6", { timeout: 600_000 }, () => {
  let llm: FakeLlmServer;
  let hub: TestHub;
  let home: OpenClawHome;
  let tarball: string;

  before(async () => {
    const [install, packed] = await Promise.all([ensureOpenClaw("2026.9.6"), packPlugin()]);
    tarball = packed;
    llm = await startFakeLlm({ cacheWriteTokens: 500 });
    hub = await startTestHub(DEPLOYMENT);
    home = await createOpenClawHome({ dir: tmpDir("ct-oc-"), fakeLlmBaseUrl: llm.baseUrl, install });
  });
  after(async () => {
    await llm?.close();
    await hub?.close();
  });

  it("installs from npm pack, records live usage through the Gateway, and `sync` leaves the hub exactly right", async () => {
    const inst = await runOpenClaw(home, ["plugins", "install", `npm-pack:${tarball}`, "--force", "--accept-capabilities"], { timeoutMs: 240_000 });
    assert.equal(inst.code, 0, inst.stderr.slice(-2000) + inst.stdout.slice(-2000));
    assert.match(inst.stdout, /Installed plugin: clawtower/);
    // The README's commands: the config as one JSON value, then the line that unblocks the conversation hooks.
    const config = {
      apiKey: hub.key,
      deploymentId: DEPLOYMENT,
      apiUrl: hub.url,
      privacy: "full",
      upload: { every: "1h", retryBackoffMs: 200 },
      filter: { minMessages: 1, minBytes: 0 },
      live: { flushMs: 200 },
      audit: { largePromptChars: 1000 },
    };
    const set = await runOpenClaw(home, ["config", "set", "plugins.entries.clawtower.config", JSON.stringify(config), "--strict-json"], { timeoutMs: 120_000 });
    assert.equal(set.code, 0, set.stderr.slice(-2000));
    const allow = await runOpenClaw(home, ["config", "set", "plugins.entries.clawtower.hooks.allowConversationAccess", "true"], { timeoutMs: 120_000 });
    assert.equal(allow.code, 0, allow.stderr.slice(-2000));

    // 1. A local turn with a tool call: no service, no forwarding; the transcript waits for a cycle.
    const local = await runAgentTurn(home, 'show me the readme [[tool:read {"path":"README.md"}]]', { sessionKey: "agent:main:e2e-tools", timeoutMs: 240_000 });
    assert.equal(local.code, 0, local.stderr.slice(-2000));
    const afterLocal = llm.requests.length;

    // 2. Through the Gateway: the service starts and the turn reaches the hub without any sync.
    const gw = await startGateway(home, { readyTimeoutMs: 120_000 });
    let gatewayTurnSeenLiveMs = -1;
    try {
      const sent = Date.now();
      await gw.call("chat.send", { sessionKey: "agent:main:e2e-gw", message: "hello via gateway", idempotencyKey: "e2e-gw-1" });
      await waitFor("the gateway turn's LLM call", async () => llm.requests.length > afterLocal && llm.requests.at(-1)!.status === 200, 90_000);
      // Live: the forwarded transcript event is on the hub within seconds of the turn.
      await waitFor(
        "the gateway session on the hub",
        async () => {
          const rows = await hub.conn.db.selectFrom("llm_calls").select("session_id").where("deployment_id", "=", DEPLOYMENT).execute();
          const sessions = await hub.conn.db.selectFrom("sessions").select(["session_id", "session_key"]).where("deployment_id", "=", DEPLOYMENT).execute();
          const gwSession = sessions.find((s) => s.session_key === "agent:main:e2e-gw");
          return gwSession && rows.some((r) => r.session_id === gwSession.session_id);
        },
        30_000,
      );
      gatewayTurnSeenLiveMs = Date.now() - sent;
      // The service's first cycle (10 s after start) ships the local turn as well.
      const want = recordedUsage(llm.requests, home.modelCost);
      await waitFor("the service's first cycle", async () => (await hub.summary()).totals.llmCalls === want.calls, 60_000);
    } finally {
      await gw.stop();
    }
    assert.ok(gatewayTurnSeenLiveMs > 0 && gatewayTurnSeenLiveMs < 45_000, `live after ${gatewayTurnSeenLiveMs} ms`);

    // 3. One blocking cycle from the CLI.
    const sync = await runOpenClaw(home, ["clawtower", "sync", "--json"], { timeoutMs: 120_000 });
    assert.equal(sync.code, 0, sync.stderr.slice(-2000) + sync.stdout.slice(-2000));
    const syncResult = parseJsonOutput(sync.stdout) as { ok: boolean; outcome: string; lines: { accepted: number } };
    assert.equal(syncResult.ok, true);

    const want = recordedUsage(llm.requests, home.modelCost);
    assert.ok(want.calls >= 3 && want.toolCalls === 1, JSON.stringify(want));
    const s = await hub.summary();
    assert.equal(s.totals.sessions, 2);
    assert.equal(s.totals.llmCalls, want.calls);
    assert.deepEqual(s.totals.tokens, { input: want.input, output: want.output, cacheRead: want.cacheRead, cacheWrite: want.cacheWrite, total: want.input + want.output + want.cacheRead + want.cacheWrite });
    assert.ok(Math.abs(s.totals.cost.total - want.usd) < 1e-9, `cost ${s.totals.cost.total} vs ${want.usd}`);
    assert.equal(s.totals.toolCalls, 1);
    const tools = (await hub.tools()) as unknown as { tools: { name: string; errors: number }[] };
    assert.deepEqual(tools.tools.map((t) => [t.name, t.errors]), [["read", 1]]);

    // The local ledger: one row per LLM call; the Gateway's call joined with model_call_ended (latency).
    const dir = path.join(home.stateDir, "clawtower");
    const ledger = new DatabaseSync(path.join(dir, "usage.sqlite"), { readOnly: true });
    const rows = ledger.prepare("SELECT * FROM llm_calls WHERE success = 1").all() as Record<string, any>[];
    const failedRows = ledger.prepare("SELECT * FROM llm_calls WHERE success = 0").all() as Record<string, any>[];
    const runs = ledger.prepare("SELECT count(*) AS n FROM run_usage").get() as { n: number };
    ledger.close();
    assert.equal(rows.length, want.calls, JSON.stringify(rows.map((r) => [r.source, r.event_id])));
    assert.equal(rows.reduce((a, r) => a + Number(r.total_tokens), 0), want.input + want.output + want.cacheRead + want.cacheWrite);
    assert.ok(Math.abs(rows.reduce((a, r) => a + Number(r.cost_usd), 0) - want.usd) < 1e-9);
    const live = rows.filter((r) => r.source === "transcript-update");
    assert.ok(live.length >= 1, "the Gateway turn was recorded live");
    assert.ok(live.every((r) => typeof r.latency_ms === "number" && r.latency_ms >= 0 && r.call_id), `joined with model_call_ended: ${JSON.stringify({ live, failedRows })}`);
    assert.ok(Number(runs.n) >= 1, "llm_output per-run totals (conversation access allowed)");
    for (const f of ["usage.sqlite", "ship-state.json", "status.json"]) assert.equal((fs.statSync(path.join(dir, f)).mode & 0o777).toString(8), "600", f);
    const service = JSON.parse(fs.readFileSync(path.join(dir, "service.json"), "utf8")) as { counters: Record<string, number> };
    assert.ok(service.counters["messagesIn"]! >= 1, "message_received fired");
    assert.ok(service.counters["sessionsStarted"]! >= 1, "session_start fired");
    assert.ok(service.counters["forwarded"]! >= 1, "transcript events forwarded");
    assert.ok(service.counters["largePrompts"]! >= 1, "llm_input audit");
    assert.equal((fs.statSync(path.join(dir, "large-prompts.jsonl")).mode & 0o777).toString(8), "600");

    // 4. Status, with conversation access allowed…
    const st = await runOpenClaw(home, ["clawtower", "status", "--json"], { timeoutMs: 120_000 });
    assert.equal(st.code, 0, st.stderr.slice(-2000));
    const status = parseJsonOutput(st.stdout) as Record<string, any>;
    assert.equal(status.configured, true);
    assert.equal(status.apiKey.includes(hub.key), false, "the key is masked");
    assert.equal(status.lastCycle.outcome, "ok");
    assert.equal(status.pending.sessions, 0);
    assert.deepEqual(status.blockedHooks, []);
    assert.equal(status.ledger.calls, want.calls);
  });

  it("without hooks.allowConversationAccess, status names the blocked hooks and the line that unblocks them", async () => {
    editConfig(home, (cfg) => {
      delete cfg.plugins.entries.clawtower.hooks;
    });
    const st = await runOpenClaw(home, ["clawtower", "status"], { timeoutMs: 120_000 });
    assert.equal(st.code, 0, st.stderr.slice(-2000));
    assert.match(st.stdout, /blocked hooks: llm_input, llm_output/);
    assert.match(st.stdout, /openclaw config set plugins\.entries\.clawtower\.hooks\.allowConversationAccess true/);
    assert.match(st.stdout, /Clawtower: configured/);
  });

  it("installs from a local path", async () => {
    const other = await createOpenClawHome({ dir: tmpDir("ct-oc-link-"), fakeLlmBaseUrl: llm.baseUrl, install: home.install });
    const inst = await runOpenClaw(other, ["plugins", "install", "-l", PLUGIN_DIR, "--force", "--accept-capabilities"], { timeoutMs: 240_000 });
    assert.equal(inst.code, 0, inst.stderr.slice(-2000));
    editConfig(other, (cfg) => {
      cfg.plugins.entries.clawtower = { ...cfg.plugins?.entries?.clawtower, enabled: true, config: { upload: { every: "banana" } } };
    });
    const st = await runOpenClaw(other, ["clawtower", "status", "--json"], { timeoutMs: 120_000 });
    assert.equal(st.code, 0, st.stderr.slice(-2000));
    const status = parseJsonOutput(st.stdout) as Record<string, any>;
    assert.equal(status.configured, false);
    assert.equal(status.config.status, "invalid");
    assert.deepEqual(status.config.issues.map((i: { path: string }) => i.path), ["plugins.entries.clawtower.config.upload.every"]);
  });
});
