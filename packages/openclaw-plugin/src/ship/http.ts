/**
 * One POST to the hub, with the retry policy of retry.ts: every attempt has its own timeout, every wait
 * and request ends at once when the cycle is aborted (the service stopping). The API key goes only into
 * the Authorization header and never into an error message.
 */
import http from "node:http";
import https from "node:https";
import { backoffMs, classify, parseRetryAfter, type Outcome } from "./retry.ts";

export type HttpOptions = {
  apiKey: string;
  /** This Gateway's OpenClaw home (core's openclawHomeId): a hub that also imports the home counts it once. */
  homeId?: string;
  timeoutMs: number;
  retryAttempts: number;
  retryBackoffMs: number;
  signal: AbortSignal;
  random?: () => number;
  /** Called before each retry wait (for logs and status). */
  onRetry?: (info: { attempt: number; waitMs: number; reason: string }) => void;
};

export type HttpResult =
  | { kind: "ok"; status: number; body: unknown }
  | { kind: "auth"; status: number; message: string }
  | { kind: "reject"; status: number; message: string }
  | { kind: "failed"; message: string }
  | { kind: "aborted" };

export class AbortedError extends Error {
  constructor() {
    super("aborted");
    this.name = "AbortedError";
  }
}

/** Waits `ms`, or rejects with AbortedError as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new AbortedError());
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new AbortedError());
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function errorMessage(body: string, status: number): string {
  try {
    const e = (JSON.parse(body) as { error?: { code?: string; message?: string } }).error;
    if (e?.message) return `${status} ${e.code ?? ""}: ${e.message}`.replace(/ :/, ":");
  } catch {
    // not the hub's JSON error shape
  }
  return `${status} ${body.slice(0, 200).trim()}`.trim();
}

/** What a request ended with: an answer, or why there was none. */
type Exchange = { status: number; retryAfter: string | null; text: string } | { timeout: true } | { networkError: string } | { aborted: true };

/**
 * One POST with node:http(s) rather than fetch: fetch copies a Buffer body before sending it (the WHATWG
 * rules for a BufferSource), a cost that shows with bodies of several MB.
 */
function exchange(url: URL, bytes: Buffer, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<Exchange> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve({ aborted: true });
    let done = false;
    const finish = (r: Exchange) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(r);
    };
    const send = url.protocol === "https:" ? https.request : http.request;
    const req = send(url, { method: "POST", headers: { ...headers, "content-length": String(bytes.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const retryAfter = res.headers["retry-after"];
        finish({ status: res.statusCode ?? 0, retryAfter: typeof retryAfter === "string" ? retryAfter : null, text: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", (e: Error & { code?: string }) => finish({ networkError: e.code ?? e.message }));
      // After "end" this changes nothing; before it, the hub went away in the middle of its answer.
      res.on("close", () => finish({ networkError: "connection closed before the answer was complete" }));
    });
    const timer = setTimeout(() => {
      finish({ timeout: true });
      req.destroy();
    }, timeoutMs);
    const onAbort = () => {
      finish({ aborted: true });
      req.destroy();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    req.on("error", (e: Error & { code?: string }) => finish({ networkError: e.code ?? e.message }));
    req.end(bytes);
  });
}

export async function postWithRetry(url: string, body: Buffer | string, contentType: string, opts: HttpOptions): Promise<HttpResult> {
  const random = opts.random ?? Math.random;
  // Encoded once, not on every attempt.
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const target = new URL(url);
  let last = "";
  for (let attempt = 0; attempt <= opts.retryAttempts; attempt++) {
    if (opts.signal.aborted) return { kind: "aborted" };
    const r = await exchange(target, bytes, { authorization: `Bearer ${opts.apiKey}`, "content-type": contentType, ...(opts.homeId ? { "x-clawtower-home": opts.homeId } : {}) }, opts.timeoutMs, opts.signal);
    if ("aborted" in r) return { kind: "aborted" };
    let outcome: Outcome = "status" in r ? { status: r.status, retryAfter: r.retryAfter } : r;
    const text = "status" in r ? r.text : "";
    const verdict = classify(outcome);
    if ("status" in outcome) {
      if (verdict === "ok") {
        try {
          return { kind: "ok", status: outcome.status, body: JSON.parse(text) };
        } catch {
          // A 2xx whose body is not the answer (a proxy page…): nothing can be marked as delivered.
          outcome = { networkError: `${outcome.status} with a body that is not JSON` };
          last = outcome.networkError;
        }
      } else if (verdict === "auth") {
        return { kind: "auth", status: outcome.status, message: errorMessage(text, outcome.status) };
      } else if (verdict === "reject") {
        return { kind: "reject", status: outcome.status, message: errorMessage(text, outcome.status) };
      } else {
        last = errorMessage(text, outcome.status);
      }
    } else {
      last = "timeout" in outcome ? `timed out after ${opts.timeoutMs} ms` : `network error: ${outcome.networkError}`;
    }
    if (attempt === opts.retryAttempts) break;
    const retryAfterMs = "status" in outcome ? parseRetryAfter(outcome.retryAfter, Date.now()) : null;
    const waitMs = backoffMs(attempt + 1, opts.retryBackoffMs, random(), retryAfterMs);
    opts.onRetry?.({ attempt: attempt + 1, waitMs, reason: last });
    try {
      await sleep(waitMs, opts.signal);
    } catch {
      return { kind: "aborted" };
    }
  }
  return { kind: "failed", message: `${last} (after ${opts.retryAttempts + 1} attempts)` };
}
