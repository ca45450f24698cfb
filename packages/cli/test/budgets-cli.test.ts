/** `clawtower budgets set|list|rm` against a real store file with a gateway's calls of today. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { budgetPeriodOf, createPriceBook, loadBundledPrices } from "@clawtower/core";
import { openStore, syncHome } from "@clawtower/store";
import { FixtureHome, tmpDir } from "@clawtower/testkit";

const BIN = path.resolve(import.meta.dirname, "../bin/clawtower.js");

function run(args: string[], dir: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, CLAWTOWER_HOME: path.join(dir, "ct-home") };
  delete env["CLAWTOWER_DATABASE_URL"];
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("clawtower budgets", () => {
  const dir = tmpDir();
  const db = path.join(dir, "ct.db");
  let nanos = 0;
  it("set from flags and from a JSON file, list with the spend of this period and the state, rm", async () => {
    const now = Date.now();
    const fx = new FixtureHome();
    const s = fx.agent("main").session({ store: "sqlite", sessionKey: "agent:main:telegram:direct:u1" });
    const day = budgetPeriodOf(now, "day", "UTC");
    for (const [k, at] of [day.start - 60_000, day.start + 1000, Math.min(now - 1000, day.start + 2000)].entries()) {
      s.at(at);
      s.user(`q${k}`);
      s.assistant({ provider: "anthropic", model: "claude-sonnet-4-5", input: 100, output: 10, cost: 1.5 });
      if (at >= day.start) nanos += 1_500_000_000;
    }
    fx.write(path.join(dir, "home"));
    const conn = await openStore({ kind: "sqlite", path: db });
    await syncHome(conn, { home: path.join(dir, "home"), deploymentId: "gw-1", deploymentName: "gw-1", prices: createPriceBook([], loadBundledPrices().prices), workers: 0 });
    await conn.close();

    const set = run(["budgets", "set", "--db", db, "--id", "main-daily", "--scope", "agent=main", "--period", "day", "--tz", "UTC", "--limit-usd", "2.5", "--warn-at", "0.5,0.9"], dir);
    assert.equal(set.code, 0, set.stderr);
    fs.writeFileSync(path.join(dir, "b.json"), JSON.stringify({ id: "other-gw", deployment: "gw-2", period: "month", limitTokens: 10 }));
    assert.equal(run(["budgets", "set", "--db", db, path.join(dir, "b.json")], dir).code, 0);
    const list = run(["budgets", "list", "--db", db, "--json"], dir);
    assert.equal(list.code, 0, list.stderr);
    const r = JSON.parse(list.stdout);
    const main = r.budgets.find((b: any) => b.budget.id === "main-daily");
    assert.equal(main.spend.nanos, nanos);
    assert.equal(main.state, nanos >= 2.5e9 ? "exceeded" : nanos >= 1.25e9 ? "warn" : "ok");
    assert.deepEqual(main.budget.warnAt, [0.5, 0.9]);
    assert.equal(r.budgets.find((b: any) => b.budget.id === "other-gw").spend.tokens, 0, "gw-2's budget does not count gw-1");
    const text = run(["budgets", "list", "--db", db], dir);
    assert.match(text.stdout, new RegExp(`main-daily\\s+${main.state}`));
    assert.equal(run(["budgets", "rm", "--db", db, "other-gw"], dir).code, 0);
    assert.equal(run(["budgets", "rm", "--db", db, "other-gw"], dir).code, 1);
  });
  it("bad input: exit 2 naming the field, nothing stored", () => {
    const bad = run(["budgets", "set", "--db", db, "--id", "x", "--period", "day", "--action", "downgrade", "--limit-usd", "1"], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /downgradeTo: required/);
    fs.writeFileSync(path.join(dir, "bad.json"), JSON.stringify({ id: "y", period: "day", limitUsd: 1, scope: { agent: 5 } }));
    const file = run(["budgets", "set", "--db", db, path.join(dir, "bad.json")], dir);
    assert.equal(file.code, 2);
    assert.match(file.stderr, /scope\.agent:/);
    assert.equal(run(["budgets", "set", "--db", db, "--id", "z", "--period", "day", "--limit-usd", "abc"], dir).code, 2);
    const ids = JSON.parse(run(["budgets", "list", "--db", db, "--json"], dir).stdout).budgets.map((b: any) => b.budget.id);
    assert.deepEqual(ids, ["main-daily"]);
  });
});
