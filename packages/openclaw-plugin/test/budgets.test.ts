/**
 * The spend guard without the host: config validation, calendar periods in zones (DST, Monday weeks),
 * the pure decisions (zero false blocks), the in-memory book (reservations, alerts once per period and
 * threshold, resets), the guard on a real SQLite file (restart keeps the spend, fail modes) and webhook
 * delivery to a loopback receiver.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { tmpDir } from "@clawtower/testkit";
import { deliverAlert } from "../src/budgets/alerts.ts";
import { BudgetBook, type SpendCall } from "../src/budgets/book.ts";
import { buildBudgetsReport } from "../src/budgets/command.ts";
import { blockMessage, decideModel, decideRunStart, decideToolCall, p95, type BudgetCounter } from "../src/budgets/decide.ts";
import { BudgetGuard } from "../src/budgets/guard.ts";
import { budgetScopeCovers as scopeCovers } from "@clawtower/core";
import { runScopeOf, type RunScope } from "../src/budgets/run-scope.ts";
import { loadBudgetConfig, type ResolvedBudget, type ResolvedBudgetConfig } from "../src/config/load-budgets.ts";
import { loadConfig } from "../src/config/load.ts";
import { buildStatus, renderStatus } from "../src/status.ts";

const P = "plugins.entries.clawtower.config";
const USD = 1e9;

function cfg(budgets: unknown[], extra: Record<string, unknown> = {}): ResolvedBudgetConfig {
  const r = loadBudgetConfig({ budgets, ...extra }, "UTC");
  if (r.status === "invalid") throw new Error(JSON.stringify(r.issues));
  return r.config;
}

const MAIN: RunScope = { agent: "main", channel: "telegram", kind: "direct", cronJob: null, provider: "fake", model: "fake-model" };

function counter(b: Partial<ResolvedBudget> & { id?: string }, spent: { nanos?: number; tokens?: number; rn?: number; rt?: number } = {}): BudgetCounter {
  const budget = cfg([{ id: "b", period: "day", limitUsd: 1, ...b }]).budgets[0]!;
  return { budget, periodStart: 0, periodEnd: 86_400_000, spentNanos: spent.nanos ?? 0, spentTokens: spent.tokens ?? 0, unpricedCalls: 0, unpricedTokens: 0, calls: 0, reservedNanos: spent.rn ?? 0, reservedTokens: spent.rt ?? 0, fleetNanos: 0, fleetTokens: 0 };
}

const known = { known: true, failMode: "closed" as const };

describe("budget config", () => {
  it("takes the issue's shape exactly, with defaults", () => {
    const r = loadBudgetConfig(
      {
        budgets: [
          { id: "main-daily", scope: { agent: "main" }, period: "day", timeZone: "Europe/Berlin", limitUsd: 5, warnAt: [0.8], action: "block", message: "Daily budget reached; resets {resetsAt}." },
          { id: "cheap", scope: {}, period: "week", limitTokens: 1000, action: "downgrade", downgradeTo: "anthropic/claude-haiku-4-5" },
        ],
        budgetFailMode: "closed",
      },
      "America/New_York",
    );
    assert.equal(r.status, "ok");
    const [a, b] = r.config!.budgets;
    assert.equal(a!.timeZone, "Europe/Berlin");
    assert.equal(b!.timeZone, "America/New_York", "default: the host's zone");
    assert.deepEqual(b!.warnAt, [0.8]);
    assert.equal(r.config!.budgetFailMode, "closed");
    assert.equal(loadBudgetConfig({}).status, "off");
  });
  it("names the path of every bad field", () => {
    const r = loadBudgetConfig({
      budgets: [
        { id: "Main_Daily", period: "day", limitUsd: 5 },
        { id: "x", period: "year", limitUsd: 5 },
        { id: "y", period: "day", timeZone: "Europe/Atlantis", limitUsd: 5 },
        { id: "z", period: "day" },
        { id: "w", period: "day", limitUsd: 1, action: "downgrade" },
        { id: "v", period: "day", limitUsd: 1, action: "downgrade", downgradeTo: "haiku" },
        { id: "u", period: "day", limitUsd: 1, scope: { agnt: "main" }, warnAt: [1.5] },
      ],
      budgetFailMode: "sometimes",
    });
    assert.equal(r.status, "invalid");
    assert.deepEqual(r.issues.map((i) => i.path).sort(), [
      `${P}.budgetFailMode`,
      `${P}.budgets.0.id`,
      `${P}.budgets.1.period`,
      `${P}.budgets.2.timeZone`,
      `${P}.budgets.3.limitUsd`,
      `${P}.budgets.4.downgradeTo`,
      `${P}.budgets.5.downgradeTo`,
      `${P}.budgets.6.scope.agnt`,
      `${P}.budgets.6.warnAt.0`,
    ]);
    const dup = loadBudgetConfig({ budgets: [{ id: "a", period: "day", limitUsd: 1 }, { id: "a", period: "day", limitUsd: 2 }] });
    assert.deepEqual(dup.issues.map((i) => i.path), [`${P}.budgets.1.id`]);
  });
  it("a bad budget never turns uploads off, and a bad upload key never turns the guard off", () => {
    const raw = { apiKey: "k", deploymentId: "d", budgets: [{ id: "BAD", period: "day", limitUsd: 1 }] };
    assert.equal(loadConfig(raw).status, "ok");
    assert.equal(loadBudgetConfig(raw).status, "invalid");
    const raw2 = { apiKey: "k", deploymentId: "d", upload: { every: "banana" }, budgets: [{ id: "ok", period: "day", limitUsd: 1 }] };
    assert.equal(loadConfig(raw2).status, "invalid");
    assert.equal(loadBudgetConfig(raw2).status, "ok");
  });
});

describe("budget scopes", () => {
  it("every named key must match; {} covers everything; unknown values never match a named key", () => {
    assert.equal(scopeCovers({}, MAIN), true);
    assert.equal(scopeCovers({ agent: "main" }, MAIN), true);
    assert.equal(scopeCovers({ agent: "main", kind: "group" }, MAIN), false);
    assert.equal(scopeCovers({ channel: "telegram", model: "fake-model" }, MAIN), true);
    assert.equal(scopeCovers({ model: "fake/fake-model" }, MAIN), true);
    assert.equal(scopeCovers({ model: "other/fake-model" }, MAIN), false);
    assert.equal(scopeCovers({ cronJob: "nightly" }, MAIN), false);
  });
  it("reads kind, channel and cron job from the host's context or the session key", () => {
    assert.deepEqual(runScopeOf({ agentId: "main", sessionKey: "agent:main:telegram:direct:42", modelProviderId: "p", modelId: "m" }), {
      agent: "main",
      channel: "telegram",
      kind: "direct",
      cronJob: null,
      provider: "p",
      model: "m",
    });
    const cron = runScopeOf({ sessionKey: "agent:ops:cron:nightly:run:7", trigger: "cron" });
    assert.deepEqual([cron.agent, cron.kind, cron.cronJob], ["ops", "cron", "nightly"]);
    assert.equal(runScopeOf({ sessionKey: "agent:main:subagent:abc" }).kind, "subagent");
    assert.equal(runScopeOf({ agentId: "main", sessionKey: "agent:main:main", channel: "webchat", jobId: "j1" }).cronJob, "j1");
  });
});

describe("budget decisions (pure)", () => {
  it("zero false blocks: just under the limit runs, at the limit blocks", () => {
    assert.equal(decideRunStart([counter({}, { nanos: USD - 1 })], MAIN, known).kind, "allow");
    assert.equal(decideRunStart([counter({}, { nanos: USD })], MAIN, known).kind, "block");
    assert.equal(decideRunStart([counter({ limitTokens: 100, limitUsd: undefined }, { tokens: 99 })], MAIN, known).kind, "allow");
    assert.equal(decideRunStart([counter({ limitTokens: 100, limitUsd: undefined }, { tokens: 100 })], MAIN, known).kind, "block");
    // A budget of another scope never blocks this run, however spent.
    assert.equal(decideRunStart([counter({ scope: { agent: "ops" } }, { nanos: 5 * USD })], MAIN, known).kind, "allow");
    // warn and downgrade budgets never block.
    const w = decideRunStart([counter({ action: "warn" }, { nanos: 2 * USD })], MAIN, known);
    assert.equal(w.kind, "allow");
    assert.equal(w.kind === "allow" && w.warn.length, 1);
    assert.equal(decideRunStart([counter({ action: "downgrade", downgradeTo: "a/b" }, { nanos: 2 * USD })], MAIN, known).kind, "allow");
  });
  it("reservations of runs in flight count at the start, not at a tool call", () => {
    const c = counter({}, { nanos: 0.9 * USD, rn: 0.1 * USD });
    const d = decideRunStart([c], MAIN, known);
    assert.equal(d.kind === "block" && d.cause, "reserved");
    assert.equal(decideToolCall([c], MAIN, known).kind, "allow");
    assert.equal(decideToolCall([counter({}, { nanos: USD })], MAIN, known).kind, "block");
    assert.equal(decideRunStart([counter({}, { nanos: 0.9 * USD, rn: 0.1 * USD - 1 })], MAIN, known).kind, "allow");
  });
  it("downgrade picks downgradeTo at the limit", () => {
    const d = decideModel([counter({ action: "downgrade", downgradeTo: "anthropic/claude-haiku-4-5" }, { nanos: USD })], MAIN, known);
    assert.deepEqual(d.kind === "downgrade" && [d.provider, d.model], ["anthropic", "claude-haiku-4-5"]);
    assert.equal(decideModel([counter({ action: "downgrade", downgradeTo: "a/b" }, { nanos: USD - 1 })], MAIN, known).kind, "allow");
  });
  it("spend unknown: closed blocks block budgets (and downgrades), open allows", () => {
    const closed = { known: false, failMode: "closed" as const };
    const open = { known: false, failMode: "open" as const };
    assert.equal(decideRunStart([counter({})], MAIN, closed).kind, "block");
    assert.equal(decideRunStart([counter({})], MAIN, open).kind, "allow");
    assert.equal(decideModel([counter({ action: "downgrade", downgradeTo: "a/b" })], MAIN, closed).kind, "downgrade");
    assert.equal(decideModel([counter({ action: "downgrade", downgradeTo: "a/b" })], MAIN, open).kind, "allow");
    assert.equal(decideRunStart([counter({ scope: { agent: "ops" } })], MAIN, closed).kind, "allow", "only budgets covering the run");
  });
  it("fills the message's placeholders", () => {
    const c = counter({ id: "main-daily", limitUsd: 5, timeZone: "Europe/Berlin", message: "{budget}: {spent} of {limit}; resets {resetsAt}." }, { nanos: 5 * USD });
    c.periodEnd = Date.parse("2026-12-08T23:00:00Z");
    assert.equal(blockMessage(c), "main-daily: $5.0000 of $5; resets 2026-12-09T00:00+01:00 (Europe/Berlin).");
  });
  it("p95 by nearest rank", () => {
    assert.equal(p95([]), null);
    assert.equal(p95([5]), 5);
    assert.equal(p95(Array.from({ length: 100 }, (_, i) => i + 1)), 95);
    assert.equal(p95(Array.from({ length: 20 }, (_, i) => 20 - i)), 19);
  });
});

function call(n: number, usd: number | null, tokens: number, ts: number, runId: string | null = null, scope: RunScope = MAIN): SpendCall {
  return { key: `main\u0000ev-${n}`, ts, runId, scope, nanos: usd === null ? null : Math.round(usd * USD), tokens };
}

describe("budget book", () => {
  const T0 = Date.parse("2026-12-08T10:00:00Z");
  it("N concurrent runs against room for one: one passes, the rest are blocked until it ends", () => {
    const book = new BudgetBook({ config: cfg([{ id: "b", period: "day", limitUsd: 1 }], { budgetReserve: { floorUsd: 0.2 } }), now: T0, spend: known });
    book.addCall(call(1, 0.85, 100, T0), T0);
    assert.equal(book.startRun("r1", MAIN, T0, null).kind, "allow");
    assert.equal(book.counters[0]!.reservedNanos, 0.2 * USD);
    for (const r of ["r2", "r3", "r4"]) assert.equal(book.startRun(r, MAIN, T0, null).kind, "block", r);
    // r1's call is recorded: its reservation shrinks by what it spent.
    book.addCall(call(2, 0.05, 10, T0 + 1, "r1"), T0 + 1);
    assert.equal(book.counters[0]!.reservedNanos, 0.15 * USD);
    book.endRun("r1", T0 + 2);
    assert.equal(book.counters[0]!.reservedNanos, 0);
    assert.equal(book.counters[0]!.spentNanos, 0.9 * USD);
    // 0.9 spent, the next estimate is max(floor 0.2, p95 of [0.05]) = 0.2: there is room to start.
    assert.equal(book.startRun("r5", MAIN, T0 + 3, null).kind, "allow");
    assert.equal(book.startRun("r6", MAIN, T0 + 3, null).kind, "block");
    const fx = book.takeEffects();
    assert.equal(fx.events.filter((e) => e.kind === "block").length, 4);
    assert.deepEqual(fx.alerts.map((a) => a.threshold), [0.8, "blocked"], "80 % once, then the first blocked run; blocks after the first do not alert again");
    assert.deepEqual(fx.runs.map((r) => [r.runId, r.nanos]), [["r1", 0.05 * USD]]);
  });
  it("the reservation is the p95 of the scope's recent runs when above the floor", () => {
    const book = new BudgetBook({ config: cfg([{ id: "b", scope: { agent: "main" }, period: "day", limitUsd: 10 }], { budgetReserve: { floorUsd: 0.01 } }), now: T0, spend: known });
    for (let i = 1; i <= 20; i++) book.addRecentRun(MAIN, i * 100_000_000, 0);
    book.addRecentRun({ ...MAIN, agent: "ops" }, 9 * USD, 0);
    book.startRun("r", MAIN, T0, null);
    assert.equal(book.counters[0]!.reservedNanos, 1_900_000_000);
  });
  it("alerts once per threshold per period; a new period resets spend and alerts again", () => {
    const book = new BudgetBook({ config: cfg([{ id: "b", period: "day", limitUsd: 1, warnAt: [0.5, 0.8] }]), now: T0, spend: known });
    book.addCall(call(1, 0.6, 1, T0), T0);
    book.addCall(call(2, 0.3, 1, T0), T0);
    book.addCall(call(3, 0.3, 1, T0), T0);
    book.addCall(call(4, 0.3, 1, T0), T0);
    book.addCall(call(4, 0.3, 1, T0), T0); // a repeat of the same event is not counted twice
    assert.equal(book.counters[0]!.spentNanos, 1.5 * USD);
    assert.deepEqual(book.takeEffects().alerts.map((a) => a.threshold), [0.5, 0.8, 1]);
    const next = Date.parse("2026-12-09T00:00:00Z");
    book.roll(next);
    assert.equal(book.counters[0]!.spentNanos, 0);
    assert.equal(book.counters[0]!.periodStart, next);
    // A late call of the old period does not count in the new one.
    book.addCall(call(5, 0.9, 1, next - 1), next);
    assert.equal(book.counters[0]!.spentNanos, 0);
    book.addCall(call(6, 0.9, 1, next), next);
    const fx = book.takeEffects();
    assert.deepEqual(fx.events.map((e) => e.kind), ["reset"]);
    assert.deepEqual(fx.alerts.map((a) => [a.threshold, a.periodStart]), [[0.5, next], [0.8, next]]);
  });
  it("unpriced calls count their tokens against limitTokens and are reported, never free", () => {
    const book = new BudgetBook({ config: cfg([{ id: "b", period: "day", limitUsd: 1, limitTokens: 1000 }]), now: T0, spend: known });
    book.addCall(call(1, null, 1000, T0), T0);
    const c = book.counters[0]!;
    assert.deepEqual([c.spentNanos, c.spentTokens, c.unpricedCalls, c.unpricedTokens], [0, 1000, 1, 1000]);
    assert.equal(book.startRun("r", MAIN, T0, null).kind, "block");
  });
  it("a run whose end is never seen stops reserving after maxRunMinutes", () => {
    const book = new BudgetBook({ config: cfg([{ id: "b", period: "day", limitUsd: 1 }], { budgetReserve: { floorUsd: 0.5, maxRunMinutes: 10 } }), now: T0, spend: known });
    book.addCall(call(1, 0.6, 1, T0), T0);
    assert.equal(book.startRun("r1", MAIN, T0, null).kind, "allow");
    assert.equal(book.startRun("r2", MAIN, T0 + 60_000, null).kind, "block");
    assert.equal(book.startRun("r3", MAIN, T0 + 11 * 60_000, null).kind, "allow");
  });
});

function transcript(n: number, usage: Record<string, unknown>, opts: { sessionId?: string; runId?: string; provider?: string; model?: string; ts?: number } = {}) {
  return {
    target: { agentId: "main", sessionId: opts.sessionId ?? "s1", sessionKey: "agent:main:main" },
    messageId: `ev-${n}`,
    ...(opts.runId ? { runId: opts.runId } : {}),
    message: { role: "assistant", provider: opts.provider ?? "fake", model: opts.model ?? "fake-model", timestamp: opts.ts ?? Date.now(), usage },
  };
}

const ACCESS = { plugins: { entries: { clawtower: { hooks: { allowConversationAccess: true } } } } };
const PRICED = { ...ACCESS, models: { providers: { fake: { models: [{ id: "fake-model", cost: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 } }] } } } };
const silent = { info() {}, warn() {}, error() {} };

describe("budget guard on the plugin's SQLite", () => {
  it("a restart (a new process per local turn) knows the period's spend, priced the ledger's way", () => {
    const stateDir = tmpDir("ct-guard-");
    const pluginConfig = { budgets: [{ id: "main-daily", scope: { agent: "main" }, period: "day", timeZone: "UTC", limitUsd: 0.05, message: "stop: {budget}" }] };
    const g1 = new BudgetGuard();
    g1.configure({ pluginConfig, config: PRICED }, silent);
    g1.ensure(Date.now(), stateDir);
    assert.equal(g1.beforeAgentRun({}, { runId: "r1", agentId: "main", sessionId: "s1", sessionKey: "agent:main:main" }), undefined);
    // Recorded cost 0.01; the other has no recorded cost: 1000 input × $3/M + 100 output × $15/M = $0.0045.
    g1.onTranscript(transcript(1, { input: 100, output: 10, cacheRead: 0, cacheWrite: 0, cost: { total: 0.01 } }));
    g1.onTranscript(transcript(2, { input: 1000, output: 100, cacheRead: 0, cacheWrite: 0 }));
    g1.onTranscript(transcript(3, { input: 5, output: 5, cacheRead: 0, cacheWrite: 0 }, { provider: "nobody", model: "unpriced" }));
    void g1.agentEnd({ runId: "r1" }, { sessionId: "s1" });
    g1.close();

    const g2 = new BudgetGuard();
    g2.configure({ pluginConfig, config: PRICED }, silent);
    g2.ensure(Date.now(), stateDir);
    const c = g2.book!.counters[0]!;
    assert.equal(c.spentNanos, 10_000_000 + 4_500_000);
    assert.deepEqual([c.calls, c.unpricedCalls, c.unpricedTokens, c.spentTokens], [3, 1, 10, 110 + 1100 + 10]);
    g2.close();
    const report = buildBudgetsReport({ pluginConfig, config: PRICED }, stateDir, Date.now());
    assert.equal(report.budgets[0]!.state, "ok");
    assert.equal(report.budgets[0]!.spentUsd, 0.0145);
    assert.equal(report.budgets[0]!.unpricedCalls, 1);
    const status = renderStatus(buildStatus(stateDir, loadConfig(pluginConfig), pluginConfig, PRICED), Date.now());
    assert.match(status, /budgets {5}guard ready, 1 budgets, all ok, 1 unpriced calls counted by tokens/);
  });
  it("mid-run: the call that crosses the limit stops the run at its next tool call", () => {
    const stateDir = tmpDir("ct-guard-");
    const g = new BudgetGuard();
    g.configure({ pluginConfig: { budgets: [{ id: "b", period: "day", limitUsd: 0.02, message: "over" }] }, config: PRICED }, silent);
    g.ensure(Date.now(), stateDir);
    const ctx = { runId: "r1", agentId: "main", sessionId: "s1", sessionKey: "agent:main:main" };
    assert.equal(g.beforeAgentRun({}, ctx), undefined);
    g.onTranscript(transcript(1, { input: 1, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: 0.01 } }));
    assert.equal(g.beforeToolCall({ toolName: "read", runId: "r1" }, ctx), undefined);
    g.onTranscript(transcript(2, { input: 1, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: 0.01 } }));
    assert.deepEqual(g.beforeToolCall({ toolName: "read", runId: "r1" }, ctx), { block: true, blockReason: "over" });
    const blocked = g.beforeAgentRun({}, { ...ctx, runId: "r2" });
    assert.deepEqual(blocked, { outcome: "block", reason: "clawtower budget b: limit", message: "over", category: "cost_limit", metadata: { budgetId: "b" } });
    g.flush();
    const events = g.store!.events(0).map((e) => e.kind);
    assert.deepEqual(events.sort(), ["block", "block"]);
    g.close();
  });
  it("budgetFailMode: spend that cannot be read blocks (closed) or allows (open)", async () => {
    const notADir = path.join(tmpDir("ct-guard-"), "file");
    fs.writeFileSync(notADir, "x");
    for (const [mode, want] of [["closed", "block"], ["open", undefined]] as const) {
      const g = new BudgetGuard();
      g.configure({ pluginConfig: { budgets: [{ id: "b", period: "day", limitUsd: 100 }], budgetFailMode: mode }, config: ACCESS }, silent);
      g.ensure(Date.now(), notADir);
      assert.equal(g.state, "unknown-spend");
      assert.equal((await g.beforeAgentRun({}, { runId: "r", agentId: "main" }))?.outcome, want, mode);
      g.close();
    }
  });
  it("without hooks.allowConversationAccess, or with a bad budget, the guard is off and says why", () => {
    const g = new BudgetGuard();
    g.configure({ pluginConfig: { budgets: [{ id: "b", period: "day", limitUsd: 0.0001 }] }, config: {} }, silent);
    g.ensure(Date.now(), tmpDir("ct-guard-"));
    assert.equal(g.state, "no-access");
    assert.match(g.problem!, /allowConversationAccess/);
    const bad = new BudgetGuard();
    bad.configure({ pluginConfig: { budgets: [{ id: "b", period: "fortnight", limitUsd: 1 }] }, config: ACCESS }, silent);
    bad.ensure(Date.now(), tmpDir("ct-guard-"));
    assert.equal(bad.state, "invalid");
    assert.match(bad.problem!, /plugins\.entries\.clawtower\.config\.budgets\.0\.period/);
    assert.equal(bad.beforeAgentRun({}, { agentId: "main" }), undefined);
  });
});

describe("budget alerts by webhook", () => {
  let server: http.Server;
  let url = "";
  const received: { body: unknown; at: number }[] = [];
  let failNext = 0;
  before(async () => {
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(503).end();
          return;
        }
        received.push({ body: JSON.parse(body), at: Date.now() });
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const alert = { budgetId: "b", periodStart: 0, periodEnd: 86_400_000, threshold: 0.8, at: 1, spentUsd: 0.8, spentTokens: 5, limitUsd: 1, limitTokens: null, timeZone: "UTC" } as const;
  it("slack format is {text}; 5xx is retried with backoff", async () => {
    received.length = 0;
    failNext = 2;
    const waits: number[] = [];
    const r = await deliverAlert(alert, { url, format: "slack", retryAttempts: 3, retryBackoffMs: 10, timeoutMs: 2000 }, "gw-1", new AbortController().signal, async (ms) => void waits.push(ms));
    assert.deepEqual(r, { ok: true, attempts: 3 });
    assert.equal(waits.length, 2);
    assert.ok(waits[1]! >= waits[0]! / 1.5, "backoff grows");
    assert.deepEqual(received.map((x) => Object.keys(x.body as object)), [["text"]]);
    assert.match((received[0]!.body as { text: string }).text, /budget b on gw-1 reached 80 %: \$0\.8000 of \$1/);
  });
  it("a webhook that never answers well fails after its retries, without throwing", async () => {
    const r = await deliverAlert(alert, { url: "http://127.0.0.1:9/none", format: "json", retryAttempts: 1, retryBackoffMs: 1, timeoutMs: 500 }, null, new AbortController().signal, async () => {});
    assert.equal(r.ok, false);
    assert.equal(r.attempts, 2);
  });
  it("the guard sends each threshold once per period, and a restart does not repeat them", async () => {
    received.length = 0;
    const stateDir = tmpDir("ct-guard-");
    const pluginConfig = { deploymentId: "gw-1", budgets: [{ id: "b", period: "day", limitUsd: 0.03 }], budgetAlerts: { webhook: { url, format: "json" } } };
    let n = 0;
    for (let proc = 0; proc < 2; proc++) {
      const g = new BudgetGuard();
      g.configure({ pluginConfig, config: PRICED }, silent);
      g.ensure(Date.now(), stateDir);
      for (let i = 0; i < 3; i++) g.onTranscript(transcript(++n, { input: 1, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: 0.013 } }));
      g.beforeAgentRun({}, { runId: `r${proc}`, agentId: "main" });
      g.flush();
      await g.sender!.idle(5000);
      g.close();
    }
    assert.deepEqual(received.map((x) => (x.body as { threshold: unknown }).threshold).sort(), [0.8, 1, "blocked"].sort());
    const json = received[0]!.body as Record<string, unknown>;
    assert.equal(json["type"], "clawtower.budget.alert");
    assert.equal(json["deploymentId"], "gw-1");
  });
});
