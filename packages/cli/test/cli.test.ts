import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { buildMixedHome, tmpDir } from "@clawtower/testkit";

const BIN = path.resolve(import.meta.dirname, "../bin/clawtower.js");

function run(args: string[], env: Record<string, string> = {}, node = process.execPath) {
  const r = spawnSync(node, [BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fixture() {
  const dir = tmpDir();
  const mixed = buildMixedHome();
  const home = path.join(dir, "openclaw");
  mixed.home.write(home);
  return { dir, home, mixed, db: path.join(dir, "ct.db") };
}

describe("clawtower report", () => {
  it("prints schemaVersion-1 JSON whose totals equal the fixture's", () => {
    const { home, mixed, db } = fixture();
    const r = run(["report", "summary", "--json", "--openclaw-home", home, "--db", db]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    const e = mixed.home.expected;
    assert.equal(j.schemaVersion, 1);
    assert.equal(j.totals.sessions, e.sessions);
    assert.equal(j.totals.llmCalls, e.llmCalls);
    assert.equal(j.totals.toolCalls, e.toolCalls);
    assert.deepEqual(j.totals.tokens, e.tokens);
    assert.ok(Math.abs(j.totals.cost.recorded - e.recordedCost) < 1e-9);
    assert.ok(Math.abs(j.totals.cost.estimated - mixed.estimatedUsd) < 1e-9);
    assert.equal(j.totals.unpricedCalls, 1);
    for (const key of ["provider", "model", "llmCalls", "tokens", "cost"]) assert.ok(key in j.byModel[0], `byModel[].${key}`);
    assert.ok(j.byDay.every((d: { day: string }) => /^\d{4}-\d{2}-\d{2}$/.test(d.day)));
    assert.deepEqual(j.problems, e.problems);
    // stdout is pure JSON; the warning summary goes to stderr.
    assert.match(r.stderr, /warning: \d+ problem\(s\)/);
  });

  it("lists every problem with its file:line or db:session:seq under --verbose", () => {
    const { home, db, mixed } = fixture();
    const r = run(["report", "summary", "--openclaw-home", home, "--db", db, "--verbose"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /invalid-json: .*\/agents\/legacy\/sessions\/[0-9a-f-]+\.jsonl:\d+: /);
    assert.match(r.stderr, /truncated-line: .*\.jsonl:\d+: /);
    assert.match(r.stderr, /unreadable-database: .*agents\/broken\/agent\/openclaw-agent\.sqlite/);
    assert.match(r.stderr, /unreadable-file: .*dangling\.jsonl/);
    assert.match(r.stdout, new RegExp(`Sessions ${mixed.home.expected.sessions} · LLM calls`));
  });

  it("buckets days in --tz and filters with --since/--until/--agent", () => {
    const { home, db } = fixture();
    const all = JSON.parse(run(["report", "daily", "--json", "--openclaw-home", home, "--db", db]).stdout);
    const tokyo = JSON.parse(run(["report", "daily", "--json", "--tz", "Asia/Tokyo", "--openclaw-home", home, "--db", db]).stdout);
    assert.equal(all.totals.llmCalls, tokyo.totals.llmCalls, "a time zone moves calls between days, never loses them");
    assert.notDeepEqual(all.periods.map((p: { period: string }) => p.period), tokyo.periods.map((p: { period: string }) => p.period));
    const legacy = JSON.parse(run(["report", "agents", "--json", "--agent", "legacy", "--openclaw-home", home, "--db", db]).stdout);
    assert.deepEqual(legacy.rows.map((r: { agentId: string }) => r.agentId), ["legacy"]);
    const day = JSON.parse(run(["report", "summary", "--json", "--since", "2026-11-19", "--until", "2026-11-19", "--openclaw-home", home, "--db", db]).stdout);
    assert.deepEqual(day.byDay.map((d: { day: string }) => d.day), ["2026-11-19"]);
  });

  it("renders every report kind as a table (figures: cli-reports.test.ts)", () => {
    const { home, db, mixed } = fixture();
    const problems = Object.values(mixed.home.expected.problems).reduce((a, b) => a + b, 0);
    const firstColumn: Record<string, string> = { summary: "Provider / model", daily: "Day", weekly: "Week of", monthly: "Month", sessions: "Last activity", models: "Provider / model", agents: "Agent", tools: "Tool" };
    for (const [kind, head] of Object.entries(firstColumn)) {
      const r = run(["report", kind, "--openclaw-home", home, "--db", db]);
      assert.equal(r.code, 0, `${kind}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^│ ${head} +│`, "m"), kind);
      assert.ok(r.stderr.startsWith(`warning: ${problems} problem(s) in the input: `), `${kind}: ${r.stderr}`);
    }
  });

  it("exits 2 on bad usage and 1 when there is no OpenClaw home", () => {
    const { home, db, dir } = fixture();
    const badTz = run(["report", "--tz", "Mars/Olympus", "--openclaw-home", home, "--db", db]);
    assert.equal(badTz.code, 2);
    assert.match(badTz.stderr, /unknown time zone "Mars\/Olympus"/);
    const badDate = run(["report", "--since", "last tuesday", "--openclaw-home", home, "--db", db]);
    assert.equal(badDate.code, 2);
    assert.match(badDate.stderr, /--since: cannot read "last tuesday"/);
    assert.equal(run(["report", "nonsense", "--openclaw-home", home, "--db", db]).code, 2);
    const missing = run(["report", "--openclaw-home", path.join(dir, "nope"), "--db", db]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no OpenClaw home at .*nope \(from --openclaw-home\)/);
  });

  it("resolves the home from OPENCLAW_STATE_DIR and the store from CLAWTOWER_HOME", () => {
    const { home, dir } = fixture();
    const ctHome = path.join(dir, "cthome");
    const r = run(["report", "--json"], { OPENCLAW_STATE_DIR: home, CLAWTOWER_HOME: ctHome });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(ctHome, "clawtower.db")));
  });
});

describe("clawtower doctor", () => {
  it("tells what was found where, with problems and unpriced models", () => {
    const { home, db } = fixture();
    const r = run(["doctor", "--json", "--openclaw-home", home, "--db", db]);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.deepEqual(d.agents.map((a: { agentId: string }) => a.agentId), ["broken", "legacy", "main"]);
    const main = d.agents.find((a: { agentId: string }) => a.agentId === "main");
    assert.ok(main.database.zstdRows >= 2, "zstd rows are counted");
    assert.deepEqual(main.database.coldArchives, [{ storage: "file", count: 1 }]);
    assert.ok(d.agents.find((a: { agentId: string }) => a.agentId === "broken").database.error);
    assert.deepEqual(
      d.pricing.unpricedModels.map((m: { provider: string; model: string }) => `${m.provider}/${m.model}`),
      ["local/mystery-llm-7b"],
    );
    const kinds = new Set(d.imported.parts.map((p: { kind: string }) => p.kind));
    for (const k of ["sqlite", "sqlite-archive", "cold-archive", "jsonl", "jsonl-reset", "jsonl-deleted"]) assert.ok(kinds.has(k), `part kind ${k}`);
    const text = run(["doctor", "--openclaw-home", home, "--db", db]);
    assert.match(text.stdout, /Agent main/);
    assert.match(text.stdout, /UNREADABLE/);
    assert.match(text.stdout, /unpriced: local\/mystery-llm-7b/);
  });
});

describe("launcher", () => {
  it("re-runs itself on the repo's Node 24 when started by an older Node", { skip: !fs.existsSync("/usr/bin/node") }, () => {
    const r = run(["--version"], {}, "/usr/bin/node");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+ \(store schema \d+\)$/);
  });
});
