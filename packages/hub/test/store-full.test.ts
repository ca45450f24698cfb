/**
 * A full disk under ingest (issue 16 A8), on a real small filesystem where this machine allows it (root can
 * mount a tmpfs: the SQLite store lives on it, PostgreSQL's raw_events moves to a tablespace on it), else, for
 * SQLite, SQLite's own size limit (PRAGMA max_page_count), which fails the same way (SQLITE_FULL).
 * Expected: 503 "database or disk is full" with Retry-After, a log line saying so (not "cannot rollback"),
 * nothing of the failed request stored, and once space is freed the resent request is taken whole.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, it } from "node:test";
import { sql } from "kysely";
import { createPriceBook } from "@clawtower/core";
import { createApiKey, openStore, type StoreConnection } from "@clawtower/store";
import { describeStore, storeTargets, tmpDir, type StoreTarget } from "@clawtower/testkit";
import { createChangeFeed, createHubApp } from "../src/index.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

/** A tmpfs of `size` at a fresh directory, or null when this process may not mount one. */
function smallFilesystem(size: string): { dir: string; unmount: () => void } | null {
  if (process.getuid?.() !== 0) return null;
  const dir = tmpDir("clawtower-full-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "ignore" });
  } catch {
    return null;
  }
  return { dir, unmount: () => execFileSync("umount", [dir], { stdio: "ignore" }) };
}

/** Fills the filesystem holding `dir` with a file, until it has no room left; returns the file. */
function fill(dir: string): string {
  const file = path.join(dir, "filler");
  const fd = fs.openSync(file, "w");
  const chunk = Buffer.alloc(16 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

type FullStore = { conn: StoreConnection; how: string; makeFull: () => Promise<void>; free: () => Promise<void>; cleanup: () => Promise<void> };

async function fullStore(target: StoreTarget): Promise<FullStore | string> {
  if (target.name === "sqlite") {
    const fsys = smallFilesystem("2m");
    if (fsys) {
      const conn = await openStore({ kind: "sqlite", path: path.join(fsys.dir, "clawtower.db") });
      let filler = "";
      return {
        conn,
        how: "a 2 MiB tmpfs",
        makeFull: async () => void (filler = fill(fsys.dir)),
        free: async () => fs.rmSync(filler),
        cleanup: async () => {
          await conn.close();
          fsys.unmount();
        },
      };
    }
    const conn = await openStore(target.options());
    const pages = () => Number((conn.sqlite!.prepare("PRAGMA page_count").get() as { page_count: number }).page_count);
    return {
      conn,
      how: "PRAGMA max_page_count",
      makeFull: async () => void conn.sqlite!.exec(`PRAGMA max_page_count = ${pages() + 2}`),
      free: async () => void conn.sqlite!.exec("PRAGMA max_page_count = 1073741823"),
      cleanup: () => conn.close(),
    };
  }
  const fsys = smallFilesystem("1m");
  if (!fsys) return "needs root to mount a tmpfs for a PostgreSQL tablespace";
  fs.chownSync(fsys.dir, Number(execFileSync("id", ["-u", "postgres"]).toString().trim()), 0);
  const conn = await openStore(target.options());
  const space = `ct_full_${process.pid}`;
  try {
    await sql.raw(`CREATE TABLESPACE ${space} LOCATION '${fsys.dir}'`).execute(conn.db);
  } catch (e) {
    await conn.close();
    fsys.unmount();
    return `cannot create a tablespace on the tmpfs (${(e as Error).message})`;
  }
  return {
    conn,
    how: "raw_events in a tablespace on a 1 MiB tmpfs",
    makeFull: async () => void (await sql.raw(`ALTER TABLE raw_events SET TABLESPACE ${space}`).execute(conn.db)),
    free: async () => void (await sql.raw(`ALTER TABLE raw_events SET TABLESPACE pg_default`).execute(conn.db)),
    cleanup: async () => {
      await sql.raw(`DROP TABLE raw_events`).execute(conn.db);
      await sql.raw(`DROP TABLESPACE ${space}`).execute(conn.db);
      await conn.close();
      fsys.unmount();
    },
  };
}

for (const target of targets) {
  describeStore(target, `[${target.name}] a full disk under ingest`, () => {
    it("answers 503 'database or disk is full' with Retry-After, stores nothing of that request, and takes it whole once space is freed", async (t) => {
      const store = await fullStore(target);
      if (typeof store === "string") {
        t.skip(store);
        return;
      }
      const logged: string[] = [];
      const { conn } = store;
      const feed = await createChangeFeed(conn, 50);
      const app = createHubApp({ conn, prices: createPriceBook([], []), auth: { adminToken: null, loopbackOnly: true }, feed, webDir: null, log: (l) => logged.push(l) });
      try {
        const key = (await createApiKey(conn, { deploymentId: "gw-full" }, Date.now())).token;
        const batch = (b: number) =>
          Array.from({ length: 500 }, (_, i) =>
            JSON.stringify({
              agentId: "main",
              sessionId: `s${b}`,
              event: { type: "message", id: `e${b}-${i}`, timestamp: "2026-11-20T10:00:00Z", message: { role: "assistant", provider: "acme", model: "m-1", content: [{ type: "text", text: "x".repeat(400) }], usage: { input: 1, output: 0 } } },
            }),
          ).join("\n");
        const post = (body: string) => app.request("/api/v1/ingest/events", { method: "POST", body, headers: { host: "127.0.0.1:4680", authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" } });

        let acknowledged = 0;
        const first = await post(batch(0));
        assert.equal(first.status, 200);
        acknowledged += ((await first.json()) as { accepted: number }).accepted;
        await store.makeFull();
        let failed: { b: number; res: Response } | null = null;
        for (let b = 1; b <= 40 && !failed; b++) {
          const res = await post(batch(b));
          if (res.status === 200) acknowledged += ((await res.json()) as { accepted: number }).accepted;
          else failed = { b, res };
        }
        assert.ok(failed, `the store never filled up (${store.how})`);
        assert.equal(failed.res.status, 503, await failed.res.clone().text());
        assert.equal(failed.res.headers.get("retry-after"), "60");
        const body = (await failed.res.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, "storage_full");
        assert.match(body.error.message, /^database or disk is full/);
        assert.ok(logged.some((l) => l.includes("database or disk is full")), logged.join("\n"));
        assert.ok(!logged.some((l) => l.includes("cannot rollback") || l.includes("internal error")), logged.join("\n"));
        const partial = await conn.db.selectFrom("raw_events").select(sql<number>`count(*)`.as("n")).where("session_id", "=", `s${failed.b}`).executeTakeFirstOrThrow();
        assert.equal(Number(partial.n), 0, "nothing of the failed request is stored");

        await store.free();
        const again = await post(batch(failed.b));
        assert.equal(again.status, 200, await again.clone().text());
        const answer = (await again.json()) as { accepted: number; duplicates: number };
        assert.deepEqual([answer.accepted, answer.duplicates], [500, 0]);
        acknowledged += answer.accepted;
        const summary = (await (await app.request("/api/v1/reports/summary?deployment=gw-full", { headers: { host: "127.0.0.1:4680" } })).json()) as { totals: { llmCalls: number; tokens: { input: number } } };
        assert.deepEqual([summary.totals.llmCalls, summary.totals.tokens.input], [acknowledged, acknowledged]);
      } finally {
        feed.close();
        await store.cleanup();
      }
    });
  });
}
