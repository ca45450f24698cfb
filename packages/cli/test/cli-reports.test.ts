/**
 * What `clawtower report` prints, checked against the mixed fixture's independently known totals (the
 * builder adds up every call it writes): each table's columns and figures, the warning on stderr on every run
 * over data with problems, and the exit codes and messages for bad usage.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import { buildMixedHome, tmpDir, type MixedHome } from "@clawtower/testkit";

const BIN = path.resolve(import.meta.dirname, "../bin/clawtower.js");
const int = (n: number) => n.toLocaleString("en-US");

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A cli-table3 table as rows of trimmed cells; continuation lines of multi-line cells are dropped. */
function table(text: string): { head: string[]; rows: string[][] } {
  const lines = text.split("\n").filter((l) => l.startsWith("│"));
  const cells = lines.map((l) => l.split("│").slice(1, -1).map((c) => c.trim()));
  return { head: cells[0]!, rows: cells.slice(1).filter((c) => c[0] !== "") };
}

type Sum = { calls: number; input: number; output: number; cacheRead: number; cacheWrite: number; total: number };
const zero = (): Sum => ({ calls: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 });

/** The fixture's calls summed by a key, from the builder's own inputs. */
function sumsBy(mixed: MixedHome, key: (agentId: string, ts: number) => string): Map<string, Sum> {
  const out = new Map<string, Sum>();
  for (const a of mixed.home.agents.values()) {
    if (a.corruptDatabase) continue;
    for (const s of a.sessions) {
      for (const c of s.calls) {
        const k = key(a.agentId, c.ts);
        const m = out.get(k) ?? zero();
        const [i, o, r, w] = c.tokens;
        m.calls++;
        m.input += i;
        m.output += o;
        m.cacheRead += r;
        m.cacheWrite += w;
        m.total += i + o + r + w;
        out.set(k, m);
      }
    }
  }
  return out;
}

const usageCells = (s: Sum) => [int(s.calls), int(s.input), int(s.output), int(s.cacheRead), int(s.cacheWrite), int(s.total)];
const TOKEN_HEAD = ["Calls", "Input", "Output", "Cache read", "Cache write", "Total tokens", "Cost"];

function mondayOf(ms: number): string {
  const d = new Date(ms);
  const back = (d.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - back)).toISOString().slice(0, 10);
}

describe("clawtower report tables", () => {
  let mixed: MixedHome;
  let args: string[];
  before(() => {
    const dir = tmpDir();
    mixed = buildMixedHome();
    const home = path.join(dir, "openclaw");
    mixed.home.write(home);
    args = ["--openclaw-home", home, "--db", path.join(dir, "ct.db")];
  });
  const report = (kind: string, extra: string[] = []) => {
    const r = run(["report", kind, ...args, ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return r;
  };

  it("summary: the totals line by line", () => {
    const e = mixed.home.expected;
    const out = report("summary").stdout;
    const t = e.tokens;
    assert.match(out, new RegExp(`^Sessions ${e.sessions} · LLM calls ${e.llmCalls} · Tool calls ${e.toolCalls}\n`));
    assert.ok(out.includes(`Tokens: input ${int(t.input)} · output ${int(t.output)} · cache read ${int(t.cacheRead)} · cache write ${int(t.cacheWrite)} · total ${int(t.total)}\n`), out);
    assert.match(out, new RegExp(`· unpriced calls ${mixed.unpricedCalls}\n`));
    assert.ok(out.includes(`${mixed.unpricedCalls} call(s) (${int(mixed.unpricedTokens)} tokens) have no price`));
  });

  for (const [kind, label, key] of [
    ["daily", "Day", (ts: number) => new Date(ts).toISOString().slice(0, 10)],
    ["weekly", "Week of", mondayOf],
    ["monthly", "Month", (ts: number) => new Date(ts).toISOString().slice(0, 7)],
  ] as const) {
    it(`${kind}: one row per ${label.toLowerCase()} with its calls and tokens, and a total`, () => {
      const { head, rows } = table(report(kind).stdout);
      assert.deepEqual(head, [label, "Models", ...TOKEN_HEAD]);
      const want = sumsBy(mixed, (_a, ts) => key(ts));
      const periods = rows.filter((r) => r[0] !== "Total");
      assert.deepEqual(periods.map((r) => r[0]), [...want.keys()].sort());
      for (const r of periods) assert.deepEqual(r.slice(2, 8), usageCells(want.get(r[0]!)!), r[0]);
      const e = mixed.home.expected;
      assert.deepEqual(rows.at(-1)!.slice(0, 8), ["Total", "", int(e.llmCalls), int(e.tokens.input), int(e.tokens.output), int(e.tokens.cacheRead), int(e.tokens.cacheWrite), int(e.tokens.total)]);
    });
  }

  it("models: one row per provider/model with its calls and tokens", () => {
    const { head, rows } = table(report("models").stdout);
    assert.deepEqual(head, ["Provider / model", "Sessions", ...TOKEN_HEAD, "Share", "$/1k tok", "Cache hit"]);
    const e = mixed.home.expected;
    assert.deepEqual(rows.map((r) => r[0]).sort(), [...e.byModel.keys()].sort());
    for (const r of rows) {
      const m = e.byModel.get(r[0]!)!;
      assert.equal(r[2], int(m.calls), r[0]);
      assert.equal(r[7], int(m.tokens), r[0]);
    }
  });

  it("agents: one row per agent with its sessions, calls and tokens", () => {
    const { head, rows } = table(report("agents").stdout);
    assert.deepEqual(head, ["Agent", "Sessions", ...TOKEN_HEAD, "Share", "Cache hit"]);
    const want = sumsBy(mixed, (agentId) => agentId);
    assert.deepEqual(rows.map((r) => r[0]).sort(), [...want.keys()].sort());
    for (const r of rows) {
      const sessions = mixed.home.agents.get(r[0]!)!.sessions.filter((s) => s.lines.length > 1).length;
      assert.deepEqual(r.slice(1, 8), [int(sessions), ...usageCells(want.get(r[0]!)!)], r[0]);
    }
  });

  it("sessions: one row per session, newest first", () => {
    const { head, rows } = table(report("sessions").stdout);
    assert.deepEqual(head, ["Last activity", "Agent", "Session", "Kind", "Msgs", "Calls", "Tools", "Errors", "Tokens", "Cost"]);
    assert.equal(rows.length, mixed.home.expected.sessions);
    const last = rows.map((r) => r[0]!);
    assert.deepEqual(last, [...last].sort().reverse());
    const calls = rows.reduce((a, r) => a + Number(r[5]!.replaceAll(",", "")), 0);
    assert.equal(calls, mixed.home.expected.llmCalls);
    const main = rows.find((r) => r[2] === "agent:main:main")!;
    assert.deepEqual(main.slice(1, 6), ["main", "agent:main:main", "main", "9", "4"], "2 user + 4 assistant + 3 tool results; 4 calls");
    const limited = table(report("sessions", ["--limit", "2"]).stdout);
    assert.equal(limited.rows.length, 2);
  });

  it("tools: calls, errors and result sizes in KiB", () => {
    const { head, rows } = table(report("tools").stdout);
    assert.deepEqual(head, ["Tool", "Calls", "Errors", "Error rate", "Avg result", "Max result"]);
    const byName = Object.fromEntries(rows.map((r) => [r[0], r.slice(1)]));
    assert.deepEqual(Object.keys(byName).sort(), ["exec", "read", "sessions_spawn", "web_search"]);
    assert.equal(rows.reduce((a, r) => a + Number(r[1]), 0), mixed.home.expected.toolCalls);
    assert.deepEqual(byName["exec"]!.slice(0, 3), ["1", "1", "100.0%"], "the fixture's one failed tool call");
    // The read result is 200,000 bytes = 195.3 KiB; the web search's 12,000 bytes = 11.7 KiB.
    assert.deepEqual(byName["read"]!.slice(3), ["195.3 KiB", "195.3 KiB"]);
    assert.deepEqual(byName["web_search"]!.slice(3), ["11.7 KiB", "11.7 KiB"]);
  });
});

describe("problems are never silent", () => {
  it("warns on stderr on every run over data with problems, counting the store's problems, with stdout clean JSON", () => {
    const dir = tmpDir();
    const mixed = buildMixedHome();
    const home = path.join(dir, "openclaw");
    mixed.home.write(home);
    const e = mixed.home.expected.problems;
    const total = Object.values(e).reduce((a, b) => a + b, 0);
    const line = `warning: ${total} problem(s) in the input: ${Object.keys(e).sort().map((k) => `${k} ${e[k]}`).join(", ")}.`;
    for (const [i, extra] of [[], ["--json"], []].entries()) {
      for (const kind of ["summary", "sessions", "tools"]) {
        const r = run(["report", kind, "--openclaw-home", home, "--db", path.join(dir, "ct.db"), ...extra]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stderr.includes(line), `run ${i} ${kind} ${extra.join(" ")}: ${r.stderr}`);
        if (extra.includes("--json")) assert.equal(JSON.parse(r.stdout).schemaVersion, 1);
        else assert.ok(!r.stdout.includes("warning"), "the warning is not in stdout");
      }
    }
  });

  it("`clawtower serve` says so on every start over that data, not only the first", { timeout: 60_000 }, async () => {
    const dir = tmpDir();
    const mixed = buildMixedHome();
    const home = path.join(dir, "openclaw");
    mixed.home.write(home);
    const total = Object.values(mixed.home.expected.problems).reduce((a, b) => a + b, 0);
    for (let i = 0; i < 2; i++) {
      const child = spawn(process.execPath, [BIN, "serve", "--openclaw-home", home, "--db", path.join(dir, "ct.db"), "--port", "0", "--no-progress"], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      try {
        const end = Date.now() + 30_000;
        while (!out.includes("Clawtower is serving") && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
        assert.ok(out.includes("Clawtower is serving"), err);
        assert.ok(err.includes(`warning: ${total} input problem(s); details: clawtower doctor`), `start ${i + 1}: ${err}`);
      } finally {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
    }
  });

  it("says nothing on stderr when the input has no problems", () => {
    const dir = tmpDir();
    const mixed = buildMixedHome();
    mixed.home.agents.delete("legacy");
    mixed.home.agents.delete("broken");
    mixed.home.agents.get("main")!.extraFiles.clear();
    for (const k of Object.keys(mixed.home.fileProblems)) delete mixed.home.fileProblems[k];
    const home = path.join(dir, "openclaw");
    mixed.home.write(home);
    assert.deepEqual(mixed.home.expected.problems, {});
    for (let i = 0; i < 2; i++) {
      const r = run(["report", "summary", "--openclaw-home", home, "--db", path.join(dir, "ct.db")]);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, "");
    }
  });
});

describe("bad usage exits 2 and says what is wrong", () => {
  let args: string[];
  let empty: string;
  before(() => {
    const dir = tmpDir();
    const home = path.join(dir, "openclaw");
    buildMixedHome().home.write(home);
    args = ["--openclaw-home", home, "--db", path.join(dir, "ct.db")];
    empty = path.join(dir, "empty-home");
    fs.mkdirSync(empty);
  });

  for (const [cmd, usage] of [
    [[], "clawtower [options] [command]"],
    [["report"], "clawtower report [options] [kind]"],
    [["report", "daily"], "clawtower report [options] [kind]"],
    [["doctor"], "clawtower doctor [options]"],
    [["serve"], "clawtower serve [options]"],
    [["keys", "create"], "clawtower keys create [options]"],
    [["keys", "list"], "clawtower keys list [options]"],
    [["keys", "revoke", "k1"], "clawtower keys revoke [options] <keyId>"],
  ] as const) {
    it(`an unknown option of \`clawtower ${cmd.join(" ")}\` shows that command's usage`, () => {
      const r = run([...cmd, "--frobnicate"]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /error: unknown option '--frobnicate'/);
      assert.ok(r.stderr.includes(`Usage: ${usage}\n`), r.stderr);
      assert.equal(r.stdout, "");
    });
  }

  it("an unknown command and a missing argument exit 2 with the usage", () => {
    const bogus = run(["frobnicate"]);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /unknown command 'frobnicate'[\s\S]*Usage: clawtower \[options\] \[command\]/);
    const revoke = run(["keys", "revoke"]);
    assert.equal(revoke.code, 2);
    assert.match(revoke.stderr, /missing required argument 'keyId'[\s\S]*Usage: clawtower keys revoke/);
  });

  it("an unknown agent names the known ones", () => {
    for (const kind of ["summary", "daily", "sessions", "models", "agents", "tools"]) {
      const r = run(["report", kind, "--agent", "nosuchagent", ...args]);
      assert.equal(r.code, 2, `${kind}: ${r.stderr}`);
      assert.match(r.stderr, /^clawtower: no such agent 'nosuchagent'; known: broken, legacy, main\n/);
      assert.equal(r.stdout, "");
    }
    assert.equal(run(["report", "--agent", "legacy", ...args]).code, 0);
  });

  for (const [flags, message] of [
    [["--tz", "Mars/Olympus"], /unknown time zone "Mars\/Olympus"/],
    [["--since", "last tuesday"], /--since: cannot read "last tuesday"/],
    [["--until", "2026-13-45"], /--until: /],
    [["--since", "2026-11-20", "--until", "2026-11-19"], /--since \(2026-11-20\) must be before --until \(2026-11-19\)/],
    [["--limit", "0"], /--limit must be a positive whole number \(got "0"\)/],
    [["--sort", "name"], /--sort must be one of last, cost, tokens, calls \(got "name"\)/],
  ] as const) {
    it(`${flags.join(" ")} exits 2`, () => {
      const r = run(["report", "sessions", ...flags, ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "");
    });
  }

  it("--limit and --sort on a report other than sessions say where they apply", () => {
    for (const flag of ["--limit", "--sort"]) {
      const r = run(["report", "daily", flag, "5", ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${flag} applies to \`report sessions\` only \\(not to the daily report\\)`));
      assert.equal(r.stdout, "");
    }
  });

  it("an unknown report kind exits 2 and lists the kinds", () => {
    const r = run(["report", "nonsense", ...args]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown report "nonsense" \(one of summary, daily, weekly, monthly, sessions, models, agents, tools\)/);
  });

  it("a home without agents is nothing to read: exit 1", () => {
    const r = run(["report", "--openclaw-home", empty, "--db", path.join(empty, "..", "empty.db")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no agents under .*empty-home\/agents — nothing to report/);
  });
});
