/**
 * Alert rules, instance states with their history, group memory and the notification outbox, in the store
 * (SQLite or PostgreSQL), so that a hub restart neither re-sends nor forgets.
 */
import crypto from "node:crypto";
import { sql } from "kysely";
import { AlertRuleInputSchema, describeRuleIssues, type AlertInstance, type AlertRule, type AlertRuleInput, type AlertState, type GroupMemory, type Transition } from "@clawtower/core";
import type { StoreConnection } from "../connection.ts";

export class AlertRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AlertRuleError";
  }
}

type Db = StoreConnection["db"];

function ruleOf(r: { rule_id: string; spec: string; created_at: number }): AlertRule {
  return { ...(JSON.parse(r.spec) as Omit<AlertRule, "id" | "createdAt">), id: r.rule_id, createdAt: Number(r.created_at) };
}

/** Validates and stores a rule; a webhook channel without a secret gets a fresh random one. */
export async function addAlertRule(conn: StoreConnection, input: AlertRuleInput, now: number): Promise<AlertRule> {
  const parsed = AlertRuleInputSchema.safeParse(input);
  if (!parsed.success) throw new AlertRuleError(describeRuleIssues(parsed.error));
  const spec = parsed.data;
  for (const c of spec.channels) if (c.type === "webhook" && !c.secret) c.secret = crypto.randomBytes(24).toString("base64url");
  const id = `rule_${crypto.randomBytes(6).toString("hex")}`;
  const exists = await conn.db.selectFrom("alert_rules").select("rule_id").where("name", "=", spec.name).executeTakeFirst();
  if (exists) throw new AlertRuleError(`a rule named ${spec.name} exists already (remove it first: clawtower alerts rm ${spec.name})`);
  await conn.db.insertInto("alert_rules").values({ rule_id: id, name: spec.name, spec: JSON.stringify(spec), enabled: spec.enabled ? 1 : 0, created_at: now, updated_at: now }).execute();
  return { ...spec, id, createdAt: now };
}

export async function listAlertRules(conn: StoreConnection): Promise<AlertRule[]> {
  const rows = await conn.db.selectFrom("alert_rules").select(["rule_id", "spec", "created_at"]).orderBy("name").execute();
  return rows.map(ruleOf);
}

/** A rule by id or by name. */
export async function findAlertRule(conn: StoreConnection, idOrName: string): Promise<AlertRule | null> {
  const r = await conn.db.selectFrom("alert_rules").select(["rule_id", "spec", "created_at"]).where((eb) => eb.or([eb("rule_id", "=", idOrName), eb("name", "=", idOrName)])).executeTakeFirst();
  return r ? ruleOf(r) : null;
}

/** Removes a rule with its states, history, groups and undelivered notices. */
export async function removeAlertRule(conn: StoreConnection, idOrName: string): Promise<boolean> {
  const rule = await findAlertRule(conn, idOrName);
  if (!rule) return false;
  await conn.db.transaction().execute(async (trx) => {
    for (const t of ["alert_instances", "alert_events", "alert_groups", "alert_outbox", "alert_rules"] as const) await trx.deleteFrom(t).where("rule_id", "=", rule.id).execute();
  });
  return true;
}

export type StoredInstance = AlertInstance & { ruleId: string };

function instanceOf(r: { rule_id: string; instance_key: string; labels: string; state: string; value: number; active_since: number; fired_at: number | null; resolved_at: number | null }): StoredInstance {
  return {
    ruleId: r.rule_id,
    key: r.instance_key,
    labels: JSON.parse(r.labels) as Record<string, string>,
    state: r.state as AlertState,
    value: Number(r.value),
    activeSince: Number(r.active_since),
    firedAt: r.fired_at === null ? null : Number(r.fired_at),
    resolvedAt: r.resolved_at === null ? null : Number(r.resolved_at),
  };
}

/** The stored instances of a rule: all of them, or those with these keys. */
export async function loadInstances(db: Db, ruleId: string, keys?: readonly string[]): Promise<Map<string, StoredInstance>> {
  const out = new Map<string, StoredInstance>();
  if (keys && keys.length === 0) return out;
  const chunks = keys ? Array.from({ length: Math.ceil(keys.length / 500) }, (_, i) => keys.slice(i * 500, i * 500 + 500)) : [null];
  for (const chunk of chunks) {
    let q = db.selectFrom("alert_instances").selectAll().where("rule_id", "=", ruleId);
    if (chunk) q = q.where("instance_key", "in", chunk);
    for (const r of await q.execute()) out.set(r.instance_key, instanceOf(r));
  }
  return out;
}

/** Instances in these states, across rules (the timer's pending promotions, the dashboard's firing list). */
export async function instancesInState(conn: StoreConnection, states: AlertState[]): Promise<StoredInstance[]> {
  const rows = await conn.db.selectFrom("alert_instances").selectAll().where("state", "in", states).orderBy("rule_id").orderBy("instance_key").execute();
  return rows.map(instanceOf);
}

/** Writes a rule's new instance states and their transitions (history) in the caller's transaction. */
export async function saveTransitions(db: Db, ruleId: string, changes: { next: AlertInstance | null; key: string; transition: Transition | null; touched: boolean }[], now: number): Promise<void> {
  for (const c of changes) {
    if (!c.transition && !c.touched) continue;
    if (c.next === null) await db.deleteFrom("alert_instances").where("rule_id", "=", ruleId).where("instance_key", "=", c.key).execute();
    else {
      const row = {
        rule_id: ruleId,
        instance_key: c.key,
        labels: JSON.stringify(c.next.labels),
        state: c.next.state,
        value: c.next.value,
        active_since: c.next.activeSince,
        fired_at: c.next.firedAt,
        resolved_at: c.next.resolvedAt,
        updated_at: now,
      };
      await db
        .insertInto("alert_instances")
        .values(row)
        .onConflict((oc) => oc.columns(["rule_id", "instance_key"]).doUpdateSet({ labels: row.labels, state: row.state, value: row.value, active_since: row.active_since, fired_at: row.fired_at, resolved_at: row.resolved_at, updated_at: now }))
        .execute();
    }
    const t = c.transition;
    if (t) await db.insertInto("alert_events").values({ rule_id: ruleId, instance_key: t.key, at: t.at, from_state: t.from, to_state: t.to, value: t.value, labels: JSON.stringify(t.labels) }).execute();
  }
}

export type AlertHistoryEntry = { ruleId: string; key: string; at: number; from: string | null; to: string; value: number; labels: Record<string, string> };

export async function alertHistory(conn: StoreConnection, ruleId: string | null, limit = 100): Promise<AlertHistoryEntry[]> {
  let q = conn.db.selectFrom("alert_events").selectAll().orderBy("event_id", "desc").limit(limit);
  if (ruleId) q = q.where("rule_id", "=", ruleId);
  return (await q.execute()).map((r) => ({ ruleId: r.rule_id, key: r.instance_key, at: Number(r.at), from: r.from_state, to: r.to_state, value: Number(r.value), labels: JSON.parse(r.labels) as Record<string, string> }));
}

export async function loadGroup(db: Db, ruleId: string, channel: number): Promise<GroupMemory> {
  const r = await db.selectFrom("alert_groups").selectAll().where("rule_id", "=", ruleId).where("channel", "=", channel).executeTakeFirst();
  if (!r) return { firstAt: null, lastSentAt: null, sentFiring: [] };
  return { firstAt: r.first_at === null ? null : Number(r.first_at), lastSentAt: r.last_sent_at === null ? null : Number(r.last_sent_at), sentFiring: JSON.parse(r.sent_firing) as string[] };
}

export async function saveGroup(db: Db, ruleId: string, channel: number, m: GroupMemory): Promise<void> {
  const row = { rule_id: ruleId, channel, first_at: m.firstAt, last_sent_at: m.lastSentAt, sent_firing: JSON.stringify(m.sentFiring) };
  await db
    .insertInto("alert_groups")
    .values(row)
    .onConflict((oc) => oc.columns(["rule_id", "channel"]).doUpdateSet({ first_at: row.first_at, last_sent_at: row.last_sent_at, sent_firing: row.sent_firing }))
    .execute();
}

export async function enqueueNotice(db: Db, ruleId: string, channel: number, body: string, now: number): Promise<void> {
  await db.insertInto("alert_outbox").values({ rule_id: ruleId, channel, created_at: now, body, attempts: 0, next_attempt_at: now, delivered_at: null, dead_at: null, last_error: null }).execute();
}

export type OutboxEntry = { id: number; ruleId: string; channel: number; body: string; attempts: number; createdAt: number };

export async function dueNotices(conn: StoreConnection, now: number, limit = 50): Promise<OutboxEntry[]> {
  const rows = await conn.db
    .selectFrom("alert_outbox")
    .select(["outbox_id", "rule_id", "channel", "body", "attempts", "created_at"])
    .where("delivered_at", "is", null)
    .where("dead_at", "is", null)
    .where("next_attempt_at", "<=", now)
    .orderBy("outbox_id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: Number(r.outbox_id), ruleId: r.rule_id, channel: Number(r.channel), body: r.body, attempts: Number(r.attempts), createdAt: Number(r.created_at) }));
}

export async function markDelivered(conn: StoreConnection, id: number, now: number): Promise<void> {
  await conn.db.updateTable("alert_outbox").set({ delivered_at: now, last_error: null }).where("outbox_id", "=", id).execute();
}

/** A failed attempt: try again at `retryAt`, or give up (dead) when it is null. */
export async function markFailed(conn: StoreConnection, id: number, error: string, retryAt: number | null, now: number): Promise<void> {
  await conn.db
    .updateTable("alert_outbox")
    .set((eb) => ({ attempts: eb("attempts", "+", 1), last_error: error.slice(0, 500), next_attempt_at: retryAt ?? now, dead_at: retryAt === null ? now : null }))
    .where("outbox_id", "=", id)
    .execute();
}

/** Each channel's delivery health from its latest notice: ok, retrying or dead, with the last error. */
export type ChannelHealth = { ruleId: string; channel: number; status: "ok" | "retrying" | "dead" | "never"; lastError: string | null; lastAt: number | null; pending: number };

export async function channelHealth(conn: StoreConnection): Promise<ChannelHealth[]> {
  const rows = await sql<{ rule_id: string; channel: number; delivered_at: number | null; dead_at: number | null; last_error: string | null; created_at: number; pending: number }>`
    SELECT o.rule_id, o.channel, o.delivered_at, o.dead_at, o.last_error, o.created_at,
      (SELECT count(*) FROM alert_outbox p WHERE p.rule_id = o.rule_id AND p.channel = o.channel AND p.delivered_at IS NULL AND p.dead_at IS NULL) AS pending
    FROM alert_outbox o
    WHERE o.outbox_id = (SELECT max(x.outbox_id) FROM alert_outbox x WHERE x.rule_id = o.rule_id AND x.channel = o.channel)`.execute(conn.db);
  return rows.rows.map((r) => ({
    ruleId: r.rule_id,
    channel: Number(r.channel),
    status: r.delivered_at !== null ? "ok" : r.dead_at !== null ? "dead" : r.last_error ? "retrying" : "never",
    lastError: r.last_error,
    lastAt: Number(r.delivered_at ?? r.dead_at ?? r.created_at),
    pending: Number(r.pending),
  }));
}

const CURSOR_KEY = "alerts.cursor";

/** The evaluator's place in the change feed: the last change it evaluated and that change's time. */
export type AlertCursor = { changeId: number; at: number };

export async function loadAlertCursor(db: Db): Promise<AlertCursor | null> {
  const r = await db.selectFrom("meta").select("value").where("key", "=", CURSOR_KEY).executeTakeFirst();
  return r ? (JSON.parse(r.value) as AlertCursor) : null;
}

export async function saveAlertCursor(db: Db, c: AlertCursor): Promise<void> {
  const value = JSON.stringify(c);
  await db.insertInto("meta").values({ key: CURSOR_KEY, value }).onConflict((oc) => oc.column("key").doUpdateSet({ value })).execute();
}
