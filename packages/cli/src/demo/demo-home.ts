/**
 * `clawtower serve --demo`: a generated, realistic OpenClaw home whose activity ends now, so that every
 * dashboard range (Today, 7 d, 30 d…) has something to show. Regenerated on each run.
 */
import fs from "node:fs";
import path from "node:path";
import { generateCorpus, type CorpusTotals } from "./corpus.ts";

export function writeDemoHome(clawtowerHome: string, now: number): { home: string; totals: CorpusTotals } {
  const home = path.join(clawtowerHome, "demo", "openclaw");
  // Clawtower's home holds transcripts (the store, this demo): owner-only when we create it.
  fs.mkdirSync(clawtowerHome, { recursive: true, mode: 0o700 });
  const totals = generateCorpus(home, { format: "legacy", targetBytes: 40 * 1024 * 1024, seed: 7, sessions: 400, agents: 4, endAt: now, days: 45 });
  return { home, totals };
}
