/**
 * `clawtower insights` over the hand-computed insights home: the JSON equals what a hub on the same store
 * answers at GET /api/v1/insights, the text names the dollar figures and the sessions' deep links, and the
 * route needs read access.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createPriceBook, loadBundledPrices } from "@clawtower/core";
import { startHub, type RunningHub } from "@clawtower/hub";
import { openStore, type StoreConnection } from "@clawtower/store";
import { buildInsightsHome, tmpDir } from "@clawtower/testkit";

const BIN = path.resolve(import.meta.dirname, "../bin/clawtower.js");
const TOKEN = crypto.randomBytes(32).toString("base64url");
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });

describe("clawtower insights", () => {
  const dir = tmpDir();
  const home = path.join(dir, "home");
  const db = path.join(dir, "store.db");
  let conn: StoreConnection;
  let hub: RunningHub;
  let cli: any;
  before(async () => {
    buildInsightsHome().write(home);
    const r = run(["insights", "--openclaw-home", home, "--db", db, "--json", "--no-progress"]);
    assert.equal(r.status, 0, r.stderr);
    cli = JSON.parse(r.stdout);
    conn = await openStore({ kind: "sqlite", path: db });
    hub = await startHub({ conn, prices: createPriceBook([], loadBundledPrices().prices), host: "127.0.0.1", port: 0, adminToken: TOKEN, webDir: null, log: () => {} });
  });
  after(async () => {
    await hub.close();
    await conn.close();
  });

  it("--json equals GET /api/v1/insights on the same store", async () => {
    const res = await fetch(`${hub.url}/api/v1/insights?deployment=${encodeURIComponent(cli.filters.deployment)}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    const api = (await res.json()) as any;
    assert.ok(api.modelWhatIfs.length > 0 && api.cron.length === 1);
    assert.deepEqual({ ...api, generatedAt: null }, { ...cli, generatedAt: null });
  });

  it("the route needs read access", async () => {
    assert.equal((await fetch(`${hub.url}/api/v1/insights`)).status, 401);
  });

  it("the text shows the amounts and the sessions' deep links", () => {
    const r = run(["insights", "--openclaw-home", home, "--db", db, "--no-progress"]);
    assert.equal(r.status, 0, r.stderr);
    // cron sessions of main on claude-opus-5: $0.035375 actual, $0.01415 (printed $0.0142, rounded half up) at claude-sonnet-5 (testkit insights-home.ts)
    assert.match(r.stdout, /cron sessions of agent main on claude-opus-5 → claude-sonnet-5 would have cost \$0\.0142 instead of \$0\.0354/);
    assert.match(r.stdout, /\/sessions\/[^/]+\/main\/sess-a/);
    assert.match(r.stdout, /cron job nightly of agent main: 1 of 2 runs failed, costing \$0\.0030/);
  });
});
