/**
 * The dashboard end to end: the built app in Debian's Chromium (playwright-core) against a real hub on the
 * standard mixed fixture. Checks that what the page shows equals what the API reports for the same filters,
 * that filters, charts, the sessions list and the replay work through the URL, that live updates land
 * without a reload, that themes and a phone-sized viewport render, and that nothing logs an error or fails
 * a request. Each test opens its own page and is checked for errors when it ends, so each passes or fails
 * alone (`--test-name-pattern`) as in the whole suite. Screenshots go to artifacts/screenshots/.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { createPriceBook } from "@clawtower/core";
import { startHub, type RunningHub } from "@clawtower/hub";
import { openStore, syncHome, type StoreConnection } from "@clawtower/store";
import { buildMixedHome, tmpDir } from "@clawtower/testkit";
import type { SessionReplay, SessionsPage, SummaryReport } from "../src/api/types.ts";
import { cacheHitRate, formatCost, formatInt, formatPercent, formatUsd } from "../src/format.ts";

const webDir = path.resolve(import.meta.dirname, "..");
const distDir = path.join(webDir, "dist");
const shotsDir = path.resolve(webDir, "../../artifacts/screenshots");
const CHROMIUM = "/usr/bin/chromium";
const ADMIN_TOKEN = "web-e2e-admin-token-0123456789";

/** Builds dist/ when it is missing or older than any source of the app. */
function ensureBuilt(): void {
  const sources = ["src", "public", "index.html", "vite.config.ts", "package.json"].map((p) => path.join(webDir, p)).filter((p) => fs.existsSync(p));
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

/** Retries an assertion until it passes or the time is up (the page renders asynchronously). */
async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Everything that went wrong on a page: console errors, uncaught exceptions, failed or 4xx/5xx requests.
 * Not a failure: the live-update stream (SSE) being cut when the page navigates away or reloads — an event
 * stream never ends by itself, so the browser always reports its end as an aborted request.
 */
function watch(page: Page): string[] {
  const problems: string[] = [];
  const isStreamCut = (url: string, error: string | undefined) => new URL(url).pathname === "/api/v1/stream" && error === "net::ERR_ABORTED";
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`exception: ${e.message}`));
  page.on("requestfailed", (r) => {
    if (!isStreamCut(r.url(), r.failure()?.errorText)) problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ""}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return problems;
}

type Shown = Record<string, { text: string; value: string }>;

async function shownKpis(page: Page): Promise<Shown> {
  return page.$$eval("[data-kpi]", (els) => Object.fromEntries(els.map((e) => [e.getAttribute("data-kpi"), { text: e.textContent?.trim() ?? "", value: e.getAttribute("data-value") ?? "" }])));
}

/** The figures the overview must show for a summary: the formatted text and the exact number behind it. */
function expectedKpis(s: SummaryReport): Shown {
  const t = s.totals;
  const fig = (v: number, text = formatInt(v)) => ({ text, value: String(v) });
  const hit = cacheHitRate(t.tokens);
  const out: Shown = {
    sessions: fig(t.sessions),
    llmCalls: fig(t.llmCalls),
    toolCalls: fig(t.toolCalls),
    "tokens.total": fig(t.tokens.total),
    "tokens.input": fig(t.tokens.input),
    "tokens.output": fig(t.tokens.output),
    "tokens.cacheRead": fig(t.tokens.cacheRead),
    "tokens.cacheWrite": fig(t.tokens.cacheWrite),
    "cost.total": fig(t.cost.total, formatCost(t.cost.total, t.unpricedCalls)),
    "cost.recorded": fig(t.cost.recorded, formatUsd(t.cost.recorded)),
    "cost.estimated": fig(t.cost.estimated, formatUsd(t.cost.estimated)),
    unpricedCalls: fig(t.unpricedCalls, t.unpricedCalls > 0 ? formatInt(t.unpricedCalls) : "none"),
    cacheHitRate: { text: formatPercent(hit), value: hit === null ? "" : String(hit) },
  };
  if (t.unpricedCalls > 0) out["unpricedTokens"] = fig(t.unpricedTokens);
  return out;
}

describe("dashboard in a browser", { timeout: 120_000 }, () => {
  let conn: StoreConnection;
  let hub: RunningHub;
  let home: string;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  const prices = createPriceBook([], []);
  const sync = () => syncHome(conn, { home, deploymentId: "dep-web", deploymentName: "web", prices });

  const api = async <T>(p: string, params: Record<string, string> = {}): Promise<T> => {
    const q = new URLSearchParams(params).toString();
    const r = await fetch(`${hub.url}${p}${q ? `?${q}` : ""}`);
    assert.equal(r.status, 200, `${p}?${q}`);
    return (await r.json()) as T;
  };
  const params = () => Object.fromEntries(new URL(page.url()).searchParams);
  /** Waits until the overview shows exactly the API's summary for these filters. */
  const expectOverview = async (filters: Record<string, string>) => {
    const expected = expectedKpis(await api<SummaryReport>("/api/v1/reports/summary", filters));
    await eventually(async () => assert.deepEqual(await shownKpis(page), expected));
    return expected;
  };
  const shot = (name: string, full = false) => page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: full });

  before(async () => {
    ensureBuilt();
    fs.mkdirSync(shotsDir, { recursive: true });
    home = path.join(tmpDir("clawtower-web-e2e-"), "openclaw");
    buildMixedHome().home.write(home);
    conn = await openStore({ kind: "sqlite", path: path.join(path.dirname(home), "clawtower.db") });
    await sync();
    hub = await startHub({ conn, prices, host: "127.0.0.1", port: 0, adminToken: null, webDir: distDir, log: () => {} });
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    context = await chromium.launchPersistentContext(tmpDir("clawtower-chromium-"), {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1280, height: 900 },
      timezoneId: "Europe/Paris",
      colorScheme: "light",
      locale: "en-US",
    });
  });

  // Every test on a page of its own, which must log no error and fail no request.
  beforeEach(async () => {
    page = await context.newPage();
    problems = watch(page);
  });
  afterEach(async () => {
    await page.close();
    assert.deepEqual(problems, [], "the page logged errors or failed requests");
  });

  after(async () => {
    await context?.close();
    await hub?.close();
    await conn?.close();
  });

  it("paints the overview fast and fills the URL with the reader's range and time zone", async (t) => {
    const started = Date.now();
    await page.goto(`${hub.url}/`);
    await page.waitForSelector("[data-kpi='sessions']");
    assert.deepEqual(params(), { range: "7d", tz: "Europe/Paris" });
    await expectOverview({ since: "7d", tz: "Europe/Paris" });
    const paint = await page.evaluate(() => performance.getEntriesByType("paint").find((p) => p.name === "first-contentful-paint")?.startTime ?? null);
    t.diagnostic(`first contentful paint ${Math.round(paint ?? -1)} ms; numbers shown ${Date.now() - started} ms after navigation started`);
    assert.ok(paint !== null && paint < 1000, `first contentful paint took ${paint} ms`);
  });

  it("shows the summary's numbers for all time, and follows range, agent and time zone", async () => {
    await page.goto(`${hub.url}/?range=all&tz=UTC`);
    const all = await expectOverview({ tz: "UTC" });
    assert.notEqual(all["llmCalls"]!.value, "0", "the fixture has calls");
    assert.equal(all["cost.total"]!.text.startsWith("$"), true);
    assert.ok(Number(all["unpricedCalls"]!.value) > 0, "without prices, the fixture's estimated calls are unpriced");
    await shot("overview-light", true);

    await page.click("[data-testid=range] button[data-value=custom]");
    await page.fill("input[name=from]", "2026-11-18");
    await page.fill("input[name=to]", "2026-11-19");
    await eventually(async () => assert.deepEqual(params(), { range: "custom", from: "2026-11-18", to: "2026-11-19", tz: "UTC" }));
    const utc = await expectOverview({ since: "2026-11-18", until: "2026-11-19", tz: "UTC" });

    await page.selectOption("select[name=tz]", "Asia/Tokyo");
    await eventually(async () => assert.equal(params()["tz"], "Asia/Tokyo"));
    const tokyo = await expectOverview({ since: "2026-11-18", until: "2026-11-19", tz: "Asia/Tokyo" });
    assert.notDeepEqual(tokyo, utc, "the same calendar days hold different calls in Tokyo");

    await page.selectOption("select[name=agent]", "legacy");
    await eventually(async () => assert.equal(params()["agent"], "legacy"));
    await expectOverview({ since: "2026-11-18", until: "2026-11-19", tz: "Asia/Tokyo", agent: "legacy" });

    await page.click("[data-testid=range] button[data-value='30d']");
    await eventually(async () => assert.deepEqual(params(), { range: "30d", tz: "Asia/Tokyo", agent: "legacy" }));
    await expectOverview({ since: "30d", tz: "Asia/Tokyo", agent: "legacy" });

    // Back undoes the last filter change.
    await page.goBack();
    await eventually(async () => assert.equal(params()["range"], "custom"));
    await expectOverview({ since: "2026-11-18", until: "2026-11-19", tz: "Asia/Tokyo", agent: "legacy" });
  });

  it("charts the timeline with a legend that adds up to the report", async () => {
    await page.goto(`${hub.url}/?range=all&tz=UTC`);
    await page.waitForSelector("[data-testid=timeline] canvas");
    await page.click("[data-testid=metric] button[data-value=tokens]");
    await page.click("[data-testid=bucket] button[data-value=hour]");
    await eventually(async () => assert.deepEqual(params(), { range: "all", tz: "UTC", bucket: "hour", metric: "tokens" }));
    const summary = await api<SummaryReport>("/api/v1/reports/summary", { tz: "UTC" });
    // Not hovering, the legend shows each part's total over the range.
    await eventually(async () => {
      const legend = await page.$$eval("[data-testid=timeline] .u-legend .u-series", (rows) => rows.map((r) => [r.querySelector(".u-label")?.textContent, r.querySelector(".u-value")?.textContent]));
      assert.deepEqual(Object.fromEntries(legend.slice(1)), {
        Input: formatInt(summary.totals.tokens.input),
        Output: formatInt(summary.totals.tokens.output),
        "Cache read": formatInt(summary.totals.tokens.cacheRead),
        "Cache write": formatInt(summary.totals.tokens.cacheWrite),
      });
    });
    await page.click("[data-testid=split] button[data-value=model]");
    await eventually(async () => assert.equal(params()["split"], "model"));
    await page.waitForSelector("[data-testid=timeline][aria-busy=false] canvas");
  });

  it("lists models, agents and tools as the API reports them", async () => {
    await page.goto(`${hub.url}/?range=all&tz=UTC`);
    await page.click("nav.views >> text=Models");
    await eventually(async () => assert.equal(new URL(page.url()).pathname, "/models"));
    const models = await api<{ rows: { provider: string; model: string; llmCalls: number }[] }>("/api/v1/reports/models", { tz: "UTC" });
    await eventually(async () => {
      const rows = await page.$$eval("[data-testid=models-table] tbody tr", (trs) => trs.map((tr) => [tr.getAttribute("data-row"), tr.querySelectorAll("td")[0]?.textContent]));
      assert.deepEqual(rows, models.rows.map((r) => [`${r.provider}/${r.model}`, formatInt(r.llmCalls)]));
    });
    // An unpriced model reads "unpriced", never $0.
    const unpriced = await page.$$eval("[data-testid=models-table] tbody tr[data-row='local/mystery-llm-7b'] td", (tds) => tds[2]?.textContent ?? "");
    assert.match(unpriced, /^unpriced/);
    await shot("models");

    await page.click("nav.views >> text=Tools");
    const tools = await api<{ tools: { name: string; calls: number }[] }>("/api/v1/reports/tools", { tz: "UTC" });
    await eventually(async () => {
      const rows = await page.$$eval("[data-testid=tools-table] tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-row")));
      assert.deepEqual(rows, tools.tools.map((x) => x.name));
    });

    await page.click("nav.views >> text=Agents");
    await eventually(async () => {
      const rows = await page.$$eval("[data-testid=agents-table] tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-row")));
      assert.deepEqual(rows?.sort(), ["legacy", "main"]);
    });
  });

  it("filters, searches, sorts and pages sessions, and opens a replay", async () => {
    await page.goto(`${hub.url}/?range=all&tz=UTC`);
    await page.click("nav.views >> text=Sessions");
    const all = await api<SessionsPage>("/api/v1/sessions", { tz: "UTC", limit: "50" });
    await eventually(async () => assert.equal(await page.textContent("[data-testid=sessions-count]"), `1–${all.total} of ${all.total}`));

    await page.selectOption("select[name=kind]", "cron");
    const cron = await api<SessionsPage>("/api/v1/sessions", { tz: "UTC", kind: "cron" });
    await eventually(async () => assert.equal(await page.locator("[data-testid=sessions-table] tbody tr").count(), cron.total));
    assert.equal(params()["kind"], "cron");
    await page.selectOption("select[name=kind]", "");

    await page.click("th button[data-sort=cost]");
    await eventually(async () => assert.equal(params()["sort"], "cost"));
    const byCost = await api<SessionsPage>("/api/v1/sessions", { tz: "UTC", sort: "cost", order: "desc" });
    await eventually(async () => assert.equal(await page.getAttribute("[data-testid=sessions-table] tbody tr:first-child", "data-session"), byCost.sessions[0]!.sessionId));

    await page.fill("input[name=q]", "agent:main:main");
    await eventually(async () => assert.equal(params()["q"], "agent:main:main"));
    const found = await api<SessionsPage>("/api/v1/sessions", { tz: "UTC", q: "agent:main:main" });
    assert.equal(found.total, 1);
    const chat = found.sessions[0]!;
    await eventually(async () => assert.equal(await page.locator("[data-testid=sessions-table] tbody tr").count(), 1));
    await shot("sessions");

    await page.click(`[data-testid=sessions-table] tr[data-session='${chat.sessionId}'] a`);
    await eventually(async () => assert.equal(decodeURIComponent(new URL(page.url()).pathname), `/sessions/dep-web/main/${chat.sessionId}`));
    const replay = await api<SessionReplay>(`/api/v1/sessions/dep-web/main/${chat.sessionId}`);
    await page.waitForSelector("[data-testid=entries] [data-kind=user]");
    assert.equal(await page.locator("[data-testid=entries] [data-kind=user]").count(), replay.entries.filter((e) => e.kind === "user").length);
    assert.match((await page.textContent("[data-testid=entries]")) ?? "", /what's in the repo\?/);
    // Tool calls with their arguments and results; the failed one is marked.
    await page.click("[data-testid=entries] details[data-tool=read] summary");
    assert.match((await page.textContent("[data-testid=entries] details[data-tool=read] .tool-body")) ?? "", /README\.md/);
    await page.click("[data-testid=entries] details[data-tool=exec] summary");
    assert.match((await page.textContent("[data-testid=entries] details[data-tool=exec]")) ?? "", /error[\s\S]*permission denied/);
    // Per-turn tokens and latency.
    const turnRows = await page.$$eval("[data-testid=turns-table] tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
    assert.equal(turnRows.length, replay.turns.length);
    assert.equal(turnRows[0]![5], formatInt(replay.turns[0]!.tokens.total));
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot("replay", true);

    // A deep link to the replay loads by itself.
    await page.reload();
    await page.waitForSelector("[data-testid=entries] [data-kind=assistant]");
  });

  it("updates in place when new data lands", async () => {
    await page.goto(`${hub.url}/?range=all&tz=UTC`);
    const before = await expectOverview({ tz: "UTC" });
    await page.waitForSelector("[data-testid=live-status].live-live");
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

    // Complete the fixture's truncated last line and add one more call: two new LLM calls.
    const sessions = path.join(home, "agents/legacy/sessions");
    const file = fs.readdirSync(sessions).find((f) => f.endsWith(".jsonl") && !f.includes("trajectory") && !f.startsWith("dangling"))!;
    const now = new Date(Date.now() - 60_000).toISOString();
    fs.appendFileSync(
      path.join(sessions, file),
      `5,"output":3,"cacheRead":0,"cacheWrite":0}},"id":"completed-1","timestamp":"2026-11-19T04:00:00.000Z"}\n` +
        JSON.stringify({ type: "message", id: "appended-1", timestamp: now, message: { role: "assistant", provider: "google", model: "gemini-2.5-pro", usage: { input: 10, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: 0.5 } } } }) +
        "\n",
    );
    await sync();
    const afterUpdate = await expectOverview({ tz: "UTC" });
    assert.equal(Number(afterUpdate["llmCalls"]!.value), Number(before["llmCalls"]!.value) + 2);
    assert.equal(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload), true, "the page was not reloaded");
  });

  it("switches between light and dark themes", async () => {
    await page.goto(`${hub.url}/?range=all&tz=UTC`);
    await page.waitForSelector("[data-kpi='sessions']");
    const bg = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const light = await bg();
    assert.equal(await page.getAttribute("html", "data-theme"), "light");
    await page.click("[data-testid=theme-toggle]");
    assert.equal(await page.getAttribute("html", "data-theme"), "dark");
    assert.notEqual(await bg(), light);
    await page.waitForSelector("[data-testid=timeline] canvas");
    await shot("overview-dark", true);
    // The choice survives a reload.
    await page.reload();
    assert.equal(await page.getAttribute("html", "data-theme"), "dark");
    await page.click("[data-testid=theme-toggle]");
    assert.equal(await page.getAttribute("html", "data-theme"), "light");
  });

  it("fits a 390 px phone screen without horizontal scrolling", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const chat = (await api<SessionsPage>("/api/v1/sessions", { q: "agent:main:main" })).sessions[0]!;
    for (const [name, url, ready] of [
      ["phone-overview", "/?range=all&tz=UTC", "[data-testid=timeline] canvas"],
      ["phone-sessions", "/sessions?range=all&tz=UTC", "[data-testid=sessions-table]"],
      ["phone-replay", `/sessions/dep-web/main/${chat.sessionId}?range=all&tz=UTC`, "[data-testid=entries] [data-kind=user]"],
    ] as const) {
      await page.goto(`${hub.url}${url}`);
      await page.waitForSelector(ready);
      const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      assert.ok(scroll <= client, `${name}: the page is ${scroll} px wide in a ${client} px viewport`);
      await shot(name, name === "phone-overview");
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("keeps a session dated in the future out of the last 24 hours and flags it", async () => {
    const last24h = { since: "24h", until: "now", tz: "UTC" };
    const before = await api<SummaryReport>("/api/v1/reports/summary", last24h);
    // A gateway whose clock is 3 hours ahead wrote this session.
    const id = "0f0f0f0f-3c1d-4c1a-9a31-f07ec0ffee00";
    const at = new Date(Date.now() + 3 * 3_600_000).toISOString();
    fs.writeFileSync(
      path.join(home, "agents/main/sessions", `${id}.jsonl`),
      `${JSON.stringify({ type: "session", version: 3, id, timestamp: at, cwd: "/tmp" })}\n` +
        `${JSON.stringify({ type: "message", id: "ahead-1", timestamp: at, message: { role: "assistant", provider: "google", model: "gemini-2.5-pro", usage: { input: 40, output: 2, cacheRead: 0, cacheWrite: 0, cost: { total: 0.25 } } } })}\n`,
    );
    await sync();
    const all = await api<SummaryReport & { problems: Record<string, number> }>("/api/v1/reports/summary", { tz: "UTC" });
    assert.ok((all.problems["future-timestamp"] ?? 0) >= 1, JSON.stringify(all.problems));
    await page.goto(`${hub.url}/?range=24h&tz=UTC`);
    const shown = await expectOverview(last24h);
    assert.equal(shown["llmCalls"]!.value, String(before.totals.llmCalls), "the future call is not among the last 24 hours'");
    assert.match((await page.textContent("[data-testid=problems]")) ?? "", /future-timestamp: \d/);
    const listed = await api<SessionsPage>("/api/v1/sessions", { ...last24h, limit: "50" });
    assert.ok(!listed.sessions.some((x) => x.sessionId === id), "the API's last 24 hours do not list it");
    await page.goto(`${hub.url}/sessions?range=24h&tz=UTC`);
    if (listed.total === 0) await page.waitForSelector("text=No sessions were active in last 24 hours");
    else {
      await eventually(async () =>
        assert.deepEqual(await page.$$eval("[data-testid=sessions-table] tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-session"))), listed.sessions.map((x) => x.sessionId)),
      );
    }
    await page.goto(`${hub.url}/sessions?range=all&tz=UTC`);
    await page.waitForSelector(`[data-session='${id}']`);
  });

  it("says through which path the data arrives and what the sessions figure counts", async () => {
    await page.goto(`${hub.url}/?range=all&tz=UTC`);
    await page.waitForSelector("[data-kpi='sessions']");
    assert.equal(await page.textContent("[data-testid=deployment-paths]"), "local import");
    const activity = page.locator(".card", { has: page.locator("[data-kpi=sessions]") });
    assert.match((await activity.textContent()) ?? "", /Active sessions/);
    assert.match((await activity.getAttribute("title")) ?? "", /sessions with an event in the range/);
  });

  it("asks for a token on a hub that requires one", async () => {
    const secured = await startHub({ conn, prices, host: "127.0.0.1", port: 0, adminToken: ADMIN_TOKEN, webDir: distDir, log: () => {} });
    // A different host name than the open hub, so the session cookie stays with this hub.
    const url = secured.url.replace("127.0.0.1", "localhost");
    const login = await context.newPage();
    const seen = watch(login);
    try {
      await login.goto(`${url}/?range=all&tz=UTC`);
      await login.waitForSelector("[data-testid=login]");
      await login.screenshot({ path: path.join(shotsDir, "login.png") });
      await login.fill("input[name=token]", "not-the-token-at-all");
      await login.click("button[type=submit]");
      await login.waitForSelector("[data-testid=login] [role=alert]");
      await login.fill("input[name=token]", ADMIN_TOKEN);
      await login.click("button[type=submit]");
      await login.waitForSelector("[data-kpi='llmCalls'][data-value]:not([data-value=''])");
      const expected = expectedKpis(await api<SummaryReport>("/api/v1/reports/summary", { tz: "UTC" }));
      await eventually(async () => assert.deepEqual(await shownKpis(login), expected));
      // Only the expected refusals before signing in.
      assert.deepEqual(seen.filter((p) => !/401|Unauthorized/.test(p)), []);
    } finally {
      await login.close();
      await secured.close();
    }
  });

  it("explains an empty store and a missing session", async () => {
    const emptyConn = await openStore({ kind: "sqlite", path: path.join(tmpDir(), "empty.db") });
    const missingHome = path.join(tmpDir(), "no-openclaw-here");
    const info = () => ({ openclawHome: { path: missingHome, exists: false }, liveImport: null });
    const empty = await startHub({ conn: emptyConn, prices, host: "127.0.0.1", port: 0, adminToken: null, webDir: distDir, info, log: () => {} });
    const p = await context.newPage();
    const seen = watch(p);
    try {
      await p.goto(`${empty.url}/`);
      await p.waitForSelector("[data-testid=empty-store]");
      const text = (await p.textContent("[data-testid=empty-store]")) ?? "";
      assert.match(text, /No data yet[\s\S]*--openclaw-home[\s\S]*clawtower serve --demo/);
      assert.ok(text.includes(`${missingHome}, which does not exist`), text);
      await p.screenshot({ path: path.join(shotsDir, "empty-store.png") });
      await p.goto(`${empty.url}/sessions/nope/nope/nope`);
      await p.waitForSelector("[role=alert]");
      assert.match((await p.textContent("[role=alert]")) ?? "", /Could not load this session[\s\S]*no session nope/);
      assert.deepEqual(seen.filter((x) => !/404|Not Found/.test(x)), []);
    } finally {
      await p.close();
      await empty.close();
      await emptyConn.close();
    }
  });
});
