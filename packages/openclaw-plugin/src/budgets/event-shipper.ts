/**
 * Ships the guard's recorded budget events (budget_events: warn, block, downgrade, reset) to the hub's
 * `POST /api/v1/ingest/budget-events`, from the service's background drain — never from a hook, and a
 * failing hub never blocks a run: what was not accepted stays and goes with the next drain. The cursor (the
 * last id the hub accepted) is kept in the plugin's SQLite; the event id makes a resend a duplicate there.
 */
import type { BudgetEventInput } from "@clawtower/core";
import type { BudgetStore, StoredEvent } from "./store.ts";

export type EventShipperOptions = { hubUrl: string; apiKey: string; timeoutMs?: number; batch?: number; log?: (line: string) => void };

const cut = (v: string | null, max: number): string | null => (v === null ? null : v.slice(0, max));

/** The wire form of a stored event. `<id>-<at>`: unique per plugin database, also after it was recreated. */
export function wireEvent(e: StoredEvent): BudgetEventInput {
  return {
    eventId: `${e.id}-${e.at}`,
    kind: e.kind,
    budgetId: e.budgetId.slice(0, 80),
    periodStart: e.periodStart,
    at: e.at,
    runId: cut(e.runId, 200) || null,
    sessionKey: cut(e.sessionKey, 500) || null,
    agentId: cut(e.agentId, 200) || null,
    spentUsd: Math.max(0, e.spentUsd),
    spentTokens: Math.max(0, Math.round(e.spentTokens)),
    detail: cut(e.detail, 2000) || null,
  };
}

export class BudgetEventShipper {
  readonly #o: Required<Omit<EventShipperOptions, "log">> & { log: (line: string) => void };
  #running: Promise<void> | null = null;
  #failing = false;
  lastError: string | null = null;

  constructor(o: EventShipperOptions) {
    this.#o = { hubUrl: o.hubUrl.replace(/\/+$/, ""), apiKey: o.apiKey, timeoutMs: o.timeoutMs ?? 10_000, batch: o.batch ?? 500, log: o.log ?? (() => {}) };
  }

  /** One pass (a second call while one runs gets that one). Never throws. */
  ship(store: BudgetStore): Promise<void> {
    this.#running ??= this.#ship(store).finally(() => (this.#running = null));
    return this.#running;
  }

  async #ship(store: BudgetStore): Promise<void> {
    try {
      for (;;) {
        const events = store.eventsAfter(store.shippedThrough(), this.#o.batch);
        if (events.length === 0) break;
        const r = await fetch(`${this.#o.hubUrl}/api/v1/ingest/budget-events`, {
          method: "POST",
          headers: { authorization: `Bearer ${this.#o.apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ events: events.map(wireEvent) }),
          signal: AbortSignal.timeout(this.#o.timeoutMs),
        });
        const text = await r.text();
        // 400: the hub will never take this batch (a bad record); skip it rather than stop shipping for good.
        if (r.status === 400) this.#o.log(`clawtower: the hub refused ${events.length} budget events (skipped): ${text.slice(0, 300)}`);
        else if (!r.ok) throw new Error(`HTTP ${r.status}${text ? `: ${text.slice(0, 300)}` : ""}`);
        store.markShipped(events[events.length - 1]!.id);
        if (events.length < this.#o.batch) break;
      }
      if (this.#failing) this.#o.log("clawtower: budget events reach the hub again");
      this.#failing = false;
      this.lastError = null;
    } catch (e) {
      const err = e as Error;
      this.lastError = err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
      if (!this.#failing) this.#o.log(`clawtower: shipping budget events to the hub failed (kept for the next drain): ${this.lastError}`);
      this.#failing = true;
    }
  }
}
