/**
 * Delivers the outbox: webhook (the notice as JSON, HMAC-SHA256-signed) or Slack-compatible incoming webhook
 * (`{"text": …}`). A failure is retried with exponential backoff; after `maxAttempts` the notice is dead and
 * its channel shows as dead. Delivery runs beside evaluation and never holds it up.
 *
 * Verifying a webhook: compute HMAC-SHA256 with the channel's secret over `${X-Clawtower-Timestamp}.${raw body}`
 * and compare (in constant time) with the hex after `sha256=` in X-Clawtower-Signature; reject timestamps older
 * than a few minutes so a captured request cannot be replayed.
 */
import crypto from "node:crypto";
import { notificationText, type AlertChannel, type AlertRule, type Notification } from "@clawtower/core";
import { dueNotices, listAlertRules, markDelivered, markFailed, type StoreConnection } from "@clawtower/store";

export type DeliveryOptions = {
  /** First retry delay; doubles per attempt up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxAttempts?: number;
  timeoutMs?: number;
};

export const DEFAULT_DELIVERY = { baseDelayMs: 5_000, maxDelayMs: 10 * 60_000, maxAttempts: 10, timeoutMs: 10_000 } as const;

export const SIGNATURE_HEADER = "x-clawtower-signature";
export const TIMESTAMP_HEADER = "x-clawtower-timestamp";

export function signNotice(secret: string, timestamp: string, body: string): string {
  return `sha256=${crypto.createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** Checks a signed webhook request as a receiver would (used by the tests; documented for receivers). */
export function verifyNotice(secret: string, headers: { signature: string | null; timestamp: string | null }, body: string, now: number, toleranceMs = 5 * 60_000): boolean {
  if (!headers.signature || !headers.timestamp) return false;
  const ts = Number(headers.timestamp) * 1000;
  if (!Number.isFinite(ts) || Math.abs(now - ts) > toleranceMs) return false;
  const want = Buffer.from(signNotice(secret, headers.timestamp, body));
  const got = Buffer.from(headers.signature);
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}

/** Sends one notice through one channel; throws with a short reason on failure. */
export async function sendNotice(channel: AlertChannel, notice: Notification, now: number, timeoutMs: number = DEFAULT_DELIVERY.timeoutMs): Promise<void> {
  const body = channel.type === "slack" ? JSON.stringify({ text: notificationText(notice) }) : JSON.stringify(notice);
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "clawtower-alerts" };
  if (channel.type === "webhook" && channel.secret) {
    const ts = String(Math.floor(now / 1000));
    headers[TIMESTAMP_HEADER] = ts;
    headers[SIGNATURE_HEADER] = signNotice(channel.secret, ts, body);
  }
  let r: Response;
  try {
    r = await fetch(channel.url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  } catch (e) {
    throw new Error(`POST ${redactUrl(channel.url)}: ${(e as Error).message}`);
  }
  await r.body?.cancel();
  if (r.status < 200 || r.status >= 300) throw new Error(`POST ${redactUrl(channel.url)}: HTTP ${r.status}`);
}

/** Incoming-webhook URLs carry their secret in the path: show only the origin. */
export function redactUrl(url: string): string {
  try {
    return new URL(url).origin + "/…";
  } catch {
    return "(bad url)";
  }
}

/** One pass over the due notices. Returns how many were delivered. */
export async function deliverDue(conn: StoreConnection, now: () => number, o: DeliveryOptions = {}): Promise<number> {
  const opts = { ...DEFAULT_DELIVERY, ...o };
  const due = await dueNotices(conn, now());
  if (due.length === 0) return 0;
  const rules = new Map<string, AlertRule>((await listAlertRules(conn)).map((r) => [r.id, r]));
  let delivered = 0;
  await Promise.all(
    due.map(async (n) => {
      const channel = rules.get(n.ruleId)?.channels[n.channel];
      if (!channel) return markFailed(conn, n.id, "the rule or channel no longer exists", null, now());
      try {
        await sendNotice(channel, JSON.parse(n.body) as Notification, now(), opts.timeoutMs);
        await markDelivered(conn, n.id, now());
        delivered++;
      } catch (e) {
        const attempts = n.attempts + 1;
        const retryAt = attempts >= opts.maxAttempts ? null : now() + Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempts - 1));
        await markFailed(conn, n.id, (e as Error).message, retryAt, now());
      }
    }),
  );
  return delivered;
}

/** A sample notice for `clawtower alerts test`: the rule's shape with made-up values, marked as a test. */
export function sampleNotice(rule: AlertRule, channel: number, now: number): Notification {
  return {
    version: 1,
    status: "firing",
    groupKey: `${rule.id}/${channel}`,
    rule: { id: rule.id, name: rule.name, kind: rule.condition.kind, severity: rule.severity },
    alerts: [{ status: "firing", key: "test", labels: { test: "true" }, value: 0, startsAt: new Date(now).toISOString(), endsAt: null }],
    sentAt: new Date(now).toISOString(),
    test: true,
  };
}
