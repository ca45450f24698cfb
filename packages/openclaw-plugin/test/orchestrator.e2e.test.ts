/**
 * Orchestrator delegation in the real host (openclaw@2026.9.6, the plugin installed from its `npm pack`
 * tarball) against the fake LLM, in a Gateway. The home has no channels, and OpenClaw refuses a thread-bound
 * spawn there ("Channel is required (no configured channels detected)"), so threadBound is false here (the
 * unit tests cover thread:true). The model reaches sessions_spawn through the tool-search bridge (tool_call).
 *   turn 1  the front session calls sessions_spawn twice: the first is rewritten (label, thread, the
 *           hidden-orchestrator contract — the child's prompt at the LLM shows it) and bound; the second is
 *           blocked (the LLM sees the reason naming the orchestrator as the tool's answer)
 *   restart the Gateway stops and starts again: `orchestrator status` still lists the binding, and a new
 *           spawn from the same front session is blocked by the binding loaded from SQLite
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { tmpDir } from "@clawtower/testkit";
import { startFakeLlm, type FakeLlmServer } from "@clawtower/testkit/fake-llm";
import { createOpenClawHome, ensureOpenClaw, parseJsonOutput, runOpenClaw, startGateway, type Gateway, type OpenClawHome } from "@clawtower/testkit/openclaw-host";
import { shortHash } from "../src/orchestrator/policy.ts";
import { packPlugin } from "./e2e-helpers.ts";

const FRONT = "agent:main:main";

let diagnose: (() => string) | null = null;

async function waitFor<T>(what: string, fn: () => T | null | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${diagnose ? `\n${diagnose()}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}


type Report = { state: string; bindings: { frontSessionKey: string; orchestratorSessionKey: string; label: string; workers: unknown[] }[]; recentEvents: { kind: string; sessionKey: string | null }[] };

describe("orchestrator delegation in OpenClaw 2026.9.6", { timeout: 900_000 }, () => {
  let llm: FakeLlmServer;
  let home: OpenClawHome;
  let gw: Gateway | null = null;

  before(async () => {
    const [install, tarball] = await Promise.all([ensureOpenClaw("2026.9.6"), packPlugin()]);
    llm = await startFakeLlm();
    diagnose = () => llm.requests.map((r) => `#${r.n} tools=${r.toolNames.join(",")} reply=${JSON.stringify(r.reply)} first=${r.firstUserText.slice(0, 200)} tool=${r.lastToolText.slice(0, 300)}`).join("\n");
    home = await createOpenClawHome({ dir: tmpDir("ct-oc-orch-"), fakeLlmBaseUrl: llm.baseUrl, install });
    const inst = await runOpenClaw(home, ["plugins", "install", `npm-pack:${tarball}`, "--force", "--accept-capabilities"], { timeoutMs: 240_000 });
    assert.equal(inst.code, 0, inst.stderr.slice(-2000) + inst.stdout.slice(-2000));
    const file = path.join(home.stateDir, "openclaw.json");
    const cfg = JSON.parse(fs.readFileSync(file, "utf8"));
    cfg.plugins.entries.clawtower = { ...cfg.plugins.entries.clawtower, enabled: true, hooks: { allowConversationAccess: true }, config: { orchestrator: { enabled: true, threadBound: false } } };
    fs.writeFileSync(file, `${JSON.stringify(cfg, null, 2)}\n`);
  });
  after(async () => {
    await gw?.stop();
    await llm?.close();
  });

  const status = async (): Promise<Report> => {
    const r = await runOpenClaw(home, ["clawtower", "orchestrator", "status", "--json"], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    return parseJsonOutput(r.stdout) as Report;
  };

  it("rewrites the first spawn, blocks the second, and keeps the binding across a Gateway restart", async () => {
    gw = await startGateway(home, { readyTimeoutMs: 240_000 });
    const label = `thread-orchestrator-${shortHash(FRONT)}`;
    await gw.call("chat.send", { sessionKey: FRONT, message: 'start [[tool:tool_call {"id":"sessions_spawn","args":{"task":"research the weather"}}]] [[tool:tool_call {"id":"sessions_spawn","args":{"task":"second one"}}]]', idempotencyKey: "t1" });
    // The child's run reaches the LLM with the wrapped task; the front's third request carries the block reason.
    const child = await waitFor("the orchestrator's prompt at the LLM", () => llm.requests.find((r) => /\[Hidden Thread Orchestrator\]/.test(r.firstUserText + r.lastUserText)), 120_000);
    assert.match(child.firstUserText + child.lastUserText, /requesterSessionKey: agent:main:main[\s\S]*research the weather/);
    const blocked = await waitFor("the blocked second spawn's answer", () => llm.requests.find((r) => /Hidden orchestrator already active \(agent:main:subagent:/.test(r.lastToolText)), 120_000);
    assert.ok(blocked);

    const s1 = await status();
    assert.equal(s1.state, "ready");
    assert.equal(s1.bindings.length, 1);
    assert.equal(s1.bindings[0]!.frontSessionKey, FRONT);
    assert.equal(s1.bindings[0]!.label, label);
    const orchestratorKey = s1.bindings[0]!.orchestratorSessionKey;
    assert.match(orchestratorKey, /^agent:main:subagent:/);

    await gw.stop();
    gw = await startGateway(home, { readyTimeoutMs: 240_000 });
    const s2 = await status();
    assert.deepEqual(s2.bindings.map((b) => [b.frontSessionKey, b.orchestratorSessionKey]), [[FRONT, orchestratorKey]]);
    const before = llm.requests.length;
    await gw.call("chat.send", { sessionKey: FRONT, message: 'again [[tool:tool_call {"id":"sessions_spawn","args":{"task":"after restart"}}]]', idempotencyKey: "t2" });
    const again = await waitFor("the spawn after the restart", () => llm.requests.slice(before).find((r) => r.lastToolText.includes("Hidden orchestrator already active")), 120_000);
    assert.ok(again.lastToolText.includes(orchestratorKey), "blocked by the binding loaded from SQLite");
  });
});
