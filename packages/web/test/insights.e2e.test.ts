/**
 * The Insights view and session health in Chromium, on testkit's hand-computed insights home: the what-if
 * amounts shown, a deep link into a session's replay, the health badges of the sessions list and the health
 * facts of a replay. Screenshots go to artifacts/screenshots/.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { createPriceBook, loadBundledPrices } from "@clawtower/core";
import { startHub, type RunningHub } from "@clawtower/hub";
import { openStore, syncHome, type StoreConnection } from "@clawtower/store";
import { buildInsightsHome, tmpDir } from "@clawtower/testkit";

const webDir = path.resolve(import.meta.dirname, "..");
const distDir = path.join(webDir, "dist");
const shotsDir = path.resolve(webDir, "../../artifacts/screenshots");
const CHROMIUM = "/usr/bin/chromium";

function ensureBuilt(): void {
  let newest = 0;
  for (const p of ["src", "index.html", "vite.config.ts", "package.json"].map((x) => path.join(webDir, x)).filter((x) => fs.existsSync(x))) {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p, { withFileTypes: true, recursive: true })) if (e.isFile()) newest = Math.max(newest, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
    } else newest = Math.max(newest, st.mtimeMs);
  }
  if ((fs.statSync(path.join(distDir, "index.html"), { throwIfNoEntry: false })?.mtimeMs ?? 0) >= newest) return;
  const vite = path.join(path.dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin", "vite.js");
  assert.equal(spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], { cwd: webDir, stdio: "inherit" }).status, 0, "vite build failed");
}

describe("insights and session health in the dashboard", { timeout: 120_000 }, () => {
  let conn: StoreConnection;
  let hub: RunningHub;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    ensureBuilt();
    fs.mkdirSync(shotsDir, { recursive: true });
    const home = path.join(tmpDir("clawtower-insights-e2e-"), "openclaw");
    buildInsightsHome().write(home);
    conn = await openStore({ kind: "sqlite", path: path.join(path.dirname(home), "clawtower.db") });
    const prices = createPriceBook([], loadBundledPrices().prices);
    await syncHome(conn, { home, deploymentId: "dep-ins", deploymentName: "ins", prices });
    hub = await startHub({ conn, prices, host: "127.0.0.1", port: 0, adminToken: null, webDir: distDir, log: () => {} });
    context = await chromium.launchPersistentContext(tmpDir("clawtower-chromium-"), {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1280, height: 900 },
      timezoneId: "UTC",
      colorScheme: "light",
      locale: "en-US",
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
    page.on("pageerror", (e) => problems.push(`exception: ${e.message}`));
  });

  after(async () => {
    await context?.close();
    await hub?.close();
    await conn?.close();
  });

  it("shows each what-if with its amounts and links to the sessions behind it", async () => {
    await page.goto(`${hub.url}/insights?range=all&tz=UTC`);
    const item = page.locator("[data-whatif='main/cron/claude-opus-5/claude-sonnet-5']");
    await item.waitFor();
    // $0.035375 actual, $0.01415 at claude-sonnet-5 (testkit insights-home.ts), shown to the cent
    assert.equal(await item.locator("[data-amount=actual]").textContent(), "$0.04");
    assert.equal(await item.locator("[data-amount=whatif]").textContent(), "$0.01");
    assert.match((await page.locator("[data-testid=insights-cron]").textContent()) ?? "", /nightly of main: 2 runs.*1 failing runs cost \$0\.003/);
    await page.screenshot({ path: path.join(shotsDir, "insights.png"), fullPage: true });
    await item.locator("[data-session-link=sess-a]").click();
    await page.waitForURL(/\/sessions\/dep-ins\/main\/sess-a/);
    await page.locator("[data-testid=session-health]").waitFor();
  });

  it("the sessions list carries a health badge, the replay its signals", async () => {
    await page.goto(`${hub.url}/sessions?range=all&tz=UTC`);
    await page.waitForSelector("[data-testid=sessions-table] tbody tr[data-session]");
    const shown = await page.$$eval("[data-testid=sessions-table] tbody tr[data-session]", (trs) => trs.map((tr) => [tr.getAttribute("data-session"), tr.querySelector("[data-health]")?.getAttribute("data-flags") ?? null]));
    assert.deepEqual(Object.fromEntries(shown), { "sess-a": "", "sess-b": "aborted", "sess-c": "context-bloat", "sess-d": "tool-loop", "sess-e": "errored retries", "sess-f": "" });
    await page.goto(`${hub.url}/sessions/dep-ins/ops/sess-d?range=all&tz=UTC`);
    const facts = page.locator("[data-testid=session-health]");
    await facts.waitFor();
    assert.match((await facts.textContent()) ?? "", /exec × 3/);
    await page.screenshot({ path: path.join(shotsDir, "session-health.png"), fullPage: true });
    assert.deepEqual(problems, []);
  });
});
