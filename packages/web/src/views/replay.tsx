/**
 * Session replay: the transcript in order — prompts, replies, thinking, each tool call with its arguments
 * and result — with per-call and per-turn tokens, cost and latency. Long sessions load in windows; a turn
 * in the turn table jumps to its first entry, loading it first when needed.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { apiUrl } from "../api/client.ts";
import type { ReplayEntry, ReplayText, ReplayToolCall, ReplayTurn, SessionReplay, Tokens } from "../api/types.ts";
import { Money } from "../components/money.tsx";
import { Panel } from "../components/panel.tsx";
import { endingOf, SessionEndingBadge } from "../components/session-ending.tsx";
import { HealthFacts } from "../components/health-badge.tsx";
import { ErrorNotice, Skeleton } from "../components/states.tsx";
import { formatBytes, formatCount, formatDateTime, formatDuration, formatInt, formatUsd } from "../format.ts";
import { followLink } from "../state/router.ts";
import { useApi } from "../state/use-api.ts";
import { stateUrl, type DashboardState } from "../state/url-state.ts";
import { sessionTitle } from "./sessions.tsx";

const WINDOW = 300;
/** The API serves at most this many entries per request. */
const MAX_LIMIT = 5000;
const COLLAPSE_CHARS = 1500;
const COLLAPSE_LINES = 16;

type SessionRoute = { deploymentId: string; agentId: string; sessionId: string };

const sentBytes = (text: string) => new TextEncoder().encode(text).length;

/** Text that may be long: the first part, and a button for the rest; a note when the hub clipped it. */
function LongText(props: { text: ReplayText; class?: string }) {
  const [open, setOpen] = useState(false);
  const { text, bytes, truncated } = props.text;
  if (!text) return <p class="muted empty-text">(no text)</p>;
  // Long by characters or by lines (code and logs are tall before they are wide).
  const lines = text.split("\n", COLLAPSE_LINES + 1).length;
  const long = text.length > COLLAPSE_CHARS || lines > COLLAPSE_LINES;
  const preview = text.length > COLLAPSE_CHARS ? text.slice(0, COLLAPSE_CHARS) : text;
  const shown = long && !open ? `${preview.split("\n").slice(0, COLLAPSE_LINES).join("\n")}…` : text;
  return (
    <div class={props.class}>
      <pre class="text">{shown}</pre>
      {long ? (
        <button type="button" class="btn btn-link" onClick={() => setOpen(!open)} aria-expanded={open ? "true" : "false"}>
          {open ? "Show less" : truncated ? `Show all the hub sent (${formatBytes(sentBytes(text))})` : `Show all (${formatBytes(bytes)})`}
        </button>
      ) : null}
      {truncated ? (
        <p class="muted clip-note">
          Clipped: the hub sends the first {formatBytes(sentBytes(text))} of {formatBytes(bytes)}.
        </p>
      ) : null}
    </div>
  );
}

function tokensTitle(t: Tokens): string {
  return `input ${formatInt(t.input)} · output ${formatInt(t.output)} · cache read ${formatInt(t.cacheRead)} · cache write ${formatInt(t.cacheWrite)}`;
}

function prettyArgs(args: unknown): string {
  if (typeof args === "string") return args;
  try {
    return JSON.stringify(args, null, 2) ?? "null";
  } catch {
    return String(args);
  }
}

function ToolCallView(props: { call: ReplayToolCall }) {
  const c = props.call;
  const status = c.result === null ? "no result" : c.result.isError ? "error" : "ok";
  return (
    <details class={`tool-call tool-${status.replace(" ", "-")}`} data-tool={c.name}>
      <summary>
        <span class="tool-icon" aria-hidden="true">
          ⚙
        </span>
        <code class="tool-name">{c.name}</code>
        {c.via ? <span class="muted"> via {c.via}</span> : null}
        <span class={`tag tag-${status === "error" ? "bad" : status === "ok" ? "ok" : "muted"}`}>{status}</span>
        {c.result ? <span class="muted">{formatBytes(c.result.bytes)}</span> : null}
      </summary>
      <div class="tool-body">
        <h4>Arguments</h4>
        <pre class="text code">{prettyArgs(c.arguments)}</pre>
        <h4>Result{c.result?.ts ? <span class="muted"> · {c.result.ts.slice(11, 19)}</span> : null}</h4>
        {c.result ? <LongText text={c.result} class={c.result.isError ? "result-error" : undefined} /> : <p class="muted">No result was recorded (the call may have been interrupted).</p>}
      </div>
    </details>
  );
}

function EntryHead(props: { who: string; ts: string | null; tz: string; children?: ComponentChildren }) {
  return (
    <header class="entry-head">
      <strong>{props.who}</strong>
      {props.ts ? <time dateTime={props.ts}>{formatDateTime(props.ts, props.tz)}</time> : null}
      {props.children}
    </header>
  );
}

function EntryView(props: { entry: ReplayEntry; index: number; tz: string }) {
  const e = props.entry;
  const id = `entry-${props.index}`;
  switch (e.kind) {
    case "user":
      return (
        <article id={id} class="entry entry-user" data-kind="user">
          <EntryHead who="User" ts={e.ts} tz={props.tz} />
          <LongText text={e.content} />
        </article>
      );
    case "assistant":
      return (
        <article id={id} class={`entry entry-assistant ${e.errorMessage || e.stopReason === "error" ? "entry-failed" : ""}`} data-kind="assistant">
          <EntryHead who="Assistant" ts={e.ts} tz={props.tz}>
            {e.model ? (
              <span class="muted">
                {e.provider ? `${e.provider}/` : ""}
                {e.model}
              </span>
            ) : null}
            <span class="call-stats">
              {e.tokens ? <span title={tokensTitle(e.tokens)}>{formatInt(e.tokens.total)} tokens</span> : null}
              {e.cost ? (
                e.cost.source === "unknown" ? (
                  <span class="unpriced" title="This model has no known price">
                    unpriced
                  </span>
                ) : (
                  <span title={e.cost.source === "estimated" ? "Estimated from the price list" : "Recorded by the provider"}>
                    {formatUsd(e.cost.usd)}
                    {e.cost.source === "estimated" ? " est." : ""}
                  </span>
                )
              ) : null}
              {e.latencyMs !== null ? <span title="Time from request to reply">{formatDuration(e.latencyMs)}</span> : null}
              {e.stopReason && e.stopReason !== "stop" && e.stopReason !== "toolUse" ? <span class="tag tag-muted">{e.stopReason}</span> : null}
            </span>
          </EntryHead>
          {e.errorMessage ? <p class="bad">{e.errorMessage}</p> : null}
          {e.thinking ? (
            <details class="thinking">
              <summary>Thinking ({formatBytes(e.thinking.bytes)})</summary>
              <LongText text={e.thinking} />
            </details>
          ) : null}
          {e.content.text || e.toolCalls.length === 0 ? <LongText text={e.content} /> : null}
          {e.toolCalls.length > 0 ? (
            <div class="tool-calls">
              {e.toolCalls.map((c, i) => (
                <ToolCallView key={c.id || i} call={c} />
              ))}
            </div>
          ) : null}
        </article>
      );
    case "toolResult":
      return (
        <article id={id} class={`entry entry-tool ${e.isError ? "entry-failed" : ""}`} data-kind="toolResult">
          <EntryHead who={`Tool result${e.toolName ? ` · ${e.toolName}` : ""}`} ts={e.ts} tz={props.tz}>
            {e.isError ? <span class="tag tag-bad">error</span> : null}
          </EntryHead>
          <LongText text={e.content} class={e.isError ? "result-error" : undefined} />
        </article>
      );
    case "event":
      return (
        <div id={id} class="entry entry-event" data-kind="event">
          <span class="muted">{e.ts ? formatDateTime(e.ts, props.tz) : ""}</span> <span class="tag tag-muted">{e.type}</span> {e.summary}
        </div>
      );
  }
}

function SessionFacts(props: { replay: SessionReplay; tz: string }) {
  const r = props.replay.session;
  const facts: [string, ComponentChildren][] = [
    ["Agent", r.agentId],
    ["Deployment", r.deploymentId],
    ["Kind", r.kind + (r.channel ? ` · ${r.channel}` : "")],
    ["Session id", <code>{r.sessionId}</code>],
    ["Active", `${formatDateTime(r.firstActivity, props.tz)} – ${formatDateTime(r.lastActivity, props.tz)}`],
    ["Models", r.models.join(", ") || "—"],
    ["Messages", `${formatInt(r.messages.user)} user · ${formatInt(r.messages.assistant)} assistant · ${formatInt(r.messages.toolResult)} tool results`],
    ["LLM calls", formatInt(r.llmCalls)],
    ["Tool calls", `${formatInt(r.toolCalls)}${r.toolErrors > 0 ? ` (${formatInt(r.toolErrors)} failed)` : ""}`],
    ["Tokens", <span title={tokensTitle(r.tokens)}>{formatInt(r.tokens.total)}</span>],
    ["Cost", <Money usd={r.cost.total} unpricedCalls={r.unpricedCalls} unpricedTokens={r.unpricedTokens} />],
  ];
  if (r.parentSessionKey) facts.push(["Parent", <code>{r.parentSessionKey}</code>]);
  const ending = endingOf(r);
  if (ending) facts.splice(3, 0, ["Status", <span title={ending.title}>{ending.title}</span>]);
  const events = [formatCount(r.compactions, "compaction"), formatCount(r.resets, "reset"), formatCount(r.aborts, "abort"), formatCount(r.errors, "error")].filter((x) => !x.startsWith("0 "));
  if (events.length > 0) facts.push(["Events", events.join(" · ")]);
  return (
    <dl class="facts" data-testid="session-facts">
      {facts.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
      {r.skills?.length ? (
        // A full-width row: a snapshot often lists twenty skills or more.
        <div class="facts-wide" data-testid="session-skills">
          <dt>Skills ({formatInt(r.skills.length)})</dt>
          <dd>
            <ul class="skill-list">
              {r.skills.map((name) => (
                <li key={name} class="tag">
                  {name}
                </li>
              ))}
            </ul>
          </dd>
        </div>
      ) : null}
    </dl>
  );
}

function TurnsTable(props: { turns: ReplayTurn[]; tz: string; jump: (entry: number) => void }) {
  return (
    <div class="table-scroll turns-scroll">
      <table class="data compact" data-testid="turns-table">
        <caption class="visually-hidden">Turns: one per user prompt, with its calls, tokens, cost and latency</caption>
        <thead>
          <tr>
            <th scope="col" class="num">#</th>
            <th scope="col">Prompt</th>
            <th scope="col">Started</th>
            <th scope="col" class="num">LLM calls</th>
            <th scope="col" class="num">Tool calls</th>
            <th scope="col" class="num">Errors</th>
            <th scope="col" class="num">Tokens</th>
            <th scope="col" class="num">Cost</th>
            <th scope="col" class="num" title="Time spent waiting for the model, summed over the turn's calls">Latency</th>
          </tr>
        </thead>
        <tbody>
          {props.turns.map((t) => (
            <tr key={t.index} class="clickable" onClick={() => props.jump(t.firstEntry)}>
              <td class="num">{t.index + 1}</td>
              <th scope="row" class="prompt-cell">
                <button type="button" class="btn-link" onClick={(e) => (e.stopPropagation(), props.jump(t.firstEntry))} title={t.prompt}>
                  {t.prompt ? t.prompt.slice(0, 80) : <span class="muted">(no prompt)</span>}
                </button>
              </th>
              <td>{formatDateTime(t.start, props.tz)}</td>
              <td class="num">{formatInt(t.llmCalls)}</td>
              <td class="num">{formatInt(t.toolCalls)}</td>
              <td class={`num ${t.errors > 0 ? "bad" : ""}`}>{formatInt(t.errors)}</td>
              <td class="num" title={tokensTitle(t.tokens)}>
                {formatInt(t.tokens.total)}
              </td>
              <td class="num">
                <Money usd={t.costUsd} unpricedCalls={t.unpricedCalls} compact />
              </td>
              <td class="num">{formatDuration(t.latencyMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ReplayView(props: { state: DashboardState; session: SessionRoute }) {
  const s = props.state;
  const ref = props.session;
  const [win, setWin] = useState({ offset: 0, limit: WINDOW });
  const [scrollTo, setScrollTo] = useState<number | null>(null);
  const url = apiUrl(`/api/v1/sessions/${[ref.deploymentId, ref.agentId, ref.sessionId].map(encodeURIComponent).join("/")}`, win);
  const { data, error, loading, retry } = useApi<SessionReplay>(url);
  const back = { ...s, route: { view: "sessions" as const } };

  useEffect(() => {
    if (scrollTo === null || loading) return;
    document.getElementById(`entry-${scrollTo}`)?.scrollIntoView({ block: "start" });
    setScrollTo(null);
  }, [scrollTo, loading, data]);

  const jump = (entry: number) => {
    if (entry >= win.offset && entry < win.offset + win.limit) {
      setScrollTo(entry);
      return;
    }
    // Load a window that reaches the entry: grow from the start when the API allows, else move the window.
    setWin(entry < MAX_LIMIT ? { offset: 0, limit: Math.min(MAX_LIMIT, Math.ceil((entry + 1) / WINDOW) * WINDOW) } : { offset: entry, limit: WINDOW });
    setScrollTo(entry);
  };

  const page = data?.page;
  const shownEnd = page ? Math.min(page.total, page.offset + data.entries.length) : 0;
  return (
    <div class="view replay" data-testid="replay" aria-busy={loading ? "true" : "false"}>
      <p class="back">
        <a href={stateUrl(back)} onClick={(e) => followLink(e, back)}>
          ← Sessions
        </a>
      </p>
      {error ? <ErrorNotice error={error} retry={retry} what="this session" /> : null}
      {!data ? (
        error ? null : (
          <>
            <h1 class="view-title">Session</h1>
            <Panel title="Session">
              <Skeleton lines={6} />
            </Panel>
          </>
        )
      ) : (
        <>
          <h1 class="view-title session-title">
            {sessionTitle(data.session)} <SessionEndingBadge row={data.session} />
          </h1>
          <Panel title="About this session">
            <SessionFacts replay={data} tz={s.tz} />
            {data.session.health ? <HealthFacts health={data.session.health} /> : null}
            {data.sources.some((x) => x.error) ? (
              <p class="notice notice-info">
                Some of this transcript could not be read: {data.sources.filter((x) => x.error).map((x) => `${x.locator} (${x.error})`).join("; ")}.
              </p>
            ) : null}
          </Panel>
          {data.turns.length > 0 ? (
            <Panel title={`Turns (${formatInt(data.turns.length)})`}>
              <TurnsTable turns={data.turns} tz={s.tz} jump={jump} />
            </Panel>
          ) : null}
          <Panel
            title="Transcript"
            busy={loading}
            actions={
              page ? (
                <span class="muted">
                  entries {formatInt(page.total === 0 ? 0 : page.offset + 1)}–{formatInt(shownEnd)} of {formatInt(page.total)}
                </span>
              ) : null
            }
          >
            {page && page.offset > 0 ? (
              <button type="button" class="btn" onClick={() => setWin({ offset: Math.max(0, page.offset - WINDOW), limit: WINDOW })}>
                ← Earlier entries
              </button>
            ) : null}
            <div class="entries" data-testid="entries">
              {data.entries.length === 0 ? <p class="muted">This session has no readable entries.</p> : null}
              {data.entries.map((e, i) => (
                <EntryView key={e.id} entry={e} index={(page?.offset ?? 0) + i} tz={s.tz} />
              ))}
            </div>
            {page && shownEnd < page.total ? (
              <button
                type="button"
                class="btn load-more"
                disabled={loading}
                onClick={() => setWin(win.offset === 0 && win.limit + WINDOW <= MAX_LIMIT ? { offset: 0, limit: win.limit + WINDOW } : { offset: shownEnd, limit: WINDOW })}
              >
                {loading ? "Loading…" : `Load more (${formatInt(page.total - shownEnd)} more entries)`}
              </button>
            ) : null}
          </Panel>
        </>
      )}
    </div>
  );
}
