/**
 * The stores every store/hub test runs against: embedded SQLite always, and a real PostgreSQL when
 * CLAWTOWER_TEST_DATABASE_URL is set (CI sets it; each test gets its own schema, dropped afterwards).
 * Outside CI without that variable the PostgreSQL suites are registered as skipped tests (so the run's summary
 * counts them: "skipped N"); in CI a missing database is an error, never a skip.
 */
import path from "node:path";
import { describe, it } from "node:test";
import pg from "pg";
import { tmpDir } from "./tmp.ts";

export type StoreTarget =
  | { name: "sqlite"; options: () => { kind: "sqlite"; path: string }; cleanup: () => Promise<void>; skip: false }
  | { name: "postgres"; options: () => { kind: "postgres"; url: string; schema: string }; cleanup: () => Promise<void>; skip: string | false };

const url = process.env["CLAWTOWER_TEST_DATABASE_URL"];
const SKIP_REASON = "CLAWTOWER_TEST_DATABASE_URL not set (CI runs the PostgreSQL tests)";

/**
 * `describe(title, fn)` for one store target; a skipped target registers a skipped test of that title instead
 * (node:test counts a skipped suite as a suite, not as skipped).
 */
export function describeStore(target: StoreTarget, title: string, fn: () => void): void {
  if (target.skip) it(title, { skip: target.skip }, () => {});
  else describe(title, fn);
}

export function storeTargets(): StoreTarget[] {
  const targets: StoreTarget[] = [{ name: "sqlite", options: () => ({ kind: "sqlite", path: path.join(tmpDir(), "clawtower.db") }), cleanup: async () => {}, skip: false }];
  if (url) {
    const schemas: string[] = [];
    targets.push({
      name: "postgres",
      skip: false,
      options: () => {
        const schema = `ct_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
        schemas.push(schema);
        return { kind: "postgres", url, schema };
      },
      cleanup: async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          for (const s of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
        } finally {
          await client.end();
        }
      },
    });
  } else if (process.env["CI"]) {
    throw new Error("CI must run the PostgreSQL tests: set CLAWTOWER_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)");
  } else {
    targets.push({
      name: "postgres",
      skip: SKIP_REASON,
      options: () => {
        throw new Error(SKIP_REASON);
      },
      cleanup: async () => {},
    });
  }
  return targets;
}
