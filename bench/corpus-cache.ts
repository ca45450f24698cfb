/**
 * The bench corpora: generated once by packages/cli/src/demo/corpus.ts and cached in bench/.corpus under a
 * name that says what they are (profile, format, generator version, size, sessions).
 */
import fs from "node:fs";
import path from "node:path";
import { AGENT_DB_DDL } from "@clawtower/testkit";
import { GENERATOR_VERSION, generateCorpus, type CorpusFormat, type CorpusProfile, type CorpusTotals } from "../packages/cli/src/demo/corpus.ts";

const root = path.resolve(import.meta.dirname, "..");
const MiB = 2 ** 20;

export type BenchCorpus = { profile: CorpusProfile; format: CorpusFormat; sizeMiB: number; sessions: number };

/** The sessions a corpus has by default: 6,000 for large-events; 6,065 per GiB for small-events (as measured on a real home). */
export function defaultSessions(profile: CorpusProfile, sizeMiB: number): number {
  return profile === "large-events" ? 6000 : Math.max(10, Math.round((6065 * sizeMiB) / 1024));
}

const AGENTS: Record<CorpusProfile, number> = { "large-events": 8, "small-events": 3 };

export function corpusDir(c: BenchCorpus): string {
  return path.join(root, "bench", ".corpus", `${c.profile}-${c.format}-v${GENERATOR_VERSION}-${c.sizeMiB}m-${c.sessions}s`);
}

export function readCorpusTotals(dir: string): CorpusTotals | null {
  const meta = path.join(dir, "corpus.json");
  return fs.existsSync(meta) ? (JSON.parse(fs.readFileSync(meta, "utf8")) as { totals: CorpusTotals }).totals : null;
}

export function ensureCorpus(c: BenchCorpus): { dir: string; totals: CorpusTotals } {
  const dir = corpusDir(c);
  const cached = readCorpusTotals(dir);
  if (cached) return { dir, totals: cached };
  process.stderr.write(`generating ${c.profile} ${c.format} corpus (${c.sizeMiB} MiB, ${c.sessions} sessions) in ${dir} …\n`);
  const t = performance.now();
  const totals = generateCorpus(dir, { format: c.format, profile: c.profile, targetBytes: c.sizeMiB * MiB, seed: 20261122, sessions: c.sessions, agents: AGENTS[c.profile], ddl: AGENT_DB_DDL });
  process.stderr.write(`  done in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  return { dir, totals };
}
