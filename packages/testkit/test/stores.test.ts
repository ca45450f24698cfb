/**
 * Without CLAWTOWER_TEST_DATABASE_URL the PostgreSQL suites count as skipped tests in node:test's summary
 * (they used to vanish, so a run without PostgreSQL looked complete); with CI set, a missing database fails.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { tmpDir } from "../src/tmp.ts";

const suite = `
import { it } from "node:test";
import { describeStore, storeTargets } from ${JSON.stringify(path.resolve(import.meta.dirname, "../src/stores.ts"))};
for (const target of storeTargets()) {
  describeStore(target, \`[\${target.name}] a suite\`, () => {
    it("one", () => target.options());
    it("two", () => {});
  });
}
`;

function runSuite(env: NodeJS.ProcessEnv): { status: number | null; out: string } {
  const file = path.join(tmpDir(), "stores-probe.test.mjs");
  fs.writeFileSync(file, suite);
  const clean = { ...process.env };
  delete clean["CLAWTOWER_TEST_DATABASE_URL"];
  delete clean["CI"];
  delete clean["NODE_TEST_CONTEXT"]; // else the child thinks it runs inside this test run
  const r = spawnSync(process.execPath, ["--test", "--test-reporter=tap", file], { env: { ...clean, ...env }, encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}

it("counts the PostgreSQL suites as skipped, with the reason, when no database is configured", () => {
  const r = runSuite({});
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /^# pass 2$/m, "the SQLite suite ran");
  assert.match(r.out, /^# skipped 1$/m, "the PostgreSQL suite is counted as skipped");
  assert.match(r.out, /\[postgres\] a suite # SKIP CLAWTOWER_TEST_DATABASE_URL not set/);
});

it("fails in CI when no database is configured", () => {
  const r = runSuite({ CI: "1" });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /CI must run the PostgreSQL tests/);
});
