/**
 * The sessions of the generated corpora, one builder per profile (see CorpusProfile). A builder writes a
 * session's events in order and adds every LLM call and tool call to the expected totals as it goes.
 */
import type { CorpusProfile, CorpusTotals } from "./corpus-spec.ts";

type Model = { provider: string; model: string; recorded: number; price: [number, number, number, number] };

// Prices as in OpenClaw 2026.9.6's catalog (USD per 1M tokens: input, output, cache read, cache write);
// `recorded` is the share of calls whose transcript carries a cost. Two models are absent from the catalog,
// so some of their calls stay unpriced — as on a real gateway.
const MODELS: Model[] = [
  { provider: "anthropic", model: "claude-sonnet-5", recorded: 0.9, price: [2, 10, 0.2, 2.5] },
  { provider: "anthropic", model: "claude-opus-5", recorded: 0.9, price: [5, 25, 0.5, 6.25] },
  { provider: "openai", model: "gpt-6-sol", recorded: 0.85, price: [2, 10, 0.2, 2.5] },
  { provider: "openai", model: "gpt-5.4-mini", recorded: 0.8, price: [0.75, 4.5, 0.075, 0] },
  { provider: "xai", model: "grok-4.5", recorded: 0.7, price: [2, 6, 0.3, 0] },
  { provider: "openrouter", model: "moonshotai/kimi-k2", recorded: 0.6, price: [0.6, 2.5, 0.15, 0] },
  { provider: "local", model: "qwen3-coder-30b", recorded: 0, price: [0, 0, 0, 0] },
];
// The small-events profile's fleet uses twelve models: the seven above and five more from the same catalog.
const MORE_MODELS: Model[] = [
  { provider: "openai", model: "gpt-5.4", recorded: 0.85, price: [2.5, 15, 0.25, 0] },
  { provider: "anthropic", model: "claude-opus-5-5", recorded: 0.9, price: [4, 20, 0.2, 5] },
  { provider: "openai", model: "gpt-6-luna", recorded: 0.75, price: [0.1, 0.5, 0.01, 0.125] },
  { provider: "opencode-go", model: "deepseek-v4-flash", recorded: 0.5, price: [0.14, 0.28, 0.0028, 0] },
  { provider: "xai", model: "grok-4.7", recorded: 0.7, price: [2, 6, 0.5, 0] },
];
const TWELVE_MODELS: Model[] = [...MODELS, ...MORE_MODELS];
const TOOLS = ["read", "exec", "write", "edit", "web_search", "web_fetch", "browser", "memory_search", "sessions_spawn", "message"];

type Ev = Record<string, unknown>;

export class SessionWriter {
  readonly lines: string[] = [];
  bytes = 0;
  largestLine = 0;
  last: string | null = null;
  n = 0;
  readonly sid: string;
  constructor(sid: string) {
    this.sid = sid;
  }
  push(e: Ev): void {
    const id = `${this.sid.slice(0, 8)}-${++this.n}`;
    const line = JSON.stringify({ ...e, id, parentId: this.last });
    this.last = id;
    this.lines.push(line);
    this.bytes += line.length + 1;
    if (line.length > this.largestLine) this.largestLine = line.length;
  }
}

/** What every builder draws from: the generator's random source, text cut from its pool, the running totals. */
export type SessionSource = { rand: () => number; cut: (len: number) => string; totals: CorpusTotals };

/** One session to build: its number, id and agent, the raw bytes it should have on average, its time span. */
export type SessionPlan = { s: number; sid: string; agent: string; budget: number; t0: number; days: number };

export type BuiltSession = { w: SessionWriter; t: number };

/** A session being built: its writer, clock, model and context size (which grows until compaction). */
type Live = { w: SessionWriter; s: number; t: number; context: number; m: Model };

const iso = (x: Live) => new Date(x.t).toISOString();

function assistantCall(g: SessionSource, x: Live, toolCalls: { id: string; name: string; args: unknown }[], text: string | null): void {
  const { rand, cut, totals } = g;
  const { w, m } = x;
  x.t += 800 + Math.floor(rand() * 20_000);
  const input = 50 + Math.floor(rand() * 3000);
  const cacheRead = rand() < 0.8 ? x.context : 0;
  const cacheWrite = rand() < 0.2 ? 500 + Math.floor(rand() * 5000) : 0;
  const output = 20 + Math.floor(rand() * (text ? 900 : 200));
  const [pi, po, pr, pw] = m.price;
  const cost = (input * pi + output * po + cacheRead * pr + cacheWrite * pw) / 1e6;
  const usage: Ev = { input, output, cacheRead, cacheWrite, totalTokens: input + output + cacheRead + cacheWrite };
  const recorded = rand() < m.recorded;
  if (recorded) {
    usage["cost"] = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: cost };
    totals.recordedCostNanos += Math.round(cost * 1e9);
  }
  const content: unknown[] = [];
  if (text) content.push({ type: "text", text });
  if (rand() < 0.3) content.unshift({ type: "thinking", thinking: cut(200 + Math.floor(rand() * 2000)) });
  for (const c of toolCalls) content.push({ type: "toolCall", id: c.id, name: c.name, arguments: c.args });
  w.push({
    type: "message",
    timestamp: iso(x),
    message: { role: "assistant", content, api: "anthropic-messages", provider: m.provider, model: m.model, usage, stopReason: toolCalls.length ? "toolUse" : "stop", timestamp: x.t - 700, responseId: `r${w.n}`, __openclaw: { runId: `run-${x.s}-${w.n}` } },
  });
  totals.llmCalls++;
  totals.toolCalls += toolCalls.length;
  totals.tokens.input += input;
  totals.tokens.output += output;
  totals.tokens.cacheRead += cacheRead;
  totals.tokens.cacheWrite += cacheWrite;
  x.context += input + output;
}

function toolResult(x: Live, id: string, name: string, text: string, isError: boolean): void {
  x.w.push({
    type: "message",
    timestamp: iso(x),
    message: { role: "toolResult", toolCallId: id, toolName: name, content: [{ type: "text", text }], details: { status: isError ? "error" : "ok", tool: name }, isError, timestamp: x.t },
  });
}

/** Later sessions are more likely (activity grows), and none starts in the last hour of the span. */
const startTime = (rand: () => number, p: SessionPlan) => p.t0 + Math.floor(rand() ** 0.7 * (p.days * 86_400_000 - 3_600_000));

/** Pareto-distributed session length: most sessions are short, a few are huge. */
const paretoTurns = (rand: () => number, budget: number, bytesPerUnit: number, max: number) =>
  Math.max(1, Math.min(max, Math.floor(((1 / (1 - rand())) ** (1 / 1.5) * budget) / bytesPerUnit)));

function largeEventsSession(g: SessionSource, p: SessionPlan): BuiltSession {
  const { rand, cut } = g;
  // (The divisor is calibrated so that the mean session is about the budget: 6,000 sessions ≈ 1 GB.)
  const turns = paretoTurns(rand, p.budget, 128_000, 400);
  const w = new SessionWriter(p.sid);
  const x: Live = { w, s: p.s, t: startTime(rand, p), context: 0, m: MODELS[0]! };
  w.push({ type: "session", version: 4, id: p.sid, timestamp: iso(x), cwd: `/home/op/.openclaw/workspace-${p.agent}` });
  x.m = MODELS[Math.floor(rand() ** 1.5 * MODELS.length)]!;
  w.push({ type: "model_change", provider: x.m.provider, modelId: x.m.model, timestamp: iso(x) });
  x.context = 8_000 + Math.floor(rand() * 20_000);
  for (let turn = 0; turn < turns; turn++) {
    x.t += 30_000 + Math.floor(rand() * 3_600_000);
    w.push({ type: "message", timestamp: iso(x), message: { role: "user", content: cut(40 + Math.floor(rand() * 1500)), timestamp: x.t - 40 } });
    const tools = Math.floor(-Math.log(1 - rand()) * 1.6);
    for (let k = 0; k < tools; k++) {
      const name = TOOLS[Math.floor(rand() ** 1.4 * TOOLS.length)]!;
      const id = `call_${p.s}_${turn}_${k}`;
      assistantCall(g, x, [{ id, name, args: name === "write" ? { path: "src/x.ts", content: cut(500 + Math.floor(rand() * 8000)) } : { path: "README.md", q: cut(30) } }], null);
      x.t += 200 + Math.floor(rand() * 9000);
      const big = rand() < 0.55;
      const size = big ? 10_000 + Math.floor(rand() ** 2 * 190_000) : 100 + Math.floor(rand() * 2000);
      const isError = rand() < 0.05;
      toolResult(x, id, name, cut(size), isError);
    }
    assistantCall(g, x, [], cut(100 + Math.floor(rand() * 2500)));
    // Compaction keeps the context inside the model's window, as OpenClaw does.
    if (x.context > 150_000) {
      w.push({ type: "compaction", timestamp: iso(x), summary: cut(2000), firstKeptEntryId: "x", tokensBefore: x.context });
      x.context = 20_000 + Math.floor(rand() * 10_000);
    }
  }
  return { w, t: x.t };
}

/** A tool result's size: mostly small, 7 % of 10–200 KB (heavy-tailed), a rare one of 1–4.6 MB (a line of up to ~5 MB). */
function smallEventsResultSize(rand: () => number): number {
  const roll = rand();
  if (roll < 0.0004) return 1_000_000 + Math.floor(rand() ** 2 * 3_600_000);
  if (roll < 0.07) return 10_000 + Math.floor(rand() ** 3 * 190_000);
  return 60 + Math.floor(rand() ** 2 * 4000);
}

/** Raw bytes per unit of `paretoTurns` in the small-events profile (calibrated on this generator's output). */
const SMALL_EVENTS_TURN_BYTES = 32_000;

const THINKING_LEVELS = ["low", "medium", "high"];

function smallEventsSession(g: SessionSource, p: SessionPlan): BuiltSession {
  const { rand, cut } = g;
  const pickModel = () => TWELVE_MODELS[Math.floor(rand() ** 1.3 * TWELVE_MODELS.length)]!;
  // (The divisor is calibrated so that the mean session is about the budget: 6,065 sessions ≈ 1 GiB.)
  const turns = paretoTurns(rand, p.budget, SMALL_EVENTS_TURN_BYTES, 300);
  const w = new SessionWriter(p.sid);
  const x: Live = { w, s: p.s, t: startTime(rand, p), context: 0, m: pickModel() };
  w.push({ type: "session", version: 4, id: p.sid, timestamp: iso(x), cwd: `/home/op/.openclaw/workspace-${p.agent}` });
  w.push({ type: "model_change", provider: x.m.provider, modelId: x.m.model, timestamp: iso(x) });
  if (rand() < 0.4) w.push({ type: "thinking_level_change", thinkingLevel: THINKING_LEVELS[Math.floor(rand() * THINKING_LEVELS.length)], timestamp: iso(x) });
  x.context = 6_000 + Math.floor(rand() * 12_000);
  for (let turn = 0; turn < turns; turn++) {
    x.t += 20_000 + Math.floor(rand() * 1_800_000);
    // Operators switch models now and then mid-session.
    if (rand() < 0.04) {
      x.m = pickModel();
      w.push({ type: "model_change", provider: x.m.provider, modelId: x.m.model, timestamp: iso(x) });
    }
    if (rand() < 0.08) w.push({ type: "custom", customType: "openclaw.cache-ttl", data: { timestamp: x.t, provider: x.m.provider, modelId: x.m.model }, timestamp: iso(x) });
    w.push({ type: "message", timestamp: iso(x), message: { role: "user", content: cut(20 + Math.floor(rand() ** 2 * 2500)), timestamp: x.t - 40 } });
    // Rounds of tool use, each one call asking for one or more tools at once.
    const rounds = Math.floor(-Math.log(1 - rand()) * 0.98);
    for (let r = 0; r < rounds; r++) {
      const calls: { id: string; name: string; args: unknown }[] = [];
      const parallel = 1 + Math.floor(-Math.log(1 - rand()) * 1.55);
      for (let k = 0; k < parallel; k++) {
        const name = TOOLS[Math.floor(rand() ** 1.4 * TOOLS.length)]!;
        const args = name === "write" || name === "edit" ? { path: "src/x.ts", content: cut(200 + Math.floor(rand() ** 2 * 3000)) } : { path: "README.md", q: cut(20 + Math.floor(rand() * 60)) };
        calls.push({ id: `call_${p.s}_${turn}_${r}_${k}`, name, args });
      }
      assistantCall(g, x, calls, null);
      for (const c of calls) {
        x.t += 100 + Math.floor(rand() * 5000);
        const size = smallEventsResultSize(rand);
        toolResult(x, c.id, c.name, cut(size), rand() < 0.05);
      }
    }
    assistantCall(g, x, [], cut(40 + Math.floor(rand() ** 2 * 1800)));
    if (x.context > 150_000) {
      w.push({ type: "compaction", timestamp: iso(x), summary: cut(1500), firstKeptEntryId: "x", tokensBefore: x.context });
      x.context = 15_000 + Math.floor(rand() * 10_000);
    }
  }
  return { w, t: x.t };
}

export const SESSION_BUILDERS: Record<CorpusProfile, (g: SessionSource, p: SessionPlan) => BuiltSession> = {
  "large-events": largeEventsSession,
  "small-events": smallEventsSession,
};
