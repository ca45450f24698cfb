/**
 * The spend guard in the real host (openclaw@2026.9.6, the plugin installed from its `npm pack` tarball),
 * against the fake LLM, whose `[[billed:0.01]]` directive makes every answer cost a recorded $0.01.
 * One home, budgets with disjoint scopes, few real turns:
 *
 *   main-daily   agent:main:main, block at $0.01, Asia/Tokyo days: turn 1 runs, turn 2 (a new process:
 *                the spend comes from what turn 1 persisted) is blocked with the message and the LLM gets
 *                no request; a turn shifted past Tokyo's next midnight runs again
 *   cheaper      direct sessions, downgrade at $0.01 to fake/fake-mini: the second turn asks for fake-mini
 *   tool-loop    group sessions, block at $0.01: the first call crosses it, so its tool call is blocked
 *                (the LLM sees the budget message as the tool's answer, never the file's content)
 *   concurrent   "other" sessions in the Gateway, block at $0.01 with reservations of $0.01: two runs at
 *                once, one is blocked
 * A loopback webhook receives each threshold (80 %, 100 %, first blocked run) exactly once per budget and
 * period, from local turns and from the Gateway alike.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { tmpDir } from "@clawtower/testkit";
import { startFakeLlm, type FakeLlmOptions, type FakeLlmServer } from "@clawtower/testkit/fake-llm";
import { createOpenClawHome, ensureOpenClaw, parseJsonOutput, REPO_ROOT, runAgentTurn, runOpenClaw, startGateway, type OpenClawHome } from "@clawtower/testkit/openclaw-host";
import { packPlugin, waitFor } from "./e2e-helpers.ts";

const CLOCK_SHIFT = path.join(REPO_ROOT, "packages", "testkit", "src", "clock-shift.mjs");
const BLOCK_MESSAGE = "Daily budget reached; resets {resetsAt}.";

type Alert = { budgetId: string; threshold: number | "blocked"; periodStart: string };



/** Milliseconds from now to one minute after the next midnight in Tokyo (UTC+9, no DST). */
function toAfterTokyoMidnight(now: number): number {
  const tokyo = now + 9 * 3_600_000;
  const nextMidnightTokyo = Math.floor(tokyo / 86_400_000 + 1) * 86_400_000;
  return nextMidnightTokyo - 9 * 3_600_000 + 60_000 - now;
}

describe("spend guard in OpenClaw 2026.9.6", { timeout: 900_000 }, () => {
  const llmOptions: FakeLlmOptions = {};
  let llm: FakeLlmServer;
  let home: OpenClawHome;
  let receiver: http.Server;
  const alerts: Alert[] = [];

  before(async () => {
    receiver = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        alerts.push(JSON.parse(body) as Alert);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const [install, tarball] = await Promise.all([ensureOpenClaw("2026.9.6"), packPlugin()]);
    llm = await startFakeLlm(llmOptions);
    home = await createOpenClawHome({
      dir: tmpDir("ct-oc-budgets-"),
      fakeLlmBaseUrl: llm.baseUrl,
      install,
      extraConfig: {
        models: {
          providers: {
            fake: {
              models: [
                { id: "fake-model", name: "Fake Model", reasoning: false, input: ["text"], cost: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }, contextWindow: 128000, maxTokens: 4096 },
                { id: "fake-mini", name: "Fake Mini", reasoning: false, input: ["text"], cost: { input: 0.1, output: 0.4, cacheRead: 0, cacheWrite: 0 }, contextWindow: 128000, maxTokens: 4096 },
              ],
            },
          },
        },
      },
    });
    const inst = await runOpenClaw(home, ["plugins", "install", `npm-pack:${tarball}`, "--force", "--accept-capabilities"], { timeoutMs: 240_000 });
    assert.equal(inst.code, 0, inst.stderr.slice(-2000) + inst.stdout.slice(-2000));
    const file = path.join(home.stateDir, "openclaw.json");
    const cfg = JSON.parse(fs.readFileSync(file, "utf8"));
    cfg.plugins.entries.clawtower = {
      ...cfg.plugins.entries.clawtower,
      enabled: true,
      hooks: { allowConversationAccess: true },
      config: {
        // No hub here: uploads are unconfigured (and off); the guard does not need them.
        live: { flushMs: 100 },
        budgets: [
          { id: "main-daily", scope: { agent: "main", kind: "main" }, period: "day", timeZone: "Asia/Tokyo", limitUsd: 0.01, action: "block", message: BLOCK_MESSAGE },
          { id: "cheaper", scope: { agent: "main", kind: "direct" }, period: "day", timeZone: "UTC", limitUsd: 0.01, action: "downgrade", downgradeTo: "fake/fake-mini" },
          { id: "tool-loop", scope: { kind: "group" }, period: "week", timeZone: "Europe/Berlin", limitUsd: 0.01, action: "block", message: "Tool budget reached." },
          { id: "concurrent", scope: { kind: "other" }, period: "month", timeZone: "UTC", limitUsd: 0.01, action: "block", message: "Concurrent budget reached." },
        ],
        budgetFailMode: "closed",
        budgetReserve: { floorUsd: 0.01 },
        budgetAlerts: { webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`, format: "json", retryBackoffMs: 100 } },
      },
    };
    fs.writeFileSync(file, `${JSON.stringify(cfg, null, 2)}\n`);
  });
  after(async () => {
    await llm?.close();
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  });

  const turn = (message: string, sessionKey: string, env?: Record<string, string>) => runAgentTurn(home, message, { sessionKey, timeoutMs: 240_000, ...(env ? { env } : {}) });
  const budgets = async () => {
    const r = await runOpenClaw(home, ["clawtower", "budgets", "--json"], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    return parseJsonOutput(r.stdout) as { guard: string; budgets: Record<string, any>[]; recentEvents: Record<string, any>[] };
  };

  it("block: the first turn runs, the second (a new process) is blocked with the message and reaches no LLM; the next Tokyo day runs again", async () => {
    const t1 = await turn("[[billed:0.01]] first turn", "agent:main:main");
    assert.equal(t1.code, 0, t1.stderr.slice(-3000));
    const afterFirst = llm.requests.length;
    assert.equal(afterFirst, 1);

    const t2 = await turn("[[billed:0.01]] second turn", "agent:main:main");
    assert.equal(llm.requests.length, afterFirst, "the blocked turn sent nothing to the LLM");
    assert.match(t2.stdout, /Daily budget reached; resets \d{4}-\d{2}-\d{2}T00:00\+09:00 \(Asia\/Tokyo\)\./);
    assert.notEqual(t2.code, 0);

    // Past the next midnight in Tokyo the period is new: the turn runs.
    const shift = { NODE_OPTIONS: `--import ${CLOCK_SHIFT}`, CLAWTOWER_CLOCK_OFFSET_MS: String(toAfterTokyoMidnight(Date.now())) };
    const t3Start = Date.now();
    const t3 = await turn("[[billed:0.01]] next day", "agent:main:main", shift);
    assert.equal(t3.code, 0, t3.stderr.slice(-3000));
    assert.equal(llm.requests.length, afterFirst + 1);
    assert.ok(llm.requests.at(-1)!.at >= t3Start, "the request is the shifted turn's");

    const report = await budgets();
    const main = report.budgets.find((b) => b.id === "main-daily")!;
    assert.equal(report.guard, "ready");
    assert.deepEqual([main.state, main.spentUsd, main.blockedRuns], ["exceeded", 0.01, 1]);
  });

  it("downgrade: once the budget is reached, the next turn asks the LLM for downgradeTo", async () => {
    const before = llm.requests.length;
    const a = await turn("[[billed:0.01]] direct one", "agent:main:telegram:direct:42");
    assert.equal(a.code, 0, a.stderr.slice(-3000));
    const b = await turn("[[billed:0.01]] direct two", "agent:main:telegram:direct:42");
    assert.equal(b.code, 0, b.stderr.slice(-3000));
    assert.deepEqual(llm.requests.slice(before).map((r) => r.model), ["fake-model", "fake-mini"]);
  });

  it("mid-run: the call that reaches the limit has its tool call blocked with the budget message", async () => {
    fs.mkdirSync(path.join(home.stateDir, "workspace"), { recursive: true });
    fs.writeFileSync(path.join(home.stateDir, "workspace", "secret-notes.md"), "CONTENT-THE-TOOL-WOULD-RETURN\n");
    const before = llm.requests.length;
    const t = await turn('[[billed:0.01]] read it [[tool:read {"path":"secret-notes.md"}]]', "agent:main:discord:group:7");
    assert.equal(t.code, 0, t.stderr.slice(-3000));
    const reqs = llm.requests.slice(before);
    assert.ok(reqs.length >= 2, JSON.stringify(reqs.map((r) => r.reply)));
    assert.equal(typeof reqs[0]!.reply === "object" && reqs[0]!.reply.tool, "read");
    assert.match(reqs[1]!.lastToolText, /Tool budget reached\./);
    assert.equal(reqs.some((r) => r.lastToolText.includes("CONTENT-THE-TOOL-WOULD-RETURN")), false, "the tool never ran");
  });

  it("two concurrent runs in the Gateway against room for one: one is blocked; alerts once per threshold and period", async (t) => {
    llmOptions.latencyMs = 6000; // keeps the first run in flight while the second starts
    const gw = await startGateway(home, { readyTimeoutMs: 120_000 });
    try {
      const before = llm.requests.length;
      // A blocked run may or may not fail its chat.send; what counts is what reached the LLM.
      await Promise.allSettled([
        gw.call("chat.send", { sessionKey: "agent:main:conc-a", message: "[[billed:0.01]] concurrent a", idempotencyKey: "conc-a" }),
        gw.call("chat.send", { sessionKey: "agent:main:conc-b", message: "[[billed:0.01]] concurrent b", idempotencyKey: "conc-b" }),
      ]);
      await waitFor("the one run that passed", () => llm.requests.length > before, 90_000);
      // Give the other one the time to have been answered too, were it not blocked.
      await new Promise((r) => setTimeout(r, 15_000));
      assert.equal(llm.requests.slice(before).filter((r) => r.firstUserText.includes("concurrent")).length, 1);
      await waitFor("the Gateway's alerts", () => alerts.some((a) => a.budgetId === "concurrent" && a.threshold === "blocked"), 30_000);
    } finally {
      llmOptions.latencyMs = 0;
      await gw.stop();
    }
    const report = await budgets();
    const conc = report.budgets.find((b) => b.id === "concurrent")!;
    assert.deepEqual([conc.state, conc.spentUsd, conc.blockedRuns], ["exceeded", 0.01, 1]);
    const blockEvent = report.recentEvents.find((e) => e.budgetId === "concurrent" && e.kind === "block")!;
    // Overlapping runs are blocked by the first one's reservation; had the host run them one after the
    // other, by its recorded spend — either way exactly one ran.
    assert.ok(["reserved", "limit"].includes(blockEvent.detail), blockEvent.detail);
    t.diagnostic(`the second run was blocked by: ${blockEvent.detail}`);

    const count = new Map<string, number>();
    for (const a of alerts) count.set(`${a.budgetId} ${a.periodStart} ${a.threshold}`, (count.get(`${a.budgetId} ${a.periodStart} ${a.threshold}`) ?? 0) + 1);
    assert.ok([...count.values()].every((n) => n === 1), JSON.stringify([...count]));
    const of = (id: string) => alerts.filter((a) => a.budgetId === id).map((a) => String(a.threshold)).sort();
    assert.deepEqual(of("main-daily"), ["0.8", "0.8", "1", "1", "blocked"], "two Tokyo days: 80 % and 100 % in each, one blocked run in the first");
    assert.equal(new Set(alerts.filter((a) => a.budgetId === "main-daily").map((a) => a.periodStart)).size, 2);
    assert.deepEqual(of("concurrent"), ["0.8", "1", "blocked"]);
    assert.deepEqual(of("tool-loop"), ["0.8", "1", "blocked"]);
    assert.deepEqual(of("cheaper"), ["0.8", "1"]);
  });
});
