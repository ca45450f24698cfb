/**
 * The stores every store/hub test runs against: embedded SQLite always, and a real PostgreSQL when
 * CLAWTOWER_TEST_DATABASE_URL is set (CI sets it; each test gets its own schema, dropped afterwards).
 * Outside CI without that variable the PostgreSQL runs are skipped with a loud message; in CI a missing
 * database is an error, never a silent skip.
 */
import path from "node:path";
import pg from "pg";
import { tmpDir } from "./tmp.ts";

export type StoreTarget =
  | { name: "sqlite"; options: () => { kind: "sqlite"; path: string }; cleanup: () => Promise<void> }
  | { name: "postgres"; options: () => { kind: "postgres"; url: string; schema: string }; cleanup: () => Promise<void> };

const url = process.env["CLAWTOWER_TEST_DATABASE_URL"];
let warned = false;

export function storeTargets(): StoreTarget[] {
  const targets: StoreTarget[] = [{ name: "sqlite", options: () => ({ kind: "sqlite", path: path.join(tmpDir(), "clawtower.db") }), cleanup: async () => {} }];
  if (url) {
    const schemas: string[] = [];
    targets.push({
      name: "postgres",
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
  } else if (!warned) {
    warned = true;
    process.stderr.write("\n*** CLAWTOWER_TEST_DATABASE_URL is not set: PostgreSQL store tests are SKIPPED (CI runs them). ***\n\n");
  }
  return targets;
}
