/** `clawtower doctor` names sessions dated in the future (a clock ahead) as a problem, with where they are. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { buildMixedHome, tmpDir } from "@clawtower/testkit";

const BIN = path.resolve(import.meta.dirname, "../bin/clawtower.js");

function doctor(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, "doctor", ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("clawtower doctor and future-dated sessions", () => {
  it("lists a session dated 3 hours ahead as future-timestamp, and nothing for the fixture's past sessions", () => {
    const dir = tmpDir();
    const home = path.join(dir, "openclaw");
    buildMixedHome().home.write(home);
    const db = path.join(dir, "ct.db");
    const before = JSON.parse(doctor(["--json", "--openclaw-home", home, "--db", db]).stdout);
    assert.equal(before.problems.counts["future-timestamp"], undefined);

    const id = "0f0f0f0f-3c1d-4c1a-9a31-f07ec0ffee01";
    const at = new Date(Date.now() + 3 * 3_600_000).toISOString();
    fs.writeFileSync(
      path.join(home, "agents/main/sessions", `${id}.jsonl`),
      `${JSON.stringify({ type: "session", version: 3, id, timestamp: at, cwd: "/tmp" })}\n` +
        `${JSON.stringify({ type: "message", id: "ahead-1", timestamp: at, message: { role: "assistant", provider: "google", model: "gemini-2.5-pro", usage: { input: 40, output: 2, cacheRead: 0, cacheWrite: 0 } } })}\n`,
    );
    const r = doctor(["--json", "--openclaw-home", home, "--db", db]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.problems.counts["future-timestamp"], 1);
    const listed = j.problems.listed.filter((p: { kind: string }) => p.kind === "future-timestamp");
    assert.equal(listed.length, 1);
    assert.equal(listed[0].sessionId, id);
    assert.match(listed[0].detail, /after now/);
    const text = doctor(["--openclaw-home", home, "--db", db]).stdout;
    assert.match(text, new RegExp(`future-timestamp: .*${id}: last event dated ${at.slice(0, 16)}`));
  });
});
