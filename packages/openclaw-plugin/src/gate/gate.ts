/**
 * The reply gate in a process: one per process (kept on globalThis like the spend guard — the host loads
 * this module once per registry and fires hooks from another registry than the one whose service runs).
 *
 *   message_received  a valid trigger arms the chat (store.ts, one transaction); everything else is a no-op
 *   message_sending   a reply to a protected chat without a live arm (or a watchdog grant) → {cancel: true};
 *                     wrapper chats get their text wrapped; other chats and channels return at once
 *
 * The database opens at the first hook on a gated channel (or at service start). If it cannot be opened the
 * gate turns itself off with one error in the log and in status — the gateway never crashes for it. Once
 * open, an error while deciding a reply to a protected chat cancels that reply (fail closed: a broken
 * guard must not leak), and the host keeps running.
 */
import type { ReplyGateConfig } from "../config/gate-schema.ts";
import { describeIssues } from "../config/load.ts";
import { loadGateConfig, type LoadedGate } from "../config/load-gate.ts";
import { compileGate, decideOutbound, gatesChannel, isProtected, type CompiledGate } from "./decide.ts";
import { normalizeChannel, normalizePeer } from "./peer.ts";
import { defaultGateDbPath, GateStore } from "./store.ts";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" ? (v as Obj) : {});
const str = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" ? v.trim() : typeof v === "number" ? String(v) : null);

type Logger = { info(m: string): void; warn(m: string): void; error(m: string): void };

export type GateState = "off" | "invalid" | "ready" | "error";

export type SendingResult = { cancel: true; cancelReason: string } | { content: string } | undefined;

const PRUNE_EVERY_MS = 3_600_000;

export class ReplyGate {
  #rawKey = "";
  #stateDirOf: () => string = () => "";
  #logger: Logger = { info: () => {}, warn: (m) => process.stderr.write(`${m}\n`), error: (m) => process.stderr.write(`${m}\n`) };
  #lastPrune = 0;
  state: GateState = "off";
  loaded: LoadedGate | null = null;
  compiled: CompiledGate | null = null;
  store: GateStore | null = null;
  dbPath: string | null = null;
  problem: string | null = null;

  /** Called by every registration; a change of the replyGate key (a reload) reopens. */
  configure(pluginConfig: unknown, stateDirOf: () => string, logger?: Logger): void {
    if (logger) this.#logger = logger;
    const key = JSON.stringify(obj(pluginConfig)["replyGate"] ?? null);
    if (this.loaded && key === this.#rawKey) return;
    this.close();
    this.#rawKey = key;
    this.#stateDirOf = stateDirOf;
    this.loaded = loadGateConfig(pluginConfig);
    this.compiled = null;
    this.problem = null;
    if (this.loaded.status === "invalid") {
      this.state = "invalid";
      this.problem = describeIssues(this.loaded.issues);
      this.#logger.error(`clawtower: reply gate off, invalid config: ${this.problem}`);
    } else if (this.loaded.status === "off") {
      this.state = "off";
    } else {
      this.compiled = compileGate(this.loaded.config);
      this.state = "ready";
    }
  }

  get config(): ReplyGateConfig | null {
    return this.loaded?.status === "ok" ? this.loaded.config : null;
  }

  /** Opens the database once; on failure the gate is off (logged once). */
  open(): GateStore | null {
    if (this.store) return this.store;
    const cfg = this.config;
    if (!cfg || this.state !== "ready") return null;
    try {
      this.dbPath = cfg.dbPath ?? defaultGateDbPath(this.#stateDirOf());
      this.store = new GateStore(this.dbPath);
      return this.store;
    } catch (e) {
      this.state = "error";
      this.problem = `cannot open ${this.dbPath}: ${(e as Error).message}`;
      this.#logger.error(`clawtower: reply gate disabled: ${this.problem}`);
      return null;
    }
  }

  messageReceived(event: unknown, ctx: unknown): void {
    const g = this.compiled;
    if (!g) return;
    const e = obj(event);
    const c = obj(ctx);
    const channel = normalizeChannel(str(c["channelId"]) ?? "");
    if (!g.chats.has(channel)) return;
    const store = this.open();
    if (!store) return;
    try {
      const now = Date.now();
      const peer = normalizePeer(channel, str(c["conversationId"]) ?? str(e["from"]) ?? "");
      // senderId and from may carry different forms of one sender (an id, a phone); any allowed one counts.
      const candidates = [str(e["senderId"]), str(e["from"]), str(c["senderId"])].filter((s): s is string => s !== null).map((s) => normalizePeer(channel, s));
      const allowed = g.chats.get(channel)?.get(peer);
      const sender = candidates.find((s) => allowed?.has(s)) ?? candidates[0] ?? "";
      const messageId = str(e["messageId"]) ?? str(obj(e["metadata"])["messageId"]) ?? str(c["messageId"]);
      store.inbound(g, { channel, peer, sender, content: typeof e["content"] === "string" ? e["content"] : "", messageId, now });
      this.#maybePrune(store, now);
    } catch (err) {
      this.#logger.warn(`clawtower: reply gate could not record an inbound message: ${(err as Error).message}`);
    }
  }

  messageSending(event: unknown, ctx: unknown): SendingResult {
    const g = this.compiled;
    if (!g) return undefined;
    const c = obj(ctx);
    const channel = normalizeChannel(str(c["channelId"]) ?? "");
    if (!gatesChannel(g, channel)) return undefined;
    const e = obj(event);
    const content = typeof e["content"] === "string" ? e["content"] : "";
    // `to` is the target; conversationId names the same chat in another form on some channels.
    const targets = [str(e["to"]), str(c["conversationId"])].filter((s): s is string => s !== null).map((s) => normalizePeer(channel, s));
    const peer = targets.find((t) => isProtected(g, channel, t)) ?? targets.find((t) => g.wrap.get(channel)?.has(t)) ?? targets[0] ?? "";
    const guarded = isProtected(g, channel, peer);
    if (!guarded) {
      // Only the wrapper applies: no state, no database.
      const d = decideOutbound(g, { channel, peer, content, arm: null, pending: null, now: 0 });
      return d.verdict === "pass" && d.wrapped ? { content: d.content } : undefined;
    }
    const store = this.open();
    if (!store) return undefined;
    try {
      const d = store.outbound(g, { channel, peer, content, now: Date.now() });
      if (d.verdict === "block") return { cancel: true, cancelReason: `clawtower reply gate: ${d.detail}` };
      return d.wrapped ? { content: d.content } : undefined;
    } catch (err) {
      this.#logger.warn(`clawtower: reply gate could not decide a reply to ${channel}:${peer}: ${(err as Error).message}`);
      return { cancel: true, cancelReason: "clawtower reply gate: state unavailable" };
    }
  }

  #maybePrune(store: GateStore, now: number): void {
    const cfg = this.config;
    if (!cfg || now - this.#lastPrune < PRUNE_EVERY_MS) return;
    this.#lastPrune = now;
    store.prune(now - cfg.keepDays * 86_400_000, now);
  }

  close(): void {
    try {
      this.store?.close();
    } catch {
      // already closed
    }
    this.store = null;
  }
}

const PROCESS_KEY = Symbol.for("clawtower.openclaw-plugin.reply-gate");

export function processGate(): ReplyGate {
  const g = globalThis as { [PROCESS_KEY]?: ReplyGate };
  return (g[PROCESS_KEY] ??= new ReplyGate());
}
