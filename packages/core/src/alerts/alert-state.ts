/**
 * Pure alert evaluation: what a kind's numbers mean (is the condition met?), and how an instance's state moves
 * (pending → firing → resolved) given what was observed. The store gathers the numbers, the hub persists the
 * states; both are edges around these functions.
 */
import type { AlertCondition } from "../model/alert-rule.ts";
import { NANOS_PER_USD } from "../pricing/pricing.ts";

export type AlertState = "pending" | "firing" | "resolved";

/** One watched thing of a rule: a session, or the rule's window as a whole (key ""). */
export type AlertInstance = {
  key: string;
  labels: Record<string, string>;
  state: AlertState;
  value: number;
  /** When the condition started holding (pending or firing). */
  activeSince: number;
  firedAt: number | null;
  resolvedAt: number | null;
};

/** What the store measured for one instance. `value` is in the kind's unit (USD, tokens, a ratio, calls, minutes). */
export type Observation = { key: string; labels: Record<string, string>; value: number; active: boolean };

export type Transition = { key: string; from: AlertState | null; to: AlertState; at: number; value: number; labels: Record<string, string> };

/** The next state of an instance after an observation (null: nothing to keep), and the transition if any. */
export function stepInstance(prev: AlertInstance | null, obs: Observation, forMs: number, now: number): { next: AlertInstance | null; transition: Transition | null } {
  const live = prev && prev.state !== "resolved" ? prev : null;
  const t = (to: AlertState, from: AlertState | null): Transition => ({ key: obs.key, from, to, at: now, value: obs.value, labels: obs.labels });
  if (obs.active) {
    if (!live) {
      const base = { key: obs.key, labels: obs.labels, value: obs.value, activeSince: now, resolvedAt: null };
      if (forMs <= 0) return { next: { ...base, state: "firing", firedAt: now }, transition: t("firing", prev?.state ?? null) };
      return { next: { ...base, state: "pending", firedAt: null }, transition: t("pending", prev?.state ?? null) };
    }
    if (live.state === "pending" && now - live.activeSince >= forMs) {
      return { next: { ...live, labels: obs.labels, value: obs.value, state: "firing", firedAt: now }, transition: t("firing", "pending") };
    }
    return { next: { ...live, labels: obs.labels, value: obs.value }, transition: null };
  }
  if (!live) return { next: prev, transition: null };
  // A pending condition that stopped holding never fired: forget it (Grafana's "Normal" again), no notice.
  if (live.state === "pending") return { next: null, transition: t("resolved", "pending") };
  return { next: { ...live, value: obs.value, state: "resolved", resolvedAt: now }, transition: t("resolved", "firing") };
}

/** A pending instance whose `for` has elapsed with no new observation fires on the timer. */
export function promotePending(inst: AlertInstance, forMs: number, now: number): { next: AlertInstance; transition: Transition } | null {
  if (inst.state !== "pending" || now - inst.activeSince < forMs) return null;
  return {
    next: { ...inst, state: "firing", firedAt: now },
    transition: { key: inst.key, from: "pending", to: "firing", at: now, value: inst.value, labels: inst.labels },
  };
}

/** Session-level numbers the session kinds read. */
export type SessionFigures = { costNanos: number; tokens: number };

export function sessionConditionMet(c: AlertCondition, s: SessionFigures): { value: number; active: boolean } | null {
  if (c.kind === "session-cost") {
    const value = s.costNanos / NANOS_PER_USD;
    return { value, active: value > c.aboveUsd };
  }
  if (c.kind === "session-tokens") return { value: s.tokens, active: s.tokens > c.aboveTokens };
  return null;
}

export function windowSpendMet(aboveUsd: number, spendNanos: number): { value: number; active: boolean } {
  const value = spendNanos / NANOS_PER_USD;
  return { value, active: value > aboveUsd };
}

/**
 * Spike: the current window's spend above `factor` × the mean of the previous windows, and at least `minUsd`
 * (so that $0.02 after a quiet week never fires). An empty baseline (all zero) fires on `minUsd` alone.
 */
export function spendSpikeMet(factor: number, minUsd: number, currentNanos: number, baselineNanos: number[]): { value: number; active: boolean } {
  const current = currentNanos / NANOS_PER_USD;
  const mean = baselineNanos.length ? baselineNanos.reduce((a, b) => a + b, 0) / baselineNanos.length / NANOS_PER_USD : 0;
  return { value: current, active: current >= minUsd && current > factor * mean };
}

/** Error ratio over a window, only once the window holds `minCalls` calls (a sample too small never fires). */
export function errorRateMet(aboveRatio: number, minCalls: number, calls: number, errors: number): { value: number; active: boolean } {
  const value = calls > 0 ? errors / calls : 0;
  return { value, active: calls >= minCalls && value > aboveRatio };
}

/** A session's last tool calls, newest last: how many in a row at the end are the same call. */
export function trailingRepeats(calls: readonly { name: string | null; argsKey: string | null }[]): number {
  const last = calls.at(-1);
  if (!last || last.name === null) return 0;
  let n = 0;
  for (let i = calls.length - 1; i >= 0; i--) {
    const c = calls[i]!;
    if (c.name !== last.name || c.argsKey !== last.argsKey) break;
    n++;
  }
  return n;
}

/**
 * Context bloat over a session's last calls (oldest first, each with its prompt tokens = input + cache read +
 * cache write, and whether a compaction came before it since the previous call): the latest prompt above
 * `abovePromptTokens`, or the prompt grew on each of the last `growingCalls` calls with no compaction between.
 */
export function contextBloatMet(
  c: { abovePromptTokens?: number | undefined; growingCalls?: number | undefined },
  calls: readonly { promptTokens: number; compactedBefore: boolean }[],
): { value: number; active: boolean } {
  const last = calls.at(-1);
  if (!last) return { value: 0, active: false };
  if (c.abovePromptTokens !== undefined && last.promptTokens > c.abovePromptTokens) return { value: last.promptTokens, active: true };
  if (c.growingCalls !== undefined && calls.length >= c.growingCalls) {
    const tail = calls.slice(-c.growingCalls);
    let growing = true;
    for (let i = 1; i < tail.length; i++) if (tail[i]!.compactedBefore || tail[i]!.promptTokens <= tail[i - 1]!.promptTokens) growing = false;
    if (growing) return { value: last.promptTokens, active: true };
  }
  return { value: last.promptTokens, active: false };
}

/** Stuck: a session that has not ended and whose last event is older than `idleMinutes`. Value: idle minutes. */
export function stuckMet(idleMinutes: number, lastEventAt: number, ended: boolean, now: number): { value: number; active: boolean } {
  const idle = (now - lastEventAt) / 60_000;
  return { value: Math.floor(idle), active: !ended && idle >= idleMinutes };
}
