/**
 * Deleted and reset sessions say so: the real OpenClaw stores' expected.json records each session's storage
 * (hot, cold, deleted-archive, reset-archive) from how the host was driven, independently of any reader.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { buildMixedHome, tmpDir } from "@clawtower/testkit";

const BIN = path.resolve(import.meta.dirname, "../bin/clawtower.js");
const FIXTURES = path.resolve(import.meta.dirname, "../../testkit/fixtures");

type Row = { agentId: string; sessionId: string; sessionKey: string | null; kind: string; ended: string | null; present: boolean };

function clawtower(home: string, args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args, "--openclaw-home", home, "--db", path.join(home, "..", "ct.db")], { encoding: "utf8", timeout: 60_000 });
}

function sessions(home: string): Row[] {
  const r = clawtower(home, ["report", "sessions", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).sessions as Row[];
}

for (const name of ["openclaw-2026.9.6", "openclaw-legacy-2026.7.35"]) {
  describe(`deleted and reset sessions of the real store ${name}`, () => {
    const home = path.join(tmpDir(), "state");
    fs.cpSync(path.join(FIXTURES, name, "state"), home, { recursive: true });
    const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, name, "expected.json"), "utf8")) as {
      sessions: { agentId: string; sessionId: string | null; sessionKey: string; storage: string }[];
    };

    it("marks each session as OpenClaw left it: deleted, reset, or live", () => {
      const byId = new Map(sessions(home).map((s) => [`${s.agentId}/${s.sessionId}`, s]));
      const endings = { deleted: 0, reset: 0 };
      for (const e of expected.sessions) {
        if (!e.sessionId) continue;
        const got = byId.get(`${e.agentId}/${e.sessionId}`);
        if (!got) continue; // sessions without events are not listed
        const want = e.storage === "deleted-archive" ? "deleted" : e.storage === "reset-archive" ? "reset" : null;
        assert.equal(got.ended, want, `${e.sessionKey} ${e.sessionId} (${e.storage})`);
        if (want) endings[want]++;
        assert.equal(got.present, true, "an archive is still in the home");
      }
      assert.ok(endings.deleted >= 1, "the store holds a deleted session");
      if (name === "openclaw-legacy-2026.7.35") assert.ok(endings.reset >= 1, "the legacy store holds a reset archive");
    });

    if (name === "openclaw-2026.9.6") {
      it("names a deleted SQLite session by the key its archive row keeps, with that key's kind", () => {
        const deleted = expected.sessions.filter((e) => e.storage === "deleted-archive");
        assert.ok(deleted.length > 0);
        const byId = new Map(sessions(home).map((s) => [s.sessionId, s]));
        for (const e of deleted) {
          const got = byId.get(e.sessionId!);
          assert.ok(got, e.sessionId!);
          assert.equal(got.sessionKey, e.sessionKey);
          assert.equal(got.kind, "other", `${e.sessionKey} is neither main, a channel chat, cron, hook nor subagent`);
        }
      });

      it("shows the marker in the sessions table", () => {
        const r = clawtower(home, ["report", "sessions"]);
        assert.equal(r.status, 0, r.stderr);
        const key = expected.sessions.find((e) => e.storage === "deleted-archive")!.sessionKey;
        assert.match(r.stdout, new RegExp(`│ ${key} \\(deleted\\) +│ other +│`));
      });
    }
  });
}

describe("deleted and reset sessions of the mixed fixture", () => {
  it("marks the legacy .deleted and .reset files and the SQLite archive, and nothing else", () => {
    const mixed = buildMixedHome();
    const home = path.join(tmpDir(), "openclaw");
    mixed.home.write(home);
    const want = new Map<string, string | null>();
    for (const a of mixed.home.agents.values()) {
      for (const s of a.sessions) {
        const store = s.options.store;
        want.set(`${a.agentId}/${s.sessionId}`, store === "legacy-deleted" || store === "sqlite-archive" ? "deleted" : store === "legacy-reset" ? "reset" : null);
      }
    }
    const rows = sessions(home);
    assert.equal(rows.length, mixed.home.expected.sessions);
    for (const r of rows) assert.equal(r.ended, want.get(`${r.agentId}/${r.sessionId}`), `${r.agentId}/${r.sessionId} ${r.sessionKey}`);
    assert.deepEqual(rows.map((r) => r.ended).filter(Boolean).sort(), ["deleted", "deleted", "reset"]);
  });
});
