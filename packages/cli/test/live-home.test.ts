/**
 * A home created after `clawtower serve` started (OpenClaw installed later) is found and imported: by the live
 * importer itself, and end to end by a real `clawtower serve` process over HTTP.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { createPriceBook } from "@clawtower/core";
import { openStore, summaryReport } from "@clawtower/store";
import { buildMixedHome, tmpDir } from "@clawtower/testkit";
import { startLiveImport } from "../src/live-import.ts";

const BIN = path.resolve(import.meta.dirname, "../bin/clawtower.js");

async function until<T>(what: string, check: () => Promise<T | null> | T | null, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a home that appears after the importer started", () => {
  it("is imported by the live importer once it exists", async () => {
    const dir = tmpDir();
    const home = path.join(dir, "openclaw");
    const conn = await openStore({ kind: "sqlite", path: path.join(dir, "ct.db") });
    const logs: string[] = [];
    let changes = 0;
    const live = startLiveImport(conn, {
      home,
      deploymentId: "local-late",
      deploymentName: "late",
      prices: () => createPriceBook([], []),
      // Ticks are driven by hand below, so that only the file watcher can see the second change.
      intervalMs: 600_000,
      onChange: () => changes++,
      log: (l) => logs.push(l),
    });
    try {
      await live.syncNow();
      assert.equal(live.status().homeExists, false);
      assert.equal(live.status().lastSyncAt, null, "nothing to import yet");
      const mixed = buildMixedHome();
      mixed.home.write(home);
      await live.syncNow(); // the next tick
      const f = { since: null, until: null, tz: "UTC", agent: null, deployment: "local-late" };
      const e = mixed.home.expected;
      const s = await until("the import", async () => {
        const r = await summaryReport(conn, f, Date.now());
        return r.totals.llmCalls === e.llmCalls ? r : null;
      });
      assert.equal(s.totals.sessions, e.sessions);
      assert.deepEqual(s.totals.tokens, e.tokens);
      assert.equal(live.status().homeExists, true);
      assert.ok(changes >= 1);
      assert.ok(logs.some((l) => l.includes(`found the OpenClaw home ${home}`)), logs.join("\n"));

      // agents/ did not exist when the importer started: it is watched now, so a new session is seen soon.
      const before = s.totals.llmCalls;
      const extra = buildMixedHome();
      const one = extra.home.agent("late").session({ store: "legacy", sessionKey: "agent:late:main", start: Date.UTC(2026, 10, 20) });
      one.user("hello");
      one.assistant({ provider: "anthropic", model: "claude-sonnet-4-5", input: 10, output: 1, cost: 0.001 });
      extra.home.agents.delete("main");
      extra.home.agents.delete("legacy");
      extra.home.agents.delete("broken");
      extra.home.write(home);
      await until("the new session", async () => ((await summaryReport(conn, f, Date.now())).totals.llmCalls === before + 1 ? true : null));
    } finally {
      live.stop();
      await conn.close();
    }
  });

  it("is imported by a running `clawtower serve` and answered over HTTP", { timeout: 60_000 }, async () => {
    const dir = tmpDir();
    const home = path.join(dir, "openclaw");
    const child = spawn(process.execPath, [BIN, "serve", "--openclaw-home", home, "--db", path.join(dir, "ct.db"), "--port", "0", "--interval", "0.2", "--no-progress"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    try {
      const url = await until("the hub to serve", () => /at (http:\/\/\S+)/.exec(stdout)?.[1] ?? null);
      assert.match(stderr, /no OpenClaw home at .* yet: it is imported as soon as it appears/);
      const info = (await (await fetch(`${url}/api/v1/info`)).json()) as { openclawHome: { exists: boolean } };
      assert.equal(info.openclawHome.exists, false);

      const mixed = buildMixedHome();
      mixed.home.write(home);
      const e = mixed.home.expected;
      const totals = await until("the import over HTTP", async () => {
        const r = (await (await fetch(`${url}/api/v1/reports/summary`)).json()) as { totals: { llmCalls: number; sessions: number; tokens: unknown } };
        return r.totals.llmCalls === e.llmCalls ? r.totals : null;
      });
      assert.equal(totals.sessions, e.sessions);
      assert.deepEqual(totals.tokens, e.tokens);
      const after = (await (await fetch(`${url}/api/v1/info`)).json()) as { openclawHome: { exists: boolean } };
      assert.equal(after.openclawHome.exists, true);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
});
