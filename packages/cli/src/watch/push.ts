/**
 * Pushing batches: POST JSON with retries. 5xx, 429 and network errors are retried with exponential backoff
 * and, once retries run out, the batch is kept (the poll fails and the next one sends it again). 401/403 keep
 * the batch too (a key problem, not bad data). Any other 4xx drops the batch with a log line: resending the
 * same data would be refused again.
 */
import http from "node:http";
import https from "node:https";

export type PushOutcome = { kind: "sent"; status: number; body: unknown } | { kind: "dropped"; status: number; message: string };

export class PushFailedError extends Error {
  readonly status: number | null;
  constructor(message: string, status: number | null) {
    super(message);
    this.name = "PushFailedError";
    this.status = status;
  }
}

export type RetryPolicy = { attempts: number; baseDelayMs: number; maxDelayMs: number; timeoutMs: number };
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 8000, timeoutMs: 15_000 };

/** A minimal POST: the reply's status and text. node:http rather than fetch: loading undici's HTTP client for the
 * first fetch cost the watcher ~20 MiB of RSS (measured by bench/watch.ts), a third of its budget. */
export type Post = (url: string, headers: Record<string, string>, body: string, timeoutMs: number) => Promise<{ status: number; text: string }>;

export const httpPost: Post = (url, headers, body, timeoutMs) =>
  new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === "https:" ? https : http).request(u, { method: "POST", headers: { ...headers, "content-length": Buffer.byteLength(body) }, timeout: timeoutMs }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });

export type PushDeps = { post?: Post; sleep?: (ms: number) => Promise<void>; signal?: AbortSignal; onRetry?: (attempt: number, why: string, delayMs: number) => void };

const sleepFor = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      resolve();
    }
  });

export async function postJson(url: string, body: unknown, headers: Record<string, string>, policy: RetryPolicy = DEFAULT_RETRY, deps: PushDeps = {}): Promise<PushOutcome> {
  const post = deps.post ?? httpPost;
  const sleep = deps.sleep ?? ((ms: number) => sleepFor(ms, deps.signal));
  const payload = JSON.stringify(body);
  let last = "";
  let lastStatus: number | null = null;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    let why: string;
    try {
      const res = await post(url, { "content-type": "application/json", ...headers }, payload, policy.timeoutMs);
      const text = res.text;
      lastStatus = res.status;
      if (res.status >= 200 && res.status < 300) return { kind: "sent", status: res.status, body: text ? safeJson(text) : null };
      const message = `HTTP ${res.status}${text ? `: ${text.slice(0, 300)}` : ""}`;
      if (res.status === 401 || res.status === 403) throw new PushFailedError(`${url} refused the key (${message})`, res.status);
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) return { kind: "dropped", status: res.status, message };
      why = message;
    } catch (e) {
      if (e instanceof PushFailedError) throw e;
      why = (e as Error).message;
      lastStatus = null;
    }
    last = why;
    if (attempt < policy.attempts && !deps.signal?.aborted) {
      const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      deps.onRetry?.(attempt, why, delay);
      await sleep(delay);
      if (deps.signal?.aborted) break;
    } else break;
  }
  throw new PushFailedError(`${url}: ${last} (after ${policy.attempts} attempts; the batch is kept)`, lastStatus);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
