import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FleetBudgetSchema, budgetPeriodOf, budgetScopeCovers, budgetState, describeBudgetIssues, type BudgetPeriodKind } from "../src/index.ts";

const iso = (ms: number) => new Date(ms).toISOString();

describe("budget periods (calendar periods in a zone)", () => {
  const check = (at: string, kind: BudgetPeriodKind, tz: string, start: string, end: string) => {
    const p = budgetPeriodOf(Date.parse(at), kind, tz);
    assert.deepEqual([iso(p.start), iso(p.end)], [start, end], `${kind} ${tz} at ${at}`);
  };
  it("days at local midnight, including 23 h and 25 h DST days and half-hour zones", () => {
    check("2026-12-08T12:00:00Z", "day", "UTC", "2026-12-08T00:00:00.000Z", "2026-12-09T00:00:00.000Z");
    check("2026-12-07T23:30:00Z", "day", "Europe/Berlin", "2026-12-07T23:00:00.000Z", "2026-12-08T23:00:00.000Z");
    check("2026-03-29T12:00:00Z", "day", "Europe/Berlin", "2026-03-28T23:00:00.000Z", "2026-03-29T22:00:00.000Z");
    check("2026-10-25T12:00:00Z", "day", "Europe/Berlin", "2026-10-24T22:00:00.000Z", "2026-10-25T23:00:00.000Z");
    check("2026-03-08T12:00:00Z", "day", "America/New_York", "2026-03-08T05:00:00.000Z", "2026-03-09T04:00:00.000Z");
    check("2026-12-08T00:00:00Z", "day", "Asia/Kolkata", "2026-12-07T18:30:00.000Z", "2026-12-08T18:30:00.000Z");
  });
  it("a midnight that does not exist (Chile springs forward at 00:00): the day starts at 01:00", () => {
    check("2026-09-06T03:59:59Z", "day", "America/Santiago", "2026-09-05T04:00:00.000Z", "2026-09-06T04:00:00.000Z");
    check("2026-09-06T04:00:00Z", "day", "America/Santiago", "2026-09-06T04:00:00.000Z", "2026-09-07T03:00:00.000Z");
  });
  it("an instant at the boundary belongs to the new period", () => {
    const end = budgetPeriodOf(Date.parse("2026-12-08T10:00:00Z"), "day", "Europe/Berlin").end;
    assert.equal(budgetPeriodOf(end, "day", "Europe/Berlin").start, end);
    assert.equal(budgetPeriodOf(end - 1, "day", "Europe/Berlin").end, end);
  });
  it("weeks start on Monday (also across a DST change), months on the 1st (month ends, leap February)", () => {
    check("2026-12-06T22:59:59Z", "week", "Europe/Berlin", "2026-11-29T23:00:00.000Z", "2026-12-06T23:00:00.000Z");
    check("2026-12-06T23:00:00Z", "week", "Europe/Berlin", "2026-12-06T23:00:00.000Z", "2026-12-13T23:00:00.000Z");
    check("2026-10-25T12:00:00Z", "week", "Europe/Berlin", "2026-10-18T22:00:00.000Z", "2026-10-25T23:00:00.000Z");
    check("2026-10-28T12:00:00Z", "week", "Europe/Berlin", "2026-10-25T23:00:00.000Z", "2026-11-01T23:00:00.000Z");
    check("2026-12-31T23:30:00Z", "month", "Europe/Berlin", "2026-12-31T23:00:00.000Z", "2027-01-31T23:00:00.000Z");
    check("2026-03-15T00:00:00Z", "month", "Europe/Berlin", "2026-02-28T23:00:00.000Z", "2026-03-31T22:00:00.000Z");
    check("2028-02-29T12:00:00Z", "month", "UTC", "2028-02-01T00:00:00.000Z", "2028-03-01T00:00:00.000Z");
    check("2026-04-30T23:59:59Z", "month", "UTC", "2026-04-01T00:00:00.000Z", "2026-05-01T00:00:00.000Z");
    check("2027-01-03T12:00:00Z", "week", "UTC", "2026-12-28T00:00:00.000Z", "2027-01-04T00:00:00.000Z");
  });
});

describe("budget contract", () => {
  it("a fleet budget defaults to every deployment and UTC; bad fields are named by path", () => {
    const ok = FleetBudgetSchema.parse({ id: "fleet-daily", period: "day", limitUsd: 5 });
    assert.equal(ok.deployment, "*");
    assert.equal(ok.timeZone, "UTC");
    const bad = FleetBudgetSchema.safeParse({ id: "Bad Id", period: "year", scope: { agnt: "x" }, action: "downgrade", timeZone: "Mars/Base" });
    assert.equal(bad.success, false);
    const msg = describeBudgetIssues(bad.error!);
    for (const p of ["id:", "period:", "scope:", "timeZone:"]) assert.match(msg, new RegExp(`(^|; )${p.replace(".", "\\.")}`), msg);
  });
  it("limits and downgrade are checked together", () => {
    const msg = describeBudgetIssues(FleetBudgetSchema.safeParse({ id: "a", period: "day", action: "downgrade" }).error!);
    assert.match(msg, /limitUsd: limitUsd and\/or limitTokens is required/);
    assert.match(msg, /downgradeTo: required/);
  });
  it("state: ok below warnAt, warn from it, exceeded at the limit (either limit)", () => {
    const b = { limitUsd: 10, limitTokens: 1000, warnAt: [0.8] };
    assert.equal(budgetState(b, 7_999_999_999, 0), "ok");
    assert.equal(budgetState(b, 8_000_000_000, 0), "warn");
    assert.equal(budgetState(b, 10_000_000_000, 0), "exceeded");
    assert.equal(budgetState(b, 0, 1000), "exceeded");
  });
  it("scopes: every named key must match; provider/model or a bare model id", () => {
    const s = { agent: "main", channel: "telegram", kind: "direct", cronJob: null, provider: "anthropic", model: "claude-haiku-4-5" };
    assert.equal(budgetScopeCovers({}, s), true);
    assert.equal(budgetScopeCovers({ agent: "main", model: "anthropic/claude-haiku-4-5" }, s), true);
    assert.equal(budgetScopeCovers({ model: "openai/claude-haiku-4-5" }, s), false);
    assert.equal(budgetScopeCovers({ cronJob: "nightly" }, s), false);
  });
});
