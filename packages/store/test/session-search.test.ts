/**
 * The sessions search (`q`: a case-insensitive substring of session id, key or label) through the trigram
 * indexes of migration 8 — FTS5 on SQLite, pg_trgm on PostgreSQL — must give exactly what a plain scan
 * with LIKE / ILIKE gives: the same sessions, in the same order, and the same total.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { createPriceBook, loadBundledPrices, type ReportFilters } from "@clawtower/core";
import { FixtureHome, describeStore, storeTargets, tmpDir } from "@clawtower/testkit";
import { openStore, sessionAggregates, syncHome, upsertSessionMeta, type StoreConnection } from "../src/index.ts";
import { catchUpSessionSearch, deferSessionSearch, sessionSearchDeferred } from "../src/session-search-bulk.ts";

const targets = storeTargets();
after(() => Promise.all(targets.map((t) => t.cleanup())));

const ALL: ReportFilters = { since: null, until: null, tz: "UTC", agent: null, deployment: null };
const T0 = Date.UTC(2026, 10, 1);

/** Sessions with ids and texts that exercise the index: common and rare trigrams, LIKE's special characters, non-ASCII case. */
function fixtureSessions(): { agent: string; id: string; key: string | null; label: string | null }[] {
  const out: { agent: string; id: string; key: string | null; label: string | null }[] = [];
  // 300 sessions sharing trigrams ("ses", "ess", "age"…): more than the index's cap for a store this size.
  for (let i = 0; i < 300; i++) out.push({ agent: `agent${i % 3}`, id: `sess-${i}`, key: `agent:agent${i % 3}:explicit:sess-${i}`, label: i % 7 === 0 ? null : `Session ${i}` });
  out.push(
    { agent: "main", id: "pct", key: "agent:main:100%_done", label: "100% done" },
    { agent: "main", id: "pct-like", key: "agent:main:100x-done", label: "100xy done" },
    { agent: "main", id: "under", key: "agent:main:a_b_c", label: null },
    { agent: "main", id: "under-like", key: "agent:main:axbxc", label: null },
    { agent: "main", id: "backslash", key: "agent:main:C:\\work\\repo", label: 'say "hi"' },
    { agent: "main", id: "accents", key: null, label: "Café ÉTÉ Straße" },
    { agent: "main", id: "accents-lower", key: null, label: "café été strasse" },
    { agent: "main", id: "turkish", key: null, label: "İstanbul office" },
    // All trigrams of "xyzabc", but not the text itself: a candidate the LIKEs must drop.
    { agent: "main", id: "scattered", key: "xyz-yza-zab-abc", label: null },
    { agent: "main", id: "together", key: "telegram:XYZABC:chat", label: null },
    { agent: "main", id: "MixedCase-Σ", key: "agent:main:TeLeGrAm:Group", label: "Deploy Notes" },
  );
  return out;
}

const QUERIES = [
  "sess-12", "SESS-12", "sess", "sess-299", "ss-1", "session 1", "explicit:sess-2", "agent1", "s", "12", "%", "_", "100%", "100%_", "a_b", "\\", "c:\\work",
  '"hi"', '"', "café", "CAFÉ", "été", "ÉTÉ", "straße", "STRASSE", "istanbul", "İstanbul", "xyzabc", "telegram", "mixedcase-σ", "σ", "deploy notes", "nothing-like-this", "  sess-12  ",
];

for (const target of targets) {
  describeStore(target, `[${target.name}] session search`, () => {
    let conn: StoreConnection;
    before(async () => {
      conn = await openStore(target.options());
      const rows = fixtureSessions().map((s, i) => ({
        deployment_id: i % 2 === 0 ? "dep-a" : "dep-b",
        agent_id: s.agent,
        session_id: s.id,
        session_key: s.key,
        kind: "main",
        label: s.label,
        first_ts: T0 + i * 60_000,
        last_ts: T0 + i * 60_000 + ((i * 7919) % 86_400_000),
        updated_at: T0,
      }));
      // (The aggregate columns keep their defaults, which the row type does not know about.)
      for (let i = 0; i < rows.length; i += 100) await conn.db.insertInto("sessions").values(rows.slice(i, i + 100) as never).execute();
    });
    after(() => conn.close());

    /** What the search gave before the index: the LIKEs alone, on every session. */
    async function scan(q: string, f: ReportFilters = ALL): Promise<string[]> {
      const like = `%${q.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const op = sql.raw(conn.dialect === "postgres" ? "ILIKE" : "LIKE");
      const r = await sql<{ session_id: string; deployment_id: string }>`SELECT deployment_id, session_id FROM sessions
        WHERE last_ts IS NOT NULL AND ${f.deployment === null ? sql`TRUE` : sql`deployment_id = ${f.deployment}`}
        AND (session_id ${op} ${like} ESCAPE '\\' OR session_key ${op} ${like} ESCAPE '\\' OR label ${op} ${like} ESCAPE '\\')
        ORDER BY last_ts DESC, session_id`.execute(conn.db);
      return r.rows.map((x) => `${x.deployment_id}/${x.session_id}`);
    }

    async function search(q: string, f: ReportFilters = ALL, page: { limit?: number; offset?: number } = {}) {
      const r = await sessionAggregates(conn, f, { q, ...page });
      return { total: r.total, ids: r.rows.map((s) => `${s.deploymentId}/${s.sessionId}`) };
    }

    it("finds exactly what a scan finds, with the same total, for every kind of text", async () => {
      for (const q of QUERIES) {
        const expected = await scan(q);
        const got = await search(q);
        assert.deepEqual(got.ids, expected, `q=${JSON.stringify(q)}`);
        assert.equal(got.total, expected.length, `total, q=${JSON.stringify(q)}`);
      }
      // Spot checks that the scan itself means what we think.
      assert.deepEqual(await scan("100%"), ["dep-a/pct"]);
      assert.deepEqual(await scan("a_b"), ["dep-a/under"]);
      assert.deepEqual((await scan("xyzabc")).map((x) => x.split("/")[1]), ["together"]);
      assert.equal((await scan("sess")).length, 300);
    });

    it("pages and filters a search like a scan", async () => {
      const expected = await scan("sess-1");
      assert.ok(expected.length > 20);
      const page = await search("sess-1", ALL, { limit: 7, offset: 5 });
      assert.deepEqual(page.ids, expected.slice(5, 12));
      assert.equal(page.total, expected.length);
      const dep: ReportFilters = { ...ALL, deployment: "dep-b" };
      const inDep = await scan("sess-1", dep);
      assert.deepEqual((await search("sess-1", dep)).ids, inDep);
      assert.equal((await search("sess-1", dep)).total, inDep.length);
      // A page past the matches still reports the total.
      assert.equal((await search("sess-12", ALL, { limit: 5, offset: 1000 })).total, (await scan("sess-12")).length);
    });

    it("follows sessions as they are written: new sessions, changed labels and keys", async () => {
      const now = T0 + 10 * 86_400_000;
      await upsertSessionMeta(conn.db, { deploymentId: "dep-a", agentId: "main", sessionId: "late-arrival", sessionKey: "agent:main:qwertyuiop", label: null, kind: "main" }, now, conn.sqlite);
      await conn.db.updateTable("sessions").set({ first_ts: now, last_ts: now }).where("session_id", "=", "late-arrival").execute();
      assert.deepEqual((await search("QWERTYUIOP")).ids, ["dep-a/late-arrival"]);
      // A later source that knows the label; the key stays.
      await upsertSessionMeta(conn.db, { deploymentId: "dep-a", agentId: "main", sessionId: "late-arrival", label: "Zanzibar planning", kind: "main" }, now, conn.sqlite);
      assert.deepEqual((await search("zanzibar")).ids, ["dep-a/late-arrival"]);
      assert.deepEqual((await search("qwertyuiop")).ids, ["dep-a/late-arrival"]);
      // Changing the label drops the old text from the index.
      await conn.db.updateTable("sessions").set({ label: "Mombasa planning" }).where("session_id", "=", "late-arrival").execute();
      assert.deepEqual((await search("zanzibar")).ids, []);
      assert.deepEqual((await search("mombasa")).ids, ["dep-a/late-arrival"]);
      // Updates that leave the text alone (aggregates, as ingest does) keep it searchable.
      await conn.db.updateTable("sessions").set({ llm_calls: 5, last_ts: now + 1 }).where("session_id", "=", "late-arrival").execute();
      assert.deepEqual((await search("mombasa")).ids, ["dep-a/late-arrival"]);
      await conn.db.deleteFrom("sessions").where("session_id", "=", "late-arrival").execute();
      assert.deepEqual((await search("mombasa")).ids, []);
      for (const q of ["sess-12", "qwertyuiop", "planning"]) assert.deepEqual((await search(q)).ids, await scan(q), q);
    });

    if (target.name === "sqlite") {
      it("keeps the trigram index equal to the sessions", async () => {
        const indexed = await sql<{ n: number }>`SELECT count(*) AS n FROM session_search_keys`.execute(conn.db);
        const sessions = await sql<{ n: number }>`SELECT count(*) AS n FROM sessions`.execute(conn.db);
        assert.equal(Number(indexed.rows[0]!.n), Number(sessions.rows[0]!.n));
        const orphans = await sql<{ n: number }>`SELECT count(*) AS n FROM session_search_keys k
          WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.deployment_id = k.deployment_id AND s.agent_id = k.agent_id AND s.session_id = k.session_id)`.execute(conn.db);
        assert.equal(Number(orphans.rows[0]!.n), 0);
        // The index holds the trigrams of every text column, folded: "xyzabc" narrows down to the two
        // sessions holding its trigrams (the LIKEs then keep one), "sess" to none of its trigrams being rare.
        const match = async (m: string) => Number((await sql<{ n: number }>`SELECT count(*) AS n FROM session_search WHERE session_search MATCH ${m}`.execute(conn.db)).rows[0]!.n);
        assert.equal(await match('"xyz" AND "zab" AND "abc"'), 2);
        assert.equal(await match('"XYZ" AND "ABC"'), 2);
        assert.equal(await match('"ses"'), 300);
      });
    }

    if (target.name === "postgres") {
      it("has pg_trgm indexes that ILIKE uses when they are the cheaper plan", async () => {
        const idx = await sql<{ indexname: string }>`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'sessions' AND indexname LIKE 'sessions_search_%' ORDER BY 1`.execute(conn.db);
        assert.deepEqual(idx.rows.map((r) => r.indexname), ["sessions_search_id", "sessions_search_key", "sessions_search_label"]);
        // Without sequential or plain index scans, the search must go through the trigram indexes and still agree.
        await conn.db.transaction().execute(async (trx) => {
          await sql`SET LOCAL enable_seqscan = off`.execute(trx);
          await sql`SET LOCAL enable_indexscan = off`.execute(trx);
          const plan = await sql<{ "QUERY PLAN": string }>`EXPLAIN SELECT session_id FROM sessions
            WHERE session_id ILIKE '%sess-12%' OR session_key ILIKE '%sess-12%' OR label ILIKE '%sess-12%'`.execute(trx);
          assert.match(plan.rows.map((r) => r["QUERY PLAN"]).join("\n"), /sessions_search_id/);
        });
      });
    }
  });
}

describe("[sqlite] session search deferred during a bulk import (session-search-bulk.ts)", () => {
  const fresh = async () => {
    const dir = tmpDir();
    const file = path.join(dir, "store.db");
    return { file, conn: await openStore({ kind: "sqlite", path: file }) };
  };
  const count = async (conn: StoreConnection, table: string) => Number((await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(conn.db)).rows[0]!.n);
  const ids = async (conn: StoreConnection, q: string) => (await sessionAggregates(conn, ALL, { q })).rows.map((s) => s.sessionId).sort();
  const insert = async (conn: StoreConnection, from: number, to: number, label: (i: number) => string | null) => {
    for (let i = from; i < to; i++) {
      await upsertSessionMeta(conn.db, { deploymentId: "dep", agentId: "main", sessionId: `bulk-${i}`, sessionKey: `agent:main:topic-${i}`, label: label(i), kind: "main" }, T0, conn.sqlite);
    }
    await conn.db.updateTable("sessions").set({ first_ts: T0, last_ts: T0 }).execute();
  };

  it("indexes nothing while deferred, then everything in one catch-up, key and label changes included", async () => {
    const { conn } = await fresh();
    const raw = conn.sqlite!;
    await insert(conn, 0, 10, () => "before"); // indexed as inserted
    deferSessionSearch(raw);
    assert.equal(sessionSearchDeferred(raw), true);
    await insert(conn, 10, 300, (i) => (i % 2 ? "odd one" : null));
    assert.equal(await count(conn, "session_search_keys"), 10, "the insert trigger skips while deferred");
    // A label changed while deferred, on an indexed session and on a deferred one: the update trigger indexes both.
    await conn.db.updateTable("sessions").set({ label: "renamed early" }).where("session_id", "=", "bulk-3").execute();
    await conn.db.updateTable("sessions").set({ label: "renamed late" }).where("session_id", "=", "bulk-200").execute();
    assert.equal(catchUpSessionSearch(raw), 289);
    assert.equal(sessionSearchDeferred(raw), false);
    assert.equal(await count(conn, "session_search_keys"), 300);
    assert.deepEqual(await ids(conn, "renamed"), ["bulk-200", "bulk-3"]);
    assert.deepEqual(await ids(conn, "topic-299"), ["bulk-299"]);
    assert.equal((await ids(conn, "odd one")).length, 145);
    assert.deepEqual(await ids(conn, "before"), ["bulk-0", "bulk-1", "bulk-2", "bulk-4", "bulk-5", "bulk-6", "bulk-7", "bulk-8", "bulk-9"]);
    // Indexing on insert is back.
    await insert(conn, 300, 301, () => "after");
    assert.deepEqual(await ids(conn, "after"), ["bulk-300"]);
    assert.equal(catchUpSessionSearch(raw), 0);
    await conn.close();
  });

  it("catches up when the store is next opened, if the importing process died while deferring", async () => {
    const { file, conn } = await fresh();
    deferSessionSearch(conn.sqlite!);
    await insert(conn, 0, 50, () => null);
    await conn.close(); // no catch-up: as if the process had been killed
    const again = await openStore({ kind: "sqlite", path: file });
    assert.equal(sessionSearchDeferred(again.sqlite!), false);
    assert.deepEqual(await ids(again, "topic-42"), ["bulk-42"]);
    assert.equal(await count(again, "session_search_keys"), 50);
    await again.close();
  });

  it("is what syncHome does for a first import of more than 200 parts, and the search then finds every session", async () => {
    const dir = tmpDir();
    const fixture = new FixtureHome();
    for (let i = 0; i < 220; i++) fixture.agent("main").session({ store: i % 2 ? "legacy" : "sqlite", sessionKey: `agent:main:chat-${i}` }).assistant({ cost: 0.01 });
    const home = path.join(dir, "openclaw");
    fixture.write(home);
    const conn = await openStore({ kind: "sqlite", path: path.join(dir, "store.db") });
    let deferred = false;
    const spy = conn.sqlite!.prepare(`SELECT 1 FROM session_search_deferred`);
    const prices = createPriceBook([], loadBundledPrices().prices);
    await syncHome(conn, {
      home,
      deploymentId: "dep",
      deploymentName: "test",
      prices,
      onProgress: () => {
        deferred ||= spy.get() !== undefined;
      },
    });
    assert.equal(deferred, true, "deferred while reading");
    assert.equal(sessionSearchDeferred(conn.sqlite!), false);
    assert.equal(await count(conn, "session_search_keys"), 220);
    assert.equal(await count(conn, "sessions"), 220);
    const all = { ...ALL, deployment: "dep" };
    assert.deepEqual((await sessionAggregates(conn, all, { q: "chat-217" })).rows.map((s) => s.sessionKey), ["agent:main:chat-217"]);
    assert.equal((await sessionAggregates(conn, all, { q: "agent:main:chat-" })).total, 220);
    await conn.close();
  });
});
