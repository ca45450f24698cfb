/**
 * A fleet budget in the real host (openclaw@2026.9.6, the plugin from its `npm pack` tarball): the hub (real,
 * over HTTP on loopback) holds a fleet budget that gateway A's ingested calls have spent; gateway B — no local
 * budget, only the hub the uploads go to — runs an `agent --local` turn: the guard fetches the fleet budget at
 * load and blocks the turn with its message, and the fake LLM gets no request. One real turn.
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createPriceBook, loadBundledPrices } from "@clawtower/core";
import { startHub, type RunningHub } from "@clawtower/hub";
import { createApiKey, openStore, setBudget, syncHome, type StoreConnection } from "@clawtower/store";
import { FixtureHome, tmpDir } from "@clawtower/testkit";
import { startFakeLlm, type FakeLlmServer } from "@clawtower/testkit/fake-llm";
import { createOpenClawHome, ensureOpenClaw, runAgentTurn, runOpenClaw, type OpenClawHome } from "@clawtower/testkit/openclaw-host";
import { packPlugin } from "./e2e-helpers.ts";



describe("fleet budget in OpenClaw 2026.9.6", { timeout: 600_000 }, () => {
  let llm: FakeLlmServer;
  let home: OpenClawHome;
  let conn: StoreConnection;
  let hub: RunningHub;

  before(async () => {
    conn = await openStore({ kind: "sqlite", path: path.join(tmpDir(), "hub.db") });
    // Gateway A: $0.60 today, ingested by the hub; the fleet budget is $0.50 a day (UTC).
    const fx = new FixtureHome();
    const s = fx.agent("main").session({ store: "sqlite", sessionKey: "agent:main:telegram:direct:a" });
    s.at(Math.max(Math.floor(Date.now() / 86_400_000) * 86_400_000, Date.now() - 600_000));
    s.user("q");
    s.assistant({ provider: "anthropic", model: "claude-sonnet-4-5", input: 100, output: 7, cost: 0.6 });
    const homeA = path.join(tmpDir(), "gw-a");
    fx.write(homeA);
    await syncHome(conn, { home: homeA, deploymentId: "gw-a", deploymentName: "gw-a", prices: createPriceBook([], loadBundledPrices().prices), workers: 0 });
    await setBudget(conn, { id: "fleet-daily", period: "day", timeZone: "UTC", limitUsd: 0.5, message: "Fleet budget reached on {budget}." }, Date.now());
    const key = (await createApiKey(conn, { deploymentId: "gw-b", scopes: ["ingest"] }, Date.now())).token;
    hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: crypto.randomBytes(32).toString("base64url"), webDir: null, log: () => {} });

    const [install, tarball] = await Promise.all([ensureOpenClaw("2026.9.6"), packPlugin()]);
    llm = await startFakeLlm({});
    home = await createOpenClawHome({ dir: tmpDir("ct-oc-fleet-"), fakeLlmBaseUrl: llm.baseUrl, install });
    const inst = await runOpenClaw(home, ["plugins", "install", `npm-pack:${tarball}`, "--force", "--accept-capabilities"], { timeoutMs: 240_000 });
    assert.equal(inst.code, 0, inst.stderr.slice(-2000) + inst.stdout.slice(-2000));
    const file = path.join(home.stateDir, "openclaw.json");
    const cfg = JSON.parse(fs.readFileSync(file, "utf8"));
    cfg.plugins.entries.clawtower = {
      ...cfg.plugins.entries.clawtower,
      enabled: true,
      hooks: { allowConversationAccess: true },
      // No local budgets: only the hub.
      config: { apiUrl: hub.url, apiKey: key, deploymentId: "gw-b", live: { flushMs: 100 } },
    };
    fs.writeFileSync(file, `${JSON.stringify(cfg, null, 2)}\n`);
  });
  after(async () => {
    await llm?.close();
    await hub?.close();
    await conn?.close();
  });

  it("an agent --local turn of gateway B is blocked by the fleet budget A spent; the LLM gets no request", async () => {
    const t = await runAgentTurn(home, "[[billed:0.01]] hello", { sessionKey: "agent:main:main", timeoutMs: 240_000 });
    assert.equal(llm.requests.length, 0, "the blocked turn sent nothing to the LLM");
    assert.match(t.stdout, /Fleet budget reached on fleet:fleet-daily\./, t.stdout.slice(-2000) + t.stderr.slice(-2000));
  });
});
