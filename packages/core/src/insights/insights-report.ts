/**
 * Insights: recommendations with the dollar amount behind each, built from integer aggregates the store
 * returns (packages/store/src/insights/). Pure and deterministic: every list is sorted by its amount, ties
 * broken by ids, so the same store gives the same report. Amounts are integer nano-dollars.
 *
 * Definitions (README "Insights"):
 *   actual cost        recorded + estimated cost of the priced calls (unpriced calls are counted, never $0);
 *   what-if            the priced calls' tokens at the target's base price (see what-if.ts);
 *   cache hit rate     cacheRead / (input + cacheRead + cacheWrite);
 *   unread cache write cache-write tokens of calls after which no later call of the same session (in the range,
 *                      ordered by time then event id) read from the cache, priced at the model's cache-write price;
 *   ideal cache saving every uncached input token after a session's first call read from the cache instead:
 *                      those tokens × (input price − cache-read price);
 *   context excess     per call, the prompt tokens beyond the session's first call's prompt (in the range), taken
 *                      from its cache reads first and then from its uncached input, at those prices — for sessions
 *                      that isBloated() (no compaction, ≥ 4 calls, largest prompt ≥ 2 × the first); the store hands over
 *                      the CONTEXT_SESSIONS (200) of them with the most excess tokens;
 *   cron run           a session of kind cron; its job is the key segment after `cron:`; a failing run has an
 *                      errored or aborted call in the range or ended failed / killed / timeout;
 *   tool-error turn    an LLM call at least one of whose tool calls returned an error.
 */
import { estimateNanos, type PriceBook, type PriceEntry } from "../pricing/pricing.ts";
import { filtersJson, REPORT_SCHEMA_VERSION, type ReportFilters } from "../reports/usage.ts";
import { cronJobOf } from "../accounting/budget-scope.ts";
import { isBloated } from "./session-health.ts";
import { repricedNanos, whatIfTargetsFor } from "./what-if.ts";

/** Calls of one session and model in the range, with the sums the insights need. */
export type InsightSessionModelRow = {
  deploymentId: string;
  agentId: string;
  sessionId: string;
  sessionKey: string | null;
  kind: string;
  status: string | null;
  compactions: number;
  provider: string;
  model: string;
  calls: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** Token sums of the priced calls only (what-ifs compare like with like). */
  pricedInput: number;
  pricedOutput: number;
  pricedCacheRead: number;
  pricedCacheWrite: number;
  recordedNanos: number;
  estimatedNanos: number;
  unpricedCalls: number;
  unreadCacheWrite: number;
  inputAfterFirst: number;
  excessCacheRead: number;
  excessInput: number;
  maxPrompt: number;
  /** The session's first call's prompt (the same on every row of a session). */
  firstPrompt: number;
  errored: number;
  aborted: number;
};

/** Tool calls and errors per agent and tool (totals), or of one session (sessionId set). */
export type InsightToolRow = { deploymentId: string; agentId: string; sessionId: string; tool: string; calls: number; errors: number };
/** LLM calls whose tool calls failed, per agent (totals) or of one session. */
export type InsightErrorTurnRow = { deploymentId: string; agentId: string; sessionId: string; calls: number; costNanos: number };

export type SessionLink = { deploymentId: string; agentId: string; sessionId: string; link: string; costNanos: number };

/** At most this many sessions behind each insight (the costliest). */
export const SESSIONS_PER_INSIGHT = 5;

export function sessionLink(deploymentId: string, agentId: string, sessionId: string): string {
  return `/sessions/${[deploymentId, agentId, sessionId].map(encodeURIComponent).join("/")}`;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sessionKeyOf = (r: { deploymentId: string; agentId: string; sessionId: string }) => `${r.deploymentId}\u0000${r.agentId}\u0000${r.sessionId}`;

/** Sessions by an amount, descending, ties by (deployment, agent, session). */
function topSessions(amounts: Map<string, { deploymentId: string; agentId: string; sessionId: string; costNanos: number }>): SessionLink[] {
  return [...amounts.values()]
    .sort((a, b) => b.costNanos - a.costNanos || cmp(a.deploymentId, b.deploymentId) || cmp(a.agentId, b.agentId) || cmp(a.sessionId, b.sessionId))
    .slice(0, SESSIONS_PER_INSIGHT)
    .map((s) => ({ ...s, link: sessionLink(s.deploymentId, s.agentId, s.sessionId) }));
}

function addTo(m: Map<string, { deploymentId: string; agentId: string; sessionId: string; costNanos: number }>, r: { deploymentId: string; agentId: string; sessionId: string }, nanos: number) {
  const k = sessionKeyOf(r);
  const cur = m.get(k);
  if (cur) cur.costNanos += nanos;
  else m.set(k, { deploymentId: r.deploymentId, agentId: r.agentId, sessionId: r.sessionId, costNanos: nanos });
}


/** Dollars for recommendation texts: cents from $1 up, four decimals below (small amounts stay readable). */
export function formatUsd(nanos: number | null): string {
  if (nanos === null) return "unpriced";
  // Rounded half up on the integer, not on a binary fraction: 14,150,000 nano-dollars print as $0.0142.
  const digits = Math.abs(nanos) >= 1e9 ? 2 : 4;
  const units = Math.round(nanos / 10 ** (9 - digits));
  return `${units < 0 ? "-" : ""}$${(Math.abs(units) / 10 ** digits).toFixed(digits)}`;
}
const usd = formatUsd;

/**
 * What the store hands over, already reduced so that a store of millions of calls gives a few thousand rows:
 * totals per (agent, kind, provider, model) with empty deployment and session ids; and, as session rows, only the
 * candidates for the session lists (the store ranks them: see insights-queries.ts).
 */
export type InsightsInput = {
  /** Per (agent, kind, provider, model), deploymentId and sessionId "". */
  totals: InsightSessionModelRow[];
  /** The costliest sessions per (agent, kind, provider, model). */
  costSessions: InsightSessionModelRow[];
  /** The sessions with most unread cache writes per (agent, provider, model). */
  unreadSessions: InsightSessionModelRow[];
  /** The sessions with most uncached input after their first call per (agent, provider, model). */
  idealSessions: InsightSessionModelRow[];
  /** Every cron session in the range, one row per session and model. */
  cronSessions: InsightSessionModelRow[];
  /** Sessions that grew without compaction, one row per session and model. */
  contextSessions: InsightSessionModelRow[];
  toolTotals: InsightToolRow[];
  toolSessions: InsightToolRow[];
  errorTurnTotals: InsightErrorTurnRow[];
  errorTurnSessions: InsightErrorTurnRow[];
  prices: PriceBook;
  catalog: readonly PriceEntry[];
  filters: ReportFilters;
  generatedAt: number;
};

function priceOf(prices: PriceBook, provider: string, model: string): PriceEntry | null {
  return prices.lookup(provider, model)?.entry ?? null;
}

export function buildInsightsReport(input: InsightsInput) {
  const { prices, catalog } = input;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    report: "insights" as const,
    generatedAt: new Date(input.generatedAt).toISOString(),
    filters: filtersJson(input.filters),
    modelWhatIfs: modelWhatIfs(input.totals, input.costSessions, prices, catalog),
    cache: cacheInsights(input.totals, input.unreadSessions, input.idealSessions, prices),
    cron: cronInsights(input.cronSessions),
    context: contextInsights(input.contextSessions, prices),
    tools: toolInsights(input.toolTotals, input.toolSessions, input.errorTurnTotals, input.errorTurnSessions),
    largePrompts: {
      available: false,
      reason:
        "the plugin's large-prompt audit writes its records to large-prompts.jsonl on the gateway host only; nothing of it reaches the store, so there is nothing to rank",
    },
  };
}

export type InsightsReport = ReturnType<typeof buildInsightsReport>;

function modelWhatIfs(rows: InsightSessionModelRow[], sessions: InsightSessionModelRow[], prices: PriceBook, catalog: readonly PriceEntry[]) {
  type G = {
    agentId: string; kind: string; provider: string; model: string; calls: number; unpricedCalls: number;
    recordedNanos: number; estimatedNanos: number; tokens: { input: number; output: number; cacheRead: number; cacheWrite: number };
    sessions: Map<string, { deploymentId: string; agentId: string; sessionId: string; costNanos: number }>;
  };
  const groups = new Map<string, G>();
  for (const r of rows) {
    const k = `${r.agentId}\u0000${r.kind}\u0000${r.provider}\u0000${r.model}`;
    let g = groups.get(k);
    if (!g) {
      g = { agentId: r.agentId, kind: r.kind, provider: r.provider, model: r.model, calls: 0, unpricedCalls: 0, recordedNanos: 0, estimatedNanos: 0, tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, sessions: new Map() };
      groups.set(k, g);
    }
    g.calls += r.calls;
    g.unpricedCalls += r.unpricedCalls;
    g.recordedNanos += r.recordedNanos;
    g.estimatedNanos += r.estimatedNanos;
    g.tokens.input += r.pricedInput;
    g.tokens.output += r.pricedOutput;
    g.tokens.cacheRead += r.pricedCacheRead;
    g.tokens.cacheWrite += r.pricedCacheWrite;
  }
  for (const r of sessions) {
    const g = groups.get(`${r.agentId}\u0000${r.kind}\u0000${r.provider}\u0000${r.model}`);
    if (g) addTo(g.sessions, r, r.recordedNanos + r.estimatedNanos);
  }
  const out = [];
  for (const g of groups.values()) {
    const actual = g.recordedNanos + g.estimatedNanos;
    if (actual <= 0) continue;
    for (const t of whatIfTargetsFor(g.provider, g.model, prices, catalog)) {
      const whatIf = repricedNanos(t, g.tokens);
      out.push({
        agentId: g.agentId,
        kind: g.kind,
        provider: g.provider,
        model: g.model,
        target: { provider: t.provider, model: t.model, price: t.price },
        calls: g.calls,
        unpricedCalls: g.unpricedCalls,
        tokens: g.tokens,
        actualNanos: actual,
        basis: { recordedNanos: g.recordedNanos, estimatedNanos: g.estimatedNanos },
        whatIfNanos: whatIf,
        savingNanos: actual - whatIf,
        sessions: topSessions(g.sessions),
        recommendation: `${g.kind} sessions of agent ${g.agentId} on ${g.model} → ${t.model} would have cost ${usd(whatIf)} instead of ${usd(actual)}; try ${t.model} for them`,
      });
    }
  }
  return out.sort(
    (a, b) => b.savingNanos - a.savingNanos || cmp(a.agentId, b.agentId) || cmp(a.kind, b.kind) || cmp(a.provider, b.provider) || cmp(a.model, b.model) || cmp(a.target.model, b.target.model),
  );
}

function cacheInsights(rows: InsightSessionModelRow[], unreadRows: InsightSessionModelRow[], idealRows: InsightSessionModelRow[], prices: PriceBook) {
  type G = {
    agentId: string; provider: string; model: string; input: number; cacheRead: number; cacheWrite: number; unread: number; inputAfterFirst: number;
    unreadSessions: Map<string, { deploymentId: string; agentId: string; sessionId: string; costNanos: number }>;
    idealSessions: Map<string, { deploymentId: string; agentId: string; sessionId: string; costNanos: number }>;
  };
  const groups = new Map<string, G>();
  for (const r of rows) {
    const k = `${r.agentId}\u0000${r.provider}\u0000${r.model}`;
    let g = groups.get(k);
    if (!g) {
      g = { agentId: r.agentId, provider: r.provider, model: r.model, input: 0, cacheRead: 0, cacheWrite: 0, unread: 0, inputAfterFirst: 0, unreadSessions: new Map(), idealSessions: new Map() };
      groups.set(k, g);
    }
    g.input += r.input;
    g.cacheRead += r.cacheRead;
    g.cacheWrite += r.cacheWrite;
    g.unread += r.unreadCacheWrite;
    g.inputAfterFirst += r.inputAfterFirst;
  }
  const groupOf = (r: InsightSessionModelRow) => groups.get(`${r.agentId}\u0000${r.provider}\u0000${r.model}`);
  for (const r of unreadRows) {
    const g = groupOf(r);
    const p = priceOf(prices, r.provider, r.model);
    if (g && r.unreadCacheWrite > 0) addTo(g.unreadSessions, r, p ? estimateNanos({ input: 0, output: 0, cacheWrite: p.cacheWrite ?? 0 }, { input: 0, output: 0, cacheRead: 0, cacheWrite: r.unreadCacheWrite }) : 0);
  }
  for (const r of idealRows) {
    const g = groupOf(r);
    const p = priceOf(prices, r.provider, r.model);
    if (g && p && r.inputAfterFirst > 0) addTo(g.idealSessions, r, idealSaving(p, r.inputAfterFirst) ?? 0);
  }
  const hitRates = [];
  const unreadWrites = [];
  for (const g of groups.values()) {
    const p = priceOf(prices, g.provider, g.model);
    const denom = g.input + g.cacheRead + g.cacheWrite;
    const ideal = p ? idealSaving(p, g.inputAfterFirst) : null;
    hitRates.push({
      agentId: g.agentId,
      provider: g.provider,
      model: g.model,
      tokens: { input: g.input, cacheRead: g.cacheRead, cacheWrite: g.cacheWrite },
      hitRate: denom > 0 ? g.cacheRead / denom : 0,
      inputAfterFirstCall: g.inputAfterFirst,
      idealSavingNanos: ideal,
      sessions: topSessions(g.idealSessions),
      recommendation:
        ideal && ideal > 0
          ? `agent ${g.agentId} on ${g.model}: reading every input token after each session's first call from the cache would save ${usd(ideal)}; keep the prompt prefix stable (system prompt, tools) so the cache hits`
          : null,
    });
    if (g.unread > 0) {
      const cost = p ? estimateNanos({ input: 0, output: 0, cacheWrite: p.cacheWrite ?? 0 }, { input: 0, output: 0, cacheRead: 0, cacheWrite: g.unread }) : null;
      unreadWrites.push({
        agentId: g.agentId,
        provider: g.provider,
        model: g.model,
        tokens: g.unread,
        costNanos: cost,
        sessions: topSessions(g.unreadSessions),
        recommendation: `agent ${g.agentId} on ${g.model} wrote ${g.unread} cache tokens no later call read (${cost === null ? "unpriced" : usd(cost)}); skip cache writes on the last turns of short sessions (cron runs, one-shots) or lengthen the cache TTL`,
      });
    }
  }
  hitRates.sort((a, b) => (b.idealSavingNanos ?? -1) - (a.idealSavingNanos ?? -1) || cmp(a.agentId, b.agentId) || cmp(a.provider, b.provider) || cmp(a.model, b.model));
  unreadWrites.sort((a, b) => (b.costNanos ?? -1) - (a.costNanos ?? -1) || b.tokens - a.tokens || cmp(a.agentId, b.agentId) || cmp(a.provider, b.provider) || cmp(a.model, b.model));
  return { hitRates, unreadWrites };
}

function idealSaving(p: PriceEntry, tokens: number): number | null {
  if (p.cacheRead === undefined || p.cacheRead >= p.input) return null;
  return estimateNanos({ input: p.input - p.cacheRead, output: 0 }, { input: tokens, output: 0, cacheRead: 0, cacheWrite: 0 });
}

type SessionSum = {
  deploymentId: string; agentId: string; sessionId: string; sessionKey: string | null; kind: string; status: string | null; compactions: number;
  calls: number; costNanos: number; errored: number; aborted: number; firstPrompt: number; maxPrompt: number; excessNanos: number | null; excessTokens: number;
};

function perSession(rows: InsightSessionModelRow[], prices: PriceBook | null): Map<string, SessionSum> {
  const m = new Map<string, SessionSum>();
  for (const r of rows) {
    const k = sessionKeyOf(r);
    let s = m.get(k);
    if (!s) {
      s = { deploymentId: r.deploymentId, agentId: r.agentId, sessionId: r.sessionId, sessionKey: r.sessionKey, kind: r.kind, status: r.status, compactions: r.compactions, calls: 0, costNanos: 0, errored: 0, aborted: 0, firstPrompt: r.firstPrompt, maxPrompt: 0, excessNanos: 0, excessTokens: 0 };
      m.set(k, s);
    }
    s.calls += r.calls;
    s.costNanos += r.recordedNanos + r.estimatedNanos;
    s.errored += r.errored;
    s.aborted += r.aborted;
    s.maxPrompt = Math.max(s.maxPrompt, r.maxPrompt);
    s.excessTokens += r.excessCacheRead + r.excessInput;
    if (prices) {
      const p = priceOf(prices, r.provider, r.model);
      if (!p) s.excessNanos = null;
      else if (s.excessNanos !== null) s.excessNanos += estimateNanos({ input: p.input, output: 0, cacheRead: p.cacheRead ?? 0 }, { input: r.excessInput, output: 0, cacheRead: r.excessCacheRead, cacheWrite: 0 });
    }
  }
  return m;
}

const FAILED_STATUSES = new Set(["failed", "killed", "timeout"]);

function cronInsights(rows: InsightSessionModelRow[]) {
  type J = { job: string | null; agentId: string; runs: number; costNanos: number; failingRuns: number; failingCostNanos: number; sessions: Map<string, { deploymentId: string; agentId: string; sessionId: string; costNanos: number }>; failing: Map<string, { deploymentId: string; agentId: string; sessionId: string; costNanos: number }> };
  const jobs = new Map<string, J>();
  for (const s of perSession(rows.filter((r) => r.kind === "cron"), null).values()) {
    const job = cronJobOf(s.sessionKey);
    const k = `${s.agentId}\u0000${job ?? ""}`;
    let j = jobs.get(k);
    if (!j) {
      j = { job, agentId: s.agentId, runs: 0, costNanos: 0, failingRuns: 0, failingCostNanos: 0, sessions: new Map(), failing: new Map() };
      jobs.set(k, j);
    }
    j.runs++;
    j.costNanos += s.costNanos;
    addTo(j.sessions, s, s.costNanos);
    if (s.errored > 0 || s.aborted > 0 || (s.status !== null && FAILED_STATUSES.has(s.status))) {
      j.failingRuns++;
      j.failingCostNanos += s.costNanos;
      addTo(j.failing, s, s.costNanos);
    }
  }
  return [...jobs.values()]
    .map((j) => ({
      agentId: j.agentId,
      job: j.job,
      runs: j.runs,
      costNanos: j.costNanos,
      // Rounded to the nearest nano-dollar (half away from zero).
      costPerRunNanos: Math.round(j.costNanos / j.runs),
      failingRuns: j.failingRuns,
      failingCostNanos: j.failingCostNanos,
      sessions: topSessions(j.sessions),
      failingSessions: topSessions(j.failing),
      recommendation:
        j.failingRuns > 0
          ? `cron job ${j.job ?? "(unnamed)"} of agent ${j.agentId}: ${j.failingRuns} of ${j.runs} runs failed, costing ${usd(j.failingCostNanos)}; fix or pause the job`
          : `cron job ${j.job ?? "(unnamed)"} of agent ${j.agentId} costs ${usd(Math.round(j.costNanos / j.runs))} per run; lower its frequency or model if that is more than it is worth`,
    }))
    .sort((a, b) => b.costNanos - a.costNanos || cmp(a.agentId, b.agentId) || cmp(a.job ?? "", b.job ?? ""));
}

function contextInsights(rows: InsightSessionModelRow[], prices: PriceBook) {
  const out = [];
  for (const s of perSession(rows, prices).values()) {
    if (!isBloated(s.calls, { firstPromptTokens: s.firstPrompt, maxPromptTokens: s.maxPrompt }, s.compactions)) continue;
    out.push({
      deploymentId: s.deploymentId,
      agentId: s.agentId,
      sessionId: s.sessionId,
      kind: s.kind,
      link: sessionLink(s.deploymentId, s.agentId, s.sessionId),
      calls: s.calls,
      firstPromptTokens: s.firstPrompt,
      maxPromptTokens: s.maxPrompt,
      excessTokens: s.excessTokens,
      excessNanos: s.excessNanos,
      costNanos: s.costNanos,
      recommendation: `session ${s.sessionId} grew its prompt from ${s.firstPrompt} to ${s.maxPrompt} tokens without a compaction; the growth cost ${s.excessNanos === null ? "an unpriced amount" : usd(s.excessNanos)}: compact earlier (lower the compaction threshold) or start fresh sessions`,
    });
  }
  return out.sort((a, b) => (b.excessNanos ?? -1) - (a.excessNanos ?? -1) || cmp(a.deploymentId, b.deploymentId) || cmp(a.agentId, b.agentId) || cmp(a.sessionId, b.sessionId));
}

function toolInsights(tools: InsightToolRow[], toolSessions: InsightToolRow[], errorTurns: InsightErrorTurnRow[], errorTurnSessions: InsightErrorTurnRow[]) {
  type H = { agentId: string; tool: string; calls: number; errors: number; sessions: Map<string, { deploymentId: string; agentId: string; sessionId: string; costNanos: number }> };
  const spots = new Map<string, H>();
  for (const t of tools) {
    const k = `${t.agentId}\u0000${t.tool}`;
    let h = spots.get(k);
    if (!h) {
      h = { agentId: t.agentId, tool: t.tool, calls: 0, errors: 0, sessions: new Map() };
      spots.set(k, h);
    }
    h.calls += t.calls;
    h.errors += t.errors;
  }
  // Sessions ranked by their error count for this tool (the "amount" of a hot spot).
  for (const t of toolSessions) if (t.errors > 0) {
    const h = spots.get(`${t.agentId}\u0000${t.tool}`);
    if (h) addTo(h.sessions, t, t.errors);
  }
  const hotSpots = [...spots.values()]
    .filter((h) => h.errors > 0)
    .map((h) => ({
      agentId: h.agentId,
      tool: h.tool,
      calls: h.calls,
      errors: h.errors,
      errorRate: h.errors / h.calls,
      sessions: topSessions(h.sessions).map(({ costNanos, ...s }) => ({ ...s, errors: costNanos })),
      recommendation: `${h.tool} failed ${h.errors} of ${h.calls} times for agent ${h.agentId}; check its arguments in the sessions below and the tool's setup`,
    }))
    .sort((a, b) => b.errors - a.errors || b.errorRate - a.errorRate || cmp(a.agentId, b.agentId) || cmp(a.tool, b.tool));

  const byAgent = new Map<string, { agentId: string; calls: number; costNanos: number; sessions: Map<string, { deploymentId: string; agentId: string; sessionId: string; costNanos: number }> }>();
  for (const t of errorTurns) {
    let a = byAgent.get(t.agentId);
    if (!a) {
      a = { agentId: t.agentId, calls: 0, costNanos: 0, sessions: new Map() };
      byAgent.set(t.agentId, a);
    }
    a.calls += t.calls;
    a.costNanos += t.costNanos;
  }
  for (const t of errorTurnSessions) {
    const a = byAgent.get(t.agentId);
    if (a) addTo(a.sessions, t, t.costNanos);
  }
  const errorTurnSpend = [...byAgent.values()]
    .map((a) => ({
      agentId: a.agentId,
      calls: a.calls,
      costNanos: a.costNanos,
      sessions: topSessions(a.sessions),
      recommendation: `agent ${a.agentId} spent ${usd(a.costNanos)} on ${a.calls} LLM calls whose tool calls failed; fix the failing tools first`,
    }))
    .sort((a, b) => b.costNanos - a.costNanos || cmp(a.agentId, b.agentId));
  return { hotSpots, errorTurnSpend };
}
