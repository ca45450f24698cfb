/**
 * How numbers, money, sizes and times read on the dashboard. Pure and locale-fixed (en-US grouping), so
 * tests can compute the exact text a panel must show from the API's JSON.
 * Money is never a silent $0: usage without a price is spelled out as unpriced calls / tokens.
 */
import type { TimeBucket, Tokens } from "./api/types.ts";

const intFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** 1234567 → "1,234,567". */
export function formatInt(n: number): string {
  return intFormat.format(n);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatInt(n)} ${n === 1 ? one : many}`;
}

export function formatCount(n: number, one: string, many?: string): string {
  return plural(n, one, many);
}

/**
 * US dollars with cents; amounts under a cent keep two significant digits ("$0.0042"), since agent
 * sessions are often that cheap and "$0.00" would read as free.
 */
export function formatUsd(usd: number): string {
  const abs = Math.abs(usd);
  if (abs === 0) return "$0.00";
  if (abs < 0.0001) return usd < 0 ? "-<$0.0001" : "<$0.0001";
  const digits = abs >= 0.01 ? 2 : abs >= 0.001 ? 4 : 5;
  const text = new Intl.NumberFormat("en-US", { minimumFractionDigits: digits === 2 ? 2 : 0, maximumFractionDigits: digits }).format(abs);
  return `${usd < 0 ? "-" : ""}$${text}`;
}

/** Decimals that show an axis step exactly (0.25 → 2, 0.005 → 3, 5 → 0), so neighbouring ticks never read alike. */
export function stepDecimals(step: number): number {
  const text = Number(step.toPrecision(6)).toString();
  if (text.includes("e-")) return Number(text.split("e-")[1]);
  return (text.split(".")[1] ?? "").length;
}

const axisCompact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 2 });

/** A count on a chart axis: "850", "12.5K", "1.25M". */
export function formatCountAxis(n: number): string {
  return Math.abs(n) >= 10_000 ? axisCompact.format(n) : formatInt(n);
}

/** Money on a chart axis, with as many decimals as the step between ticks needs: "$0.005", "$1.25", "$12K". */
export function formatUsdAxis(usd: number, step: number): string {
  if (usd === 0) return "$0";
  if (Math.abs(usd) >= 10_000) return `$${axisCompact.format(usd)}`;
  return `$${new Intl.NumberFormat("en-US", { minimumFractionDigits: stepDecimals(step), maximumFractionDigits: stepDecimals(step) }).format(usd)}`;
}

/**
 * The cost of a slice for a table cell or a card: the priced amount, or "unpriced" when nothing in it has
 * a price. A slice with both shows the amount; callers add the unpriced note next to it (see costNote).
 */
export function formatCost(usd: number, unpricedCalls: number): string {
  if (usd === 0 && unpricedCalls > 0) return "unpriced";
  return formatUsd(usd);
}

/** "+ 3 unpriced calls" next to an amount that leaves some usage out; null when everything was priced. */
export function costNote(unpricedCalls: number): string | null {
  return unpricedCalls > 0 ? `+ ${plural(unpricedCalls, "unpriced call")}` : null;
}

/** 0.4912 → "49.1%"; null (nothing to divide by) → "—". */
export function formatPercent(ratio: number | null, digits = 1): string {
  if (ratio === null || !Number.isFinite(ratio)) return "—";
  return `${(ratio * 100).toFixed(digits)}%`;
}

/** Binary units, like the CLI: 1536 → "1.5 KiB". */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return "—";
  if (bytes < 1024) return `${formatInt(bytes)} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** Latency: "850 ms", "4.2 s", "3 min 5 s". */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const totalS = Math.round(ms / 1000);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s} s`;
}

/** Cache hit rate = cacheRead / (input + cacheRead + cacheWrite): the share of the prompt served from cache. */
export function cacheHitRate(t: Tokens): number | null {
  const prompt = t.input + t.cacheRead + t.cacheWrite;
  return prompt === 0 ? null : t.cacheRead / prompt;
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

function dateTimeFormat(tz: string, withYear: boolean): Intl.DateTimeFormat {
  const key = `${tz}|${withYear}`;
  let f = dateTimeFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      year: withYear ? "numeric" : undefined,
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    dateTimeFormats.set(key, f);
  }
  return f;
}

/** An instant as wall-clock time in the dashboard's zone: "Nov 22, 13:05" ("Nov 22, 2025, 13:05" in another year). */
export function formatDateTime(iso: string | null, tz: string, now = Date.now()): string {
  if (!iso) return "—";
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return "—";
  const sameYear = new Date(ms).getUTCFullYear() === new Date(now).getUTCFullYear() && Math.abs(now - ms) < 300 * 86_400_000;
  return dateTimeFormat(tz, !sameYear).format(ms);
}

/** The hub's allowance for clocks ahead (core's FUTURE_SKEW_MS): later than this is a problem, not "just now". */
const FUTURE_SKEW_S = 600;

/**
 * "5 min ago", "3 h ago", "2 d ago" — for "last activity" columns where recency matters more than the clock.
 * A time beyond the skew allowance ahead of now reads "in 3 h (ahead of now)", never "just now".
 */
export function formatAgo(iso: string | null, now = Date.now()): string {
  if (!iso) return "—";
  const ahead = Math.round((Date.parse(iso) - now) / 1000);
  if (ahead > FUTURE_SKEW_S) {
    const span = ahead < 3600 ? `${Math.floor(ahead / 60)} min` : ahead < 86_400 ? `${Math.floor(ahead / 3600)} h` : `${Math.floor(ahead / 86_400)} d`;
    return `in ${span} (ahead of now)`;
  }
  const s = Math.max(0, -ahead);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * A time-series bucket label (already in the report's zone) for an axis: "13:00" for hours, "Nov 22" for
 * days and weeks, "Nov 2026" for months. `long` adds the date to hours (tooltips, the first tick).
 */
export function formatBucket(label: string, bucket: TimeBucket, long = false): string {
  const [date = "", time] = label.split("T");
  const [y, m, d] = date.split("-");
  const month = MONTHS[Number(m) - 1] ?? m;
  switch (bucket) {
    case "month":
      return `${month} ${y}`;
    case "week":
      return long ? `week of ${month} ${Number(d)}, ${y}` : `${month} ${Number(d)}`;
    case "day":
      return long ? `${month} ${Number(d)}, ${y}` : `${month} ${Number(d)}`;
    case "hour":
      return long ? `${month} ${Number(d)}, ${time ?? "00:00"}` : (time ?? "00:00");
  }
}

/** "anthropic/claude-sonnet-4-5" → the model id readers recognize, with its provider kept apart. */
export function splitModelKey(key: string): { provider: string; model: string } {
  const i = key.indexOf("/");
  return i < 0 ? { provider: "", model: key } : { provider: key.slice(0, i), model: key.slice(i + 1) };
}

/** Short session id for tables: the first 8 characters of a UUID-like id. */
export function shortId(id: string): string {
  return id.length > 12 ? id.slice(0, 8) : id;
}
