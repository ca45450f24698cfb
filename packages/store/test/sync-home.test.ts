import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { sql } from "kysely";
import { createPriceBook, loadBundledPrices, readConfigPrices, listAgents, type ReportFilters } from "@clawtower/core";
import { appendRows, buildMixedHome, FixtureHome, describeStore, storeTargets, tmpDir, type StoreTarget } from "@clawtower/testkit";
import { openStore, summaryReport, syncHome, toolsReport, sessionsReport, type StoreConnection } from "../src/index.ts";

const UTC: ReportFilters = { since: null, until: null, tz: "UTC", agent: null, deployment: "dep-test" };

async function setupOn(target: StoreTarget) {
  const dir = tmpDir();
  const fixture = buildMixedHome();
  const home = path.join(dir, "openclaw");
  fixture.home.write(home);
  const conn = await openStore(target.options());
  const config = readConfigPrices(home, listAgents(home).map((a) => a.dir));
  const prices = createPriceBook(config.prices, loadBundledPrices().prices);
  const sync = (workers = 0) => syncHome(conn, { home, deploymentId: "dep-test", deploymentName: "test", prices, workers });
  return { dir, home, fixture, conn, sync };
}

function closeTo(actual: number, expected: number, what: string) {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);
}

async function assertTotalsMatch(conn: StoreConnection, fixture: ReturnType<typeof buildMixedHome>) {
  const e = fixture.home.expected;
  const r = await summaryReport(conn, UTC, Date.now());
  assert.equal(r.schemaVersion, 1);
  assert.equal(r.totals.sessions, e.sessions, "sessions");
  assert.equal(r.totals.llmCalls, e.llmCalls, "llm calls");
  assert.equal(r.totals.toolCalls, e.toolCalls, "tool calls");
  assert.deepEqual(r.totals.tokens, e.tokens, "tokens");
  closeTo(r.totals.cost.recorded, e.recordedCost, "recorded cost");
  closeTo(r.totals.cost.estimated, fixture.estimatedUsd, "estimated cost");
  closeTo(r.totals.cost.total, e.recordedCost + fixture.estimatedUsd, "total cost");
  assert.equal(r.totals.unpricedCalls, fixture.unpricedCalls, "unpriced calls");
  assert.equal(r.totals.unpricedTokens, fixture.unpricedTokens, "unpriced tokens");
  // byModel and byDay partition the totals exactly.
  for (const [mk, m] of e.byModel) {
    const row = r.byModel.find((x) => `${x.provider}/${x.model}` === mk);
    assert.ok(row, `model ${mk} missing`);
    assert.equal(row.llmCalls, m.calls, `${mk} calls`);
    assert.equal(row.tokens.total, m.tokens, `${mk} tokens`);
    closeTo(row.cost.recorded, m.recordedCost, `${mk} recorded cost`);
  }
  assert.equal(r.byModel.length, e.byModel.size);
  for (const [day, d] of e.byDay) {
    const row = r.byDay.find((x) => x.day === day);
    assert.ok(row, `day ${day} missing`);
    assert.equal(row.llmCalls, d.calls, `${day} calls`);
    assert.equal(row.tokens.total, d.tokens, `${day} tokens`);
  }
  return r;
}

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));
for (const target of targets) {
const setup = () => setupOn(target);
describeStore(target, `[${target.name}] syncHome on the mixed fixture (SQLite json+zstd rows, archives, cold, legacy JSONL, bad input)`, () => {
  it("reports totals equal to the sum of the raw events, and every problem by kind", async () => {
    const { conn, sync, fixture } = await setup();
    const report = await sync();
    const r = await assertTotalsMatch(conn, fixture);
    assert.deepEqual(r.problems, fixture.home.expected.problems);
    assert.equal(report.databases.find((d) => d.agentId === "broken")?.status, "unreadable");
    assert.equal(report.parts.failed, 0);
    await conn.close();
  });

  it("gives the same totals with worker threads", async () => {
    const { conn, sync, fixture } = await setup();
    await sync(2);
    await assertTotalsMatch(conn, fixture);
    await conn.close();
  });

  it("joins tool calls with their results, including the tool-search bridge's wrapped tool", async () => {
    const { conn, sync } = await setup();
    await sync();
    const tools = await toolsReport(conn, UTC, Date.now());
    const byName = new Map(tools.tools.map((t) => [t.name, t]));
    assert.equal(byName.get("read")?.maxResultBytes !== undefined && byName.get("read")!.maxResultBytes > 200_000, true);
    assert.equal(byName.get("exec")?.errors, 1);
    assert.equal(byName.get("sessions_spawn")?.calls, 1, "tool_call{id: sessions_spawn} is reported as sessions_spawn");
    assert.equal(byName.has("tool_call"), false);
    await conn.close();
  });

  it("re-reads nothing when nothing changed, and counts nothing twice", async () => {
    const { conn, sync, fixture } = await setup();
    await sync();
    const second = await sync();
    assert.equal(second.bytesRead, 0);
    assert.equal(second.parts.read + second.parts.appended + second.parts.rewritten, 0);
    assert.equal(second.databases.filter((d) => d.status === "read").length, 0, "unchanged databases are not queried");
    await assertTotalsMatch(conn, fixture);
    await conn.close();
  });

  it("refreshes session metadata from an edited sessions.json, and rewrites none from an unchanged one", async () => {
    const { conn, sync, home } = await setup();
    await sync();
    const index = listAgents(home)
      .flatMap((a) => (a.sessionsDir ? [path.join(a.sessionsDir, "sessions.json")] : []))
      .find((f) => fs.existsSync(f))!;
    const entries = JSON.parse(fs.readFileSync(index, "utf8")) as Record<string, { sessionId: string; label?: string }>;
    const entry = Object.values(entries).find((e) => e.sessionId)!;
    const updatedAt = async () => new Map((await conn.db.selectFrom("sessions").select(["agent_id", "session_id", "label", "updated_at"]).execute()).map((r) => [`${r.agent_id}/${r.session_id}`, r]));
    const before = await updatedAt();
    await new Promise((r) => setTimeout(r, 5));
    await sync();
    assert.deepEqual(await updatedAt(), before, "an unchanged index rewrites no session");
    entry.label = "Renamed without new events";
    fs.writeFileSync(index, JSON.stringify(entries, null, 2));
    const third = await sync();
    assert.equal(third.bytesRead, 0);
    const labels = [...(await updatedAt()).values()].filter((r) => r.session_id === entry.sessionId).map((r) => r.label);
    assert.deepEqual(labels, ["Renamed without new events"]);
    await conn.close();
  });

  it("reads only the new tail of a grown JSONL file and of grown SQLite rows", async () => {
    const { conn, sync, fixture, home } = await setup();
    await sync();
    const liveFile = fs
      .readdirSync(path.join(home, "agents/legacy/sessions"))
      .find((f) => f.endsWith(".jsonl") && !f.includes("trajectory") && !f.startsWith("dangling"))!;
    const before = await summaryReport(conn, UTC, Date.now());

    // Complete the truncated last line and add one more call.
    const added =
      `5,"output":3,"cacheRead":0,"cacheWrite":0}},"id":"completed-1","timestamp":"2026-11-19T04:00:00.000Z"}\n` +
      JSON.stringify({ type: "message", id: "appended-1", timestamp: "2026-11-19T04:01:00.000Z", message: { role: "assistant", provider: "google", model: "gemini-2.5-pro", usage: { input: 10, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: 0.5 } } } }) + "\n";
    fs.appendFileSync(path.join(home, "agents/legacy/sessions", liveFile), added);
    const mainDb = path.join(home, "agents/main/agent/openclaw-agent.sqlite");
    const chatId = fixture.home.agents.get("main")!.sessions[0]!.sessionId;
    appendRows(mainDb, chatId, [
      JSON.stringify({ type: "message", id: "row-app-1", timestamp: "2026-11-20T10:00:00.000Z", message: { role: "assistant", provider: "anthropic", model: "claude-sonnet-4-5", usage: { input: 7, output: 3, cacheRead: 0, cacheWrite: 0, cost: { total: 0.25 } } } }),
    ]);

    const third = await sync();
    assert.equal(third.parts.appended, 2, JSON.stringify(third.parts));
    assert.equal(third.parts.read + third.parts.rewritten, 0);
    assert.ok(third.bytesRead < 2000, `read ${third.bytesRead} bytes for a small append`);
    const after = await summaryReport(conn, UTC, Date.now());
    assert.equal(after.totals.llmCalls, before.totals.llmCalls + 3, "the completed line, the appended line and the appended row");
    assert.equal(after.totals.tokens.input, before.totals.tokens.input + 5 + 10 + 7);
    closeTo(after.totals.cost.recorded, before.totals.cost.recorded + 0.75, "recorded cost after append");
    assert.equal(after.problems["truncated-line"], undefined, "the completed line is no longer truncated");
    await conn.close();
  });

  it("replaces a rewritten file's contribution, and keeps sessions whose files disappeared", async () => {
    const { conn, sync, home } = await setup();
    await sync();
    const sessionsDir = path.join(home, "agents/legacy/sessions");
    const resetFile = fs.readdirSync(sessionsDir).find((f) => f.includes(".jsonl.reset."))!;
    const deletedFile = fs.readdirSync(sessionsDir).find((f) => f.includes(".jsonl.deleted."))!;
    const before = await summaryReport(conn, UTC, Date.now());

    // A rewrite: same path, different (shorter) content — its old calls must not linger.
    const lines = fs.readFileSync(path.join(sessionsDir, resetFile), "utf8").trimEnd().split("\n");
    const header = lines[0]!;
    const call = JSON.parse(lines.find((l) => l.includes('"usage"'))!);
    call.message.usage = { input: 1, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: 0.001 } };
    fs.writeFileSync(path.join(sessionsDir, resetFile), `${header}\n${JSON.stringify(call)}\n`);
    // A file that vanishes (pruned by OpenClaw): its usage stays in the ledger.
    fs.rmSync(path.join(sessionsDir, deletedFile));

    const r2 = await sync();
    assert.equal(r2.parts.rewritten, 1, JSON.stringify(r2.parts));
    assert.equal(r2.parts.gone, 1);
    const after = await summaryReport(conn, UTC, Date.now());
    assert.equal(after.totals.llmCalls, before.totals.llmCalls, "rewritten call replaced 1:1, gone call kept");
    assert.equal(after.totals.tokens.input, before.totals.tokens.input - 1500 + 1);
    const sessions = await sessionsReport(conn, UTC, {}, Date.now());
    assert.equal(sessions.sessions.filter((s) => !s.present).length, 1, "the vanished session is kept and marked gone");
    await conn.close();
  });
});

describeStore(target, `[${target.name}] rollups`, () => {
  it("give the same sums as the rows for any instant range (whole slots from the rollup, edges from rows)", async () => {
    const { conn, sync } = await setup();
    await sync();
    const { usageAggregates } = await import("../src/report-queries.ts");
    const bounds = await conn.db.selectFrom("llm_calls").select((eb) => [eb.fn.min("ts").as("lo"), eb.fn.max("ts").as("hi")]).executeTakeFirstOrThrow();
    const lo = Number(bounds.lo) - 3_600_000;
    const hi = Number(bounds.hi) + 3_600_000;
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 40; i++) {
      const a = Math.floor(lo + rand() * (hi - lo));
      const b = i % 5 === 0 ? a + Math.floor(rand() * 600_000) : Math.floor(a + rand() * (hi - a));
      const f = { ...UTC, since: a, until: b };
      const rows = await usageAggregates(conn, f);
      const got = rows.reduce((s, r) => [s[0]! + r.calls, s[1]! + r.input + r.output + r.cacheRead + r.cacheWrite, s[2]! + r.recordedNanos + r.estimatedNanos], [0, 0, 0]);
      const want = await conn.db
        .selectFrom("llm_calls")
        .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.sum<number>(eb(eb(eb("input_tokens", "+", eb.ref("output_tokens")), "+", eb.ref("cache_read_tokens")), "+", eb.ref("cache_write_tokens"))).as("t"), eb.fn.sum<number>("cost_nanos").as("c")])
        .where("deployment_id", "=", "dep-test")
        .where("ts", ">=", a)
        .where("ts", "<", b)
        .executeTakeFirstOrThrow();
      assert.deepEqual(got, [Number(want.n), Number(want.t ?? 0), Number(want.c ?? 0)], `range ${new Date(a).toISOString()} – ${new Date(b).toISOString()}`);
    }
    await conn.close();
  });
});

describeStore(target, `[${target.name}] first import of a large home`, () => {
  /** 260 legacy sessions of 3 calls each, 7 hours apart per session, across models: known totals. */
  function writeLargeHome(home: string) {
    const dir = path.join(home, "agents", "main", "sessions");
    fs.mkdirSync(dir, { recursive: true });
    const models = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"];
    let calls = 0;
    let tokens = 0;
    let nanos = 0;
    const perModel = new Map<string, number>();
    const t0 = Date.UTC(2026, 9, 1);
    for (let s = 0; s < 260; s++) {
      const lines = [JSON.stringify({ type: "session", version: 3, id: `s${s}`, timestamp: new Date(t0).toISOString(), cwd: "/w" })];
      for (let k = 0; k < 3; k++) {
        const model = models[(s + k) % 3]!;
        const usage = { input: 100 + s, output: 10 + k, cacheRead: 1000 * k, cacheWrite: s % 7, cost: { total: (s + 1) * 0.000123 + k * 0.01 } };
        const ts = t0 + s * 7 * 3_600_000 + k * 61_000;
        lines.push(JSON.stringify({ type: "message", id: `s${s}-e${k}`, timestamp: new Date(ts).toISOString(), message: { role: "assistant", provider: "anthropic", model, usage } }));
        calls++;
        tokens += usage.input + usage.output + usage.cacheRead + usage.cacheWrite;
        nanos += Math.round(usage.cost.total * 1e9);
        perModel.set(model, (perModel.get(model) ?? 0) + 1);
      }
      fs.writeFileSync(path.join(dir, `s${s}.jsonl`), `${lines.join("\n")}\n`);
    }
    return { calls, tokens, nanos, perModel, dir, t0 };
  }

  /** Rollups (every level) and session rollups must equal sums over the rows. */
  async function assertDerivedMatchRows(conn: StoreConnection) {
    const one = async (q: string) => Number(Object.values((await sql.raw<Record<string, unknown>>(q).execute(conn.db)).rows[0] ?? {})[0] ?? 0);
    for (const table of ["usage_rollup", "usage_rollup_hour", "usage_rollup_day", "session_hour_usage"]) {
      assert.equal(await one(`SELECT sum(calls) FROM ${table} WHERE deployment_id = 'dep-test'`), await one(`SELECT count(*) FROM llm_calls WHERE deployment_id = 'dep-test'`), `${table} calls`);
      assert.equal(
        await one(`SELECT sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) FROM ${table} WHERE deployment_id = 'dep-test'`),
        await one(`SELECT sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) FROM llm_calls WHERE deployment_id = 'dep-test'`),
        `${table} tokens`,
      );
    }
    assert.equal(await one(`SELECT sum(calls) FROM session_models WHERE deployment_id = 'dep-test'`), await one(`SELECT count(*) FROM llm_calls WHERE deployment_id = 'dep-test'`), "session_models calls");
  }

  it("rebuilds rollups whole, then keeps them equal to the rows when a session grows", async () => {
    const dir = tmpDir();
    const home = path.join(dir, "openclaw");
    const want = writeLargeHome(home);
    const conn = await openStore(target.options());
    const prices = createPriceBook([], loadBundledPrices().prices);
    const sync = () => syncHome(conn, { home, deploymentId: "dep-test", deploymentName: "test", prices });
    const first = await sync();
    assert.equal(first.parts.read, 260);
    let r = await summaryReport(conn, UTC, Date.now());
    assert.equal(r.totals.sessions, 260);
    assert.equal(r.totals.llmCalls, want.calls);
    assert.equal(r.totals.tokens.total, want.tokens);
    assert.equal(Math.round(r.totals.cost.recorded * 1e9), want.nanos);
    for (const [model, n] of want.perModel) assert.equal(r.byModel.find((m) => m.model === model)?.llmCalls, n, model);
    await assertDerivedMatchRows(conn);

    // A grown session is read as a tail: its new call is added to the rollups by increments.
    const extra = { input: 5, output: 6, cacheRead: 7, cacheWrite: 8, cost: { total: 0.5 } };
    const line = { type: "message", id: "s3-e9", timestamp: new Date(want.t0 + 1_000).toISOString(), message: { role: "assistant", provider: "anthropic", model: "claude-opus-4-1", usage: extra } };
    fs.appendFileSync(path.join(want.dir, "s3.jsonl"), `${JSON.stringify(line)}\n`);
    const second = await sync();
    assert.equal(second.parts.appended, 1);
    r = await summaryReport(conn, UTC, Date.now());
    assert.equal(r.totals.llmCalls, want.calls + 1);
    assert.equal(r.totals.tokens.total, want.tokens + 26);
    assert.equal(Math.round(r.totals.cost.recorded * 1e9), want.nanos + 500_000_000);
    await assertDerivedMatchRows(conn);
    await conn.close();
  });
});
}

describe("syncHome on worker threads, whose heaps are capped (read-pool.ts)", () => {
  it("reads events of tens of MB (legacy JSONL) and of OpenClaw's 4 MiB row limit (SQLite) exactly", async () => {
    const dir = tmpDir();
    const fixture = new FixtureHome();
    const huge = (n: number, seed: string) => `${seed} "quoted" é → `.repeat(Math.ceil(n / 20)).slice(0, n);
    for (const [store, mib] of [["legacy", 40], ["sqlite", 2.5]] as const) {
      for (let i = 0; i < (store === "sqlite" ? 12 : 1); i++) {
        const s = fixture.agent(`big-${store}`).session({ store });
        // An assistant message carrying usage (read for its usage and tool calls), a tool result of 3/4 its size.
        const [call] = s.assistant({ text: huge(mib * 2 ** 20, "answer"), input: 1_000, output: 2_000, cacheRead: 3_000, cost: 0.75, toolCalls: [{ name: "exec", args: { command: huge(2 ** 18, "ls") } }] });
        s.toolResult(call!, "exec", { text: huge((mib * 3 * 2 ** 20) / 4, "output") });
        s.assistant({ input: 10, output: 20, cost: 0.01 });
      }
    }
    const home = path.join(dir, "openclaw");
    fixture.write(home);
    const conn = await openStore({ kind: "sqlite", path: path.join(dir, "store.db") });
    const prices = createPriceBook([], loadBundledPrices().prices);
    const report = await syncHome(conn, { home, deploymentId: "dep-test", deploymentName: "test", prices, workers: 2 });
    assert.equal(report.parts.failed, 0);
    const e = fixture.expected;
    const r = await summaryReport(conn, UTC, Date.now());
    assert.equal(r.totals.llmCalls, e.llmCalls);
    assert.equal(r.totals.toolCalls, 13);
    assert.deepEqual(r.totals.tokens, e.tokens);
    closeTo(r.totals.cost.recorded, e.recordedCost, "recorded cost");
    await conn.close();
  });
});
