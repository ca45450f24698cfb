/**
 * Sessions: every session active in the range, filterable (kind, model, channel; agent and range come from
 * the filter bar), searchable (id, key, label), sortable and paged. A row opens the session's replay.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { apiUrl } from "../api/client.ts";
import type { Facets, SessionRow, SessionsPage } from "../api/types.ts";
import { Money } from "../components/money.tsx";
import { CsvDownload, USAGE_CSV_HEADER, usageCsvCells } from "../components/csv-download.tsx";
import { Panel } from "../components/panel.tsx";
import { SessionEndingBadge } from "../components/session-ending.tsx";
import { HealthBadge } from "../components/health-badge.tsx";
import { EmptyNotice, ErrorNotice, Skeleton } from "../components/states.tsx";
import { formatAgo, formatDateTime, formatInt, shortId } from "../format.ts";
import { followLink, navigate } from "../state/router.ts";
import { useApi } from "../state/use-api.ts";
import { SESSIONS_PAGE_SIZE, rangeLabel, sessionsParams, stateUrl, withFilters, type DashboardState, type SessionSort } from "../state/url-state.ts";

const SEARCH_DELAY_MS = 300;

function SearchBox(props: { state: DashboardState }) {
  const s = props.state;
  const [text, setText] = useState(s.sessions.q);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  // Back/forward or a link may change the query under the box.
  useEffect(() => {
    if (timer.current === null) setText(s.sessions.q);
  }, [s.sessions.q]);
  const commit = (q: string) => {
    if (timer.current !== null) clearTimeout(timer.current);
    timer.current = null;
    // Typing replaces the history entry instead of adding one per keystroke.
    navigate(withFilters(s, { sessions: { q } }), { replace: true });
  };
  return (
    <label class="field search">
      <span>Search</span>
      <input
        type="search"
        name="q"
        placeholder="id, key or label"
        value={text}
        autocomplete="off"
        spellcheck={false}
        onInput={(e) => {
          const q = (e.currentTarget as HTMLInputElement).value;
          setText(q);
          if (timer.current !== null) clearTimeout(timer.current);
          timer.current = setTimeout(() => commit(q), SEARCH_DELAY_MS);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit((e.currentTarget as HTMLInputElement).value);
        }}
      />
    </label>
  );
}

function Choice(props: { label: string; name: string; value: string | null; options: string[]; all: string; onChange: (v: string | null) => void }) {
  const options = props.value && !props.options.includes(props.value) ? [props.value, ...props.options] : props.options;
  return (
    <label class="field">
      <span>{props.label}</span>
      <select name={props.name} value={props.value ?? ""} onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value || null)}>
        <option value="">{props.all}</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}

function SortHeader(props: { state: DashboardState; sort: SessionSort; label: string; class?: string }) {
  const f = props.state.sessions;
  const active = f.sort === props.sort;
  const next = withFilters(props.state, { sessions: { sort: props.sort, order: active && f.order === "desc" ? "asc" : "desc" } });
  return (
    <th scope="col" class={props.class} aria-sort={active ? (f.order === "asc" ? "ascending" : "descending") : "none"}>
      <button type="button" class="sort" onClick={() => navigate(next)} data-sort={props.sort}>
        {props.label}
        <span class="sort-mark" aria-hidden="true">
          {active ? (f.order === "asc" ? "▲" : "▼") : "↕"}
        </span>
      </button>
    </th>
  );
}

export function sessionTitle(r: SessionRow): string {
  return r.label ?? r.sessionKey ?? r.sessionId;
}

function SessionLine(props: { row: SessionRow; state: DashboardState }) {
  const r = props.row;
  const s = props.state;
  const open = { ...s, route: { view: "session" as const, deploymentId: r.deploymentId, agentId: r.agentId, sessionId: r.sessionId } };
  return (
    <tr data-session={r.sessionId} class="clickable" onClick={(e) => (e.target as HTMLElement).closest("a") === null && navigate(open)}>
      <th scope="row" class="session-cell">
        <a href={stateUrl(open)} onClick={(e) => followLink(e, open)}>
          {sessionTitle(r)}
        </a>
        <span class="muted mono" title={r.sessionId}>
          {shortId(r.sessionId)}
        </span>
        <SessionEndingBadge row={r} />
      </th>
      <td>{r.agentId}</td>
      <td>
        <span class={`tag kind-${r.kind}`}>{r.kind}</span>
        {r.channel ? <span class="muted"> {r.channel}</span> : null}
      </td>
      <td class="models-cell" title={r.models.join(", ")}>
        {r.models[0] ?? "—"}
        {r.models.length > 1 ? <span class="muted"> +{r.models.length - 1}</span> : null}
      </td>
      <td class="num" title={formatDateTime(r.lastActivity, s.tz)}>
        {formatAgo(r.lastActivity)}
      </td>
      <td class="num">{formatInt(r.llmCalls)}</td>
      <td class="num">
        {formatInt(r.toolCalls)}
        {r.toolErrors > 0 ? <span class="bad" title="tool calls that failed"> ({formatInt(r.toolErrors)} failed)</span> : null}
      </td>
      <td class="num">{formatInt(r.tokens.total)}</td>
      <td>{r.health ? <HealthBadge health={r.health} /> : null}</td>
      <td class="num">
        <Money usd={r.cost.total} unpricedCalls={r.unpricedCalls} unpricedTokens={r.unpricedTokens} compact />
      </td>
    </tr>
  );
}

function Pager(props: { state: DashboardState; total: number }) {
  const s = props.state;
  const pages = Math.max(1, Math.ceil(props.total / SESSIONS_PAGE_SIZE));
  const page = Math.min(s.sessions.page, pages);
  const first = props.total === 0 ? 0 : (page - 1) * SESSIONS_PAGE_SIZE + 1;
  const last = Math.min(props.total, page * SESSIONS_PAGE_SIZE);
  const to = (p: number) => navigate(withFilters(s, { sessions: { page: p } }));
  return (
    <nav class="pager" aria-label="Pages of sessions">
      <span data-testid="sessions-count">
        {formatInt(first)}–{formatInt(last)} of {formatInt(props.total)}
      </span>
      <button type="button" class="btn" disabled={page <= 1} onClick={() => to(page - 1)}>
        ← Previous
      </button>
      <span class="muted">
        page {formatInt(page)} of {formatInt(pages)}
      </span>
      <button type="button" class="btn" disabled={page >= pages} onClick={() => to(page + 1)}>
        Next →
      </button>
    </nav>
  );
}

export function SessionsView(props: { state: DashboardState; facets: Facets | null }) {
  const s = props.state;
  const f = s.sessions;
  const { data, error, loading, retry } = useApi<SessionsPage>(apiUrl("/api/v1/sessions", sessionsParams(s)));
  const set = (patch: Partial<DashboardState["sessions"]>) => navigate(withFilters(s, { sessions: patch }));
  const filtered = f.kind !== null || f.model !== null || f.channel !== null || f.q.trim() !== "";
  return (
    <div class="view" data-testid="sessions" aria-busy={loading ? "true" : "false"}>
      <h1 class="view-title">
        Sessions <span class="muted" title="Sessions with an event in the range (one open through the whole range counts when one of its LLM calls falls in it); their figures are what they used in the range.">· {s.range.preset === "all" ? rangeLabel(s.range) : `active ${rangeLabel(s.range)}`}</span>
      </h1>
      <Panel
        title="Sessions"
        busy={loading}
        actions={
          <div class="session-filters">
            <SearchBox state={s} />
            <Choice label="Kind" name="kind" value={f.kind} options={props.facets?.kinds ?? []} all="All kinds" onChange={(kind) => set({ kind })} />
            <Choice label="Model" name="model" value={f.model} options={props.facets?.models ?? []} all="All models" onChange={(model) => set({ model })} />
            {(props.facets?.channels.length ?? 0) > 0 || f.channel ? (
              <Choice label="Channel" name="channel" value={f.channel} options={props.facets?.channels ?? []} all="All channels" onChange={(channel) => set({ channel })} />
            ) : null}
          </div>
        }
      >
        {error ? (
          <ErrorNotice error={error} retry={retry} what="sessions" />
        ) : !data ? (
          <Skeleton lines={12} />
        ) : data.total === 0 ? (
          <EmptyNotice title={`No sessions ${filtered ? "match these filters" : "were active"} in ${rangeLabel(s.range)}.`}>
            {filtered ? (
              <button type="button" class="btn" onClick={() => set({ kind: null, model: null, channel: null, q: "" })}>
                Clear the session filters
              </button>
            ) : (
              <p>Pick a longer range.</p>
            )}
          </EmptyNotice>
        ) : data.sessions.length === 0 ? (
          <EmptyNotice title={`Page ${formatInt(f.page)} is past the last page of ${formatInt(data.total)} sessions.`}>
            <button type="button" class="btn" onClick={() => set({ page: Math.max(1, Math.ceil(data.total / SESSIONS_PAGE_SIZE)) })}>
              Go to the last page
            </button>
          </EmptyNotice>
        ) : (
          <>
            <CsvDownload
              filename="sessions.csv"
              testId="sessions-table-csv"
              header={["deployment", "agent", "session_id", "session_key", "label", "kind", "models", "last_activity", ...USAGE_CSV_HEADER, "tool_calls"]}
              rows={() => data.sessions.map((r) => [r.deploymentId, r.agentId, r.sessionId, r.sessionKey, r.label, r.kind, r.models.join(" "), r.lastActivity, ...usageCsvCells(r), r.toolCalls])}
            />
            <div class="table-scroll">
              <table class="data" data-testid="sessions-table">
                <caption class="visually-hidden">Sessions, {rangeLabel(s.range)}; usage within the range</caption>
                <thead>
                  <tr>
                    <th scope="col">Session</th>
                    <th scope="col">Agent</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Models</th>
                    <SortHeader state={s} sort="last" label="Last active" class="num" />
                    <SortHeader state={s} sort="calls" label="LLM calls" class="num" />
                    <th scope="col" class="num">
                      Tool calls
                    </th>
                    <SortHeader state={s} sort="tokens" label="Tokens" class="num" />
                    <th scope="col" title="Signals from the ledger: errors, aborts, tool errors, tool loops, retries, context growth">
                      Health
                    </th>
                    <SortHeader state={s} sort="cost" label="Cost" class="num" />
                  </tr>
                </thead>
                <tbody>
                  {data.sessions.map((r) => (
                    <SessionLine key={`${r.deploymentId}/${r.agentId}/${r.sessionId}`} row={r} state={s} />
                  ))}
                </tbody>
              </table>
            </div>
            <Pager state={s} total={data.total} />
          </>
        )}
      </Panel>
    </div>
  );
}
