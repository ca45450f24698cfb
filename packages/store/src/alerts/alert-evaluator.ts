/**
 * One evaluation pass: reads what changed since the persisted cursor (the `changes` feed), measures only the
 * touched sessions and the windows of rules whose scope a change reached, steps each instance's state (pure,
 * @clawtower/core) and persists states, history and the cursor together. `tick` passes (the hub's timer) also
 * re-measure window rules (a window that passes resolves), look for stuck sessions and promote pending
 * instances whose `for` has elapsed. Then the notification groups decide what to send, into the outbox.
 */
import { buildNotification, decideGroup, promotePending, stepInstance, type AlertInstance, type AlertRule, type Observation, type Transition } from "@clawtower/core";
import type { StoreConnection } from "../connection.ts";
import { type PassMemo, changesAfter, deploymentInScope, isSessionKind, isWindowKind, observeSessions, observeWindowRule, sessionsByKeys, sessionsLastBetween, sessionsUpdatedSince, type TouchedSession } from "./alert-observe.ts";
import { enqueueNotice, instancesInState, listAlertRules, loadAlertCursor, loadGroup, loadInstances, saveAlertCursor, saveGroup, saveTransitions } from "./alert-store.ts";

export type EvaluationReport = { changes: number; sessions: number; rules: number; transitions: Transition[]; notices: number };

/** How far past `idleMinutes` a quiet session is still looked at by the stuck-session timer. */
const STUCK_LOOKBACK_MS = 24 * 3_600_000;

export async function evaluateAlerts(conn: StoreConnection, now: number, opts: { tick: boolean }): Promise<EvaluationReport> {
  const rules = (await listAlertRules(conn)).filter((r) => r.enabled);
  const cursor = await loadAlertCursor(conn.db);
  const fresh = await changesAfter(conn.db, cursor);
  const touched: TouchedSession[] = fresh && fresh.sinceAt < Number.MAX_SAFE_INTEGER && rules.some((r) => isSessionKind(r.condition.kind)) ? await sessionsUpdatedSince(conn.db, fresh.sinceAt) : [];
  const report: EvaluationReport = { changes: fresh ? fresh.head.changeId - (cursor?.changeId ?? 0) : 0, sessions: touched.length, rules: 0, transitions: [], notices: 0 };
  const planned: { rule: AlertRule; changes: { next: AlertInstance | null; key: string; transition: Transition | null; touched: boolean }[] }[] = [];
  const pending = opts.tick ? await instancesInState(conn, ["pending", "firing"]) : [];
  const shared: PassMemo = new Map();

  for (const rule of rules) {
    const kind = rule.condition.kind;
    let observations: Observation[] = [];
    if (isWindowKind(kind)) {
      const reached = opts.tick || (fresh !== null && [...fresh.deployments].some((d) => deploymentInScope(d, rule.scope)));
      if (!reached) continue;
      const o = await observeWindowRule(conn, rule, now, shared);
      if (o) observations = [o];
    } else if (isSessionKind(kind)) {
      let sessions = touched;
      if (kind === "stuck-session" && opts.tick && rule.condition.kind === "stuck-session") {
        const idleMs = rule.condition.idleMinutes * 60_000;
        const quiet = await sessionsLastBetween(conn.db, now - idleMs - STUCK_LOOKBACK_MS, now - idleMs + 1);
        const live = pending.filter((i) => i.ruleId === rule.id).map((i) => i.key);
        sessions = [...touched, ...quiet, ...(await sessionsByKeys(conn.db, live))];
      }
      observations = await observeSessions(conn, rule, dedupe(sessions), now, shared);
    }
    // budget: budget state changes come from the budgets feature's events; nothing to observe until they exist.
    const stored = await loadInstances(conn.db, rule.id, observations.map((o) => o.key));
    const changes: (typeof planned)[number]["changes"] = [];
    for (const o of observations) {
      const prev = stored.get(o.key) ?? null;
      const { next, transition } = stepInstance(prev, o, rule.forMs, now);
      const moved = next !== null && prev !== null && (next.value !== prev.value || JSON.stringify(next.labels) !== JSON.stringify(prev.labels));
      changes.push({ next, key: o.key, transition, touched: moved && next.state !== "resolved" });
    }
    if (opts.tick) {
      for (const i of pending) {
        if (i.ruleId !== rule.id || observations.some((o) => o.key === i.key)) continue;
        const p = promotePending(i, rule.forMs, now);
        if (p) changes.push({ next: p.next, key: i.key, transition: p.transition, touched: true });
      }
    }
    report.rules++;
    planned.push({ rule, changes });
  }

  await conn.db.transaction().execute(async (trx) => {
    for (const p of planned) await saveTransitions(trx, p.rule.id, p.changes, now);
    if (fresh) await saveAlertCursor(trx, fresh.head);
  });
  for (const p of planned) for (const c of p.changes) if (c.transition) report.transitions.push(c.transition);
  report.notices = await planNotices(conn, rules, now);
  return report;
}

function dedupe(sessions: TouchedSession[]): TouchedSession[] {
  const seen = new Map<string, TouchedSession>();
  for (const s of sessions) seen.set(`${s.deploymentId}\u0000${s.agentId}\u0000${s.sessionId}`, s);
  return [...seen.values()];
}

/** Each rule's channel groups decide whether a notice is due; due notices go into the outbox with the new group memory. */
export async function planNotices(conn: StoreConnection, rules: AlertRule[], now: number): Promise<number> {
  let n = 0;
  const firingAll = await instancesInState(conn, ["firing"]);
  // Only groups with something to decide: a firing instance, or memory of an earlier notice.
  const open = new Set((await conn.db.selectFrom("alert_groups").select(["rule_id", "channel"]).where((eb) => eb.or([eb("first_at", "is not", null), eb("last_sent_at", "is not", null)])).execute()).map((g) => `${g.rule_id}/${Number(g.channel)}`));
  for (const rule of rules) {
    if (rule.channels.length === 0) continue;
    const firing = firingAll.filter((i) => i.ruleId === rule.id);
    for (let ch = 0; ch < rule.channels.length; ch++) {
      const channel = rule.channels[ch]!;
      if (firing.length === 0 && !open.has(`${rule.id}/${ch}`)) continue;
      const mem = await loadGroup(conn.db, rule.id, ch);
      const d = decideGroup(mem, firing.map((i) => i.key), now, channel);
      if (!d.send && JSON.stringify(d.memory) === JSON.stringify(mem)) continue;
      const send = d.send;
      await conn.db.transaction().execute(async (trx) => {
        if (send) {
          const instances = await loadInstances(trx, rule.id, [...send.firing, ...send.resolved]);
          await enqueueNotice(trx, rule.id, ch, JSON.stringify(buildNotification(rule, ch, send, instances, now)), now);
          n++;
        }
        await saveGroup(trx, rule.id, ch, d.memory);
      });
    }
  }
  return n;
}
