/**
 * The Alerts view in the browser (Debian's Chromium, playwright-core) against a real hub: a rule added with the
 * form appears in the rules table, data ingested through the real API makes it fire (shown under "Firing now" and
 * in the history), a bad rule shows the hub's error, and Delete removes the rule.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type BrowserContext } from "playwright-core";
import { createPriceBook } from "@clawtower/core";
import { startHub, type RunningHub } from "@clawtower/hub";
import { createApiKey, openStore, type StoreConnection } from "@clawtower/store";
import { tmpDir } from "@clawtower/testkit";
import { sessionLines } from "@clawtower/testkit/webhook-receiver";

const webDir = path.resolve(import.meta.dirname, "..");
const distDir = path.join(webDir, "dist");
const CHROMIUM = "/usr/bin/chromium";

function ensureBuilt(): void {
  let newest = 0;
  for (const p of ["src", "index.html"].map((x) => path.join(webDir, x))) {
    const st = fs.statSync(p);
    if (!st.isDirectory()) newest = Math.max(newest, st.mtimeMs);
    else for (const e of fs.readdirSync(p, { withFileTypes: true, recursive: true })) if (e.isFile()) newest = Math.max(newest, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  if ((fs.statSync(path.join(distDir, "index.html"), { throwIfNoEntry: false })?.mtimeMs ?? 0) >= newest) return;
  const vite = path.join(path.dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin", "vite.js");
  assert.equal(spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], { cwd: webDir, stdio: "inherit" }).status, 0, "vite build failed");
}

describe("dashboard alerts view", () => {
  let conn: StoreConnection;
  let hub: RunningHub;
  let context: BrowserContext;
  let key: string;

  before(async () => {
    ensureBuilt();
    conn = await openStore({ kind: "sqlite", path: path.join(tmpDir("clawtower-alerts-web-"), "clawtower.db") });
    key = (await createApiKey(conn, { deploymentId: "gw-web" }, Date.now())).token;
    hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: distDir, log: () => {}, alerts: { tickMs: 100 } });
    context = await chromium.launchPersistentContext(tmpDir("clawtower-chromium-"), {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1280, height: 900 },
    });
  });
  after(async () => {
    await context?.close();
    await hub?.close();
    await conn?.close();
  });

  it("adds a rule with the form, shows it firing after ingest, shows a bad rule's error, deletes it", async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    // Something in the store, so the dashboard shows its views rather than the empty-store help.
    await fetch(`${hub.url}/api/v1/ingest/events`, { method: "POST", body: sessionLines("warm", [0.01]), headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" } });
    await page.goto(`${hub.url}/alerts`);
    await page.waitForSelector("[data-testid=alert-add]");
    await page.fill("input[name=name]", "web-cost");
    await page.fill("input[name=params]", '{"aboveUsd": 0.5}');
    await page.click("[data-testid=alert-add] button[type=submit]");
    await page.waitForSelector("[data-testid=alerts-rules] tr[data-row=web-cost]");

    await fetch(`${hub.url}/api/v1/ingest/events`, { method: "POST", body: sessionLines("pricey", [0.4, 0.4]), headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" } });
    await page.waitForSelector("[data-testid=alerts-firing] tr[data-row='web-cost/gw-web/main/pricey']", { timeout: 10_000 });
    await page.waitForSelector("[data-testid=alerts-history] td:has-text('firing')");

    await page.fill("input[name=name]", "bad");
    await page.selectOption("select[name=kind]", "window-spend");
    await page.fill("input[name=params]", '{"window": "week", "aboveUsd": 1}');
    await page.click("[data-testid=alert-add] button[type=submit]");
    const err = await page.waitForSelector("[data-testid=alert-add-error]");
    assert.match((await err.textContent()) ?? "", /condition\.window/);

    await page.click("[data-testid=alert-delete-web-cost]");
    await page.waitForSelector("[data-testid=alerts-rules] tr[data-row=web-cost]", { state: "detached" });
    assert.deepEqual(errors, []);
  });
});
