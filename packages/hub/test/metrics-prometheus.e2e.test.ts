/**
 * A real Prometheus (Debian's /usr/bin/prometheus) scrapes a real hub's /metrics over loopback with a bearer
 * API key; its query API must give the fixture's independently known totals.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createPriceBook, listAgents, loadBundledPrices, readConfigPrices } from "@clawtower/core";
import { createApiKey, openStore, syncHome, type StoreConnection } from "@clawtower/store";
import { buildMixedHome, tmpDir } from "@clawtower/testkit";
import { startHub, type RunningHub } from "../src/index.ts";

const PROMETHEUS = "/usr/bin/prometheus";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe("a real Prometheus scrapes /metrics", { skip: fs.existsSync(PROMETHEUS) || process.env["CI"] ? false : `${PROMETHEUS} not installed (.ci/run installs it)` }, () => {
  const mixed = buildMixedHome();
  const expected = mixed.home.expected;
  let conn: StoreConnection;
  let hub: RunningHub;
  let prom: ChildProcess;
  let promUrl: string;
  let promLog = "";

  before(async () => {
    const dir = tmpDir();
    const home = path.join(dir, "openclaw");
    mixed.home.write(home);
    conn = await openStore({ kind: "sqlite", path: path.join(dir, "clawtower.db") });
    const cfg = readConfigPrices(home, listAgents(home).map((a) => a.dir));
    const prices = createPriceBook(cfg.prices, loadBundledPrices().prices);
    await syncHome(conn, { home, deploymentId: "dep-local", deploymentName: "local", prices });
    // An admin token makes the hub require a token for reads; Prometheus scrapes with an API key.
    hub = await startHub({ conn, prices, host: "127.0.0.1", port: 0, adminToken: "admin-token-for-prometheus-test", webDir: null, log: () => {} });
    const key = (await createApiKey(conn, { name: "prometheus", scopes: ["read"] }, Date.now())).token;
    const keyFile = path.join(dir, "scrape-key");
    fs.writeFileSync(keyFile, key, { mode: 0o600 });
    const config = path.join(dir, "prometheus.yml");
    fs.writeFileSync(
      config,
      [
        "global:",
        "  scrape_interval: 1s",
        "scrape_configs:",
        "  - job_name: clawtower",
        "    metrics_path: /metrics",
        "    authorization:",
        "      type: Bearer",
        `      credentials_file: ${keyFile}`,
        "    static_configs:",
        `      - targets: ["127.0.0.1:${hub.port}"]`,
        "",
      ].join("\n"),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prom = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, "tsdb")}`, `--web.listen-address=127.0.0.1:${port}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    prom.stdout!.on("data", (d) => (promLog += d));
    prom.stderr!.on("data", (d) => (promLog += d));
  });

  after(async () => {
    if (prom && prom.exitCode === null) {
      const gone = new Promise((r) => prom.once("exit", r));
      prom.kill("SIGTERM");
      await gone;
    }
    await hub?.close();
    await conn?.close();
  });

  /** A PromQL instant query's single value, or null while Prometheus has no sample yet. */
  async function query(q: string): Promise<number | null> {
    try {
      const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
      if (!r.ok) return null;
      const body = (await r.json()) as { data: { result: { value: [number, string] }[] } };
      const v = body.data.result[0]?.value[1];
      return v === undefined ? null : Number(v);
    } catch {
      return null; // not listening yet
    }
  }

  async function eventually(q: string, timeoutMs = 60_000): Promise<number> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const v = await query(q);
      if (v !== null) return v;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`Prometheus never answered ${q}; its log:\n${promLog}`);
  }

  it("gives the fixture's totals through PromQL", async () => {
    assert.equal(await eventually(`up{job="clawtower"} == 1`), 1, "the scrape succeeds with the API key");
    assert.equal(await eventually("sum(clawtower_tokens_total)"), expected.tokens.total);
    assert.equal(await eventually(`sum(clawtower_tokens_total{kind="cache_read"})`), expected.tokens.cacheRead);
    assert.equal(await eventually("sum(clawtower_llm_calls_total)"), expected.llmCalls);
    assert.equal(await eventually("sum(clawtower_tool_errors_total)"), expected.toolErrors);
    const recorded = await eventually(`sum(clawtower_cost_usd_total{source="recorded"})`);
    assert.ok(Math.abs(recorded - expected.recordedCost) < 1e-9, `${recorded} vs ${expected.recordedCost}`);
    assert.equal(await eventually(`count(count by (agent) (clawtower_llm_calls_total{deployment="dep-local"}))`), 2);
  });
});
