/**
 * The shipper against a real hub (in process, loopback) and the checked-in stores written by real OpenClaw
 * 2026.9.6 and 2026.7.35 hosts: exact totals, incremental tails, generations, limits, filters, privacy,
 * both wire formats, and a corrupt state file.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import zlib from "node:zlib";
import { after, describe, it } from "node:test";
import { runCycle, type CycleOptions } from "../src/ship/cycle.ts";
import { statePaths } from "../src/state/files.ts";
import { tryLock } from "../src/state/lock.ts";
import type { PluginConfigInput } from "../src/config/schema.ts";
import { configFor, copyFixture, expectedOf, quietLogger, startTestHub, type TestHub } from "./helpers.ts";

const CURRENT = "openclaw-2026.9.6";
const LEGACY = "openclaw-legacy-2026.7.35";
const hubs: TestHub[] = [];
after(() => Promise.all(hubs.map((h) => h.close())));

async function hub(): Promise<TestHub> {
  const h = await startTestHub();
  hubs.push(h);
  return h;
}

function cycle(home: string, h: TestHub, extra: PluginConfigInput = {}, more: Partial<CycleOptions> = {}) {
  return runCycle({ stateDir: home, config: configFor(h, extra), openclawRedactPatterns: [], logger: quietLogger, signal: new AbortController().signal, trigger: "test", ...more });
}

async function assertTotals(h: TestHub, fixture: string) {
  const want = expectedOf(fixture).transcriptTotals;
  const s = await h.summary();
  assert.equal(s.totals.llmCalls, want.llmCallsWithUsage);
  assert.deepEqual(s.totals.tokens, { input: want.input, output: want.output, cacheRead: want.cacheRead, cacheWrite: want.cacheWrite, total: want.totalTokens });
  assert.ok(Math.abs(s.totals.cost.total - want.costUsd) < 1e-9, `${s.totals.cost.total} vs ${want.costUsd}`);
  assert.equal(s.totals.toolCalls, want.toolCalls);
}

for (const fixture of [CURRENT, LEGACY]) {
  for (const target of ["clawtower", "influxion"] as const) {
    describe(`${fixture} → ${target} hub`, () => {
      it("ships every call exactly; a second cycle sends nothing", async () => {
        const h = await hub();
        const home = copyFixture(fixture);
        const extra: PluginConfigInput = target === "influxion" ? { target, projectId: "proj-1" } : {};
        const first = await cycle(home, h, extra);
        assert.equal(first.outcome, "ok", JSON.stringify(first));
        assert.equal(first.lines.rejected, 0);
        await assertTotals(h, fixture);
        const raw = await h.rawEvents();
        const again = await cycle(home, h, extra);
        assert.equal(again.outcome, "ok");
        assert.equal(again.requests, 0, "nothing changed: no request at all");
        assert.equal(again.lines.sent, 0);
        assert.equal(await h.rawEvents(), raw);
      });
    });
  }
}

describe("incremental", () => {
  it("a grown legacy session sends only its tail", async () => {
    const h = await hub();
    const home = copyFixture(LEGACY);
    await cycle(home, h);
    const dir = path.join(home, "agents", "main", "sessions");
    const file = fs.readdirSync(dir).find((f) => f.endsWith(".jsonl") && !f.includes("trajectory"))!;
    const sessionId = file.replace(/\.jsonl$/, "");
    const ev = { type: "message", id: "tail-1", parentId: null, timestamp: new Date().toISOString(), message: { role: "assistant", provider: "fake", model: "fake-model", content: [{ type: "text", text: "late" }], usage: { input: 7, output: 3, cacheRead: 0, cacheWrite: 0, cost: { total: 0.5 } } } };
    fs.appendFileSync(path.join(dir, file), `${JSON.stringify(ev)}\n`);
    const before = (await h.summary()).totals;
    const r = await cycle(home, h);
    assert.equal(r.lines.sent, 1, "only the appended line");
    assert.equal(r.lines.accepted, 1);
    const afterT = (await h.summary()).totals;
    assert.equal(afterT.llmCalls, before.llmCalls + 1);
    assert.equal(afterT.tokens.input, before.tokens.input + 7);
    void sessionId;
  });

  it("new rows in the agent database send only those rows; a rewritten session starts a new generation", async () => {
    const h = await hub();
    const home = copyFixture(CURRENT);
    await cycle(home, h);
    const dbFile = path.join(home, "agents", "ops", "agent", "openclaw-agent.sqlite");
    const db = new DatabaseSync(dbFile);
    const { session_id: sid, hi } = db.prepare("SELECT session_id, max(seq) AS hi FROM transcript_events GROUP BY session_id LIMIT 1").get() as { session_id: string; hi: number };
    const ev = { type: "message", id: "row-tail-1", parentId: null, timestamp: new Date().toISOString(), message: { role: "assistant", provider: "fake", model: "fake-model", content: [], usage: { input: 11, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: 0.25 } } } };
    db.prepare("INSERT INTO transcript_events (session_id, seq, event_json, created_at) VALUES (?, ?, ?, ?)").run(sid, hi + 1, JSON.stringify(ev), Date.now());
    const r = await cycle(home, h);
    assert.equal(r.lines.sent, 1);
    assert.equal(r.lines.accepted, 1);
    // Rewrite: a row below the watermark disappears (rewind) → the part is read again as a new generation;
    // the hub answers duplicates for everything it has, nothing is counted twice.
    const calls = (await h.summary()).totals.llmCalls;
    db.prepare("DELETE FROM transcript_events WHERE session_id = ? AND seq = (SELECT min(seq) FROM transcript_events WHERE session_id = ?) + 1").run(sid, sid);
    db.close();
    const rw = await cycle(home, h);
    assert.equal(rw.outcome, "ok");
    assert.ok(rw.lines.sent > 1);
    assert.equal(rw.lines.accepted, 0, "a rewritten session resends, the hub has every event");
    assert.equal((await h.summary()).totals.llmCalls, calls);
    const state = JSON.parse(fs.readFileSync(statePaths(home).shipState, "utf8"));
    const part = Object.entries(state.parts).find(([loc]) => loc.endsWith(`#${sid}`))![1] as { generation: number };
    assert.equal(part.generation, 1);
  });
});

describe("limits", () => {
  it("maxFilesPerRun and maxBytesPerRun: partial cycles, the rest pending, converging without duplicates", async () => {
    const h = await hub();
    const home = copyFixture(CURRENT);
    const extra: PluginConfigInput = { upload: { maxFilesPerRun: 3, maxBytesPerRun: 4096 } };
    const first = await cycle(home, h, extra);
    assert.equal(first.outcome, "partial");
    assert.ok(first.pending.sessions > 0);
    assert.ok(first.sessions.sent <= 3);
    let rounds = 1;
    let last = first;
    while (last.outcome === "partial" && rounds < 40) {
      last = await cycle(home, h, extra);
      rounds++;
      assert.equal(last.lines.duplicates, 0, "nothing is sent twice");
    }
    assert.equal(last.outcome, "ok", `${rounds} rounds`);
    assert.ok(rounds > 3);
    await assertTotals(h, CURRENT);
  });
});

describe("filters", () => {
  it("deny beats allow; session globs skip sessions before reading; small sessions wait", async () => {
    const h = await hub();
    const home = copyFixture(CURRENT);
    const r = await cycle(home, h, { filter: { agents: { allow: ["main", "ops"], deny: ["ops"] }, sessions: { deny: ["agent:main:web-*", "agent:main:*:*-*-*"] } } });
    assert.equal(r.outcome, "ok");
    const sessions = await h.sessions();
    const rows = (sessions as unknown as { sessions: { agentId: string; sessionKey: string | null }[] }).sessions;
    assert.ok(rows.length > 0);
    assert.ok(rows.every((s) => s.agentId === "main"), "ops denied");
    assert.ok(rows.every((s) => !s.sessionKey?.startsWith("agent:main:web-")), JSON.stringify(rows.map((s) => s.sessionKey)));
    assert.ok(r.sessions.denied > 0);

    const h2 = await hub();
    const home2 = copyFixture(CURRENT);
    const small = await cycle(home2, h2, { filter: { minMessages: 1000 } });
    assert.equal(small.sessions.sent, 0);
    assert.ok(small.sessions.skippedSmall > 0);
    const again = await cycle(home2, h2, { filter: { minMessages: 1000 } });
    assert.equal(again.sessions.skippedSmall, 0, "an unchanged small session is not read again");
  });
});

describe("privacy", () => {
  it("full: every event arrives byte for byte, non-ASCII text included, from both stores", async () => {
    const text = "café € 日本 😀 \u2028 naïve";
    // Legacy JSONL: an appended event with text in several scripts.
    const legacy = copyFixture(LEGACY);
    const dir = path.join(legacy, "agents", "main", "sessions");
    const file = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith(".jsonl") && !f.includes("trajectory"))!);
    fs.appendFileSync(file, `${JSON.stringify({ type: "message", id: "utf8-legacy", parentId: null, timestamp: new Date().toISOString(), message: { role: "user", content: text } })}\n`);
    const h1 = await hub();
    assert.equal((await cycle(legacy, h1, { privacy: "full" })).outcome, "ok");
    const sent = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "");
    const stored1 = (await h1.conn.db.selectFrom("raw_events").select(["event_id", "payload"]).execute()).map((r) => r.payload);
    for (const line of sent) assert.ok(stored1.includes(line), `stored verbatim: ${line.slice(0, 80)}`);
    assert.equal(JSON.parse(stored1.find((p) => p.includes("utf8-legacy"))!).message.content, text);

    // SQLite store: every row, event_json or zstd, compared with what the hub stored.
    const current = copyFixture(CURRENT);
    const dbFile = path.join(current, "agents", "main", "agent", "openclaw-agent.sqlite");
    const db = new DatabaseSync(dbFile, { readOnly: true });
    const rows = db.prepare("SELECT event_json, event_zstd FROM transcript_events").all() as { event_json: string | null; event_zstd: Uint8Array | null }[];
    db.close();
    const texts = rows.map((r) => r.event_json ?? zlib.zstdDecompressSync(r.event_zstd!).toString("utf8"));
    assert.ok(rows.some((r) => r.event_zstd !== null) && rows.some((r) => r.event_json !== null), "the fixture has both kinds of rows");
    const h2 = await hub();
    assert.equal((await cycle(current, h2, { privacy: "full", filter: { includeSkills: false } })).outcome, "ok");
    const stored2 = new Set((await h2.conn.db.selectFrom("raw_events").select("payload").execute()).map((r) => r.payload));
    for (const t of texts) assert.ok(stored2.has(t), `stored verbatim: ${t.slice(0, 80)}`);
    await assertTotals(h2, CURRENT);
  });

  it("metadata: the hub gets every figure and no text", async () => {
    const h = await hub();
    const home = copyFixture(CURRENT);
    const r = await cycle(home, h, { privacy: "metadata", filter: { includeSkills: false } });
    assert.equal(r.outcome, "ok");
    await assertTotals(h, CURRENT);
    const payloads = (await h.conn.db.selectFrom("raw_events").select("payload").execute()).map((p) => p.payload).join("\n");
    assert.ok(!payloads.includes("Hello from fake model"), "assistant text");
    assert.ok(!payloads.includes("hello there"), "user text");
    assert.ok(!payloads.includes("big-notes"), "tool arguments");
    assert.ok(!payloads.includes('"cwd"'), "working directory");
    const tools = (await h.tools()) as unknown as { tools: { name: string; errors: number }[] };
    assert.ok(tools.tools.some((t) => t.name === "read" && t.errors >= 1), "tool names and error flags survive");
  });

  // Built-in patterns only: the raw-text path (redact-raw.ts); with a custom pattern: the decoding path.
  for (const patterns of [[], ["hunter\\d+"]]) {
    it(`redacted${patterns.length ? " with a custom pattern" : ""}: secrets and e-mail addresses are masked, ids and other text are not`, async () => {
      const h = await hub();
      const home = copyFixture(LEGACY);
      const dir = path.join(home, "agents", "main", "sessions");
      const file = fs.readdirSync(dir).find((f) => f.endsWith(".jsonl") && !f.includes("trajectory"))!;
      const text = "my key is sk-live-abcdefghijklmnop1234 and mail bob@example.com,\npassword=hunter22\nsee café → 日本 😀";
      const ev = { type: "message", id: "sk-live-abcdefghijklmnop1234", parentId: null, timestamp: new Date().toISOString(), message: { role: "user", content: text, timestamp: Date.now() } };
      fs.appendFileSync(path.join(dir, file), `${JSON.stringify(ev)}\n`);
      await cycle(home, h, { privacy: "redacted", redact: { patterns } });
      const row = await h.conn.db.selectFrom("raw_events").select("payload").where("event_id", "=", "sk-live-abcdefghijklmnop1234").executeTakeFirstOrThrow();
      const content = (JSON.parse(row.payload) as { message: { content: string } }).message.content;
      // An assignment keeps its name and operator; the value goes.
      assert.equal(content, "my key is [REDACTED] and mail [EMAIL],\npassword=[REDACTED]\nsee café → 日本 😀");
      assert.ok(!row.payload.includes("hunter22"));
      assert.equal((row.payload.match(/sk-live-abcdefghijklmnop1234/g) ?? []).length, 1, "the id stays, the secret in the text goes");
      await assertTotals(h, LEGACY);
    });
  }
});

describe("state", () => {
  it("a corrupt state file is moved aside; the resync creates no duplicates", async () => {
    const h = await hub();
    const home = copyFixture(CURRENT);
    await cycle(home, h);
    const raw = await h.rawEvents();
    const file = statePaths(home).shipState;
    fs.writeFileSync(file, "{ this is not json");
    const r = await cycle(home, h);
    assert.equal(r.outcome, "ok");
    assert.ok(r.errors.some((e) => e.kind === "state" && /moved aside/.test(e.message)));
    assert.ok(fs.readdirSync(path.dirname(file)).some((f) => f.startsWith("ship-state.json.corrupt-")));
    assert.equal(r.lines.accepted, 0, "everything resent was already there");
    assert.equal(r.lines.duplicates, r.lines.sent);
    assert.equal(await h.rawEvents(), raw);
    await assertTotals(h, CURRENT);
    assert.equal((fs.statSync(file).mode & 0o777).toString(8), "600");
  });

  it("never two cycles at once: a held lock makes the cycle report busy", async () => {
    const h = await hub();
    const home = copyFixture(CURRENT);
    fs.mkdirSync(statePaths(home).dir, { recursive: true });
    const lock = tryLock(statePaths(home).lock, "test", { staleAfterMs: 60_000 });
    assert.ok(lock.ok);
    const r = await cycle(home, h);
    assert.equal(r.outcome, "busy");
    assert.equal(r.requests, 0);
    lock.lock.release();
    assert.equal((await cycle(home, h)).outcome, "ok");
  });
});
