/**
 * `clawtower doctor`: what was found where — the OpenClaw home, each agent's stores (SQLite database,
 * legacy files, archives, cold archives), what was imported, every problem with its location, and pricing.
 */
import { describeAgentDb, formatLocation, listAgents, openAgentDb, PROBLEM_KINDS, type AgentDbStats, type ProblemKind } from "@clawtower/core";
import { listProblems, partsSummary, problemCounts, storeTotals, unpricedModels } from "@clawtower/store";
import { resolveLocalConfig } from "../config.ts";
import { openAndSync } from "../local.ts";
import { fmtInt } from "../render/format.ts";
import { parseWorkers, type CommonOptions } from "./shared.ts";

export async function runDoctor(o: CommonOptions): Promise<number> {
  const cfg = resolveLocalConfig({ openclawHome: o.openclawHome, db: o.db });
  const { conn, sync, pricing } = await openAndSync(cfg, { progress: o.progress !== false && !o.json, workers: parseWorkers(o.workers) });
  try {
    const dep = sync.deploymentId;
    const agents = listAgents(cfg.openclaw.home).map((a) => {
      let db: (AgentDbStats & { path: string }) | { path: string; error: string } | null = null;
      if (a.dbPath) {
        try {
          const handle = openAgentDb(a.dbPath);
          try {
            db = { path: a.dbPath, ...describeAgentDb(handle) };
          } finally {
            handle.close();
          }
        } catch (e) {
          db = { path: a.dbPath, error: (e as Error).message };
        }
      }
      return { agentId: a.agentId, dir: a.dir, database: db, sessionsDir: a.sessionsDir, importArchiveDir: a.importArchiveDir };
    });
    const limit = o.verbose ? 100_000 : 20;
    const problems = await listProblems(conn, { deployment: dep }, limit);
    const doc = {
      schemaVersion: 1,
      report: "doctor",
      openclawHome: { path: cfg.openclaw.home, from: cfg.openclaw.from },
      store: { location: conn.location, dialect: conn.dialect, deploymentId: dep },
      sync: sync,
      agents,
      imported: { totals: await storeTotals(conn, dep), parts: await partsSummary(conn, dep) },
      problems: { counts: await problemCounts(conn, { deployment: dep }), listed: problems },
      pricing: {
        configFiles: pricing.configFiles,
        configErrors: pricing.configErrors,
        configModels: pricing.configModels,
        bundledTable: { source: pricing.tableSource, models: pricing.tableModels },
        unpricedModels: await unpricedModels(conn, dep),
      },
    };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      return 0;
    }
    const out: string[] = [];
    out.push(`OpenClaw home   ${cfg.openclaw.home}  (from ${cfg.openclaw.from === "flag" ? "--openclaw-home" : cfg.openclaw.from === "env" ? "OPENCLAW_STATE_DIR" : "default"})`);
    out.push(`Clawtower store ${conn.location}  (deployment ${dep})`);
    out.push(`This sync       ${sync.parts.total} parts: ${sync.parts.unchanged} unchanged, ${sync.parts.read} new, ${sync.parts.appended} grown, ${sync.parts.rewritten} rewritten, ${sync.parts.gone} gone, ${sync.parts.failed} failed; ${(sync.bytesRead / 2 ** 20).toFixed(1)} MiB read in ${sync.durationMs} ms`);
    out.push("");
    for (const a of agents) {
      out.push(`Agent ${a.agentId}  (${a.dir})`);
      if (a.database && "error" in a.database) out.push(`  database  ${a.database.path}: UNREADABLE — ${a.database.error}`);
      else if (a.database) {
        const d = a.database;
        out.push(`  database  ${d.path}`);
        out.push(`            ${fmtInt(d.transcriptSessions)} sessions with transcript rows, ${fmtInt(d.rows)} rows (${fmtInt(d.zstdRows)} zstd-compressed), ${fmtInt(d.sessionWindows)} session windows`);
        if (d.archives.length) out.push(`            archives: ${d.archives.map((x) => `${x.count} ${x.reason} (${x.encoding})`).join(", ")}`);
        if (d.coldArchives.length) out.push(`            cold archives: ${d.coldArchives.map((x) => `${x.count} in ${x.storage}`).join(", ")}`);
      } else out.push(`  database  none (legacy JSONL home, OpenClaw ≤ 2026.7)`);
      out.push(`  sessions/ ${a.sessionsDir ?? "none"}`);
      if (a.importArchiveDir) out.push(`  import archive ${a.importArchiveDir}`);
      for (const p of doc.imported.parts.filter((x) => x.agentId === a.agentId)) {
        out.push(`    ${p.kind.padEnd(15)} ${fmtInt(p.parts)} parts, ${fmtInt(p.sessions)} sessions${p.gone ? `, ${fmtInt(p.gone)} gone from the home (kept)` : ""}`);
      }
    }
    const t = doc.imported.totals;
    out.push("");
    out.push(`Imported        ${fmtInt(t.sessions)} sessions (${fmtInt(t.goneSessions)} no longer in the home), ${fmtInt(t.events)} events, ${fmtInt(t.llmCalls)} LLM calls, ${fmtInt(t.toolCalls)} tool calls`);
    out.push("");
    const counts = Object.entries(doc.problems.counts);
    if (counts.length === 0) out.push("Problems        none");
    else {
      out.push("Problems");
      for (const [k, v] of counts) out.push(`  ${k.padEnd(24)} ${fmtInt(v ?? 0).padStart(7)}  ${PROBLEM_KINDS[k as ProblemKind] ?? ""}`);
      for (const p of problems) {
        const at = formatLocation({ source: p.source, ...(p.line !== null ? { line: p.line } : {}), ...(p.sessionId !== null ? { sessionId: p.sessionId } : {}), ...(p.seq !== null ? { seq: p.seq } : {}) });
        out.push(`    ${p.kind}: ${at}: ${p.detail}`);
      }
      const total = counts.reduce((a, [, v]) => a + (v ?? 0), 0);
      if (total > problems.length) out.push(`    … ${fmtInt(total - problems.length)} more (--verbose lists all)`);
    }
    out.push("");
    out.push(`Pricing         ${pricing.configModels} model price(s) from ${pricing.configFiles.length ? pricing.configFiles.join(", ") : "no OpenClaw config"}; bundled table: ${pricing.tableModels} models (${pricing.tableSource})`);
    for (const e of pricing.configErrors) out.push(`  config error: ${e.file}: ${e.error}`);
    for (const u of doc.pricing.unpricedModels) out.push(`  unpriced: ${u.provider}/${u.model} — ${fmtInt(u.calls)} calls, ${fmtInt(u.tokens)} tokens (add models.providers.${u.provider}.models[].cost to price it)`);
    process.stdout.write(`${out.join("\n")}\n`);
    return 0;
  } finally {
    await conn.close();
  }
}
