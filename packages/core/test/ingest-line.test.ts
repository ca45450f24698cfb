/**
 * The rules for ingest input (ingest-line.ts), the usage ceilings every source shares (facts.ts), and report
 * code over any instant a store may hold (zone.ts and the builders): issue 16 A1–A4.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  INGEST_LIMITS,
  MAX_COST_USD_PER_CALL,
  MAX_TOKENS_PER_CALL,
  REPORTABLE_INSTANTS,
  bucketKey,
  bucketStart,
  buildPeriodReport,
  buildSessionsReport,
  buildTimeseries,
  extractEventFacts,
  ingestLineProblem,
  isExtractFailure,
  isoInstant,
  nestsDeeperThan,
  slotBucketer,
  SLOT_MS,
  type EventFacts,
  type IngestEnvelope,
  type UsageAggregate,
} from "../src/index.ts";

function facts(event: unknown): EventFacts {
  const f = extractEventFacts(JSON.stringify(event));
  assert.ok(!isExtractFailure(f), JSON.stringify(f));
  return f;
}

const assistant = (usage: unknown, extra: Record<string, unknown> = {}) => ({
  type: "message",
  id: "e1",
  timestamp: "2026-11-20T10:00:00Z",
  message: { role: "assistant", provider: "acme", model: "m", usage, ...extra },
});

describe("usage ceilings (every source)", () => {
  it("counts whole token counts from 0 to MAX_TOKENS_PER_CALL, and nothing else", () => {
    const cases: [unknown, number, boolean][] = [
      [0, 0, true],
      [MAX_TOKENS_PER_CALL, MAX_TOKENS_PER_CALL, true],
      [MAX_TOKENS_PER_CALL + 1, 0, false],
      [3.5, 0, false],
      [9007199254740994, 0, false],
      [1e20, 0, false],
      [-1, 0, false],
      ["12", 0, false],
    ];
    for (const [input, counted, valid] of cases) {
      const u = facts(assistant({ input, output: 2 })).message!.usage!;
      assert.deepEqual([u.tokens.input, u.tokens.output, u.invalidFields], [counted, 2, valid ? [] : ["input"]], String(input));
    }
  });

  it("uses a recorded cost from 0 to MAX_COST_USD_PER_CALL, and reports any other", () => {
    const cases: [unknown, number | undefined][] = [
      [0.25, 0.25],
      [MAX_COST_USD_PER_CALL, MAX_COST_USD_PER_CALL],
      [MAX_COST_USD_PER_CALL + 0.01, undefined],
      [1e12, undefined],
      [-0.5, undefined],
    ];
    for (const [total, recorded] of cases) {
      const u = facts(assistant({ input: 1, output: 1, cost: { total } })).message!.usage!;
      assert.deepEqual([u.recordedCost, u.invalidFields], [recorded, recorded === undefined ? ["cost.total"] : []], String(total));
    }
  });

  it("reads a numeric timestamp as whole milliseconds", () => {
    const f = facts({ type: "message", id: "e", timestamp: 1_763_632_800_000.75, message: { role: "user", timestamp: 1_763_632_800_001.5 } });
    assert.deepEqual([f.timestamp, f.message!.timestamp], [1_763_632_800_000, 1_763_632_800_001]);
  });
});

describe("ingestLineProblem", () => {
  const now = Date.parse("2026-12-01T00:00:00Z");
  const line: IngestEnvelope = { deploymentId: "gw", agentId: "main", sessionId: "s1", idempotencyKey: null, event: "{}" };
  const ok = facts(assistant({ input: 1, output: 1 }));
  const problem = (l: Partial<IngestEnvelope>, f: EventFacts = ok) => ingestLineProblem({ ...line, ...l }, f, now)?.split(":")[0];

  it("takes a normal line", () => {
    assert.equal(ingestLineProblem(line, ok, now), undefined);
    assert.equal(problem({ session: { label: "tab\there is fine in text", sessionKey: "agent:main:main", skills: ["a"] } }), undefined);
  });

  it("names the id that is empty, too long or holds a control character", () => {
    assert.equal(problem({ agentId: "" }), "agentId");
    assert.equal(problem({ sessionId: "x".repeat(INGEST_LIMITS.sessionId + 1) }), "sessionId");
    assert.equal(problem({ sessionId: "x".repeat(INGEST_LIMITS.sessionId) }), undefined);
    for (const c of ["\u0000", "\u0009", "\u001f", "\u007f", "\u0085", "\u009f"]) assert.equal(problem({ deploymentId: `g${c}w` }), "deploymentId", JSON.stringify(c));
    assert.equal(problem({ deploymentId: "g\u00a0w" }), undefined); // not a control character
    assert.equal(problem({ idempotencyKey: "k\n" }), "idempotencyKey");
    assert.equal(problem({ session: { sessionKey: "agent:\u0001" } }), "session.sessionKey");
    assert.equal(problem({ session: { skills: ["ok", "b\u0000d"] } }), "session.skills");
  });

  it("names the event's id or stored text that cannot be kept", () => {
    assert.equal(problem({}, facts({ ...assistant({ input: 1 }), id: "e\u0007" })), "event.id");
    assert.equal(problem({}, facts(assistant({ input: 1 }, { model: "m\u0000" }))), "event.message.model");
    assert.equal(problem({}, facts(assistant({ input: 1 }, { model: "m\tok" }))), undefined); // text may hold a tab
    assert.equal(problem({}, facts(assistant({ input: 1 }, { content: [{ type: "toolCall", id: "c\u0000", name: "read" }] }))), "event.message.content[toolCall 0].id");
    assert.equal(problem({ event: '{"type":"message","x":"a\u0000b"}' }), "event");
  });

  it("takes instants from 2020-01-01 to 24 h after the hub's clock", () => {
    const at = (timestamp: unknown) => problem({}, facts({ type: "message", id: "e", timestamp, message: { role: "user" } }));
    assert.equal(at(INGEST_LIMITS.earliestTimestampMs), undefined);
    assert.equal(at(INGEST_LIMITS.earliestTimestampMs - 1), "event.timestamp");
    assert.equal(at(now + INGEST_LIMITS.maxFutureMs), undefined);
    assert.equal(at(now + INGEST_LIMITS.maxFutureMs + 1), "event.timestamp");
    assert.equal(at("+275760-09-13T00:00:00.000Z"), "event.timestamp");
    assert.equal(at(1e20), "event.timestamp");
    assert.equal(problem({}, facts({ type: "message", id: "e", message: { role: "user", timestamp: 1_600_000 } })), "event.message.timestamp");
  });
});

describe("nestsDeeperThan", () => {
  const nested = (depth: number) => {
    let v: unknown = [];
    for (let i = 1; i < depth; i++) v = i % 2 ? { a: v } : [v];
    return v;
  };
  it("measures nesting exactly, without recursion", () => {
    assert.equal(nestsDeeperThan(nested(5), 5), false);
    assert.equal(nestsDeeperThan(nested(5), 4), true);
    assert.equal(nestsDeeperThan({ a: 1, b: "x", c: null }, 1), false);
    assert.equal(nestsDeeperThan(nested(300_000), 1024), true);
  });
});

describe("report code over any stored instant", () => {
  const zones = ["UTC", "Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/St_Johns", "Asia/Kathmandu", "Europe/Paris"];
  const instants = [-1e18, -8.64e15, -1, 0, Date.parse("2026-11-20T10:00:00Z"), REPORTABLE_INSTANTS.to, 8.64e15, 1e18, 9.2e18];
  const label = { hour: /^\d{4}-\d{2}-\d{2}T\d{2}:00$/, day: /^\d{4}-\d{2}-\d{2}$/, week: /^\d{4}-\d{2}-\d{2}$/, month: /^\d{4}-\d{2}$/ } as const;

  it("labels every instant with a four-digit date that turns back into an instant", () => {
    for (const tz of zones) {
      for (const ms of instants) {
        for (const bucket of ["hour", "day", "week", "month"] as const) {
          const key = bucketKey(ms, tz, bucket);
          assert.match(key, label[bucket], `${tz} ${ms} ${bucket}`);
          const start = bucketStart(key, tz, bucket);
          assert.ok(Number.isFinite(start), `${tz} ${ms} ${bucket}: ${key}`);
          assert.doesNotThrow(() => isoInstant(start));
        }
      }
    }
  });

  it("writes ISO instants as Date does inside the reportable range, and the nearest end outside it", () => {
    const t = Date.parse("2026-11-20T10:00:00.123Z");
    assert.equal(isoInstant(t), new Date(t).toISOString());
    assert.equal(isoInstant(1e18), new Date(REPORTABLE_INSTANTS.to).toISOString());
    assert.equal(isoInstant(-1e18), new Date(REPORTABLE_INSTANTS.from).toISOString());
  });

  it("builds period, time-series and session reports over rows at such instants", () => {
    const rows: UsageAggregate[] = instants.map((ms, i) => ({
      slot: Math.floor(ms / SLOT_MS),
      agentId: "main",
      provider: "acme",
      model: "m",
      calls: 1,
      input: i + 1,
      output: 0,
      cacheRead: 0,
      cacheWrite: 0,
      recordedNanos: 0,
      estimatedNanos: 0,
      unpricedCalls: 1,
      unpricedTokens: i + 1,
    }));
    const total = rows.reduce((s, r) => s + r.input, 0);
    for (const tz of zones) {
      const filters = { since: null, until: null, tz, agent: null, deployment: null };
      for (const bucket of ["day", "week", "month"] as const) {
        const report = buildPeriodReport(rows, bucket, filters, Date.now());
        assert.equal(report.totals.tokens.input, total);
        assert.equal(report.periods.reduce((s, p) => s + p.tokens.input, 0), total);
      }
      const series = buildTimeseries(rows, { bucket: "day", groupBy: "model", filters, generatedAt: Date.now(), dataRange: { first: Date.parse("2026-11-19T00:00:00Z"), last: Date.parse("2026-11-21T00:00:00Z") } });
      assert.equal(series.points.reduce((s, p) => s + p.tokens.input, 0), total);
      assert.ok(slotBucketer(tz, "hour")(Math.floor(9.2e18 / SLOT_MS)));
    }
    const sessions = buildSessionsReport(
      [{ ...rows[0]!, deploymentId: "d", agentId: "main", sessionId: "s", sessionKey: null, kind: "unknown", channel: null, label: null, parentSessionKey: null, firstTs: -1e18, lastTs: 1e18, messages: { user: 0, assistant: 1, toolResult: 0, other: 0 }, toolCalls: 0, toolErrors: 0, errors: 0, aborts: 0, compactions: 0, resets: 0, models: [], skills: null, present: true } as never],
      1,
      { since: null, until: null, tz: "Asia/Tokyo", agent: null, deployment: null },
      Date.now(),
    );
    assert.equal(sessions.sessions[0]!.lastActivity, new Date(REPORTABLE_INSTANTS.to).toISOString());
  });
});
