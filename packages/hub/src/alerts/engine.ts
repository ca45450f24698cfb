/**
 * Runs alerting inside the hub: evaluates after every change the feed reports (local import, ingest, plugin,
 * another replica's writes) and on a timer (windows passing, stuck sessions, `for` elapsing, group timers),
 * then delivers due notices. Passes never overlap; a failing pass is logged and the next one retries.
 */
import { evaluateAlerts, type StoreConnection } from "@clawtower/store";
import type { ChangeFeed } from "../live.ts";
import { deliverDue, type DeliveryOptions } from "./deliver.ts";

export type AlertEngineOptions = {
  /** Timer period for time-based work (default 5 s). */
  tickMs?: number;
  delivery?: DeliveryOptions;
  /** Least time between the start of two passes, so that a stream of ingest requests is evaluated in batches (default 1 s). */
  minGapMs?: number;
};

export type AlertEngine = { close(): Promise<void>; /** Runs a pass now and waits for it (tests, `alerts test`). */ runNow(): Promise<void> };

export function startAlertEngine(conn: StoreConnection, feed: ChangeFeed, now: () => number, log: (line: string) => void, o: AlertEngineOptions = {}): AlertEngine {
  let chain: Promise<void> = Promise.resolve();
  let queued: { tick: boolean } | null = null;
  let closed = false;
  let lastStart = 0;
  let wake: (() => void) | null = null;
  const pass = (tick: boolean) => {
    if (closed) return chain;
    // Coalesce: while a pass runs, further requests become one follow-up pass.
    if (queued) {
      queued.tick ||= tick;
      return chain;
    }
    queued = { tick };
    chain = chain.then(async () => {
      const wait = lastStart + (o.minGapMs ?? 1000) - Date.now();
      if (wait > 0 && !closed) await new Promise<void>((r) => {
        const t = setTimeout(r, wait);
        wake = () => (clearTimeout(t), r());
      });
      wake = null;
      const q = queued!;
      queued = null;
      if (closed) return;
      lastStart = Date.now();
      try {
        await evaluateAlerts(conn, now(), q);
        await deliverDue(conn, now, o.delivery);
      } catch (e) {
        log(`hub: alert evaluation failed (retried on the next change or tick): ${(e as Error).message}`);
      }
    });
    return chain;
  };
  const unsubscribe = feed.subscribe(() => void pass(false));
  const timer = setInterval(() => void pass(true), o.tickMs ?? 5_000);
  timer.unref();
  void pass(true);
  return {
    async close() {
      closed = true;
      wake?.();
      clearInterval(timer);
      unsubscribe();
      await chain;
    },
    runNow: () => pass(true),
  };
}
