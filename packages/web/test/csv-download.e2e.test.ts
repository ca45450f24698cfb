/**
 * The dashboard's "Download CSV" buttons in Debian's Chromium (playwright-core download events): each table's
 * file is RFC 4180 with a header row and the same numbers as the API, summing to the mixed fixture's known totals.
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
import { buildMixedHome, parseRfc4180, tmpDir, type MixedHome } from "@clawtower/testkit";

const webDir = path.resolve(import.meta.dirname, "..");
const distDir = path.join(webDir, "dist");
const CHROMIUM = "/usr/bin/chromium";

/** Builds dist/ when it is missing or older than any source of the app (as dashboard.e2e.test.ts does). */
function ensureBuilt(): void {
  const sources = ["src", "public", "index.html", "vite.config.ts", "package.json", "../core/src/reports/csv.ts"].map((p) => path.join(webDir, p)).filter((p) => fs.existsSync(p));
  let newest = 0;
  for (const p of sources) {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p, { withFileTypes: true, recursive: true })) if (e.isFile()) newest = Math.max(newest, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
    } else newest = Math.max(newest, st.mtimeMs);
  }
  const built = fs.statSync(path.join(distDir, "index.html"), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (built >= newest) return;
  const vite = path.join(path.dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin", "vite.js");
  const r = spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], { cwd: webDir, stdio: "inherit" });
  assert.equal(r.status, 0, "vite build failed");
}

describe("dashboard CSV downloads", { timeout: 120_000 }, () => {
  let conn: StoreConnection;
  let hub: RunningHub;
  let context: BrowserContext;
  let page: Page;
  let mixed: MixedHome;

  before(async () => {
    ensureBuilt();
    const home = path.join(tmpDir("clawtower-csv-e2e-"), "openclaw");
    mixed = buildMixedHome();
    mixed.home.write(home);
    conn = await openStore({ kind: "sqlite", path: path.join(path.dirname(home), "clawtower.db") });
    await syncHome(conn, { home, deploymentId: "dep-web", deploymentName: "web", prices: createPriceBook([], []) });
    hub = await startHub({ conn, prices: createPriceBook([], []), host: "127.0.0.1", port: 0, adminToken: null, webDir: distDir, log: () => {} });
    context = await chromium.launchPersistentContext(tmpDir("clawtower-chromium-"), {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    page = context.pages()[0] ?? (await context.newPage());
  });
  after(async () => {
    await context?.close();
    await hub?.close();
    await conn?.close();
  });

  const api = async (p: string) => (await (await fetch(`${hub.url}${p}`)).json()) as any;

  /** Clicks the button, waits for the download, and returns the file's records keyed by its header. */
  async function download(url: string, button: string, filename: string): Promise<Record<string, string>[]> {
    await page.goto(`${hub.url}${url}`);
    await page.waitForSelector(`[data-testid=${button}]`);
    const [file] = await Promise.all([page.waitForEvent("download"), page.click(`[data-testid=${button}]`)]);
    assert.equal(file.suggestedFilename(), filename);
    const text = fs.readFileSync((await file.path())!, "utf8");
    const [head, ...rows] = parseRfc4180(text);
    assert.ok(head && head.length > 1);
    return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]!])));
  }
  const total = (rows: Record<string, string>[], col: string) => rows.reduce((a, r) => a + Number(r[col]), 0);

  it("models and agents: the API's rows, summing to the fixture's calls and tokens", async () => {
    const e = mixed.home.expected;
    const models = await download("/models?range=all&tz=UTC", "models-table-csv", "models.csv");
    const json = await api("/api/v1/reports/models?tz=UTC");
    assert.deepEqual(models.map((r) => `${r["provider"]}/${r["model"]}`), json.rows.map((r: any) => `${r.provider}/${r.model}`));
    json.rows.forEach((r: any, i: number) => {
      assert.equal(Number(models[i]!["cost_usd"]), r.cost.total);
      assert.equal(Number(models[i]!["sessions"]), r.sessions);
    });
    assert.equal(total(models, "llm_calls"), e.llmCalls);
    assert.equal(total(models, "total_tokens"), e.tokens.total);
    const agents = await download("/agents?range=all&tz=UTC", "agents-table-csv", "agents.csv");
    assert.deepEqual(agents.map((r) => r["agent"]).sort(), ["legacy", "main"]);
    assert.equal(total(agents, "cache_read_tokens"), e.tokens.cacheRead);
  });

  it("tools, sessions and the overview's tables", async () => {
    const e = mixed.home.expected;
    const tools = await download("/tools?range=all&tz=UTC", "tools-table-csv", "tools.csv");
    assert.equal(total(tools, "calls"), e.toolCalls);
    assert.equal(total(tools, "errors"), e.toolErrors);
    const sessions = await download("/sessions?range=all&tz=UTC", "sessions-table-csv", "sessions.csv");
    const page1 = await api("/api/v1/sessions?tz=UTC&limit=50");
    assert.deepEqual(sessions.map((r) => r["session_id"]), page1.sessions.map((s: any) => s.sessionId));
    assert.equal(total(sessions, "llm_calls"), e.llmCalls);
    const top = await download("/?range=all&tz=UTC", "top-models-csv", "top-models.csv");
    const summary = await api("/api/v1/reports/summary?tz=UTC");
    assert.deepEqual(top.map((r) => Number(r["llm_calls"])), summary.byModel.slice(0, 6).map((m: any) => m.llmCalls));
    const topTools = await download("/?range=all&tz=UTC", "top-tools-csv", "top-tools.csv");
    assert.ok(topTools.length > 0 && topTools.length <= 6);
  });
});
