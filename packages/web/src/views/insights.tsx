/**
 * Insights: the recommendations of GET /api/v1/insights (the same JSON as `clawtower insights --json`), each
 * with its dollar amount and links to the sessions behind it.
 */
import type { ComponentChildren } from "preact";
import { apiUrl } from "../api/client.ts";
import type { InsightsReport } from "../api/types.ts";
import { Panel } from "../components/panel.tsx";
import { EmptyNotice, ErrorNotice, Skeleton } from "../components/states.tsx";
import { formatInt, formatPercent, formatUsd, shortId } from "../format.ts";
import { followLink } from "../state/router.ts";
import { useApi } from "../state/use-api.ts";
import { rangeLabel, reportParams, stateUrl, type DashboardState } from "../state/url-state.ts";

type Link = { deploymentId: string; agentId: string; sessionId: string };

const money = (nanos: number | null) => (nanos === null ? "unpriced" : formatUsd(nanos / 1e9));

function SessionLinks(props: { state: DashboardState; sessions: Link[] }) {
  if (props.sessions.length === 0) return null;
  return (
    <div class="links">
      {props.sessions.map((x) => {
        const to = { ...props.state, route: { view: "session" as const, deploymentId: x.deploymentId, agentId: x.agentId, sessionId: x.sessionId } };
        return (
          <a key={`${x.deploymentId}/${x.agentId}/${x.sessionId}`} href={stateUrl(to)} onClick={(e) => followLink(e, to)} data-session-link={x.sessionId}>
            {x.agentId}/{shortId(x.sessionId)}
          </a>
        );
      })}
    </div>
  );
}

function Section(props: { title: string; testid: string; empty: string; count: number; children: ComponentChildren }) {
  return (
    <Panel title={props.title}>
      <div data-testid={props.testid}>{props.count === 0 ? <p class="muted">{props.empty}</p> : <ul class="insight-list">{props.children}</ul>}</div>
    </Panel>
  );
}

export function InsightsView(props: { state: DashboardState }) {
  const s = props.state;
  const { data, error, loading, retry } = useApi<InsightsReport>(apiUrl("/api/v1/insights", reportParams(s)));
  return (
    <div class="view" data-testid="insights" aria-busy={loading ? "true" : "false"}>
      <h1 class="view-title">
        Insights <span class="muted">· {rangeLabel(s.range)}</span>
      </h1>
      {error ? (
        <ErrorNotice error={error} retry={retry} what="insights" />
      ) : !data ? (
        <Skeleton lines={10} />
      ) : data.modelWhatIfs.length + data.cache.hitRates.length + data.cron.length + data.tools.hotSpots.length === 0 ? (
        <EmptyNotice title={`No LLM calls in ${rangeLabel(s.range)}.`}>Pick a longer range or another agent.</EmptyNotice>
      ) : (
        <>
          <Section title="Model what-ifs" testid="insights-whatifs" empty="No cheaper model of the same provider in the price book." count={data.modelWhatIfs.length}>
            {data.modelWhatIfs.map((w) => (
              <li key={`${w.agentId}/${w.kind}/${w.provider}/${w.model}/${w.target.model}`} data-whatif={`${w.agentId}/${w.kind}/${w.model}/${w.target.model}`}>
                <strong>
                  {w.kind} sessions of {w.agentId}: {w.model} → {w.target.model}
                </strong>{" "}
                would have cost <span class="num" data-amount="whatif">{money(w.whatIfNanos)}</span> instead of <span data-amount="actual">{money(w.actualNanos)}</span>{" "}
                <span class="muted">
                  (recorded {money(w.basis.recordedNanos)}, estimated {money(w.basis.estimatedNanos)}
                  {w.unpricedCalls > 0 ? `, ${formatInt(w.unpricedCalls)} unpriced calls left out` : ""})
                </span>
                <SessionLinks state={s} sessions={w.sessions} />
              </li>
            ))}
          </Section>
          <Section title="Cache" testid="insights-cache" empty="No cache use." count={data.cache.hitRates.length + data.cache.unreadWrites.length}>
            {data.cache.unreadWrites.map((u) => (
              <li key={`unread/${u.agentId}/${u.provider}/${u.model}`}>
                <strong>{u.agentId}</strong> on {u.model} wrote {formatInt(u.tokens)} cache tokens no later call read back: {money(u.costNanos)}
                <SessionLinks state={s} sessions={u.sessions} />
              </li>
            ))}
            {data.cache.hitRates.map((h) => (
              <li key={`hit/${h.agentId}/${h.provider}/${h.model}`}>
                <strong>{h.agentId}</strong> on {h.model}: hit rate {formatPercent(h.hitRate)}; an ideal cache would save {money(h.idealSavingNanos)}
                <SessionLinks state={s} sessions={h.sessions} />
              </li>
            ))}
          </Section>
          <Section title="Cron jobs" testid="insights-cron" empty="No cron runs." count={data.cron.length}>
            {data.cron.map((j) => (
              <li key={`${j.agentId}/${j.job ?? ""}`}>
                <strong>{j.job ?? "(unnamed job)"}</strong> of {j.agentId}: {formatInt(j.runs)} runs, {money(j.costNanos)} ({money(j.costPerRunNanos)} per run)
                {j.failingRuns > 0 ? (
                  <span class="bad">
                    {" "}
                    · {formatInt(j.failingRuns)} failing runs cost {money(j.failingCostNanos)}
                  </span>
                ) : null}
                <SessionLinks state={s} sessions={j.failingRuns > 0 ? j.failingSessions : j.sessions} />
              </li>
            ))}
          </Section>
          <Section title="Context growth without compaction" testid="insights-context" empty="No session grew its prompt to twice its first size without compacting." count={data.context.length}>
            {data.context.map((c) => (
              <li key={`${c.deploymentId}/${c.agentId}/${c.sessionId}`}>
                {c.agentId}/{shortId(c.sessionId)}: {formatInt(c.firstPromptTokens)} → {formatInt(c.maxPromptTokens)} prompt tokens over {formatInt(c.calls)} calls; the growth cost {money(c.excessNanos)} of{" "}
                {money(c.costNanos)}
                <SessionLinks state={s} sessions={[c]} />
              </li>
            ))}
          </Section>
          <Section title="Tool errors" testid="insights-tools" empty="No tool errors." count={data.tools.hotSpots.length + data.tools.errorTurnSpend.length}>
            {data.tools.hotSpots.map((h) => (
              <li key={`spot/${h.agentId}/${h.tool}`}>
                <code>{h.tool}</code> for {h.agentId}: {formatInt(h.errors)} of {formatInt(h.calls)} failed ({formatPercent(h.errorRate)})
                <SessionLinks state={s} sessions={h.sessions} />
              </li>
            ))}
            {data.tools.errorTurnSpend.map((t) => (
              <li key={`turns/${t.agentId}`}>
                {t.agentId} spent {money(t.costNanos)} on {formatInt(t.calls)} LLM calls whose tool calls failed
                <SessionLinks state={s} sessions={t.sessions} />
              </li>
            ))}
          </Section>
          <Panel title="Large prompts">
            <p class="muted">Not available: {data.largePrompts.reason}.</p>
          </Panel>
        </>
      )}
    </div>
  );
}
