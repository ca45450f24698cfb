/**
 * The plugin's own files, under `<stateDir>/clawtower/` (declared in the manifest's backupResources).
 * Writes are atomic (a temp file in the same directory, fsync'd, then renamed over the target) and private
 * (0600 files, 0700 directory): a crash leaves the old file or the new one, never half of one.
 */
import fs from "node:fs";
import path from "node:path";
import { STATE_SUBDIR } from "../identity.ts";

export type StatePaths = {
  dir: string;
  shipState: string;
  status: string;
  lock: string;
  ledger: string;
  promptDump: string;
  service: string;
};

export function statePaths(stateDir: string): StatePaths {
  return filesIn(path.join(stateDir, STATE_SUBDIR));
}

/** The plugin's files in `dir` (normally `<stateDir>/clawtower`). */
export function filesIn(dir: string): StatePaths {
  return {
    dir,
    shipState: path.join(dir, "ship-state.json"),
    status: path.join(dir, "status.json"),
    lock: path.join(dir, "cycle.lock"),
    ledger: path.join(dir, "usage.sqlite"),
    promptDump: path.join(dir, "large-prompts.jsonl"),
    service: path.join(dir, "service.json"),
  };
}

export { ensurePrivateDir as ensureDir, writePrivateFileAtomic as writeFileAtomic } from "@clawtower/core";

export type JsonRead<T> = { value: T; movedAside: string | null; problem: string | null };

/**
 * Reads a JSON state file. Missing → `fallback`. Unreadable, not JSON, or rejected by `accept` → the file is
 * moved aside (`<file>.corrupt-<ts>`, kept for inspection) and `fallback` is returned: a damaged state is
 * never silently reused, and never silently lost.
 */
export function readJsonState<T>(file: string, fallback: () => T, accept: (v: unknown) => string | null, opts: { moveAside?: boolean } = {}): JsonRead<T> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { value: fallback(), movedAside: null, problem: null };
    return { value: fallback(), movedAside: null, problem: `cannot read ${file}: ${(e as Error).message}` };
  }
  let problem: string | null;
  let value: unknown;
  try {
    value = JSON.parse(text);
    problem = accept(value);
  } catch (e) {
    problem = `not valid JSON (${(e as Error).message})`;
  }
  if (problem === null) return { value: value as T, movedAside: null, problem: null };
  if (opts.moveAside === false) return { value: fallback(), movedAside: null, problem: `${path.basename(file)}: ${problem}` };
  const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    // if it cannot be moved it is still not used
  }
  return { value: fallback(), movedAside: aside, problem: `${path.basename(file)}: ${problem}; moved aside to ${path.basename(aside)}` };
}
