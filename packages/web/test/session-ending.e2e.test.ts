/**
 * The dashboard's sessions list and replay in Chromium: a session OpenClaw deleted or reset carries a badge
 * that says so (from the API's `ended`), live sessions carry none, and a snapshot of 22 skills is laid out as a
 * wrapping list across the facts panel instead of one narrow column. Screenshots go to artifacts/screenshots/.
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
import { openStore, syncHome, type StoreConnection } from "@clawtower/store";
import { FixtureHome, tmpDir, type FixtureSession } from "@clawtower/testkit";
import type { SessionsPage } from "../src/api/types.ts";

const webDir = path.resolve(import.meta.dirname, "..");
const distDir = path.join(webDir, "dist");
const shotsDir = path.resolve(webDir, "../../artifacts/screenshots");
const CHROMIUM = "/usr/bin/chromium";
const DAY = 86_400_000;
const SKILLS = Array.from({ length: 22 }, (_, i) => `skill-${String(i + 1).padStart(2, "0")}-${["weather", "github", "calendar", "browser"][i % 4]}`);

/** Builds dist/ when it is missing or older than any source of the app. */
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

function buildHome(): { home: FixtureHome; live: FixtureSession; skilled: FixtureSession; deleted: FixtureSession; reset: FixtureSession; legacyDeleted: FixtureSession } {
  const home = new FixtureHome();
  const t0 = Date.UTC(2026, 10, 18, 10, 0, 0);
  const main = home.agent("main");
  const skilled = main.session({ store: "sqlite", sessionKey: "agent:main:main", start: t0, skills: SKILLS });
  skilled.user("which skills do you have?");
  skilled.assistant({ input: 100, output: 10, cost: 0.001 });
  const live = main.session({ store: "sqlite", sessionKey: "agent:main:telegram:direct:42", start: t0 + DAY });
  live.user("hi");
  live.assistant({ input: 50, output: 5, cost: 0.0005 });
  const deleted = main.session({ store: "sqlite-archive", sessionKey: "agent:main:explicit:old", start: t0 - DAY });
  deleted.user("old question");
  deleted.assistant({ input: 20, output: 2, cost: 0.0002 });
  const legacy = home.agent("legacy");
  const reset = legacy.session({ store: "legacy-reset", start: t0 - 2 * DAY });
  reset.user("before the reset");
  reset.assistant({ provider: "google", model: "gemini-2.5-pro", input: 30, output: 3, cost: 0.0003 });
  const legacyDeleted = legacy.session({ store: "legacy-deleted", start: t0 - 3 * DAY });
  legacyDeleted.user("soon deleted");
  legacyDeleted.assistant({ provider: "google", model: "gemini-2.5-pro", input: 40, output: 4, cost: 0.0004 });
  return { home, live, skilled, deleted, reset, legacyDeleted };
}

describe("deleted and reset sessions, and skills, in the dashboard", { timeout: 120_000 }, () => {
  let conn: StoreConnection;
  let hub: RunningHub;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const fx = buildHome();
  const want = new Map<string, string | null>([
    [fx.skilled.sessionId, null],
    [fx.live.sessionId, null],
    [fx.deleted.sessionId, "deleted"],
    [fx.reset.sessionId, "reset"],
    [fx.legacyDeleted.sessionId, "deleted"],
  ]);

  before(async () => {
    ensureBuilt();
    fs.mkdirSync(shotsDir, { recursive: true });
    const home = path.join(tmpDir("clawtower-ending-e2e-"), "openclaw");
    fx.home.write(home);
    conn = await openStore({ kind: "sqlite", path: path.join(path.dirname(home), "clawtower.db") });
    const prices = createPriceBook([], []);
    await syncHome(conn, { home, deploymentId: "dep-end", deploymentName: "end", prices });
    hub = await startHub({ conn, prices, host: "127.0.0.1", port: 0, adminToken: null, webDir: distDir, log: () => {} });
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing`);
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

  it("the API's session rows say how each session ended", async () => {
    const r = (await (await fetch(`${hub.url}/api/v1/sessions?limit=50`)).json()) as SessionsPage;
    assert.equal(r.sessions.length, want.size);
    for (const s of r.sessions) assert.equal(s.ended, want.get(s.sessionId), `${s.sessionKey ?? s.sessionId}`);
    const deleted = r.sessions.find((s) => s.sessionId === fx.deleted.sessionId)!;
    assert.equal(deleted.sessionKey, "agent:main:explicit:old");
  });

  it("the sessions list shows a badge on deleted and reset sessions only", async () => {
    await page.goto(`${hub.url}/sessions?range=all&tz=UTC`);
    await page.waitForSelector("[data-testid=sessions-table] tbody tr[data-session]");
    await eventually(async () => {
      const shown = await page.$$eval("[data-testid=sessions-table] tbody tr[data-session]", (trs) =>
        trs.map((tr) => [tr.getAttribute("data-session"), tr.querySelector("[data-ending]")?.textContent?.trim() ?? null]),
      );
      assert.deepEqual(new Map(shown as [string, string | null][]), want);
    });
    await page.screenshot({ path: path.join(shotsDir, "sessions-ended-badges.png"), fullPage: true });
  });

  it("a deleted session's replay says so in its title and facts", async () => {
    await page.click(`[data-testid=sessions-table] tr[data-session='${fx.deleted.sessionId}'] a`);
    await page.waitForSelector("[data-testid=session-facts]");
    assert.equal((await page.textContent("h1.session-title [data-ending]"))?.trim(), "deleted");
    assert.match((await page.textContent("[data-testid=session-facts]")) ?? "", /Deleted in OpenClaw: only its archive is left/);
  });

  it("a replay lists 22 skills as a wrapping list across the panel", async () => {
    await page.goto(`${hub.url}/sessions/dep-end/main/${fx.skilled.sessionId}?range=all&tz=UTC`);
    await page.waitForSelector("[data-testid=session-skills] li");
    const layout = await page.$eval("[data-testid=session-skills]", (el) => {
      const facts = el.closest("[data-testid=session-facts]")!.getBoundingClientRect();
      const items = [...el.querySelectorAll("li")].map((li) => li.getBoundingClientRect());
      return { names: [...el.querySelectorAll("li")].map((li) => li.textContent), width: el.getBoundingClientRect().width, factsWidth: facts.width, rows: new Set(items.map((r) => Math.round(r.top))).size };
    });
    assert.deepEqual(layout.names, SKILLS);
    assert.ok(layout.width >= layout.factsWidth - 1, `the skills take the panel's width (${layout.width} of ${layout.factsWidth} px)`);
    assert.ok(layout.rows <= 4, `22 skills wrap onto a few lines, not one per line (${layout.rows} lines)`);
    assert.equal(await page.$("h1.session-title [data-ending]"), null, "a live session has no badge");
    await page.screenshot({ path: path.join(shotsDir, "replay-skills.png"), fullPage: false });
    assert.deepEqual(problems, []);
  });
});
