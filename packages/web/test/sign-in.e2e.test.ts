/**
 * Sign-in and sign-out in the browser (Debian's Chromium, playwright-core) against a real hub with an admin
 * token: the form signs in to a server-side session, "Sign out" ends it on the hub, and the page asks again.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type BrowserContext } from "playwright-core";
import { createPriceBook } from "@clawtower/core";
import { startHub, type RunningHub } from "@clawtower/hub";
import { openStore, syncHome, type StoreConnection } from "@clawtower/store";
import { buildMixedHome, tmpDir } from "@clawtower/testkit";

const webDir = path.resolve(import.meta.dirname, "..");
const distDir = path.join(webDir, "dist");
const CHROMIUM = "/usr/bin/chromium";
const shotsDir = path.resolve(webDir, "../../artifacts/screenshots");

/** Builds dist/ when it is missing or older than any source of the app. */
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

describe("dashboard sign-in and sign-out", () => {
  const admin = crypto.randomBytes(32).toString("base64url");
  let conn: StoreConnection;
  let hub: RunningHub;
  let context: BrowserContext;

  before(async () => {
    ensureBuilt();
    const home = path.join(tmpDir("clawtower-sign-in-"), "openclaw");
    buildMixedHome().home.write(home);
    conn = await openStore({ kind: "sqlite", path: path.join(path.dirname(home), "clawtower.db") });
    await syncHome(conn, { home, deploymentId: "dep-local", deploymentName: "local", prices: createPriceBook([], []) });
    hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: admin, webDir: distDir, log: () => {} });
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
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

  it("signs in with the admin token, signs out with the header's button, and the old cookie opens nothing", async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${hub.url}/?range=all&tz=UTC`);
    await page.waitForSelector("[data-testid=login]");
    await page.fill("input[name=token]", admin);
    await page.click("button[type=submit]");
    await page.waitForSelector("[data-kpi='llmCalls'][data-value]:not([data-value=''])");
    const [cookie] = await context.cookies(hub.url);
    assert.equal(cookie?.name, "clawtower_session");
    assert.ok(cookie.httpOnly && cookie.sameSite === "Strict", JSON.stringify(cookie));
    assert.notEqual(cookie.value, admin, "the cookie holds a session id, not the token");
    const asCookie = { cookie: `clawtower_session=${cookie.value}` };
    assert.equal((await fetch(`${hub.url}/api/v1/info`, { headers: asCookie })).status, 200);

    fs.mkdirSync(shotsDir, { recursive: true });
    await page.screenshot({ path: path.join(shotsDir, "signed-in.png"), clip: { x: 0, y: 0, width: 1280, height: 120 } });
    await page.click("[data-testid=sign-out]");
    await page.waitForSelector("[data-testid=login]");
    assert.deepEqual(await context.cookies(hub.url), [], "the browser dropped the cookie");
    assert.equal((await fetch(`${hub.url}/api/v1/info`, { headers: asCookie })).status, 401, "and the hub ended the session");
    await page.reload();
    await page.waitForSelector("[data-testid=login]");
    assert.deepEqual(errors, []);
  });
});
