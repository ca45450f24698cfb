/**
 * Keeps V8's young generation at its current size on this thread while a big import runs.
 *
 * Why: during an import this thread's live heap stays at ~25 MiB, but it allocates ~100 MiB of short-lived
 * rows and statement parameters. V8 answers that rate by growing the new space (by tens of MiB), a longer
 * interval between scavenges lets more rows survive one, those are promoted, and the old generation then
 * grows for garbage: on a 1 GB SQLite store about half the runs peaked at 290–320 MiB of RSS, against
 * 215–250 MiB with the new space held, at the same speed (A/B runs; `bench/` figures in the README).
 * `--semi-space-growth-factor` is read whenever V8 decides to grow the new space, so it can be changed at
 * run time, unlike `--max-semi-space-size`. The flag is process-wide: holders are counted, and the last
 * release restores V8's default (2; `node --v8-options`).
 */
import v8 from "node:v8";

const DEFAULT_GROWTH_FACTOR = 2;
let holders = 0;

export function holdYoungGeneration(): () => void {
  if (holders++ === 0) v8.setFlagsFromString("--semi-space-growth-factor=1");
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
  };
}
