/**
 * Fleet budgets from the hub (`GET /api/v1/budgets/effective`), fetched in the background every 30 s — never on
 * a hook path: the guard reads `current()`, which only returns what the last good answer said. When the hub is
 * unreachable the last figures stay (the guard adds its own spend since); figures of a period that has ended
 * are dropped, so a reset is not carried over. Spend reported is the REST of the fleet's: this deployment's own
 * share, which the guard counts live, is subtracted.
 */
import { EffectiveBudgetsSchema, type EffectiveBudgets } from "@clawtower/core";
import type { ResolvedBudget } from "../config/load-budgets.ts";
import type { FleetBudgetSnapshot, FleetBudgetSource } from "./fleet.ts";

export type HubFleetOptions = {
  /** The hub's base URL, e.g. https://hub.example:8787. */
  hubUrl: string;
  /** The gateway's ingest key (it may read its own deployment's effective budgets). */
  apiKey: string;
  /** Needed when the key is not bound to a deployment. */
  deployment?: string | null;
  intervalMs?: number;
  timeoutMs?: number;
  now?: () => number;
  log?: (line: string) => void;
  /** Called after each good answer (off the hook path: the guard applies the figures here). */
  onSnapshot?: (snapshot: FleetBudgetSnapshot, answer: EffectiveBudgets) => void;
};

export const FLEET_FETCH_INTERVAL_MS = 30_000;

type Held = { snapshot: FleetBudgetSnapshot; periodEnds: Map<string, number>; count: number };

/** The guard's view of one hub answer: budgets prefixed `fleet:`, spend of the other deployments. */
export function snapshotOf(answer: EffectiveBudgets, fetchedAt: number): Held {
  const budgets: ResolvedBudget[] = [];
  const fleetSpend: FleetBudgetSnapshot["fleetSpend"] = new Map();
  const periodEnds = new Map<string, number>();
  for (const e of answer.budgets) {
    const { deployment: _deployment, ...budget } = e.budget;
    const id = `fleet:${budget.id}`;
    budgets.push({ ...budget, id });
    periodEnds.set(id, e.periodEnd);
    // A scope the hub cannot evaluate gives no fleet figure to trust: the guard enforces with its own spend.
    if (e.unsupported.length > 0) continue;
    const own = e.byDeployment.find((d) => d.deployment === answer.deployment);
    fleetSpend.set(id, { nanos: e.spend.nanos - (own?.nanos ?? 0), tokens: e.spend.tokens - (own?.tokens ?? 0), periodStart: e.periodStart });
  }
  return { snapshot: { budgets, fleetSpend, fetchedAt }, periodEnds, count: budgets.length };
}

const iso = (ms: number) => new Date(ms).toISOString();

export class HubFleetSource implements FleetBudgetSource {
  readonly #o: Required<Omit<HubFleetOptions, "deployment" | "onSnapshot">> & { deployment: string | null };
  readonly #onSnapshot: ((snapshot: FleetBudgetSnapshot, answer: EffectiveBudgets) => void) | null;
  #held: Held | null = null;
  #failingSince: number | null = null;
  #lastError: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;
  #abort = new AbortController();

  constructor(o: HubFleetOptions) {
    this.#o = {
      hubUrl: o.hubUrl.replace(/\/+$/, ""),
      apiKey: o.apiKey,
      deployment: o.deployment ?? null,
      intervalMs: o.intervalMs ?? FLEET_FETCH_INTERVAL_MS,
      timeoutMs: o.timeoutMs ?? 10_000,
      now: o.now ?? Date.now,
      log: o.log ?? (() => {}),
    };
    this.#onSnapshot = o.onSnapshot ?? null;
  }

  /**
   * The last answer an earlier process kept (the guard persists each one): a process that cannot reach the
   * hub — an `agent --local` turn, a restarted Gateway — enforces with it instead of with nothing.
   */
  seed(answer: unknown, fetchedAt: number): void {
    if (this.#held) return;
    const parsed = EffectiveBudgetsSchema.safeParse(answer);
    if (parsed.success) this.#held = snapshotOf(parsed.data, fetchedAt);
  }

  /** Fetches now and then every interval, in the background (the timer never keeps the process alive). */
  start(): void {
    if (this.#timer) return;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#o.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#abort.abort();
    await this.#inFlight;
  }

  /** One fetch (a second call while one runs waits for it). Never throws: a failure is kept for describe(). */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#fetch().finally(() => (this.#inFlight = null));
    return this.#inFlight;
  }

  async #fetch(): Promise<void> {
    const url = new URL(`${this.#o.hubUrl}/api/v1/budgets/effective`);
    if (this.#o.deployment) url.searchParams.set("deployment", this.#o.deployment);
    try {
      const r = await fetch(url, {
        headers: { authorization: `Bearer ${this.#o.apiKey}`, accept: "application/json" },
        signal: AbortSignal.any([AbortSignal.timeout(this.#o.timeoutMs), this.#abort.signal]),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`HTTP ${r.status}${text ? `: ${text.slice(0, 300)}` : ""}`);
      const parsed = EffectiveBudgetsSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error(`unexpected answer: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`);
      this.#held = snapshotOf(parsed.data, this.#o.now());
      if (this.#failingSince !== null) this.#o.log(`clawtower: hub reachable again for fleet budgets (${this.#held.count})`);
      this.#failingSince = null;
      this.#lastError = null;
      try {
        this.#onSnapshot?.(this.current()!, parsed.data);
      } catch (e) {
        this.#o.log(`clawtower: applying fleet budgets failed: ${(e as Error).message}`);
      }
    } catch (e) {
      if (this.#abort.signal.aborted) return;
      const message = (e as Error).cause instanceof Error ? `${(e as Error).message}: ${((e as Error).cause as Error).message}` : (e as Error).message;
      if (this.#failingSince === null) {
        this.#failingSince = this.#o.now();
        this.#o.log(`clawtower: fleet budgets: hub unreachable (${message}); enforcing with ${this.#held ? `the figures of ${iso(this.#held.snapshot.fetchedAt)}` : "local spend only"}`);
      }
      this.#lastError = message;
    }
  }

  current(): FleetBudgetSnapshot | null {
    const held = this.#held;
    if (!held) return null;
    const now = this.#o.now();
    let fleetSpend = held.snapshot.fleetSpend;
    for (const [id, end] of held.periodEnds)
      if (end <= now && fleetSpend.has(id)) {
        if (fleetSpend === held.snapshot.fleetSpend) fleetSpend = new Map(fleetSpend);
        fleetSpend.delete(id);
      }
    return fleetSpend === held.snapshot.fleetSpend ? held.snapshot : { ...held.snapshot, fleetSpend };
  }

  describe(): string {
    const now = this.#o.now();
    const held = this.#held;
    if (this.#failingSince !== null)
      return `hub unreachable since ${iso(this.#failingSince)} (${this.#lastError}), ${held ? `using figures of ${iso(held.snapshot.fetchedAt)} (${held.count} fleet budgets)` : "no fleet figures yet: local budgets only"}`;
    if (!held) return "hub: first fetch of fleet budgets pending";
    return `hub ok, ${Math.round((now - held.snapshot.fetchedAt) / 1000)} s ago (${held.count} fleet budget${held.count === 1 ? "" : "s"})`;
  }
}
