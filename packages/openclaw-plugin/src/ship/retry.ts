/**
 * Retry policy for hub requests (pure):
 *   retry     5xx, 408, 429, network errors, timeouts — exponential backoff with jitter, or a 429/503's
 *             Retry-After when it is longer (capped)
 *   auth      401, 403 — a configuration error: stop the cycle, never retry
 *   reject    any other 4xx — the request itself is wrong: never retried as is
 */
export type Outcome = { status: number; retryAfter?: string | null } | { networkError: string } | { timeout: true };

export type Verdict = "ok" | "retry" | "auth" | "reject";

export function classify(o: Outcome): Verdict {
  if ("networkError" in o || "timeout" in o) return "retry";
  const s = o.status;
  if (s >= 200 && s < 300) return "ok";
  if (s === 401 || s === 403) return "auth";
  if (s === 408 || s === 429 || s >= 500) return "retry";
  return "reject";
}

/** Longest wait a Retry-After may impose on one retry. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Retry-After: delta seconds or an HTTP date; null when absent or unparseable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.min(Math.round(Number(v) * 1000), MAX_RETRY_AFTER_MS);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/**
 * Delay before retry number `retry` (1-based): base·2^(retry−1), scaled by a jitter factor in [0.5, 1.5),
 * capped at 5 minutes; a server-requested Retry-After wins when it is longer.
 */
export function backoffMs(retry: number, baseMs: number, random: number, retryAfterMs: number | null): number {
  const exp = Math.min(baseMs * 2 ** (retry - 1), 5 * 60_000);
  const jittered = Math.round(exp * (0.5 + random));
  return retryAfterMs !== null ? Math.max(jittered, retryAfterMs) : jittered;
}
