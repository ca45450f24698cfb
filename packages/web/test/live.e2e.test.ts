/**
 * The Live view in Debian's Chromium against a real hub: sessions pushed as `clawtower watch` snapshots over
 * the real ingest route (plus one only the ledger knows) show their status, a stuck marker, the context %
 * of their real window (blank when the window is unknown), tokens and cost — the same numbers as
 * /api/v1/live — and a new snapshot appears without a reload.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { createPriceBook } from "@clawtower/core";
import { startHub, type RunningHub } from "@clawtower/hub";
import { createApiKey, ingestLines, openStore, type StoreConnection } from "@clawtower/store";
import { tmpDir } from "@clawtower/testkit";
import type { LiveReport } from "../src/api/types.ts";
import { formatInt, formatUsd } from "../src/format.ts";

const webDir = path.resolve(import.meta.dirname, "..");
const distDir = path.join(webDir, "dist");
const CHROMIUM = "/usr/bin/chromium";

function ensureBuilt(): void {
  let newest = 0;
  for (const p of ["src", "index.html", "vite.config.ts", "package.json"].map((p) => path.join(webDir, p)).filter((p) => fs.existsSync(p))) {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p, { withFileTypes: true, recursive: true })) if (e.isFile()) newest = Math.max(newest, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
    } else newest = Math.max(newest, st.mtimeMs);
  }
  if ((fs.statSync(path.join(distDir, "index.html"), { throwIfNoEntry: false })?.mtimeMs ?? 0) >= newest) return;
  const vite = path.join(path.dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin", "vite.js");
  assert.equal(spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], { cwd: webDir, stdio: "inherit" }).status, 0, "vite build failed");
}

async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const min = 60_000;

function snapshot(over: Record<string, unknown>) {
  return {
    sessionId: "s",
    fingerprint: "f1",
    sessionKey: "agent:main:s",
    agentId: "main",
    kind: "main",
    label: null,
    channel: null,
    status: "idle",
    provider: "fake",
    model: "fake-model",
    inputTokens: 1000,
    outputTokens: 100,
    cacheReadTokens: 500,
    cacheWriteTokens: 0,
    contextTokens: 32_000,
    contextWindow: 128_000,
    costUsd: 0.0123,
    lastActivityAt: Date.now() - min,
    observedAt: Date.now(),
    ...over,
  };
}

describe("dashboard Live view (Chromium)", { timeout: 180_000 }, () => {
  let conn: StoreConnection;
  let hub: RunningHub;
  let key = "";
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  const push = async (snapshots: unknown[]) => {
    const r = await fetch(`${hub.url}/api/v1/ingest/snapshots`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ snapshots }) });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    const { accepted, duplicates } = JSON.parse(text) as { accepted: number; duplicates: number };
    return { accepted, duplicates };
  };

  before(async () => {
    ensureBuilt();
    conn = await openStore({ kind: "sqlite", path: path.join(tmpDir("ct-live-web-"), "hub.db") });
    key = (await createApiKey(conn, { deploymentId: "gw-live" }, Date.now())).token;
    hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: distDir, log: () => {} });
    const t0 = Date.now();
    // Running, but its totals last grew 8 minutes ago: stuck after 5.
    await push([snapshot({ sessionId: "stuck", sessionKey: "agent:main:stuck", label: "stuck one", status: "running", lastActivityAt: t0 - 8 * min, observedAt: t0 - 8 * min })]);
    await push([snapshot({ sessionId: "stuck", sessionKey: "agent:main:stuck", label: "stuck one", status: "running", fingerprint: "f2", lastActivityAt: t0 - 8 * min, observedAt: t0 - min })]);
    await push([
      snapshot({ sessionId: "busy", sessionKey: "agent:main:busy", label: "busy one", status: "running", inputTokens: 2000, lastActivityAt: t0 - 10_000 }),
      snapshot({ sessionId: "nowin", sessionKey: "agent:main:nowin", label: "no window", contextWindow: null, status: "aborted" }),
      snapshot({ sessionId: "old", sessionKey: "agent:main:old", label: "long gone", lastActivityAt: t0 - 60 * min, observedAt: t0 - 60 * min }),
    ]);
    // A session only the ledger knows (an ingested transcript call), ending in an error.
    const event = { type: "message", id: "m1", timestamp: new Date(t0 - 2 * min).toISOString(), message: { role: "assistant", provider: "fake", model: "fake-model", content: [], usage: { input: 40, output: 2, cacheRead: 0, cacheWrite: 0 }, stopReason: "error" } };
    await ingestLines(conn, [{ index: 0, deploymentId: "gw-ledger", agentId: "main", sessionId: "ledger-1", seq: 1, idempotencyKey: null, event: JSON.stringify(event) }], createPriceBook([], []), t0);
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing`);
    context = await chromium.launchPersistentContext(tmpDir("clawtower-chromium-"), {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1280, height: 900 },
      locale: "en-US",
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => problems.push(`exception: ${e.message}`));
    page.on("console", (m) => void (m.type() === "error" && problems.push(`console: ${m.text()}`)));
  });
  after(async () => {
    await context?.close();
    await hub?.close();
    await conn?.close();
  });

  it("a re-sent snapshot is a duplicate", async () => {
    const again = await push([snapshot({ sessionId: "busy", sessionKey: "agent:main:busy", label: "busy one", status: "running", inputTokens: 2000 })]);
    assert.deepEqual(again, { accepted: 0, duplicates: 1 });
  });

  it("shows the active sessions with status, stuck marker, context %, tokens and cost as the API says", async () => {
    const api = (await (await fetch(`${hub.url}/api/v1/live?stuckMinutes=5`)).json()) as LiveReport;
    assert.deepEqual(api.sessions.map((s) => s.sessionId).sort(), ["busy", "ledger-1", "nowin", "stuck"], "the hour-old session is not active");
    await page.goto(`${hub.url}/live`);
    await page.getByRole("link", { name: "Live" }).waitFor();
    await eventually(async () => assert.equal(await page.locator('[data-testid="live-table"] tbody tr').count(), 4));
    for (const s of api.sessions) {
      const row = page.locator(`tr[data-row="${s.sessionKey ?? s.sessionId}"]`);
      assert.equal(await row.getAttribute("data-status"), s.status);
      assert.equal(await row.locator('[data-testid="context"]').innerText(), s.contextUsedPct === null ? "" : `${s.contextUsedPct.toFixed(1)}%`);
      const tokens = s.inputTokens === null ? null : s.inputTokens + (s.outputTokens ?? 0) + (s.cacheReadTokens ?? 0) + (s.cacheWriteTokens ?? 0);
      assert.equal(await row.locator('[data-testid="tokens"]').innerText(), tokens === null ? "" : formatInt(tokens));
      assert.equal(await row.locator('[data-testid="cost"]').innerText(), s.costUsd === null ? "" : formatUsd(s.costUsd));
    }
    // Independent figures: 32,000 of 128,000 is 25 %; 2,000 + 100 + 500 tokens; the ledger call's 40 + 2.
    assert.equal(await page.locator('tr[data-row="agent:main:busy"] [data-testid="context"]').innerText(), "25.0%");
    assert.equal(await page.locator('tr[data-row="agent:main:busy"] [data-testid="tokens"]').innerText(), "2,600");
    assert.equal(await page.locator('tr[data-row="agent:main:nowin"] [data-testid="context"]').innerText(), "", "no window, no percentage");
    assert.equal(await page.locator('tr[data-row="ledger-1"]').getAttribute("data-status"), "error");
    assert.equal(await page.locator('tr[data-row="ledger-1"] [data-testid="tokens"]').innerText(), "42");
    assert.equal(await page.locator('tr[data-row="agent:main:stuck"]').getAttribute("data-stuck"), "true");
    assert.equal(await page.locator('tr[data-row="agent:main:busy"]').getAttribute("data-stuck"), "false");
    // A longer threshold un-sticks it.
    await page.getByTestId("stuck-minutes").selectOption("10");
    await eventually(async () => assert.equal(await page.locator('tr[data-row="agent:main:stuck"]').getAttribute("data-stuck"), "false"));
    await page.getByTestId("stuck-minutes").selectOption("5");
  });

  it("updates without a reload when a new snapshot lands", async () => {
    await push([snapshot({ sessionId: "fresh", sessionKey: "agent:main:fresh", label: "fresh one", status: "running", lastActivityAt: Date.now() })]);
    await eventually(async () => assert.equal(await page.locator('tr[data-row="agent:main:fresh"]').getAttribute("data-status"), "running"));
    assert.deepEqual(problems, []);
  });
});
