/**
 * The watch loop: every poll reads the gateway's sessions (`sessions.list`, paged, joined with `sessions.usage`
 * totals), filters them, and pushes the changed ones to each sink. `sessions.changed` events (when the gateway
 * offers `sessions.subscribe`) start the next poll early. `maxErrors` consecutive failed polls (fetch or push)
 * stop it with exit code 1; a stop signal ends it after the poll in flight, with the state saved.
 */
import { connectGateway, GatewayRpcError, type GatewayConnection } from "./gateway-rpc.ts";
import type { DeviceIdentity } from "./device-identity.ts";
import { ChangeState } from "./change-detector.ts";
import { filterSessions, type FilterOptions } from "./filters.ts";
import { chunks, postJson, type PushOutcome, type RetryPolicy } from "./push.ts";
import { toWatchedSession, usageTotalsOf, type UsageTotals, type WatchedSession } from "./session-rows.ts";
import { toHubSnapshot, toTelemetryEvent } from "./telemetry.ts";
import type { WatchLogger } from "./watch-log.ts";

export type SinkTarget = { kind: "hub"; url: string; apiKey: string; deploymentId: string | null } | { kind: "agentwatch"; url: string; apiKey: string | null };

export type WatchOptions = {
  openclawUrl: string;
  token: string;
  identity: DeviceIdentity;
  stateFile: string;
  pollIntervalMs: number;
  batchSize: number;
  maxErrors: number;
  once: boolean;
  filters: FilterOptions;
  sinks: SinkTarget[];
  retry: RetryPolicy;
  /** How long a poll waits for the gateway's usage cache to be fresh before sending totals as unknown. */
  usageFreshWaitMs: number;
  version: string;
  log: WatchLogger;
  now?: () => number;
};

const PAGE_LIMIT = 200;
const MAX_PAGES = 500;

export type PollResult = { sessions: number; events: number; ms: number };

type Listed = { sessions: WatchedSession[]; fetched: number };

export class Watcher {
  private readonly o: WatchOptions;
  private readonly state: ChangeState;
  private readonly now: () => number;
  private conn: GatewayConnection | null = null;
  private pollNo = 0;
  private readonly stopping = new AbortController();
  private wake: (() => void) | null = null;
  private changedSinceLastPoll = false;
  /** Set when the gateway refuses `sessions.usage` (it is not advertised in hello's method list, yet answers). */
  private usageUnavailable = false;

  constructor(o: WatchOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.state = ChangeState.load(o.stateFile, o.openclawUrl);
  }

  stop(): void {
    this.stopping.abort();
    this.wake?.();
  }

  /** Runs until stopped (exit 0), `once` is done (0 on success, 1 on failure), or maxErrors polls failed (1). */
  async run(): Promise<number> {
    const { log } = this.o;
    log.info(`Starting OpenClaw session watcher (gateway ${this.o.openclawUrl}, every ${this.o.pollIntervalMs / 1000} s, batch ${this.o.batchSize}, max errors ${this.o.maxErrors})`);
    for (const s of this.o.sinks) log.info(`  pushing to ${s.kind === "hub" ? "Clawtower hub" : "AgentWatch"} ${s.url}`);
    let consecutive = 0;
    try {
      while (!this.stopping.signal.aborted) {
        try {
          await this.poll();
          consecutive = 0;
          if (this.o.once) return 0;
        } catch (e) {
          consecutive++;
          log.error(`Poll #${this.pollNo} failed (${consecutive}/${this.o.maxErrors}): ${this.redact((e as Error).message)}`);
          this.dropConnection();
          if (this.o.once) return 1;
          if (consecutive >= this.o.maxErrors) {
            log.critical(`${consecutive} consecutive polls failed; stopping`);
            return 1;
          }
        }
        await this.sleep(this.o.pollIntervalMs);
      }
      log.info("Stopped (state saved)");
      return 0;
    } finally {
      this.state.save(this.now());
      this.dropConnection();
    }
  }

  async poll(): Promise<PollResult> {
    const started = performance.now();
    const n = ++this.pollNo;
    this.changedSinceLastPoll = false;
    const conn = await this.connection();
    const listed = await this.list(conn);
    const now = this.now();
    const kept = filterSessions(listed.sessions, this.o.filters, now, (s, d) => this.o.log.debug(`${d.keep ? "keep" : "skip"} ${s.sessionKey} (${s.sessionId}): ${d.reason}`));
    const sent = new Set<string>();
    try {
      for (const sink of this.o.sinks) for (const id of await this.push(sink, kept, now)) sent.add(id);
    } finally {
      this.state.save(now);
    }
    const ms = performance.now() - started;
    this.o.log.info(`Poll #${n}: ${listed.fetched} sessions → ${sent.size} events (${(ms / 1000).toFixed(2)}s)`);
    return { sessions: listed.fetched, events: sent.size, ms };
  }

  private async connection(): Promise<GatewayConnection> {
    if (this.conn) return this.conn;
    const conn = await connectGateway({ url: this.o.openclawUrl, token: this.o.token, identity: this.o.identity, version: this.o.version });
    if (!conn.hello.scopes.includes("operator.read")) {
      conn.close();
      throw new GatewayRpcError("SCOPE", `the gateway granted ${conn.hello.scopes.join(", ") || "no scopes"}, not operator.read (approve this device: openclaw devices list)`);
    }
    this.conn = conn;
    void conn.closed.then(() => {
      if (this.conn === conn) this.conn = null;
    });
    if (!this.o.once && conn.hello.methods.has("sessions.subscribe")) {
      conn.onEvent((event) => {
        if (event !== "sessions.changed") return;
        this.changedSinceLastPoll = true;
        this.wake?.();
      });
      await conn.request("sessions.subscribe", {});
      this.o.log.debug("subscribed to sessions.changed");
    }
    return conn;
  }

  private dropConnection(): void {
    this.conn?.close();
    this.conn = null;
  }

  private async list(conn: GatewayConnection): Promise<Listed> {
    const limit = Math.min(PAGE_LIMIT, this.o.batchSize);
    const base: Record<string, unknown> = { limit, activeMinutes: this.o.filters.activeMinutes, sortBy: "activity" };
    if (!this.o.filters.kinds.has("cron")) base["excludeCron"] = true;
    const rows: Record<string, unknown>[] = [];
    for (let page = 0, offset = 0; page < MAX_PAGES; page++) {
      const r = await conn.request<{ sessions?: Record<string, unknown>[]; hasMore?: boolean; nextOffset?: number | null }>("sessions.list", { ...base, offset });
      const got = r.sessions ?? [];
      rows.push(...got);
      if (!r.hasMore || got.length === 0) break;
      offset = typeof r.nextOffset === "number" ? r.nextOffset : offset + got.length;
    }
    const usage = this.usageUnavailable ? new Map<string, UsageTotals>() : await this.usage(conn);
    const sessions: WatchedSession[] = [];
    for (const row of rows) {
      const u = usage.get(String(row["sessionId"])) ?? usage.get(String(row["key"])) ?? null;
      const s = toWatchedSession(row, u);
      if (s) sessions.push(s);
      else this.o.log.debug(`skip a session row without key or sessionId`);
    }
    return { sessions, fetched: rows.length };
  }

  /** Lifetime totals per session (the list's counters are the last run's); empty while the cache warms up. */
  private async usage(conn: GatewayConnection): Promise<Map<string, UsageTotals>> {
    const deadline = performance.now() + this.o.usageFreshWaitMs;
    for (;;) {
      type Usage = { sessions?: { key?: string; sessionId?: string; usage?: unknown }[]; cacheStatus?: { status?: string } };
      let r: Usage;
      try {
        r = await conn.request<Usage>("sessions.usage", { agentScope: "all" });
      } catch (e) {
        if (!(e instanceof GatewayRpcError) || e.retryable) throw e;
        this.usageUnavailable = true;
        this.o.log.warn(`the gateway refused sessions.usage (${e.code}: ${e.message}); token totals are sent as unknown`);
        return new Map();
      }
      const fresh = r.cacheStatus?.status === undefined || r.cacheStatus.status === "fresh";
      if (fresh || performance.now() > deadline) {
        if (!fresh) this.o.log.warn(`the gateway's usage cache is still ${r.cacheStatus?.status}; token totals are sent as unknown this poll`);
        const out = new Map<string, UsageTotals>();
        if (!fresh) return out;
        for (const s of r.sessions ?? []) {
          const t = usageTotalsOf(s.usage);
          if (!t) continue;
          if (s.sessionId) out.set(s.sessionId, t);
          if (s.key) out.set(s.key, t);
        }
        return out;
      }
      await new Promise((res) => setTimeout(res, 300));
    }
  }

  /** Sends the sink's changed sessions in batches; returns the ids it took. A kept batch throws. */
  private async push(sink: SinkTarget, sessions: WatchedSession[], now: number): Promise<string[]> {
    const name = `${sink.kind}:${sink.url}`;
    const changed = this.state.changed(name, sessions);
    const taken: string[] = [];
    for (const batch of chunks(changed, this.o.batchSize)) {
      const outcome = await this.send(sink, batch, now);
      if (outcome.kind === "dropped") this.o.log.error(`${sink.kind} dropped a batch of ${batch.length} (${outcome.message}); those sessions are sent again when they change`);
      this.state.markSent(name, batch, now);
      if (outcome.kind === "sent") taken.push(...batch.map((b) => b.session.sessionId));
    }
    return taken;
  }

  private send(sink: SinkTarget, batch: { session: WatchedSession; fingerprint: string }[], now: number): Promise<PushOutcome> {
    const deps = { signal: this.stopping.signal, onRetry: (attempt: number, why: string, delayMs: number) => this.o.log.warn(`${sink.kind} push attempt ${attempt} failed (${why}); retrying in ${delayMs} ms`) };
    if (sink.kind === "hub") {
      const body = { ...(sink.deploymentId ? { deploymentId: sink.deploymentId } : {}), snapshots: batch.map((b) => toHubSnapshot(b.session, b.fingerprint, now)) };
      return postJson(new URL("/api/v1/ingest/snapshots", sink.url).toString(), body, { authorization: `Bearer ${sink.apiKey}` }, this.o.retry, deps);
    }
    const headers: Record<string, string> = sink.apiKey ? { authorization: `Bearer ${sink.apiKey}` } : {};
    return postJson(new URL("/api/events/bulk", sink.url).toString(), batch.map((b) => toTelemetryEvent(b.session, now)), headers, this.o.retry, deps);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        clearTimeout(early);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      let early: NodeJS.Timeout | undefined;
      // A sessions.changed event wakes the loop after a short pause that lets a burst of changes settle.
      this.wake = () => {
        if (this.stopping.signal.aborted) return done();
        early ??= setTimeout(done, 1000);
      };
      if (this.changedSinceLastPoll) this.wake();
    });
  }

  private redact(text: string): string {
    const secrets = [this.o.token, ...this.o.sinks.map((s) => s.apiKey)].filter((s): s is string => !!s && s.length >= 4);
    return secrets.reduce((t, s) => t.split(s).join("[REDACTED]"), text);
  }
}
