/**
 * The Budgets view and the overview's budget badge in Debian's Chromium against a real hub: spend per budget
 * equals the fixture's calls of the current period, states, and a blocked run's link opens its session.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { budgetPeriodOf, createPriceBook, loadBundledPrices } from "@clawtower/core";
import { startHub, type RunningHub } from "@clawtower/hub";
import { openStore, recordBudgetEvents, setBudget, syncHome, type StoreConnection } from "@clawtower/store";
import { FixtureHome, tmpDir, type FixtureSession } from "@clawtower/testkit";
import { formatUsd } from "../src/format.ts";
import { projectedAtEnd } from "../src/state/budget-projection.ts";

const webDir = path.resolve(import.meta.dirname, "..");
const distDir = path.join(webDir, "dist");
const CHROMIUM = "/usr/bin/chromium";

function ensureBuilt(): void {
  const newest = Math.max(...["src", "index.html"].flatMap((p) => {
    const full = path.join(webDir, p);
    const st = fs.statSync(full);
    return st.isDirectory() ? fs.readdirSync(full, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => fs.statSync(path.join(e.parentPath, e.name)).mtimeMs) : [st.mtimeMs];
  }));
  const built = fs.statSync(path.join(distDir, "index.html"), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (built >= newest) return;
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

describe("budgets in the dashboard", { timeout: 120_000 }, () => {
  let conn: StoreConnection;
  let hub: RunningHub;
  let context: BrowserContext;
  let page: Page;
  let session: FixtureSession;
  const problems: string[] = [];
  let mainNanos = 0;

  before(async () => {
    ensureBuilt();
    const now = Date.now();
    const day = budgetPeriodOf(now, "day", "UTC");
    const fx = new FixtureHome();
    session = fx.agent("main").session({ store: "sqlite", sessionKey: "agent:main:telegram:direct:alice" });
    const other = fx.agent("ops").session({ store: "sqlite", sessionKey: "agent:ops:discord:group:g1" });
    for (const [k, at] of [day.start - 3_600_000, Math.max(day.start, now - 20 * 60_000), Math.max(day.start + 1, now - 10 * 60_000)].entries()) {
      session.at(at).user(`q${k}`);
      session.assistant({ provider: "anthropic", model: "claude-sonnet-4-5", input: 500, output: 50, cost: 0.3 + k / 100 });
      if (at >= day.start) mainNanos += Math.round((0.3 + k / 100) * 1e9);
      other.at(at).user(`o${k}`);
      other.assistant({ provider: "anthropic", model: "claude-sonnet-4-5", input: 500, output: 50, cost: 0.01 });
    }
    const home = path.join(tmpDir("clawtower-budgets-e2e-"), "openclaw");
    fx.write(home);
    conn = await openStore({ kind: "sqlite", path: path.join(path.dirname(home), "clawtower.db") });
    await syncHome(conn, { home, deploymentId: "dep-web", deploymentName: "web", prices: createPriceBook([], loadBundledPrices().prices), workers: 0 });
    await setBudget(conn, { id: "main-daily", scope: { agent: "main" }, period: "day", limitUsd: 0.5 }, now);
    await setBudget(conn, { id: "roomy", period: "month", limitUsd: 1000 }, now);
    await recordBudgetEvents(conn, "dep-web", [{ eventId: "ev-1", kind: "block", budgetId: "fleet:main-daily", periodStart: day.start, at: now - 60_000, runId: "r1", sessionKey: "agent:main:telegram:direct:alice", agentId: "main", spentUsd: 0.61, spentTokens: 1100, limitUsd: 0.5 }], now);
    hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: distDir, log: () => {} });
    context = await chromium.launchPersistentContext(tmpDir("clawtower-chromium-"), {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1280, height: 900 },
      timezoneId: "UTC",
      locale: "en-US",
    });
    page = await context.newPage();
    page.on("console", (m) => void (m.type() === "error" && problems.push(`console: ${m.text()}`)));
    page.on("pageerror", (e) => problems.push(`exception: ${e.message}`));
    page.on("response", (r) => void (r.status() >= 400 && problems.push(`HTTP ${r.status()} ${r.url()}`)));
  });
  after(async () => {
    await context?.close();
    await hub?.close();
    await conn?.close();
  });

  it("the overview shows a badge for the exceeded budget, which opens the Budgets view", async () => {
    await page.goto(`${hub.url}/`);
    const badge = await page.waitForSelector("[data-testid='budget-badge']");
    assert.equal((await badge.textContent())?.trim(), "1 budget exceeded");
    await badge.click();
    await page.waitForSelector("[data-testid='budgets-table']");
    assert.equal(new URL(page.url()).pathname, "/budgets");
  });

  it("spend, state and projection per budget; the blocked run links to its session", async () => {
    await eventually(async () => {
      const row = await page.$("tr[data-row='main-daily']");
      assert.ok(row);
      assert.equal(await row.getAttribute("data-state"), "exceeded");
      assert.equal((await row.$eval("[data-testid='budget-spent']", (e) => e.textContent))?.trim(), formatUsd(mainNanos / 1e9));
      assert.equal(await page.$eval("tr[data-row='roomy']", (e) => e.getAttribute("data-state")), "ok");
    });
    const link = await page.waitForSelector("[data-testid='budget-event-session']");
    await link.click();
    await page.waitForURL((u) => u.pathname.startsWith("/sessions/"));
    assert.equal(new URL(page.url()).pathname, `/sessions/dep-web/main/${session.sessionId}`);
    assert.deepEqual(problems, []);
  });

  it("projection: the run rate so far carried to the period's end", () => {
    assert.equal(projectedAtEnd(2, 0, 100, 50), 4);
    assert.equal(projectedAtEnd(2, 0, 100, 4), null);
    assert.equal(projectedAtEnd(3, 0, 100, 200), 3);
  });
});
