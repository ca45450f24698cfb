/**
 * The ledger against the real host, end to end: openclaw@2026.9.6 (installed from npm under Node 24 into
 * .cache/) runs agent turns against the fake OpenAI-compatible LLM; `clawtower report` must then show
 * exactly what the LLM reported — expected figures come from the LLM's request log and the configured
 * prices, never from parsing OpenClaw's store. A later turn must be picked up as an append.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { recordedUsage, startFakeLlm, type FakeLlmServer } from "@clawtower/testkit/fake-llm";
import { createOpenClawHome, ensureOpenClaw, runAgentTurn, type OpenClawHome } from "@clawtower/testkit/openclaw-host";
import { tmpDir } from "@clawtower/testkit";

const BIN = path.resolve(import.meta.dirname, "../bin/clawtower.js");


function clawtower(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe("real OpenClaw 2026.9.6 → clawtower report", { timeout: 900_000 }, () => {
  let llm: FakeLlmServer;
  let home: OpenClawHome;
  let db: string;

  before(async () => {
    const install = await ensureOpenClaw("2026.9.6");
    llm = await startFakeLlm({ cacheWriteTokens: 500 });
    const dir = tmpDir("clawtower-real-");
    home = await createOpenClawHome({ dir, fakeLlmBaseUrl: llm.baseUrl, install });
    db = path.join(dir, "clawtower.db");
  });
  after(async () => {
    await llm?.close();
  });

  it("reports exactly the calls, tokens, cost and tool calls the LLM served", async () => {
    const plain = await runAgentTurn(home, "hello there", { sessionKey: "agent:main:e2e-plain", timeoutMs: 240_000 });
    assert.equal(plain.code, 0, plain.stderr.slice(-2000));
    const tool = await runAgentTurn(home, 'show me the readme [[tool:read {"path":"README.md"}]]', { sessionKey: "agent:main:e2e-tools", timeoutMs: 240_000 });
    assert.equal(tool.code, 0, tool.stderr.slice(-2000));

    const want = recordedUsage(llm.requests, home.modelCost);
    assert.ok(want.calls >= 3 && want.toolCalls === 1, JSON.stringify(want));
    const s = clawtower(["report", "summary", "--json", "--openclaw-home", home.stateDir, "--db", db]);
    assert.equal(s.totals.llmCalls, want.calls);
    assert.deepEqual(s.totals.tokens, { input: want.input, output: want.output, cacheRead: want.cacheRead, cacheWrite: want.cacheWrite, total: want.input + want.output + want.cacheRead + want.cacheWrite });
    assert.ok(Math.abs(s.totals.cost.recorded - want.usd) < 1e-9, `cost ${s.totals.cost.recorded} vs ${want.usd}`);
    assert.equal(s.totals.toolCalls, 1);
    assert.equal(s.totals.sessions, 2);
    assert.deepEqual(s.byModel.map((m: { provider: string; model: string }) => `${m.provider}/${m.model}`), ["fake/fake-model"]);
    const tools = clawtower(["report", "tools", "--json", "--openclaw-home", home.stateDir, "--db", db]);
    assert.deepEqual(tools.tools.map((t: { name: string; errors: number }) => [t.name, t.errors]), [["read", 1]], "reading a missing file is an error result");
  });

  it("picks up a later turn as an append of that session only", async () => {
    const more = await runAgentTurn(home, "one more thing", { sessionKey: "agent:main:e2e-plain", timeoutMs: 240_000 });
    assert.equal(more.code, 0, more.stderr.slice(-2000));
    const d = clawtower(["doctor", "--json", "--openclaw-home", home.stateDir, "--db", db]);
    assert.equal(d.sync.parts.appended, 1, JSON.stringify(d.sync.parts));
    assert.equal(d.sync.parts.read + d.sync.parts.rewritten, 0);
    const want = recordedUsage(llm.requests, home.modelCost);
    const s = clawtower(["report", "summary", "--json", "--openclaw-home", home.stateDir, "--db", db]);
    assert.equal(s.totals.llmCalls, want.calls);
    assert.ok(Math.abs(s.totals.cost.recorded - want.usd) < 1e-9);
  });
});
