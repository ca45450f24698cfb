/**
 * Budget alerts to a webhook, from a background queue: the outbox is the budget_alerts table (a row per
 * budget, period and threshold, so a restart never repeats one). Each delivery retries with backoff
 * (retry.ts's policy: 5xx, 408, 429, network errors, timeouts) and never runs on a hook's path; a failing
 * webhook only leaves the row undelivered with its error (shown by `openclaw clawtower budgets`).
 */
import http from "node:http";
import https from "node:https";
import { formatBudgetInstant } from "@clawtower/core";
import type { WebhookConfig } from "../config/budgets-schema.ts";
import { backoffMs, classify, parseRetryAfter } from "../ship/retry.ts";
import type { BudgetAlert } from "./book.ts";
import type { BudgetStore } from "./store.ts";

export function describeThreshold(a: Pick<BudgetAlert, "threshold">): string {
  return a.threshold === "blocked" ? "blocked a run" : a.threshold >= 1 ? "reached 100 %" : `reached ${Math.round(a.threshold * 100)} %`;
}

export function alertText(a: BudgetAlert, deploymentId: string | null): string {
  const limit = [a.limitUsd !== null ? `$${a.limitUsd}` : null, a.limitTokens !== null ? `${a.limitTokens} tokens` : null].filter(Boolean).join(" / ");
  const spent = [a.limitUsd !== null ? `$${a.spentUsd.toFixed(4)}` : null, a.limitTokens !== null ? `${a.spentTokens} tokens` : null].filter(Boolean).join(" / ");
  return `Clawtower budget ${a.budgetId}${deploymentId ? ` on ${deploymentId}` : ""} ${describeThreshold(a)}: ${spent} of ${limit}; resets ${formatBudgetInstant(a.periodEnd, a.timeZone)}.`;
}

export function alertBody(a: BudgetAlert, format: WebhookConfig["format"], deploymentId: string | null): string {
  const text = alertText(a, deploymentId);
  if (format === "slack") return JSON.stringify({ text });
  return JSON.stringify({
    type: "clawtower.budget.alert",
    deploymentId,
    budgetId: a.budgetId,
    threshold: a.threshold,
    periodStart: new Date(a.periodStart).toISOString(),
    resetsAt: new Date(a.periodEnd).toISOString(),
    timeZone: a.timeZone,
    spentUsd: a.spentUsd,
    spentTokens: a.spentTokens,
    limitUsd: a.limitUsd,
    limitTokens: a.limitTokens,
    at: new Date(a.at).toISOString(),
    text,
  });
}

type Answer = { status: number; retryAfter: string | null } | { networkError: string } | { timeout: true };

function post(url: URL, body: string, timeoutMs: number, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: Answer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    const bytes = Buffer.from(body, "utf8");
    const send = url.protocol === "https:" ? https.request : http.request;
    const req = send(url, { method: "POST", headers: { "content-type": "application/json", "content-length": String(bytes.length) }, signal }, (res) => {
      res.resume();
      res.on("end", () => finish({ status: res.statusCode ?? 0, retryAfter: typeof res.headers["retry-after"] === "string" ? res.headers["retry-after"] : null }));
      res.on("error", (e: Error & { code?: string }) => finish({ networkError: e.code ?? e.message }));
    });
    const timer = setTimeout(() => {
      finish({ timeout: true });
      req.destroy();
    }, timeoutMs);
    req.on("error", (e: Error & { code?: string }) => finish({ networkError: e.code ?? e.message }));
    req.end(bytes);
  });
}

/** One alert, with retries; resolves with how it ended (never throws). */
export async function deliverAlert(
  a: BudgetAlert,
  hook: WebhookConfig,
  deploymentId: string | null,
  signal: AbortSignal,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms).unref?.()),
): Promise<{ ok: true; attempts: number } | { ok: false; attempts: number; error: string }> {
  const url = new URL(hook.url);
  const body = alertBody(a, hook.format, deploymentId);
  let last = "";
  let attempt = 0;
  for (; attempt <= hook.retryAttempts; attempt++) {
    if (signal.aborted) return { ok: false, attempts: attempt, error: "aborted" };
    const r = await post(url, body, hook.timeoutMs, signal);
    const verdict = classify(r);
    if (verdict === "ok") return { ok: true, attempts: attempt + 1 };
    last = "status" in r ? `HTTP ${r.status}` : "timeout" in r ? `timed out after ${hook.timeoutMs} ms` : `network error: ${r.networkError}`;
    // A 4xx other than 408/429 will not get better by retrying.
    if (verdict === "reject" || verdict === "auth") return { ok: false, attempts: attempt + 1, error: last };
    if (attempt === hook.retryAttempts) break;
    await sleep(backoffMs(attempt + 1, hook.retryBackoffMs, Math.random(), "status" in r ? parseRetryAfter(r.retryAfter, Date.now()) : null));
  }
  return { ok: false, attempts: attempt + 1, error: `${last} (after ${attempt + 1} attempts)` };
}

/**
 * Drains the outbox: one delivery at a time, in the background. `kick()` after new alerts were written;
 * `idle()` resolves when nothing is being sent (a local turn waits for it, bounded, before it exits).
 */
export class AlertSender {
  readonly #store: BudgetStore;
  readonly #hook: WebhookConfig | undefined;
  readonly #deploymentId: string | null;
  readonly #log: (m: string) => void;
  readonly #abort = new AbortController();
  #running: Promise<void> | null = null;
  #again = false;
  sent = 0;
  failed = 0;

  constructor(o: { store: BudgetStore; webhook: WebhookConfig | undefined; deploymentId: string | null; log: (m: string) => void }) {
    this.#store = o.store;
    this.#hook = o.webhook;
    this.#deploymentId = o.deploymentId;
    this.#log = o.log;
  }

  kick(): void {
    if (!this.#hook) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  async #drain(): Promise<void> {
    const hook = this.#hook!;
    let batch;
    try {
      batch = this.#store.claimUndelivered(Date.now(), 10 * 60_000, (hook.retryAttempts + 1) * 3);
    } catch (e) {
      this.#log(`clawtower: budget alerts: cannot read the outbox: ${(e as Error).message}`);
      return;
    }
    for (const row of batch) {
      const r = await deliverAlert(row.payload, hook, this.#deploymentId, this.#abort.signal);
      try {
        if (r.ok) {
          this.sent++;
          this.#store.markDelivery(row, { deliveredAt: Date.now() });
        } else {
          this.failed++;
          this.#log(`clawtower: budget alert ${row.budgetId} (${row.threshold}) not delivered: ${r.error}`);
          this.#store.markDelivery(row, { error: r.error, attempts: r.attempts });
        }
      } catch {
        // the store closed under us (shutdown): the row stays claimed until its lease ends, then is sent again
      }
    }
  }

  /** Resolves when the queue is idle, or after `ms`. */
  async idle(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.#running && Date.now() < deadline) {
      await Promise.race([this.#running, new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now())).unref?.())]);
    }
  }

  stop(): void {
    this.#abort.abort();
  }
}
