/**
 * Calendar periods of a budget in an IANA zone: day, week (Monday start) and month, each from the first
 * instant of its first local day to the first instant of the next period. Pure.
 *
 * core's zonedTime picks the earlier instant of an ambiguous wall time, which for a midnight that does not
 * exist (zones that spring forward at 00:00, e.g. America/Santiago) is on the previous day; the first instant
 * of a local day is found here by stepping forward to the transition instead.
 */
import { dayKey, wallClock, zonedTime } from "./zone.ts";

export type BudgetPeriodKind = "day" | "week" | "month";
export type BudgetPeriod = { start: number; end: number };

type Ymd = { year: number; month: number; day: number };

function ymdKey(d: Ymd): string {
  return `${String(d.year).padStart(4, "0")}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;
}

function addDays(d: Ymd, n: number): Ymd {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + n));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

/** The first instant whose local date in `tz` is `d` (or later, for a day a zone skipped entirely). */
export function startOfLocalDay(d: Ymd, tz: string): number {
  const want = ymdKey(d);
  let t = zonedTime(d.year, d.month, d.day, tz);
  if (dayKey(t, tz) >= want) {
    // Normally exact; make sure the instant before is on an earlier day (a later guess is stepped back).
    let lo = t - 6 * 3_600_000;
    if (dayKey(lo, tz) >= want) return t;
    let hi = t;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (dayKey(mid, tz) >= want) hi = mid;
      else lo = mid;
    }
    return hi;
  }
  // The guess is still on the previous day (midnight skipped by a DST change): find the first instant of `d`.
  let lo = t;
  let hi = t + 6 * 3_600_000;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (dayKey(mid, tz) >= want) hi = mid;
    else lo = mid;
  }
  t = hi;
  return t;
}

function firstDay(kind: BudgetPeriodKind, d: Ymd): Ymd {
  if (kind === "day") return d;
  if (kind === "month") return { year: d.year, month: d.month, day: 1 };
  const dow = (new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay() + 6) % 7; // Monday = 0
  return addDays(d, -dow);
}

function nextFirstDay(kind: BudgetPeriodKind, first: Ymd): Ymd {
  if (kind === "day") return addDays(first, 1);
  if (kind === "week") return addDays(first, 7);
  return first.month === 12 ? { year: first.year + 1, month: 1, day: 1 } : { year: first.year, month: first.month + 1, day: 1 };
}

/** The period of `kind` in `tz` that contains the instant `ms`. */
export function budgetPeriodOf(ms: number, kind: BudgetPeriodKind, tz: string): BudgetPeriod {
  const w = wallClock(ms, tz);
  const first = firstDay(kind, { year: w.year, month: w.month, day: w.day });
  return { start: startOfLocalDay(first, tz), end: startOfLocalDay(nextFirstDay(kind, first), tz) };
}

/** `2026-12-08T00:00+01:00` style: the local wall time of an instant with its offset (for messages). */
export function formatBudgetInstant(ms: number, tz: string): string {
  const w = wallClock(ms, tz);
  const off = Math.round((Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000) / 60_000);
  const sign = off < 0 ? "-" : "+";
  const a = Math.abs(off);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${ymdKey(w)}T${p(w.hour)}:${p(w.minute)}${sign}${p(Math.floor(a / 60))}:${p(a % 60)} (${tz})`;
}
