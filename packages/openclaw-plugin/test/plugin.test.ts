/**
 * register() against a fake host: what is registered in each mode, that hooks only enqueue (and only while
 * the service runs), the service's lifecycle (first cycle, stop), an invalid config that loads and says
 * which fields are wrong, and the CLI commands' output and exit codes.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, describe, it } from "node:test";
import { Command } from "commander";
import { registerClawtower } from "../src/plugin.ts";
import { registerCommands } from "../src/cli/commands.ts";
import { UNBLOCK_COMMAND } from "../src/live/hooks.ts";
import { HookQueue } from "../src/live/hook-queue.ts";
import { readStatusFile } from "../src/state/status-file.ts";
import { statePaths } from "../src/state/files.ts";
import type { PluginHost } from "../src/host-types.ts";
import { fakeHost } from "./fake-host.ts";
import { copyFixture, startTestHub, type TestHub } from "./helpers.ts";

function logs() {
  const lines: string[] = [];
  return { lines, logger: { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`), debug() {} } };
}

const hubs: TestHub[] = [];
after(() => Promise.all(hubs.map((h) => h.close())));

describe("register", () => {
  it("cli-metadata registers only the CLI; discovery adds the hooks (OpenClaw dispatches them from that registry); full adds the service", () => {
    const meta = fakeHost("cli-metadata", {});
    registerClawtower(meta.api);
    assert.equal(meta.clis.length, 1);
    assert.deepEqual(meta.clis[0]!.opts?.commands, ["clawtower"]);
    assert.equal(meta.hookNames().length, 0);
    assert.equal(meta.services.length, 0);
    const discovery = fakeHost("discovery", {});
    registerClawtower(discovery.api);
    assert.equal(discovery.hookNames().length, 6);
    assert.equal(discovery.services.length, 0);

    const full = fakeHost("full", {});
    registerClawtower(full.api);
    assert.deepEqual(full.hookNames().sort(), ["after_tool_call", "message_received", "message_sending", "model_call_ended", "session_end", "session_start"]);
    assert.equal(full.services.length, 1);

    const allowed = fakeHost("full", {}, { plugins: { entries: { clawtower: { hooks: { allowConversationAccess: true } } } } });
    registerClawtower(allowed.api);
    assert.ok(allowed.hookNames().includes("llm_input") && allowed.hookNames().includes("llm_output"));
  });

  it("hooks come back typed by the host's hook map: a payload or context the host never sends fails the typecheck", () => {
    const f = fakeHost("full", {});
    registerClawtower(f.api, { queue: new HookQueue(), hooks: { active: false } });
    const ended = f.hook("model_call_ended");
    // @ts-expect-error provider and model are missing, and outcome is not a number
    assert.equal(ended({ runId: "r", callId: "c", outcome: 1 }, {}), undefined);
    // @ts-expect-error the context's agentId is a string
    assert.equal(f.hook("session_end")({ sessionId: "s", messageCount: 1 }, { sessionId: "s", agentId: 7 }), undefined);
    assert.throws(() => f.hook("before_tool_call"), /no handler registered for before_tool_call/);
  });

  it("the service: invalid config loads, logs the wrong fields and uploads nothing; hooks enqueue only while it runs", async () => {
    const stateDir = copyFixture("openclaw-2026.9.6");
    const f = fakeHost("full", { apiKey: "ct_x", deploymentId: "d", upload: { every: "banana" } });
    registerClawtower(f.api, { queue: new HookQueue(), hooks: { active: false } });
    const handler = f.hook("model_call_ended");
    const call = { runId: "r", provider: "openai", model: "gpt-5", durationMs: 12 } as const;
    assert.equal(handler({ ...call, callId: "r:model:1", outcome: "completed" }, {}), undefined);
    const { lines, logger } = logs();
    const svc = f.service();
    const ctx = { stateDir, logger, config: {} };
    await svc.start(ctx);
    assert.ok(lines.some((l) => l.startsWith("error") && l.includes("plugins.entries.clawtower.config.upload.every")), lines.join("\n"));
    assert.equal(typeof f.transcript(), "function", "subscribed to transcript updates in the service");
    handler({ ...call, callId: "r:model:2", outcome: "error" }, { agentId: "main", sessionId: "s" });
    await new Promise((r) => setTimeout(r, 1300));
    await svc.stop?.(ctx);
    assert.equal(f.transcript(), null, "unsubscribed on stop");
    assert.ok(!fs.existsSync(statePaths(stateDir).shipState), "no upload happened");
    assert.ok(fs.existsSync(statePaths(stateDir).ledger), "the ledger still records");
  });

  it("the service runs a first cycle soon after start and stops cleanly", async () => {
    const hub = await startTestHub();
    hubs.push(hub);
    const stateDir = copyFixture("openclaw-2026.9.6");
    const f = fakeHost("full", { apiKey: hub.key, deploymentId: "gw-test", apiUrl: hub.url, upload: { every: "500ms" }, filter: { minMessages: 0, minBytes: 0 } });
    registerClawtower(f.api, { queue: new HookQueue(), hooks: { active: false } });
    const { logger } = logs();
    const ctx = { stateDir, logger, config: {} };
    await f.service().start(ctx);
    const deadline = Date.now() + 10_000;
    while (readStatusFile(statePaths(stateDir).status).lastCycle === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await f.service().stop?.(ctx);
    assert.ok(Date.now() - started < 4000);
    assert.equal(readStatusFile(statePaths(stateDir).status).lastCycle?.outcome, "ok");
    assert.ok((await hub.summary()).totals.llmCalls > 0);
  });
});

async function runCli(host: Pick<PluginHost, "pluginConfig" | "config">, argv: string[]): Promise<{ out: string; code: number }> {
  const program = new Command();
  program.exitOverride();
  const captured: string[] = [];
  const before = process.exitCode;
  process.exitCode = 0;
  const f = fakeHost("cli-metadata", host.pluginConfig, host.config);
  registerCommands(f.api, (s) => captured.push(s));
  await f.clis[0]!.registrar({ program, parentPath: [], config: {}, logger: logs().logger });
  await program.parseAsync(["node", "openclaw", ...argv]);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { out: captured.join(""), code };
}

describe("CLI", () => {
  it("status (unconfigured, blocked hooks), sync exit codes, ledger reset", async () => {
    const stateDir = copyFixture("openclaw-2026.9.6");
    const prev = process.env["OPENCLAW_STATE_DIR"];
    process.env["OPENCLAW_STATE_DIR"] = stateDir;
    try {
      const un = await runCli({ pluginConfig: {}, config: {} }, ["clawtower", "status"]);
      assert.match(un.out, /not configured — uploads are off/);
      assert.match(un.out, /plugins\.entries\.clawtower\.config\.apiKey: required/);
      assert.ok(un.out.includes(UNBLOCK_COMMAND));
      const bad = await runCli({ pluginConfig: {}, config: {} }, ["clawtower", "sync"]);
      assert.notEqual(bad.code, 0);

      const hub = await startTestHub();
      hubs.push(hub);
      const cfg = { apiKey: hub.key, deploymentId: "gw-test", apiUrl: hub.url, filter: { minMessages: 0, minBytes: 0 } };
      const sync = await runCli({ pluginConfig: cfg, config: {} }, ["clawtower", "sync", "--json"]);
      assert.equal(sync.code, 0, sync.out);
      assert.equal(JSON.parse(sync.out).outcome, "ok");
      const st = JSON.parse((await runCli({ pluginConfig: cfg, config: { plugins: { entries: { clawtower: { hooks: { allowConversationAccess: true } } } } } }, ["clawtower", "status", "--json"])).out);
      assert.equal(st.configured, true);
      assert.equal(st.apiKey, `${hub.key.slice(0, 4)}…${hub.key.slice(-4)}`);
      assert.equal(st.lastCycle.outcome, "ok");
      assert.deepEqual(st.pending, { sessions: 0, bytes: 0 });
      assert.deepEqual(st.blockedHooks, []);
      assert.equal(st.ledger.calls, 20);

      const reset = await runCli({ pluginConfig: cfg, config: {} }, ["clawtower", "ledger", "reset", "--sessions"]);
      assert.equal(reset.code, 0);
      const st2 = JSON.parse((await runCli({ pluginConfig: cfg, config: {} }, ["clawtower", "status", "--json"])).out);
      assert.ok(st2.pending.sessions > 0, "after a reset everything is pending again");
      const again = JSON.parse((await runCli({ pluginConfig: cfg, config: {} }, ["clawtower", "sync", "--json"])).out);
      assert.equal(again.lines.accepted, 0);
      assert.equal(again.lines.duplicates, again.lines.sent);

      const down = await runCli({ pluginConfig: { ...cfg, apiUrl: "http://127.0.0.1:9", upload: { retryAttempts: 0 } }, config: {} }, ["clawtower", "ledger", "reset"]);
      assert.equal(down.code, 0);
      const failed = await runCli({ pluginConfig: { ...cfg, apiUrl: "http://127.0.0.1:9", upload: { retryAttempts: 0 } }, config: {} }, ["clawtower", "sync"]);
      assert.equal(failed.code, 1, failed.out);
      assert.match(failed.out, /failed — hub unavailable/);
    } finally {
      if (prev === undefined) delete process.env["OPENCLAW_STATE_DIR"];
      else process.env["OPENCLAW_STATE_DIR"] = prev;
    }
  });
});
