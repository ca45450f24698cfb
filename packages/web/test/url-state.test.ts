import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  autoBucket,
  defaultState,
  effectiveBucket,
  initialCustomRange,
  parseRoute,
  parseState,
  reportParams,
  routePath,
  sessionsParams,
  stateUrl,
  withFilters,
} from "../src/state/url-state.ts";

describe("url state", () => {
  it("round-trips every choice through the URL", () => {
    const s = {
      ...defaultState("UTC"),
      route: { view: "session" as const, deploymentId: "dep 1", agentId: "main", sessionId: "a/b?c" },
      range: { preset: "custom" as const, from: "2026-11-01", to: "2026-11-15" },
      tz: "Europe/Paris",
      agent: "main",
      deployment: "dep 1",
      bucket: "hour" as const,
      metric: "tokens" as const,
      split: "model" as const,
      sessions: { kind: "cron", channel: "telegram", model: "openai/gpt-5.2", q: "agent:main", sort: "cost" as const, order: "asc" as const, page: 3 },
    };
    const url = new URL(stateUrl(s), "http://x");
    assert.equal(url.pathname, "/sessions/dep%201/main/a%2Fb%3Fc");
    assert.deepEqual(parseState(url.pathname, url.search, "UTC"), s);
  });

  it("always writes range and tz, and omits other defaults", () => {
    assert.equal(stateUrl(defaultState("Asia/Tokyo")), "/?range=7d&tz=Asia%2FTokyo");
  });

  it("falls back to defaults for missing or invalid values", () => {
    const s = parseState("/nowhere", "?range=1y&bucket=minute&metric=x&page=-2&sort=name&order=up&range=custom", "America/New_York");
    assert.deepEqual(s, defaultState("America/New_York"));
    // a custom range needs both days; reversed days are swapped
    assert.deepEqual(parseState("/", "?range=custom&from=2026-11-05", "UTC").range, { preset: "7d" });
    assert.deepEqual(parseState("/", "?range=custom&from=2026-11-05&to=2026-11-01", "UTC").range, { preset: "custom", from: "2026-11-01", to: "2026-11-05" });
  });

  it("parses and writes routes", () => {
    for (const p of ["/", "/models", "/agents", "/tools", "/sessions"]) assert.equal(routePath(parseRoute(p)), p);
    assert.deepEqual(parseRoute("/sessions/d/a"), { view: "sessions" });
    assert.deepEqual(parseRoute("/sessions/d/a/s/"), { view: "session", deploymentId: "d", agentId: "a", sessionId: "s" });
  });

  it("maps ranges to the API's since/until", () => {
    const base = defaultState("UTC");
    assert.deepEqual(reportParams({ ...base, range: { preset: "24h" } }), { since: "24h", until: "now", tz: "UTC", agent: null, deployment: null });
    assert.deepEqual(reportParams({ ...base, range: { preset: "all" }, agent: "main" }), { since: null, until: null, tz: "UTC", agent: "main", deployment: null });
    assert.deepEqual(reportParams({ ...base, range: { preset: "custom", from: "2026-11-01", to: "2026-11-02" } }).until, "2026-11-02");
  });

  it("pages the sessions list and resets to page 1 when a filter changes", () => {
    const s = withFilters(defaultState("UTC"), { sessions: { page: 3 } });
    assert.equal(sessionsParams(s).offset, 100);
    assert.equal(sessionsParams(s).limit, 50);
    assert.equal(withFilters(s, { agent: "main" }).sessions.page, 1);
    assert.equal(withFilters(s, { sessions: { kind: "cron" } }).sessions.page, 1);
    assert.equal(sessionsParams({ ...s, sessions: { ...s.sessions, q: "  " } }).q, null);
  });

  it("chooses a bucket that fits the range unless one was picked", () => {
    assert.equal(autoBucket({ preset: "24h" }), "hour");
    assert.equal(autoBucket({ preset: "90d" }), "day");
    assert.equal(autoBucket({ preset: "custom", from: "2026-11-01", to: "2026-11-02" }), "hour");
    assert.equal(autoBucket({ preset: "custom", from: "2020-01-01", to: "2026-11-02" }), "month");
    assert.equal(effectiveBucket({ range: { preset: "24h" }, bucket: "month" }), "month");
  });

  it("starts a custom range at the last 7 days of the zone's calendar", () => {
    // 2026-11-22T23:30Z is already Nov 23 in Tokyo
    assert.deepEqual(initialCustomRange(Date.parse("2026-11-22T23:30:00Z"), "Asia/Tokyo"), { preset: "custom", from: "2026-11-17", to: "2026-11-23" });
  });
});
