/**
 * Grafana-style notification grouping, pure: one group per (rule, channel). The first notice waits `groupWait`
 * after the group's first firing instance (so instances firing together go out together); a change to the set of
 * firing instances waits `groupInterval` after the last notice; an unchanged firing group is repeated every
 * `repeatInterval`; when nothing fires any more, one resolved notice closes the group.
 */
import type { AlertRule } from "../model/alert-rule.ts";
import type { AlertInstance } from "./alert-state.ts";

export type GroupMemory = { firstAt: number | null; lastSentAt: number | null; sentFiring: string[] };
export type GroupTiming = { groupWaitMs: number; groupIntervalMs: number; repeatIntervalMs: number };

export const EMPTY_GROUP: GroupMemory = { firstAt: null, lastSentAt: null, sentFiring: [] };

export type GroupDecision = { memory: GroupMemory; send: null | { status: "firing" | "resolved"; firing: string[]; resolved: string[] } };

export function decideGroup(mem: GroupMemory, firingKeys: readonly string[], now: number, t: GroupTiming): GroupDecision {
  const firing = [...new Set(firingKeys)].sort();
  if (mem.lastSentAt === null) {
    if (firing.length === 0) return { memory: EMPTY_GROUP, send: null };
    const firstAt = mem.firstAt ?? now;
    if (now - firstAt < t.groupWaitMs) return { memory: { ...mem, firstAt }, send: null };
    return { memory: { firstAt, lastSentAt: now, sentFiring: firing }, send: { status: "firing", firing, resolved: [] } };
  }
  const sent = new Set(mem.sentFiring);
  const changed = firing.length !== sent.size || firing.some((k) => !sent.has(k));
  const wait = changed ? t.groupIntervalMs : t.repeatIntervalMs;
  if (now - mem.lastSentAt < wait) return { memory: mem, send: null };
  const resolved = mem.sentFiring.filter((k) => !firing.includes(k));
  if (firing.length === 0) return { memory: EMPTY_GROUP, send: { status: "resolved", firing: [], resolved } };
  return { memory: { firstAt: mem.firstAt, lastSentAt: now, sentFiring: firing }, send: { status: "firing", firing, resolved } };
}

export type NotificationAlert = { status: "firing" | "resolved"; key: string; labels: Record<string, string>; value: number; startsAt: string; endsAt: string | null };

export type Notification = {
  version: 1;
  status: "firing" | "resolved";
  groupKey: string;
  rule: { id: string; name: string; kind: string; severity: string };
  alerts: NotificationAlert[];
  sentAt: string;
  test?: true;
};

export function buildNotification(rule: Pick<AlertRule, "id" | "name" | "severity" | "condition">, channel: number, send: NonNullable<GroupDecision["send"]>, instances: ReadonlyMap<string, AlertInstance>, now: number): Notification {
  const alert = (key: string, status: "firing" | "resolved"): NotificationAlert => {
    const i = instances.get(key);
    return {
      status,
      key,
      labels: i?.labels ?? {},
      value: i?.value ?? 0,
      startsAt: new Date(i?.activeSince ?? now).toISOString(),
      endsAt: status === "resolved" ? new Date(i?.resolvedAt ?? now).toISOString() : null,
    };
  };
  return {
    version: 1,
    status: send.status,
    groupKey: `${rule.id}/${channel}`,
    rule: { id: rule.id, name: rule.name, kind: rule.condition.kind, severity: rule.severity },
    alerts: [...send.firing.map((k) => alert(k, "firing")), ...send.resolved.map((k) => alert(k, "resolved"))],
    sentAt: new Date(now).toISOString(),
  };
}

/** The one-line text of a notice, for Slack-compatible webhooks. */
export function notificationText(n: Notification): string {
  const firing = n.alerts.filter((a) => a.status === "firing").length;
  const resolved = n.alerts.length - firing;
  const head = n.status === "firing" ? `[FIRING:${firing}]` : `[RESOLVED]`;
  const lines = n.alerts.slice(0, 10).map((a) => {
    const where = Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(" ");
    return `• ${a.status} ${where || "(whole window)"} value=${Math.round(a.value * 1e4) / 1e4}`;
  });
  if (n.alerts.length > 10) lines.push(`… and ${n.alerts.length - 10} more`);
  return [`${n.test ? "[TEST] " : ""}${head} ${n.rule.name} (${n.rule.severity}, ${n.rule.kind})${resolved && n.status === "firing" ? `, ${resolved} resolved` : ""}`, ...lines].join("\n");
}
