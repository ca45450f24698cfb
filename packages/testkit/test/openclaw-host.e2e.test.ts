/** Drives the real OpenClaw host (installs it into `<repo>/.cache` on first use; ~1 min). */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { startFakeLlm } from "../src/fake-llm.ts";
import { createOpenClawHome, ensureOpenClaw, runAgentTurn, startGateway } from "../src/openclaw-host.ts";

function groupAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("real OpenClaw: timeout kills the group, a local turn reaches the fake LLM, the Gateway answers RPC", { timeout: 600_000 }, async () => {
  const install = await ensureOpenClaw();
  const llm = await startFakeLlm();
  const dir = mkdtempSync(path.join(os.tmpdir(), "clawtower-oc-e2e-"));
  try {
    const home = await createOpenClawHome({ dir, fakeLlmBaseUrl: llm.baseUrl, install });

    const killed = await runAgentTurn(home, "never finishes in time", { sessionKey: "agent:main:killed", timeoutMs: 1500 });
    assert.equal(killed.timedOut, true);
    assert.equal(groupAlive(killed.pid), false);

    const turn = await runAgentTurn(home, "hello there", { sessionKey: "agent:main:e2e", timeoutMs: 180_000 });
    assert.equal(turn.code, 0, turn.stderr.slice(-2000));
    assert.match(turn.stdout, /Hello from fake model #\d+/);
    assert.ok(llm.requests.some((r) => r.status === 200 && r.usage !== null));

    const gw = await startGateway(home);
    try {
      const list = await gw.call<{ sessions: { key: string }[] }>("sessions.list", { limit: 50 });
      assert.ok(list.sessions.some((s) => s.key === "agent:main:e2e"), JSON.stringify(list).slice(0, 500));
    } finally {
      await gw.stop();
    }
    assert.equal(groupAlive(gw.pid), false);
  } finally {
    await llm.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
