/**
 * How a session ended, as the store lists it (SQLite and PostgreSQL): from the fixture's own record of where
 * it wrote each session, and through OpenClaw's legacy deletion (the live file renamed to `.deleted.<ts>`).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, it } from "node:test";
import { createPriceBook } from "@clawtower/core";
import { buildMixedHome, describeStore, storeTargets, tmpDir } from "@clawtower/testkit";
import { openStore, sessionAggregates, syncHome } from "../src/index.ts";

const prices = createPriceBook([], []);
const all = { since: null, until: null, tz: "UTC", agent: null, deployment: "dep" };

for (const target of storeTargets()) {
  describeStore(target, `session endings (${target.name})`, () => {
    after(() => target.cleanup());

    it("marks archive-only sessions deleted or reset, follows a deletion, and a vanished archive is only gone", async () => {
      const mixed = buildMixedHome();
      const home = path.join(tmpDir(), "openclaw");
      mixed.home.write(home);
      const conn = await openStore(target.options());
      try {
        const sync = () => syncHome(conn, { home, deploymentId: "dep", deploymentName: "dep", prices });
        const endings = async () => new Map((await sessionAggregates(conn, all, {})).rows.map((r) => [r.sessionId, { ended: r.ended, present: r.present }]));
        await sync();
        const want = new Map<string, string | null>();
        for (const a of mixed.home.agents.values()) {
          for (const s of a.sessions) {
            const store = s.options.store;
            want.set(s.sessionId, store === "legacy-deleted" || store === "sqlite-archive" ? "deleted" : store === "legacy-reset" ? "reset" : null);
          }
        }
        const first = await endings();
        assert.equal(first.size, mixed.home.expected.sessions);
        for (const [id, e] of first) assert.equal(e.ended, want.get(id), id);

        // OpenClaw (legacy) deletes a session by renaming its transcript.
        const live = mixed.home.agents.get("legacy")!.sessions.find((s) => s.options.store === "legacy")!;
        const dir = path.join(home, "agents", "legacy", "sessions");
        fs.renameSync(path.join(dir, `${live.sessionId}.jsonl`), path.join(dir, `${live.sessionId}.jsonl.deleted.2026-11-25T10-00-00.000Z`));
        await sync();
        assert.deepEqual((await endings()).get(live.sessionId), { ended: "deleted", present: true });

        // Then the archive goes too: kept in the store, gone from the home, no longer said to be an archive.
        fs.rmSync(path.join(dir, `${live.sessionId}.jsonl.deleted.2026-11-25T10-00-00.000Z`));
        await sync();
        assert.deepEqual((await endings()).get(live.sessionId), { ended: null, present: false });
      } finally {
        await conn.close();
      }
    });
  });
}
