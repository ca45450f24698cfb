/**
 * The report builders on small inputs totalled by hand. Four usage rows (15-minute slots), costs in
 * nano-dollars:
 *   A 2026-11-22T23:30Z main anthropic/claude  2 calls  in 100 out 10 cacheRead 1000           recorded $0.003
 *   B 2026-11-23T00:15Z main openai/gpt        1 call   in  50 out  5 cacheWrite 20            estimated $0.0015
 *   C 2026-11-23T10:00Z ops  local/mystery     1 call   in  40 out  4                          unpriced (44 tokens)
 *   D 2026-11-30T23:45Z ops  anthropic/claude  1 call   in  10                                 recorded $0.001
 * Totals: 5 calls; tokens 200 + 19 + 1000 + 20 = 1239; recorded $0.004, estimated $0.0015, total $0.0055.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  SLOT_MS,
  buildAgentsReport,
  buildModelsReport,
  buildSessionsReport,
  buildSummaryReport,
  buildToolsReport,
  type ReportFilters,
  type SessionAggregate,
  type UsageAggregate,
} from "../src/index.ts";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const filters = (tz = "UTC"): ReportFilters => ({ since: null, until: null, tz, agent: null, deployment: null });

function row(at: string, agentId: string, model: string, u: Partial<UsageAggregate>): UsageAggregate {
  const [provider, name] = model.split("/") as [string, string];
  return {
    slot: Date.parse(at) / SLOT_MS,
    agentId,
    provider,
    model: name,
    calls: 0,
    input: 0,
    output: 0,
    cacheRead: 0,
    cacheWrite: 0,
    recordedNanos: 0,
    estimatedNanos: 0,
    unpricedCalls: 0,
    unpricedTokens: 0,
    ...u,
  };
}

const A = row("2026-11-22T23:30:00Z", "main", "anthropic/claude", { calls: 2, input: 100, output: 10, cacheRead: 1000, recordedNanos: 3_000_000 });
const B = row("2026-11-23T00:15:00Z", "main", "openai/gpt", { calls: 1, input: 50, output: 5, cacheWrite: 20, estimatedNanos: 1_500_000 });
const C = row("2026-11-23T10:00:00Z", "ops", "local/mystery", { calls: 1, input: 40, output: 4, unpricedCalls: 1, unpricedTokens: 44 });
const D = row("2026-11-30T23:45:00Z", "ops", "anthropic/claude", { calls: 1, input: 10, recordedNanos: 1_000_000 });
const ROWS = [A, B, C, D];

const close = (a: number | null, b: number, what: string) => assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${what}: ${a} ≠ ${b}`);

describe("buildSummaryReport", () => {
  it("totals, by model (most expensive first), by day and problems", () => {
    const r = buildSummaryReport({ rows: ROWS, dayRows: ROWS, sessions: 3, toolCalls: 7, problems: { "blank-line": 2 }, filters: filters(), generatedAt: NOW });
    assert.equal(r.schemaVersion, 1);
    assert.equal(r.generatedAt, "2026-12-01T12:00:00.000Z");
    assert.deepEqual(r.totals.tokens, { input: 200, output: 19, cacheRead: 1000, cacheWrite: 20, total: 1239 });
    assert.equal(r.totals.llmCalls, 5);
    assert.equal(r.totals.sessions, 3);
    assert.equal(r.totals.toolCalls, 7);
    close(r.totals.cost.recorded, 0.004, "recorded");
    close(r.totals.cost.estimated, 0.0015, "estimated");
    close(r.totals.cost.total, 0.0055, "total");
    assert.equal(r.totals.unpricedCalls, 1);
    assert.equal(r.totals.unpricedTokens, 44);
    assert.deepEqual(r.byModel.map((m) => [`${m.provider}/${m.model}`, m.llmCalls, m.tokens.total]), [
      ["anthropic/claude", 3, 1120],
      ["openai/gpt", 1, 75],
      ["local/mystery", 1, 44],
    ]);
    assert.deepEqual(r.byDay.map((d) => [d.day, d.llmCalls, d.tokens.total]), [
      ["2026-11-22", 2, 1110],
      ["2026-11-23", 2, 119],
      ["2026-11-30", 1, 10],
    ]);
    assert.deepEqual(r.problems, { "blank-line": 2 });
  });

  it("puts each row on its day of the report's time zone", () => {
    const days = (tz: string) => buildSummaryReport({ rows: ROWS, dayRows: ROWS, sessions: 0, toolCalls: 0, problems: {}, filters: filters(tz), generatedAt: NOW }).byDay.map((d) => [d.day, d.llmCalls]);
    // Tokyo (+09:00): A is 08:30 on the 23rd, D 08:45 on 1 December.
    assert.deepEqual(days("Asia/Tokyo"), [["2026-11-23", 4], ["2026-12-01", 1]]);
    // Los Angeles (−08:00): A 15:30 and B 16:15 on the 22nd, C 02:00 on the 23rd, D 15:45 on the 30th.
    assert.deepEqual(days("America/Los_Angeles"), [["2026-11-22", 3], ["2026-11-23", 1], ["2026-11-30", 1]]);
  });

  it("an empty range is zeros, not missing fields", () => {
    const r = buildSummaryReport({ rows: [], dayRows: [], sessions: 0, toolCalls: 0, problems: {}, filters: filters(), generatedAt: NOW });
    assert.deepEqual(r.totals, { sessions: 0, toolCalls: 0, llmCalls: 0, tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 }, cost: { recorded: 0, estimated: 0, total: 0 }, unpricedCalls: 0, unpricedTokens: 0 });
    assert.deepEqual(r.byModel, []);
    assert.deepEqual(r.byDay, []);
  });
});

describe("buildModelsReport / buildAgentsReport", () => {
  it("models: shares of the cost, cost per 1k priced tokens, cache hit rate, sessions", () => {
    const sessions = new Map([["anthropic\u0000claude", 2], ["openai\u0000gpt", 1]]);
    const r = buildModelsReport(ROWS, sessions, filters(), NOW);
    assert.deepEqual(r.rows.map((m) => `${m.provider}/${m.model}`), ["anthropic/claude", "openai/gpt", "local/mystery"]);
    const [claude, gpt, mystery] = r.rows as [(typeof r.rows)[0], (typeof r.rows)[0], (typeof r.rows)[0]];
    close(claude.costShare, 4 / 5.5, "claude share");
    close(claude.costPer1kTokens, 0.004 / 1.12, "claude $/1k"); // 1,120 tokens
    close(claude.cacheHitRate, 1000 / 1110, "claude cache hit"); // 1000 / (110 + 1000 + 0)
    assert.equal(claude.sessions, 2);
    close(gpt.costShare, 1.5 / 5.5, "gpt share");
    close(gpt.costPer1kTokens, 0.02, "gpt $/1k"); // $0.0015 for 75 tokens
    assert.equal(gpt.cacheHitRate, 0);
    assert.equal(mystery.costShare, 0);
    assert.equal(mystery.costPer1kTokens, null, "no priced tokens");
    assert.equal(mystery.sessions, 0, "absent from the sessions map");
    assert.equal(r.totals.llmCalls, 5);
  });

  it("agents: one row per agent with its share", () => {
    const r = buildAgentsReport(ROWS, new Map([["main", 1], ["ops", 2]]), filters(), NOW);
    assert.deepEqual(r.rows.map((a) => [a.agentId, a.llmCalls, a.tokens.total, a.sessions]), [
      ["main", 3, 1185],
      ["ops", 2, 54],
    ].map(([id, calls, tokens]) => [id, calls, tokens, id === "main" ? 1 : 2]));
    close(r.rows[0]!.costShare, 4.5 / 5.5, "main share");
    close(r.rows[1]!.costShare, 1 / 5.5, "ops share");
  });

  it("nothing priced: shares are null, not NaN", () => {
    const r = buildModelsReport([C], new Map(), filters(), NOW);
    assert.equal(r.rows[0]!.costShare, null);
    assert.equal(r.rows[0]!.costPer1kTokens, null);
  });
});

describe("buildToolsReport", () => {
  it("error rate and average result over the calls with a result; most used first", () => {
    const r = buildToolsReport(
      [
        { name: "read", calls: 3, withResult: 2, errors: 1, argsBytes: 30, resultBytes: 3001, maxResultBytes: 3000 },
        { name: "exec", calls: 4, withResult: 4, errors: 0, argsBytes: 40, resultBytes: 400, maxResultBytes: 250 },
        { name: "wait", calls: 1, withResult: 0, errors: 0, argsBytes: 5, resultBytes: 0, maxResultBytes: 0 },
      ],
      filters(),
      NOW,
    );
    assert.deepEqual(r.tools.map((t) => [t.name, t.errorRate, t.avgResultBytes]), [
      ["exec", 0, 100],
      ["read", 0.5, 1501], // 3001 / 2, rounded
      ["wait", null, null], // still running: no result to rate
    ]);
    assert.deepEqual(r.totals, { calls: 8, errors: 1, resultBytes: 3401 });
  });
});

describe("buildSessionsReport", () => {
  it("turns a session aggregate into its row: ISO activity, tokens, cost, ending", () => {
    const s: SessionAggregate = {
      deploymentId: "d",
      agentId: "main",
      sessionId: "s1",
      sessionKey: "agent:main:main",
      kind: "main",
      channel: null,
      label: null,
      parentSessionKey: null,
      firstTs: Date.parse("2026-11-22T23:30:00Z"),
      lastTs: Date.parse("2026-11-23T00:20:00Z"),
      messages: { user: 2, assistant: 3, toolResult: 1, other: 0 },
      toolCalls: 1,
      toolErrors: 0,
      errors: 0,
      aborts: 0,
      compactions: 0,
      resets: 0,
      models: ["anthropic/claude", "openai/gpt"],
      skills: null,
      present: true,
      ended: "deleted",
      calls: 3,
      input: 150,
      output: 15,
      cacheRead: 1000,
      cacheWrite: 20,
      recordedNanos: 3_000_000,
      estimatedNanos: 1_500_000,
      unpricedCalls: 0,
      unpricedTokens: 0,
    };
    const r = buildSessionsReport([s], 12, filters(), NOW);
    assert.equal(r.total, 12);
    const row = r.sessions[0]!;
    assert.equal(row.firstActivity, "2026-11-22T23:30:00.000Z");
    assert.equal(row.lastActivity, "2026-11-23T00:20:00.000Z");
    assert.equal(row.llmCalls, 3);
    assert.deepEqual(row.tokens, { input: 150, output: 15, cacheRead: 1000, cacheWrite: 20, total: 1185 });
    close(row.cost.total, 0.0045, "cost");
    assert.equal(row.ended, "deleted");
    assert.ok(!("recordedNanos" in row) && !("firstTs" in row), "internal sums stay internal");
  });
});
