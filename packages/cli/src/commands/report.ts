/** `clawtower report <kind>`: bring the store up to date with the OpenClaw home, then report. */
import {
  agentsReport,
  facets,
  listProblems,
  modelsReport,
  periodReport,
  problemCounts,
  sessionsReport,
  summaryReport,
  toolsReport,
  type StoreConnection,
} from "@clawtower/store";
import { formatLocation, PROBLEM_KINDS, type ProblemCounts, type ProblemKind, type ReportFilters } from "@clawtower/core";
import { resolveLocalConfig } from "../config.ts";
import { openAndSync } from "../local.ts";
import { REPORT_KINDS, UsageError, type ReportKind } from "../errors.ts";
import { parseWorkers, toFilters, type CommonOptions } from "./shared.ts";

export type ReportOptions = CommonOptions & { limit?: string; sort?: string; csv?: boolean };

/** The tables (and cli-table3) are loaded only for text output: `--json` never renders them. */
const tables = () => import("../render/tables.ts");
const csv = () => import("../render/csv.ts");

async function build(kind: ReportKind, conn: StoreConnection, f: ReportFilters, o: ReportOptions, now: number): Promise<{ json: unknown; text: () => Promise<string>; csv: () => Promise<string> }> {
  switch (kind) {
    case "summary": {
      const r = await summaryReport(conn, f, now);
      return { json: r, text: async () => (await tables()).renderSummary(r), csv: async () => (await csv()).summaryCsv(r) };
    }
    case "daily":
    case "weekly":
    case "monthly": {
      const r = await periodReport(conn, f, kind === "daily" ? "day" : kind === "weekly" ? "week" : "month", now);
      return { json: r, text: async () => (await tables()).renderPeriods(r), csv: async () => (await csv()).periodsCsv(r) };
    }
    case "models": {
      const r = await modelsReport(conn, f, now);
      return { json: r, text: async () => (await tables()).renderModels(r.rows, r.totals), csv: async () => (await csv()).modelsCsv(r.rows) };
    }
    case "agents": {
      const r = await agentsReport(conn, f, now);
      return { json: r, text: async () => (await tables()).renderAgents(r.rows, r.totals), csv: async () => (await csv()).agentsCsv(r.rows) };
    }
    case "sessions": {
      const sort = o.sort ?? "last";
      if (!["last", "cost", "tokens", "calls"].includes(sort)) throw new UsageError(`--sort must be one of last, cost, tokens, calls (got "${sort}")`);
      const limit = o.limit !== undefined ? Number(o.limit) : o.json || o.csv ? undefined : 50;
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError(`--limit must be a positive whole number (got "${o.limit}")`);
      const r = await sessionsReport(conn, f, { limit, sort: sort as "last" }, now);
      return { json: r, text: async () => (await tables()).renderSessions(r), csv: async () => (await csv()).sessionsCsv(r) };
    }
    case "tools": {
      const r = await toolsReport(conn, f, now);
      return { json: r, text: async () => (await tables()).renderTools(r), csv: async () => (await csv()).toolsCsv(r) };
    }
  }
}

export function describeProblems(counts: ProblemCounts): string {
  return Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
}

/**
 * Warnings go to stderr so that stdout stays a clean table or JSON document. The counts are the store's, not this
 * run's: a problem found by an earlier import is still in the data every later report reads.
 */
export async function warnAboutProblems(conn: StoreConnection, deploymentId: string, verbose: boolean): Promise<void> {
  const counts = await problemCounts(conn, { deployment: deploymentId });
  const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
  if (total === 0 && !verbose) return;
  if (total > 0) process.stderr.write(`warning: ${total} problem(s) in the input: ${describeProblems(counts)}.\n`);
  if (verbose) {
    for (const p of await listProblems(conn, { deployment: deploymentId }, 10_000)) {
      const at = formatLocation({ source: p.source, ...(p.line !== null ? { line: p.line } : {}), ...(p.sessionId !== null ? { sessionId: p.sessionId } : {}), ...(p.seq !== null ? { seq: p.seq } : {}) });
      process.stderr.write(`  ${p.kind}: ${at}: ${p.detail}\n`);
    }
  } else {
    process.stderr.write(`  (details: clawtower doctor, or --verbose; kinds: ${Object.keys(counts).map((k) => `${k} = ${PROBLEM_KINDS[k as ProblemKind]}`).join("; ")})\n`);
  }
}

export async function runReport(kind: string, o: ReportOptions): Promise<number> {
  if (!(REPORT_KINDS as readonly string[]).includes(kind)) throw new UsageError(`unknown report "${kind}" (one of ${REPORT_KINDS.join(", ")})`);
  if (kind !== "sessions") {
    for (const [flag, v] of [["--limit", o.limit], ["--sort", o.sort]] as const) {
      if (v !== undefined) throw new UsageError(`${flag} applies to \`report sessions\` only (not to the ${kind} report)`);
    }
  }
  if (o.json && o.csv) throw new UsageError("--json and --csv are exclusive: choose one output format");
  const cfg = resolveLocalConfig({ openclawHome: o.openclawHome, db: o.db });
  const now = Date.now();
  const { conn, sync } = await openAndSync(cfg, { progress: o.progress !== false && !o.json && !o.csv, workers: parseWorkers(o.workers) });
  try {
    const filters = toFilters(o, sync.deploymentId, now);
    if (sync.agents.length === 0) {
      process.stderr.write(`clawtower: no agents under ${cfg.openclaw.home}/agents — nothing to report.\n`);
      return 1;
    }
    if (filters.agent !== null) {
      // The store's agents (some may be gone from the home) and the home's (one whose database is unreadable has none).
      const known = [...new Set([...(await facets(conn, sync.deploymentId)).agents, ...sync.agents])].sort();
      if (!known.includes(filters.agent)) throw new UsageError(`no such agent '${filters.agent}'; known: ${known.join(", ") || "none"}`);
    }
    const out = await build(kind as ReportKind, conn, filters, o, now);
    process.stdout.write(o.json ? `${JSON.stringify(out.json, null, 2)}\n` : o.csv ? await out.csv() : await out.text());
    await warnAboutProblems(conn, sync.deploymentId, o.verbose === true);
    return 0;
  } finally {
    await conn.close();
  }
}
