/**
 * Overview: the totals of the range (sessions, calls, the four token kinds, cost split into recorded,
 * estimated and unpriced, cache hit rate), the timeline, and the top models and tools.
 */
import type { ComponentChildren } from "preact";
import { apiUrl } from "../api/client.ts";
import type { Info, SummaryReport, ToolsReport } from "../api/types.ts";
import { Money } from "../components/money.tsx";
import { CsvDownload } from "../components/csv-download.tsx";
import { Panel } from "../components/panel.tsx";
import { ShareBar } from "../components/share-bar.tsx";
import { EmptyNotice, ErrorNotice, Skeleton } from "../components/states.tsx";
import { TimelinePanel } from "../components/timeline-panel.tsx";
import { cacheHitRate, formatBytes, formatCost, formatInt, formatPercent, formatUsd } from "../format.ts";
import { followLink, navigate } from "../state/router.ts";
import { useApi } from "../state/use-api.ts";
import { BudgetBadge } from "./budgets.tsx";
import { rangeLabel, reportParams, stateUrl, withFilters, type DashboardState } from "../state/url-state.ts";

/** One figure: `kpi` and `value` let tests (and scripts) read the exact number behind the formatted text. */
function Figure(props: { kpi: string; value: number | null; text: string; class?: string }) {
  return (
    <span class={props.class ?? "figure"} data-kpi={props.kpi} data-value={props.value === null ? "" : String(props.value)}>
      {props.text}
    </span>
  );
}

function Card(props: { title: string; children: ComponentChildren; hint?: string }) {
  return (
    <div class="card" title={props.hint}>
      <h3>{props.title}</h3>
      {props.children}
    </div>
  );
}

function Row(props: { label: string; children: ComponentChildren }) {
  return (
    <div class="card-row">
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

/** What the sessions count counts (the store's spanningActivity). */
const ACTIVE_SESSIONS_HINT =
  "Active sessions: sessions with an event in the range (a session open through the whole range counts when one of its LLM calls falls in it). LLM and tool calls: those made in the range.";

function Kpis(props: { summary: SummaryReport | null }) {
  const t = props.summary?.totals;
  const none = "—";
  const int = (kpi: string, v: number | undefined) => <Figure kpi={kpi} value={v ?? null} text={v === undefined ? none : formatInt(v)} />;
  const sub = (kpi: string, v: number | undefined, f: (n: number) => string = formatInt) => <Figure kpi={kpi} value={v ?? null} text={v === undefined ? none : f(v)} class="sub" />;
  const hit = t ? cacheHitRate(t.tokens) : null;
  return (
    <div class="kpis" data-testid="kpis">
      <Card title="Cost" hint="Recorded: the cost the provider reported. Estimated: priced from Clawtower's price list. Unpriced: calls to models with no known price — not counted as $0.">
        <Figure kpi="cost.total" value={t ? t.cost.total : null} text={t ? formatCost(t.cost.total, t.unpricedCalls) : none} class={`figure ${t && t.cost.total === 0 && t.unpricedCalls > 0 ? "unpriced" : ""}`} />
        <dl>
          <Row label="Recorded">{sub("cost.recorded", t?.cost.recorded, formatUsd)}</Row>
          <Row label="Estimated">{sub("cost.estimated", t?.cost.estimated, formatUsd)}</Row>
          <Row label="Unpriced">
            {t ? (
              t.unpricedCalls > 0 ? (
                <span class="unpriced">
                  <Figure kpi="unpricedCalls" value={t.unpricedCalls} text={formatInt(t.unpricedCalls)} class="sub" /> calls ·{" "}
                  <Figure kpi="unpricedTokens" value={t.unpricedTokens} text={formatInt(t.unpricedTokens)} class="sub" /> tokens
                </span>
              ) : (
                <span>
                  <Figure kpi="unpricedCalls" value={0} text="none" class="sub" />
                </span>
              )
            ) : (
              none
            )}
          </Row>
        </dl>
      </Card>
      <Card title="Tokens">
        {int("tokens.total", t?.tokens.total)}
        <dl>
          <Row label="Input">{sub("tokens.input", t?.tokens.input)}</Row>
          <Row label="Output">{sub("tokens.output", t?.tokens.output)}</Row>
          <Row label="Cache read">{sub("tokens.cacheRead", t?.tokens.cacheRead)}</Row>
          <Row label="Cache write">{sub("tokens.cacheWrite", t?.tokens.cacheWrite)}</Row>
        </dl>
      </Card>
      <Card title="Activity" hint={ACTIVE_SESSIONS_HINT}>
        <dl class="activity">
          <Row label="Active sessions">{int("sessions", t?.sessions)}</Row>
          <Row label="LLM calls">{int("llmCalls", t?.llmCalls)}</Row>
          <Row label="Tool calls">{int("toolCalls", t?.toolCalls)}</Row>
        </dl>
      </Card>
      <Card title="Cache hit rate" hint="Cache read ÷ (input + cache read + cache write): the share of prompt tokens served from the provider's cache.">
        <Figure kpi="cacheHitRate" value={hit} text={t ? formatPercent(hit) : none} />
        {t ? (
          <p class="card-row-text">
            {formatInt(t.tokens.cacheRead)} of {formatInt(t.tokens.input + t.tokens.cacheRead + t.tokens.cacheWrite)} prompt tokens were read from the provider's cache.
          </p>
        ) : null}
        <p class="card-foot">cache read ÷ (input + cache read + cache write)</p>
      </Card>
    </div>
  );
}

function TopModels(props: { summary: SummaryReport; state: DashboardState }) {
  const rows = props.summary.byModel.slice(0, 6);
  const total = props.summary.totals.cost.total;
  const more = { ...props.state, route: { view: "models" as const } };
  return (
    <Panel title="Top models" actions={<a href={stateUrl(more)} onClick={(e) => followLink(e, more)}>All models →</a>}>
      {rows.length === 0 ? (
        <p class="muted">No LLM calls in this range.</p>
      ) : (
        <>
        <CsvDownload
          filename="top-models.csv"
          testId="top-models-csv"
          header={["provider", "model", "llm_calls", "cost_usd", "cost_share"]}
          rows={() => rows.map((m) => [m.provider, m.model, m.llmCalls, m.cost.total, total > 0 ? m.cost.total / total : null])}
        />
        <div class="table-scroll">
          <table class="data compact">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col" class="num">Calls</th>
                <th scope="col" class="num">Cost</th>
                <th scope="col" class="share-col">Share of cost</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((m) => (
                <tr key={`${m.provider}/${m.model}`}>
                  <th scope="row">
                    <span class="model-name">{m.model}</span> <span class="muted">{m.provider}</span>
                  </th>
                  <td class="num">{formatInt(m.llmCalls)}</td>
                  <td class="num">
                    <Money usd={m.cost.total} unpricedCalls={m.unpricedCalls} unpricedTokens={m.unpricedTokens} compact />
                  </td>
                  <td class="share-col">
                    <ShareBar ratio={total > 0 ? m.cost.total / total : null} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        </>
      )}
    </Panel>
  );
}

function TopTools(props: { state: DashboardState }) {
  const { data, error, loading, retry } = useApi<ToolsReport>(apiUrl("/api/v1/reports/tools", reportParams(props.state)));
  const more = { ...props.state, route: { view: "tools" as const } };
  return (
    <Panel title="Top tools" busy={loading} actions={<a href={stateUrl(more)} onClick={(e) => followLink(e, more)}>All tools →</a>}>
      {error ? (
        <ErrorNotice error={error} retry={retry} what="tools" />
      ) : !data ? (
        <Skeleton lines={6} />
      ) : data.tools.length === 0 ? (
        <p class="muted">No tool calls in this range.</p>
      ) : (
        <>
        <CsvDownload
          filename="top-tools.csv"
          testId="top-tools-csv"
          header={["tool", "calls", "error_rate", "avg_result_bytes"]}
          rows={() => data.tools.slice(0, 6).map((t) => [t.name, t.calls, t.errorRate, t.avgResultBytes])}
        />
        <div class="table-scroll">
          <table class="data compact">
            <thead>
              <tr>
                <th scope="col">Tool</th>
                <th scope="col" class="num">Calls</th>
                <th scope="col" class="num">Error rate</th>
                <th scope="col" class="num">Avg result</th>
              </tr>
            </thead>
            <tbody>
              {data.tools.slice(0, 6).map((t) => (
                <tr key={t.name}>
                  <th scope="row">
                    <code>{t.name}</code>
                  </th>
                  <td class="num">{formatInt(t.calls)}</td>
                  <td class={`num ${t.errorRate !== null && t.errorRate >= 0.1 ? "bad" : ""}`}>{formatPercent(t.errorRate)}</td>
                  <td class="num">{formatBytes(t.avgResultBytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        </>
      )}
    </Panel>
  );
}

function Problems(props: { summary: SummaryReport }) {
  const entries = Object.entries(props.summary.problems).filter(([, n]) => n > 0);
  if (entries.length === 0) return null;
  const total = entries.reduce((a, [, n]) => a + n, 0);
  return (
    <p class="notice notice-info" data-testid="problems">
      {formatInt(total)} input problem{total === 1 ? "" : "s"} while reading transcripts ({entries.map(([k, n]) => `${k}: ${formatInt(n)}`).join(", ")}). Their usage is
      counted where it could be; run <code>clawtower doctor</code> for details.
    </p>
  );
}

export function OverviewView(props: { state: DashboardState; info: Info | null }) {
  const s = props.state;
  const { data, error, loading, retry } = useApi<SummaryReport>(apiUrl("/api/v1/reports/summary", reportParams(s)));
  const empty = data !== null && data.totals.sessions === 0 && data.totals.llmCalls === 0;
  return (
    <div class="view overview" aria-busy={loading ? "true" : "false"} data-testid="overview">
      <h1 class="view-title">
        Overview <span class="muted">· {rangeLabel(s.range)}</span> <BudgetBadge state={s} />
      </h1>
      {error ? <ErrorNotice error={error} retry={retry} what="the summary" /> : null}
      {empty ? (
        <EmptyNotice title={`No activity in ${rangeLabel(s.range)}${s.agent ? ` for agent ${s.agent}` : ""}.`}>
          <p>
            {s.range.preset === "all" ? (
              <>
                Nothing has been recorded{s.agent ? " for this agent" : ""} yet. Once OpenClaw runs, its sessions appear here by themselves
                {props.info?.openclawHome ? ` (Clawtower watches ${props.info.openclawHome.path})` : ""}.
              </>
            ) : (
              <>
                Try a longer range:{" "}
                <button type="button" class="btn btn-link" onClick={() => navigate(withFilters(s, { range: { preset: "all" }, bucket: null }))}>
                  show all time
                </button>
                .
              </>
            )}
          </p>
        </EmptyNotice>
      ) : null}
      <Kpis summary={data} />
      {data ? <Problems summary={data} /> : null}
      <TimelinePanel state={s} />
      <div class="grid-2">
        {data ? <TopModels summary={data} state={s} /> : <Panel title="Top models"><Skeleton lines={6} /></Panel>}
        <TopTools state={s} />
      </div>
    </div>
  );
}
