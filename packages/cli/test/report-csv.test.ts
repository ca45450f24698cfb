/**
 * `clawtower report <kind> --csv`: RFC 4180 with a header row, the same numbers as --json for every report
 * kind, sums matching the mixed fixture's independently known totals; --csv with --json is bad usage.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { before, describe, it } from "node:test";
import { buildMixedHome, parseRfc4180, tmpDir, type MixedHome } from "@clawtower/testkit";

const BIN = path.resolve(import.meta.dirname, "../bin/clawtower.js");

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** CSV records as objects keyed by the header row. */
function records(text: string): Record<string, string>[] {
  const [head, ...rows] = parseRfc4180(text);
  assert.ok(head && head.length > 1, "a header row");
  for (const r of rows) assert.equal(r.length, head.length, "every record has the header's fields");
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]!])));
}

type Usage = { llmCalls: number; tokens: { input: number; output: number; cacheRead: number; cacheWrite: number; total: number }; cost: { recorded: number; estimated: number; total: number }; unpricedCalls: number; unpricedTokens: number };

function assertUsage(csv: Record<string, string>, json: Usage, what: string) {
  const want: Record<string, number> = {
    llm_calls: json.llmCalls,
    input_tokens: json.tokens.input,
    output_tokens: json.tokens.output,
    cache_read_tokens: json.tokens.cacheRead,
    cache_write_tokens: json.tokens.cacheWrite,
    total_tokens: json.tokens.total,
    cost_recorded_usd: json.cost.recorded,
    cost_estimated_usd: json.cost.estimated,
    cost_usd: json.cost.total,
    unpriced_calls: json.unpricedCalls,
    unpriced_tokens: json.unpricedTokens,
  };
  for (const [k, v] of Object.entries(want)) assert.equal(Number(csv[k]), v, `${what}: ${k}`);
}

const sumOf = (rows: Record<string, string>[], col: string) => rows.reduce((a, r) => a + Number(r[col]), 0);

describe("clawtower report --csv", () => {
  let mixed: MixedHome;
  let args: string[];
  before(() => {
    const dir = tmpDir();
    mixed = buildMixedHome();
    const home = path.join(dir, "openclaw");
    mixed.home.write(home);
    args = ["--openclaw-home", home, "--db", path.join(dir, "ct.db")];
  });
  const both = (kind: string) => {
    const csv = run(["report", kind, ...args, "--csv"]);
    assert.equal(csv.code, 0, csv.stderr);
    const json = run(["report", kind, ...args, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    assert.ok(csv.stdout.endsWith("\r\n"), "CRLF record ends");
    return { rows: records(csv.stdout), json: JSON.parse(json.stdout) };
  };

  it("summary: one record per model, the JSON's numbers, summing to the fixture's totals", () => {
    const { rows, json } = both("summary");
    assert.equal(rows.length, json.byModel.length);
    json.byModel.forEach((m: Usage & { provider: string; model: string }, i: number) => {
      assert.equal(rows[i]!["provider"], m.provider);
      assert.equal(rows[i]!["model"], m.model);
      assertUsage(rows[i]!, m, `${m.provider}/${m.model}`);
    });
    const e = mixed.home.expected;
    assert.equal(sumOf(rows, "llm_calls"), e.llmCalls);
    assert.equal(sumOf(rows, "total_tokens"), e.tokens.total);
    assert.equal(sumOf(rows, "cache_write_tokens"), e.tokens.cacheWrite);
  });

  for (const kind of ["daily", "weekly", "monthly"]) {
    it(`${kind}: one record per period`, () => {
      const { rows, json } = both(kind);
      assert.deepEqual(rows.map((r) => r[json.bucket]), json.periods.map((p: { period: string }) => p.period));
      json.periods.forEach((p: Usage & { period: string }, i: number) => assertUsage(rows[i]!, p, p.period));
      assert.equal(sumOf(rows, "llm_calls"), mixed.home.expected.llmCalls);
    });
  }

  for (const kind of ["models", "agents"]) {
    it(`${kind}: one record per row with shares and sessions`, () => {
      const { rows, json } = both(kind);
      assert.equal(rows.length, json.rows.length);
      json.rows.forEach((r: Usage & { sessions: number; costShare: number | null; cacheHitRate: number | null }, i: number) => {
        assertUsage(rows[i]!, r, kind);
        assert.equal(Number(rows[i]!["sessions"]), r.sessions);
        assert.equal(rows[i]!["cost_share"] === "" ? null : Number(rows[i]!["cost_share"]), r.costShare);
        assert.equal(rows[i]!["cache_hit_rate"] === "" ? null : Number(rows[i]!["cache_hit_rate"]), r.cacheHitRate);
      });
      assert.equal(sumOf(rows, "total_tokens"), mixed.home.expected.tokens.total);
    });
  }

  it("sessions: every session (no table limit), with ids and tool counts", () => {
    const { rows, json } = both("sessions");
    assert.equal(rows.length, json.sessions.length);
    assert.equal(rows.length, mixed.home.expected.sessions);
    json.sessions.forEach((s: Usage & { sessionId: string; sessionKey: string | null; toolCalls: number; toolErrors: number; models: string[] }, i: number) => {
      assert.equal(rows[i]!["session_id"], s.sessionId);
      assert.equal(rows[i]!["session_key"], s.sessionKey ?? "");
      assert.equal(rows[i]!["models"], s.models.join(" "));
      assert.equal(Number(rows[i]!["tool_calls"]), s.toolCalls);
      assertUsage(rows[i]!, s, s.sessionId);
    });
    assert.equal(sumOf(rows, "tool_calls"), mixed.home.expected.toolCalls);
    assert.equal(sumOf(rows, "tool_errors"), mixed.home.expected.toolErrors);
  });

  it("tools: one record per tool", () => {
    const { rows, json } = both("tools");
    assert.deepEqual(rows.map((r) => r["tool"]), json.tools.map((t: { name: string }) => t.name));
    json.tools.forEach((t: { calls: number; errors: number; resultBytes: number }, i: number) => {
      assert.equal(Number(rows[i]!["calls"]), t.calls);
      assert.equal(Number(rows[i]!["errors"]), t.errors);
      assert.equal(Number(rows[i]!["result_bytes"]), t.resultBytes);
    });
    assert.equal(sumOf(rows, "calls"), mixed.home.expected.toolCalls);
  });

  it("refuses --csv with --json (exit 2)", () => {
    const r = run(["report", "summary", ...args, "--csv", "--json"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--json and --csv are exclusive/);
    assert.equal(r.stdout, "");
  });
});
