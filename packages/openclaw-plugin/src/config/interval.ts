/**
 * `upload.every`: `500ms`, `30s`, `5m`, `1h`, `1d`; a bare number means minutes; `"0"` (or `0`, `"0s"`…)
 * turns the scheduler off. Anything else is a configuration error (never a tight loop, never a silent
 * default).
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** setTimeout cannot wait longer than this (about 24.8 days). */
export const MAX_INTERVAL_MS = 2 ** 31 - 1;

export type Interval = { ms: number } | { off: true };

export function parseInterval(value: string | number): Interval | { error: string } {
  const text = typeof value === "number" ? String(value) : value.trim();
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(text);
  if (!m) return { error: `expected 500ms|30s|5m|1h|1d, a bare number of minutes, or "0" to disable (got ${JSON.stringify(value)})` };
  const amount = Number(m[1]);
  const unit = (m[2]?.toLowerCase() ?? "m") as keyof typeof UNIT_MS;
  const ms = Math.round(amount * UNIT_MS[unit]);
  if (ms === 0) return { off: true };
  if (ms > MAX_INTERVAL_MS) return { error: `at most 24 days (got ${JSON.stringify(value)})` };
  return { ms };
}

export function formatInterval(i: Interval): string {
  if ("off" in i) return "off";
  const { ms } = i;
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
