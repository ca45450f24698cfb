/**
 * Calendar arithmetic in an IANA time zone, without a date library: Intl gives the zone's wall clock for an
 * instant, and the inverse (a wall-clock midnight → an instant) is found by correcting with the offset.
 * Reports bucket by 15-minute slots first (every zone offset in use is a multiple of 15 minutes), so each
 * slot's calendar day is computed once.
 */

export const SLOT_MS = 15 * 60 * 1000;

export class TimeZoneError extends Error {
  constructor(tz: string) {
    super(`unknown time zone "${tz}" (use an IANA name such as UTC, Europe/Paris, America/New_York)`);
    this.name = "TimeZoneError";
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone: tz,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
    } catch {
      throw new TimeZoneError(tz);
    }
    formatters.set(tz, f);
  }
  return f;
}

// UTC, the default, is computed without Intl: the first Intl formatter costs ~20 ms of ICU start-up.
export function assertTimeZone(tz: string): string {
  if (tz !== "UTC") formatter(tz);
  return tz;
}

/**
 * The instants reports place on a calendar: from 1970, with offsets in whole quarter hours in every zone (before,
 * local mean time had odd offsets), to four-digit years (labels sort and parse as dates), well inside what a
 * Date can hold. A stored instant outside (a broken clock, a store written before ingest checked timestamps)
 * is reported at the nearest end instead of failing the report.
 */
export const REPORTABLE_INSTANTS = { from: Date.UTC(1970, 0, 2), to: Date.UTC(9999, 11, 30) } as const;

export function reportableInstant(ms: number): number {
  if (Number.isNaN(ms)) return REPORTABLE_INSTANTS.from;
  return Math.min(Math.max(ms, REPORTABLE_INSTANTS.from), REPORTABLE_INSTANTS.to);
}

/** An instant as ISO text, for report output: never throws (see REPORTABLE_INSTANTS). */
export function isoInstant(ms: number): string {
  return new Date(reportableInstant(ms)).toISOString();
}

export type WallClock = { year: number; month: number; day: number; hour: number; minute: number; second: number };

export function wallClock(instant: number, tz: string): WallClock {
  const ms = reportableInstant(instant);
  if (tz === "UTC") {
    const d = new Date(ms);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
  }
  const parts = formatter(tz).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: get("year"), month: get("month"), day: get("day"), hour: get("hour"), minute: get("minute"), second: get("second") };
}

/** Zone offset (wall clock minus UTC) at an instant, in ms. */
export function zoneOffsetMs(instant: number, tz: string): number {
  const ms = reportableInstant(instant);
  const w = wallClock(ms, tz);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant at which the wall clock in `tz` reads `y-m-d hh:mm` (the earlier one in a DST overlap). */
export function zonedTime(year: number, month: number, day: number, tz: string, hour = 0, minute = 0): number {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  let ms = guess - zoneOffsetMs(guess, tz);
  // A second correction handles instants on the other side of a DST change from the first guess.
  const again = guess - zoneOffsetMs(ms, tz);
  if (again !== ms) ms = Math.min(ms, again);
  return ms;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

export function dayKey(ms: number, tz: string): string {
  const w = wallClock(ms, tz);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

export type Bucket = "hour" | "day" | "week" | "month";

/** Start of the bucket containing `ms`, as a label: `2026-11-22T13:00`, `2026-11-22`, week of Monday, `2026-11`. */
export function bucketKey(ms: number, tz: string, bucket: Bucket): string {
  const w = wallClock(ms, tz);
  switch (bucket) {
    case "hour":
      return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:00`;
    case "day":
      return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
    case "month":
      return `${pad(w.year, 4)}-${pad(w.month)}`;
    case "week": {
      // ISO weeks start on Monday; label a week by its Monday.
      const utcDay = new Date(Date.UTC(w.year, w.month - 1, w.day));
      const dow = (utcDay.getUTCDay() + 6) % 7;
      utcDay.setUTCDate(utcDay.getUTCDate() - dow);
      return `${pad(utcDay.getUTCFullYear(), 4)}-${pad(utcDay.getUTCMonth() + 1)}-${pad(utcDay.getUTCDate())}`;
    }
  }
}

/** Memoizes bucket labels per 15-minute slot (exact for every zone whose offset is a multiple of 15 minutes). */
export function slotBucketer(tz: string, bucket: Bucket): (slot: number) => string {
  assertTimeZone(tz);
  const cache = new Map<number, string>();
  return (slot) => {
    let key = cache.get(slot);
    if (key === undefined) {
      // Hour buckets need the slot's own start; the slot start is inside the hour for 15-minute offsets.
      key = bucketKey(slot * SLOT_MS, tz, bucket);
      cache.set(slot, key);
    }
    return key;
  };
}

/** Start instant of a bucket label produced by {@link bucketKey}. */
export function bucketStart(key: string, tz: string, bucket: Bucket): number {
  const [datePart, timePart] = key.split("T");
  const [y, m, d] = (datePart ?? "").split("-").map(Number);
  if (bucket === "month") return zonedTime(y!, m!, 1, tz);
  if (bucket === "hour") return zonedTime(y!, m!, d!, tz, Number((timePart ?? "0").slice(0, 2)));
  return zonedTime(y!, m!, d!, tz);
}

export class TimeParseError extends Error {
  constructor(value: string, flag: string) {
    super(`${flag}: cannot read "${value}" as a date (use YYYY-MM-DD, YYYYMMDD, an ISO timestamp, a duration like 24h / 7d, or now)`);
    this.name = "TimeParseError";
  }
}

/**
 * Parses a --since / --until value into an instant:
 *   YYYY-MM-DD or YYYYMMDD  → start of that day in `tz` (for --until: the start of the next day, exclusive)
 *   ISO timestamp           → that instant
 *   <n>m | <n>h | <n>d | <n>w → `now` minus that duration
 *   now                     → `now`
 */
export function parseTimeBound(value: string, tz: string, now: number, flag: "--since" | "--until"): number {
  const v = value.trim();
  if (v === "now") return now;
  const day = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(v);
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    if (m < 1 || m > 12 || d < 1 || d > 31) throw new TimeParseError(value, flag);
    if (flag === "--since") return zonedTime(y, m, d, tz);
    const next = new Date(Date.UTC(y, m - 1, d + 1));
    return zonedTime(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), tz);
  }
  const rel = /^(\d+(?:\.\d+)?)\s*(m|h|d|w)$/.exec(v);
  if (rel) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[rel[2] as "m" | "h" | "d" | "w"];
    return now - Number(rel[1]) * unit;
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  throw new TimeParseError(value, flag);
}

/** Whether a --since value is a duration back from now ("the last 7 days"): such a range ends at now. */
export function isRelativeBound(value: string): boolean {
  return /^\d+(?:\.\d+)?\s*(m|h|d|w)$/.test(value.trim());
}
