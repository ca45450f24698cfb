/**
 * `npm run bench [-- --suite all|ledger|hub|plugin|ingest] [--profile large-events|small-events] [--size 1024]
 *   [--sessions N] [--only legacy|sqlite] [--ccusage-timeout 300]`
 * (`--suite otlp`: only the OTLP backfill throughput)
 * (`--suite ingest`: only the hub's ingest throughput, on empty stores; printed, RESULTS.md left as it is)
 * (`--suite ingest-sessions [--per-batch 2,100,1000] [--store sqlite|postgres]`: ingest by sessions per request,
 *  with the slowest concurrent read; printed, RESULTS.md left as it is; see bench/ingest-sessions.ts)
 * (`--suite dashboard [--query NAME …] [--store sqlite|postgres] [--rounds 30] [--baseline DIR]`: only the dashboard
 *  latency on the 5 M-call datasets, optionally only the queries whose names contain NAME, optionally against a
 *  baseline checkout served from the same store; printed, RESULTS.md left as it is)
 * (`--profile`, `--size`, `--sessions` or `--only` make a quick run: printed, RESULTS.md left as it is)
 *
 * For ~1 GB of legacy JSONL and ~1 GB of SQLite store in each corpus profile (generated deterministically by
 * packages/cli/src/demo/corpus.ts, cached in bench/.corpus; large-events: fewer, larger events, 6,000 sessions;
 * small-events: ~3 KB events, 6,065 sessions per GiB):
 *   baseline   a plain single-thread read + JSON.parse of every line / row, measured in the same run
 *   cold       `clawtower report summary` on an empty store, median of 3 runs: MiB/s and peak RSS (whole process, workers included)
 *   store      the SQLite store (file + write-ahead log) after a cold import, as a share of the input
 *   warm       the same report again, nothing changed: wall time, and the rescan (sync) alone
 *   append     one event appended to one session: wall time, the rescan alone, and bytes re-read
 *   ccusage    ccusage 20.0.24 (`ccusage openclaw daily --json --offline`, its native binary) on the same home:
 *              median of 3 on legacy homes, one run (with a time limit) on SQLite homes; our cold time as a
 *              ratio to its time, and its totals against the generator's tally
 * and checks that every total equals the generator's own tally.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import zlib from "node:zlib";
import { createPriceBook, listAgents, loadBundledPrices, readConfigPrices } from "@clawtower/core";
import { openStore, syncHome } from "@clawtower/store";
import { CORPUS_PROFILES, type CorpusFormat, type CorpusProfile, type CorpusTotals } from "../packages/cli/src/demo/corpus.ts";
import { CCUSAGE_VERSION, ensureCcusage, runCcusage, type CcusageRun, type CcusageTotals } from "./ccusage.ts";
import { corpusDir, defaultSessions, ensureCorpus, readCorpusTotals } from "./corpus-cache.ts";
import { runDashboardBench, runHubBench, runIngestBench, type HubBenchRow } from "./hub.ts";
import { runIngestSessionsBench } from "./ingest-sessions.ts";

const root = path.resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const sizeMiB = Number(arg("size", "1024"));
const sessionsArg = arg("sessions", "");
const sessionsFor = (profile: CorpusProfile) => (sessionsArg ? Number(sessionsArg) : defaultSessions(profile, sizeMiB));
const only = arg("only", "");
const suite = arg("suite", "all");
const profileArg = arg("profile", "");
if (profileArg && !CORPUS_PROFILES.includes(profileArg as CorpusProfile)) throw new Error(`--profile: one of ${CORPUS_PROFILES.join(", ")}`);
const profiles: CorpusProfile[] = profileArg ? [profileArg as CorpusProfile] : [...CORPUS_PROFILES];
const ccusageTimeout = Number(arg("ccusage-timeout", "300"));
// A run on part of the corpora, or on other sizes, is printed but does not replace the full results.
const quick = args.some((a) => ["--profile", "--size", "--sessions", "--only"].includes(a));
const MiB = 2 ** 20;

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** The baseline: one thread, every line or row read and JSON.parse'd, nothing else. */
function baseline(format: CorpusFormat, dir: string): { seconds: number; events: number } {
  const t = performance.now();
  let events = 0;
  const parseText = (text: string) => {
    for (const line of text.split("\n")) {
      if (line.length === 0) continue;
      try {
        JSON.parse(line);
      } catch {
        // bad lines are part of the corpus
      }
      events++;
    }
  };
  for (const file of walk(path.join(dir, "agents"))) {
    if (format === "legacy" && /\.jsonl/.test(file)) parseText(fs.readFileSync(file, "utf8"));
    if (format === "sqlite" && file.endsWith(".jsonl.zst")) parseText(zlib.zstdDecompressSync(fs.readFileSync(file)).toString("utf8"));
    if (format === "sqlite" && file.endsWith("openclaw-agent.sqlite")) {
      const db = new DatabaseSync(file, { readOnly: true });
      for (const r of db.prepare("SELECT event_json, event_zstd FROM transcript_events").iterate() as Iterable<{ event_json: string | null; event_zstd: Uint8Array | null }>) {
        JSON.parse(r.event_json ?? zlib.zstdDecompressSync(r.event_zstd!).toString("utf8"));
        events++;
      }
      for (const r of db.prepare("SELECT archive_blob FROM session_transcript_archives").iterate() as Iterable<{ archive_blob: Uint8Array }>) {
        parseText(zlib.zstdDecompressSync(r.archive_blob).toString("utf8"));
      }
      db.close();
    }
  }
  return { seconds: (performance.now() - t) / 1000, events };
}

type CliRun = {
  seconds: number;
  rssMiB: number | null;
  json: { totals: { sessions: number; llmCalls: number; toolCalls: number; tokens: CorpusTotals["tokens"]; cost: { recorded: number; estimated: number; total: number } } };
};

function runCli(home: string, db: string): CliRun {
  const time = fs.existsSync("/usr/bin/time") ? ["/usr/bin/time", "-f", "%M"] : [];
  const cmd = [...time, process.execPath, path.join(root, "packages/cli/bin/clawtower.js"), "report", "summary", "--json", "--no-progress", "--openclaw-home", home, "--db", db];
  const t = performance.now();
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", maxBuffer: 64 * MiB });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`clawtower failed (${r.status}): ${r.stderr}`);
  const rssLine = r.stderr.trim().split("\n").at(-1) ?? "";
  return { seconds, rssMiB: time.length && /^\d+$/.test(rssLine) ? Number(rssLine) / 1024 : null, json: JSON.parse(r.stdout) };
}

async function rescan(home: string, db: string): Promise<{ ms: number; bytesRead: number }> {
  const conn = await openStore({ kind: "sqlite", path: db });
  const config = readConfigPrices(home, listAgents(home).map((a) => a.dir));
  const prices = createPriceBook(config.prices, loadBundledPrices().prices);
  const t = performance.now();
  // Same deployment id as the CLI would use is not needed: the store only has this home.
  const deployment = (await conn.db.selectFrom("deployments").select(["deployment_id", "name"]).executeTakeFirstOrThrow());
  const report = await syncHome(conn, { home, deploymentId: deployment.deployment_id, deploymentName: deployment.name, prices });
  const ms = performance.now() - t;
  await conn.close();
  return { ms, bytesRead: report.bytesRead };
}

/** Appends one call to one session; returns how to take it back, so that the cached corpus keeps its tally. */
function appendOne(format: CorpusFormat, dir: string): () => void {
  const event = JSON.stringify({
    type: "message",
    id: `bench-append-${Date.now()}`,
    timestamp: new Date().toISOString(),
    message: { role: "assistant", provider: "anthropic", model: "claude-sonnet-4-5", usage: { input: 1, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: 0.000018 } } },
  });
  if (format === "legacy") {
    const file = walk(path.join(dir, "agents")).find((f) => f.endsWith(".jsonl"))!;
    const size = fs.statSync(file).size;
    fs.appendFileSync(file, `${event}\n`);
    return () => fs.truncateSync(file, size);
  }
  const file = walk(path.join(dir, "agents")).find((f) => f.endsWith("openclaw-agent.sqlite"))!;
  const db = new DatabaseSync(file);
  const s = db.prepare("SELECT session_id, max(seq) AS m FROM transcript_events GROUP BY session_id LIMIT 1").get() as { session_id: string; m: number };
  db.prepare("INSERT INTO transcript_events (session_id, seq, event_json, created_at) VALUES (?, ?, ?, ?)").run(s.session_id, s.m + 1, event, Date.now());
  db.close();
  return () => {
    const undo = new DatabaseSync(file);
    undo.prepare("DELETE FROM transcript_events WHERE session_id = ? AND seq = ?").run(s.session_id, s.m + 1);
    undo.close();
  };
}

function exact(run: CliRun, totals: CorpusTotals): string {
  const t = run.json.totals;
  const ok =
    t.sessions === totals.sessions &&
    t.llmCalls === totals.llmCalls &&
    t.toolCalls === totals.toolCalls &&
    JSON.stringify(t.tokens) === JSON.stringify(totals.tokens) &&
    Math.round(t.cost.recorded * 1e9) === totals.recordedCostNanos;
  return ok ? "yes" : `NO (${JSON.stringify(t)} vs ${JSON.stringify(totals)})`;
}

/** Bytes of the SQLite store: the database file and its write-ahead log. */
function storeFileBytes(db: string): number {
  let bytes = 0;
  for (const f of [db, `${db}-wal`]) if (fs.existsSync(f)) bytes += fs.statSync(f).size;
  return bytes;
}

const pct = (x: number, of: number) => `${x >= of ? "+" : "−"}${(Math.abs(x - of) / of * 100).toFixed(2)} %`;

/** ccusage's token totals against the tally: "exact", or how far off each kind is. */
function tokensAgainstTally(c: { totals: CcusageTotals }, totals: CorpusTotals): string {
  const kinds = ["input", "output", "cacheRead", "cacheWrite", "total"] as const;
  if (kinds.every((k) => c.totals[k] === totals.tokens[k])) return "exact";
  return kinds.filter((k) => c.totals[k] !== totals.tokens[k]).map((k) => `${k} ${pct(c.totals[k], totals.tokens[k])}`).join(", ");
}

const COLD_RUNS = 3;
const CCUSAGE_LEGACY_RUNS = 3;
const rows: string[] = [];
const ccusageRows: string[] = [];
const median = <T extends { seconds: number }>(runs: T[]) => [...runs].sort((x, y) => x.seconds - y.seconds)[Math.floor(runs.length / 2)]!;
const ledgerCorpora = suite === "all" || suite === "ledger" ? profiles.flatMap((profile) => (["legacy", "sqlite"] as const).filter((f) => !only || only === f).map((format) => ({ profile, format }))) : [];
const ccusageBin = ledgerCorpora.length > 0 ? ensureCcusage((line) => process.stderr.write(`${line}\n`)) : null;
for (const { profile, format } of ledgerCorpora) {
  const { dir, totals } = ensureCorpus({ profile, format, sizeMiB, sessions: sessionsFor(profile) });
  const storeMiB = totals.storeBytes / MiB;
  const rawMiB = totals.rawBytes / MiB;
  const base = baseline(format, dir);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "clawtower-bench-"));
  const db = path.join(work, "clawtower.db");
  // Cold runs move by ±15 % from one run to the next on these machines: the median of three, each on a new store.
  const colds: CliRun[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    colds.push(runCli(dir, db));
  }
  const storeBytes = storeFileBytes(db);
  const bySpeed = [...colds].sort((a, b) => a.seconds - b.seconds);
  const cold = median(colds);
  const coldRange = `${(storeMiB / bySpeed[bySpeed.length - 1]!.seconds).toFixed(0)}–${(storeMiB / bySpeed[0]!.seconds).toFixed(0)}`;
  const coldRss = Math.max(...colds.map((c) => c.rssMiB ?? 0));
  const coldExact = colds.map((c) => exact(c, totals)).find((e) => e !== "yes") ?? "yes";
  const warm = runCli(dir, db);
  const warmScan = await rescan(dir, db);
  const undoFirst = appendOne(format, dir);
  const appendScan = await rescan(dir, db);
  const undoSecond = appendOne(format, dir);
  const appendCli = runCli(dir, db);
  undoSecond();
  undoFirst();
  fs.rmSync(work, { recursive: true, force: true });
  const corpus = `${profile} ${format}`;
  rows.push(
    `| ${corpus} | ${storeMiB.toFixed(0)} MiB on disk (${rawMiB.toFixed(0)} MiB of event JSON), ${totals.sessions.toLocaleString("en-US")} sessions, ${totals.events.toLocaleString("en-US")} events, ${totals.llmCalls.toLocaleString("en-US")} calls ` +
      `| ${(storeMiB / base.seconds).toFixed(0)} MiB/s (${base.seconds.toFixed(2)} s) ` +
      `| **${(storeMiB / cold.seconds).toFixed(0)} MiB/s** (${cold.seconds.toFixed(2)} s; ${COLD_RUNS} runs: ${coldRange} MiB/s), peak RSS ${coldRss > 0 ? coldRss.toFixed(0) : "?"} MiB ` +
      `| ${(storeBytes / MiB).toFixed(0)} MiB = ${((storeBytes / totals.storeBytes) * 100).toFixed(1)} % of the input ` +
      `| ${warm.seconds.toFixed(2)} s (rescan ${(warmScan.ms / 1000).toFixed(3)} s, ${warmScan.bytesRead} B read) ` +
      `| ${appendCli.seconds.toFixed(2)} s (rescan ${(appendScan.ms / 1000).toFixed(3)} s, ${appendScan.bytesRead.toLocaleString("en-US")} B read) ` +
      `| ${coldExact} |`,
  );

  // ccusage on the same home. On SQLite homes it slows down as the database grows: one run, with a time limit.
  const ccRuns: CcusageRun[] = [];
  for (let i = 0; i < (format === "legacy" ? CCUSAGE_LEGACY_RUNS : 1); i++) ccRuns.push(runCcusage(ccusageBin!, dir, ccusageTimeout));
  const cc = median(ccRuns);
  const ours = cold.json.totals.cost;
  if ("timedOut" in cc) {
    ccusageRows.push(`| ${corpus} | did not finish in ${ccusageTimeout} s (< ${(storeMiB / cc.seconds).toFixed(1)} MiB/s) | < ${(cold.seconds / cc.seconds).toFixed(3)} | ? | ? |`);
  } else {
    const ccCost = Math.round(cc.totals.costUsd * 1e9);
    ccusageRows.push(
      `| ${corpus} | ${(storeMiB / cc.seconds).toFixed(0)} MiB/s (${cc.seconds.toFixed(2)} s${ccRuns.length > 1 ? `, median of ${ccRuns.length}` : ", 1 run"}), peak RSS ${cc.rssMiB?.toFixed(0) ?? "?"} MiB ` +
        `| **${(cold.seconds / cc.seconds).toFixed(2)}** ` +
        `| ${tokensAgainstTally(cc, totals)} ` +
        `| $${cc.totals.costUsd.toFixed(2)}: ${pct(ccCost, totals.recordedCostNanos)} against the recorded $${(totals.recordedCostNanos / 1e9).toFixed(2)}` +
        ` (it prices calls without a recorded cost itself; unpriced: ${cc.totals.unpricedModels.length} models); ours $${ours.recorded.toFixed(2)} recorded + $${ours.estimated.toFixed(2)} estimated |`,
    );
  }
}

function hubTable(title: string, hubRows: HubBenchRow[]): string {
  return [`## ${title}`, "", "| store | measurement | result |", "|---|---|---|", ...hubRows.map((r) => `| ${r.store} | ${r.metric} | ${r.value} |`)].join("\n");
}

const machine = `Measured ${new Date().toISOString().slice(0, 16)}Z on ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, Node ${process.versions.node}.`;
const sections: string[] = [machine];
if (rows.length > 0) {
  sections.push(
    [
      "## Ledger: reading OpenClaw homes",
      "",
      "| corpus | baseline: 1 thread read + JSON.parse | cold `report summary` | store after the cold import (SQLite + WAL) | warm, no change | one session appended | totals exact |",
      "|---|---|---|---|---|---|---|",
      ...rows,
      "",
      `ccusage ${CCUSAGE_VERSION} (\`ccusage openclaw daily --json --offline\`, its native binary) on the same homes, same run; it reads \`transcript_events.event_json\` only, so on SQLite homes it misses zstd rows and archives:`,
      "",
      "| corpus | ccusage wall | our cold ÷ ccusage | ccusage tokens vs the tally | ccusage cost vs the tally |",
      "|---|---|---|---|---|",
      ...ccusageRows,
    ].join("\n"),
  );
}
if (suite === "all" || suite === "hub") {
  const legacy = corpusDir({ profile: "large-events", format: "legacy", sizeMiB, sessions: sessionsFor("large-events") });
  const corpusMiB = (readCorpusTotals(legacy)?.storeBytes ?? 0) / MiB || null;
  const hubRows = await runHubBench({ legacyCorpus: corpusMiB ? legacy : null, corpusMiB });
  sections.push(hubTable("Hub: dashboard API, ingest, import", hubRows));
}
if (suite === "ingest") {
  sections.push(hubTable("Hub: ingest", await runIngestBench()));
}
if (suite === "ingest-sessions") {
  const all = (name: string) => args.flatMap((a, i) => (a === `--${name}` && args[i + 1] !== undefined ? [args[i + 1]!] : []));
  const perBatch = arg("per-batch", "2,100,1000").split(",").map(Number);
  sections.push(hubTable("Hub: ingest by sessions per request", await runIngestSessionsBench(perBatch, all("store"))));
}
if (suite === "dashboard") {
  const all = (name: string) => args.flatMap((a, i) => (a === `--${name}` && args[i + 1] !== undefined ? [args[i + 1]!] : []));
  const dashboard = await runDashboardBench({ queries: all("query"), stores: all("store"), rounds: Number(arg("rounds", "30")), baseline: arg("baseline", "") || null });
  sections.push(hubTable("Hub: dashboard API", dashboard));
}
if (suite === "all" || suite === "otlp") {
  const { runOtlpBench } = await import("./otlp-export.ts");
  sections.push(hubTable("Export: OTLP backfill to a loopback receiver", await runOtlpBench()));
}
if (suite === "all" || suite === "plugin") {
  // The plugin's own bench (hook latency, upload cycles over the same corpora) prints its tables; they go in as is.
  const r = spawnSync(process.execPath, [path.join(root, "bench", "plugin-hooks.ts"), "--size", String(sizeMiB), "--sessions", String(sessionsFor("large-events"))], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
    maxBuffer: 64 * MiB,
  });
  if (r.status !== 0) throw new Error(`bench/plugin-hooks.ts failed (exit ${r.status})`);
  sections.push(["## OpenClaw plugin: hook latency and upload cycles", "", "```", r.stdout.trim(), "```"].join("\n"));
  const rss = spawnSync(process.execPath, [path.join(root, "bench", "gateway-rss.ts")], { cwd: root, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (rss.status !== 0) throw new Error(`bench/gateway-rss.ts failed (exit ${rss.status})`);
  sections.push(["## OpenClaw plugin: Gateway memory", "", rss.stdout.trim()].join("\n"));
}
const table = sections.join("\n\n");
process.stdout.write(`${table}\n`);
// Quick runs (ingest, ingest-sessions or dashboard only, or other corpora than the full ones) do not replace the full results.
if (suite !== "ingest" && suite !== "dashboard" && suite !== "ingest-sessions" && suite !== "otlp" && !quick) fs.writeFileSync(path.join(root, "bench", "RESULTS.md"), `# Bench results\n\n${table}\n`);
