import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createPriceBook, listAgents, loadBundledPrices, readConfigPrices } from "@clawtower/core";
import { createApiKey, openStore, syncHome, type StoreConnection, type UsageTotalsRow } from "@clawtower/store";
import { buildMixedHome, describeStore, storeTargets, tmpDir } from "@clawtower/testkit";
import { createChangeFeed, createHubApp, type ChangeFeed } from "../src/index.ts";
import { boundModels } from "../src/routes/metrics-labels.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The samples of a Prometheus text exposition (the subset prom-client writes: no timestamps, no escapes in our values). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (s: Sample[], name: string, where: Record<string, string> = {}) =>
  s.filter((x) => x.name === name && Object.entries(where).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);

for (const target of targets) {
  describeStore(target, `[${target.name}] hub /metrics`, () => {
    let conn: StoreConnection;
    let feed: ChangeFeed;
    let prices: ReturnType<typeof createPriceBook>;
    const mixed = buildMixedHome();
    const expected = mixed.home.expected;
    const app = (opts: Partial<Parameters<typeof createHubApp>[0]> = {}) =>
      createHubApp({ conn, prices, auth: { adminToken: null, loopbackOnly: true }, feed, webDir: null, log: () => {}, ...opts });
    const scrape = async (a: ReturnType<typeof createHubApp>, headers: Record<string, string> = {}) => {
      const r = await a.request("/metrics", { headers: { host: "127.0.0.1:4680", ...headers } });
      return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
    };

    before(async () => {
      const home = path.join(tmpDir(), "openclaw");
      mixed.home.write(home);
      conn = await openStore(target.options());
      const cfg = readConfigPrices(home, listAgents(home).map((a) => a.dir));
      prices = createPriceBook(cfg.prices, loadBundledPrices().prices);
      await syncHome(conn, { home, deploymentId: "dep-local", deploymentName: "local", prices });
      feed = await createChangeFeed(conn, 50);
    });
    after(async () => {
      feed.close();
      await conn.close();
    });

    it("exports the fixture's all-time totals as counters in the Prometheus text format", async () => {
      const r = await scrape(app());
      assert.equal(r.status, 200);
      assert.match(r.type ?? "", /^text\/plain; version=0\.0\.4/);
      const s = parseExposition(r.text);
      assert.equal(sum(s, "clawtower_tokens_total", { kind: "input" }), expected.tokens.input);
      assert.equal(sum(s, "clawtower_tokens_total", { kind: "output" }), expected.tokens.output);
      assert.equal(sum(s, "clawtower_tokens_total", { kind: "cache_read" }), expected.tokens.cacheRead);
      assert.equal(sum(s, "clawtower_tokens_total", { kind: "cache_write" }), expected.tokens.cacheWrite);
      assert.equal(sum(s, "clawtower_llm_calls_total"), expected.llmCalls);
      assert.equal(sum(s, "clawtower_tool_calls_total"), expected.toolCalls);
      assert.equal(sum(s, "clawtower_tool_errors_total"), expected.toolErrors);
      assert.ok(Math.abs(sum(s, "clawtower_cost_usd_total", { source: "recorded" }) - expected.recordedCost) < 1e-9);
      assert.ok(Math.abs(sum(s, "clawtower_cost_usd_total", { source: "estimated" }) - mixed.estimatedUsd) < 1e-9);
      for (const [key, m] of expected.byModel) {
        const [provider, ...rest] = key.split("/");
        assert.equal(sum(s, "clawtower_llm_calls_total", { provider: provider!, model: rest.join("/") }), m.calls, key);
      }
      // Labelled by deployment and agent, never by session.
      for (const x of s) {
        assert.ok(!("session" in x.labels) && !("session_id" in x.labels));
        if (x.name !== "clawtower_active_sessions") assert.equal(x.labels["deployment"], "dep-local");
      }
      assert.deepEqual([...new Set(s.filter((x) => x.name === "clawtower_llm_calls_total").map((x) => x.labels["agent"]))].sort(), ["legacy", "main"]);
    });

    it("bounds the models per deployment: beyond the top N by spend they are summed as other, totals unchanged", async () => {
      const s = parseExposition((await scrape(app({ metrics: { topModels: 1 } }))).text);
      const models = new Set(s.filter((x) => x.name === "clawtower_llm_calls_total").map((x) => `${x.labels["provider"]}/${x.labels["model"]}`));
      const bySpend = [...expected.byModel.entries()].sort((a, b) => b[1].recordedCost - a[1].recordedCost);
      assert.ok(expected.byModel.size > 2);
      assert.deepEqual([...models].sort(), [bySpend[0]![0], "other/other"].sort());
      assert.equal(sum(s, "clawtower_llm_calls_total"), expected.llmCalls);
      assert.equal(sum(s, "clawtower_tokens_total"), expected.tokens.total);
      assert.equal(sum(s, "clawtower_llm_calls_total", { model: "other" }), expected.llmCalls - bySpend[0]![1].calls);
    });

    it("counts sessions active within the window, by session kind", async () => {
      const all = parseExposition((await scrape(app({ now: () => Date.UTC(2100, 0, 1), metrics: { activeWindowMs: 60_000 } }))).text);
      assert.equal(sum(all, "clawtower_active_sessions"), 0);
      const wide = parseExposition((await scrape(app({ now: () => Date.UTC(2100, 0, 1), metrics: { activeWindowMs: Date.UTC(2100, 0, 1) } }))).text);
      assert.equal(sum(wide, "clawtower_active_sessions"), expected.sessions);
      assert.ok(sum(wide, "clawtower_active_sessions", { session_kind: "subagent" }) >= 1);
    });

    it("goes through the read API's authentication", async () => {
      const guarded = app({ auth: { adminToken: "admin-token-0123456789", loopbackOnly: false } });
      assert.equal((await scrape(guarded)).status, 401);
      assert.equal((await scrape(guarded, { authorization: "Bearer wrong" })).status, 401);
      assert.equal((await scrape(guarded, { authorization: "Bearer admin-token-0123456789" })).status, 200);
      const key = (await createApiKey(conn, { scopes: ["read"] }, Date.now())).token;
      const byKey = await scrape(guarded, { authorization: `Bearer ${key}` });
      assert.equal(byKey.status, 200);
      assert.equal(sum(parseExposition(byKey.text), "clawtower_llm_calls_total"), expected.llmCalls);
      // An ingest-only key may not read; a read key bound to a deployment sees only that deployment.
      const ingestOnly = (await createApiKey(conn, { scopes: ["ingest"] }, Date.now())).token;
      assert.equal((await scrape(guarded, { authorization: `Bearer ${ingestOnly}` })).status, 403);
      const mine = (await createApiKey(conn, { scopes: ["read"], deploymentId: "dep-local" }, Date.now())).token;
      assert.equal(sum(parseExposition((await scrape(guarded, { authorization: `Bearer ${mine}` })).text), "clawtower_tokens_total"), expected.tokens.total);
      const other = (await createApiKey(conn, { scopes: ["read"], deploymentId: "dep-elsewhere" }, Date.now())).token;
      const none = parseExposition((await scrape(guarded, { authorization: `Bearer ${other}` })).text);
      assert.equal(none.filter((x) => x.name.startsWith("clawtower_")).length, 0);
    });
  });
}

describe("metrics label bounds", () => {
  const row = (deploymentId: string, agentId: string, model: string, nanos: number, calls = 1): UsageTotalsRow => ({
    deploymentId,
    agentId,
    provider: "p",
    model,
    calls,
    inputTokens: calls * 10,
    outputTokens: calls,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    recordedNanos: nanos,
    estimatedNanos: 0,
  });

  it("keeps the top N per deployment (not overall) and folds the rest per agent", () => {
    const rows = [row("a", "x", "m1", 100), row("a", "y", "m1", 50), row("a", "x", "m2", 10), row("a", "x", "m3", 5, 7), row("b", "x", "m3", 1)];
    const out = boundModels(rows, 1);
    const key = (r: UsageTotalsRow) => `${r.deploymentId}/${r.agentId}/${r.model}`;
    assert.deepEqual(out.map(key).sort(), ["a/x/m1", "a/x/other", "a/y/m1", "b/x/m3"]);
    const other = out.find((r) => key(r) === "a/x/other")!;
    assert.equal(other.calls, 8);
    assert.equal(other.recordedNanos, 15);
    assert.equal(out.reduce((a, r) => a + r.inputTokens, 0), rows.reduce((a, r) => a + r.inputTokens, 0));
  });

  it("breaks spend ties by tokens, then calls, then name, so a store always gives the same set", () => {
    const rows = [row("a", "x", "zz", 0, 1), row("a", "x", "mm", 0, 3), row("a", "x", "aa", 0, 3)];
    assert.deepEqual(boundModels(rows, 1).map((r) => r.model).sort(), ["aa", "other"]);
  });
});
