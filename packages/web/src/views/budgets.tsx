/**
 * Budgets: each fleet budget's spend against its limit this period, the spend projected to the period's end,
 * and the runs budgets blocked or downgraded (from the budget events gateways ship), linked to their sessions.
 *
 * Projection: the period's run rate so far carried to its end (state/budget-projection.ts).
 */
import type { EffectiveBudget, EffectiveBudgets, StoredBudgetEvent } from "@clawtower/core";
import { apiUrl } from "../api/client.ts";
import { Panel } from "../components/panel.tsx";
import { EmptyNotice, ErrorNotice, Skeleton } from "../components/states.tsx";
import { formatDateTime, formatInt, formatPercent, formatUsd } from "../format.ts";
import { projectedAtEnd } from "../state/budget-projection.ts";
import { followLink } from "../state/router.ts";
import { useApi } from "../state/use-api.ts";
import { stateUrl, type DashboardState } from "../state/url-state.ts";

const iso = (ms: number) => new Date(ms).toISOString();

function Bar(props: { used: number; limit: number; projected: number | null; label: string }) {
  const ratio = Math.min(props.used / props.limit, 1);
  const proj = props.projected === null ? null : Math.min(props.projected / props.limit, 1);
  return (
    <div class="budget-bar" role="meter" aria-valuemin={0} aria-valuemax={props.limit} aria-valuenow={props.used} aria-label={props.label}>
      {proj !== null ? <span class="budget-bar-projected" style={{ width: `${proj * 100}%` }} /> : null}
      <span class={`budget-bar-used${props.used >= props.limit ? " over" : ""}`} style={{ width: `${ratio * 100}%` }} />
    </div>
  );
}

function BudgetRow(props: { e: EffectiveBudget; now: number; tz: string }) {
  const { e, now } = props;
  const b = e.budget;
  const spentUsd = e.spend.nanos / 1e9;
  const projUsd = projectedAtEnd(spentUsd, e.periodStart, e.periodEnd, now);
  const projTokens = projectedAtEnd(e.spend.tokens, e.periodStart, e.periodEnd, now);
  const scope = Object.entries(b.scope).map(([k, v]) => `${k}=${v}`).join(" ") || "everything";
  return (
    <tr data-row={b.id} data-state={e.state}>
      <th scope="row">
        <code>{b.id}</code>
        <div class="muted">
          {scope} · {b.deployment === "*" ? "every deployment" : b.deployment} · {b.period} ({b.timeZone}) · {b.action}
          {b.downgradeTo ? ` → ${b.downgradeTo}` : ""}
        </div>
      </th>
      <td>
        <span class={`tag ${e.state === "exceeded" ? "tag-bad" : e.state === "warn" ? "tag-warn" : "tag-ok"}`} data-testid="budget-state">
          {e.state}
        </span>
      </td>
      <td class="budget-limits">
        {b.limitUsd !== undefined ? (
          <div>
            <Bar used={spentUsd} limit={b.limitUsd} projected={projUsd} label={`${b.id} spend`} />
            <span data-testid="budget-spent">{formatUsd(spentUsd)}</span> of {formatUsd(b.limitUsd)} ({formatPercent(spentUsd / b.limitUsd)})
            {projUsd !== null ? <span class="muted" data-testid="budget-projected"> · projected {formatUsd(projUsd)}</span> : null}
          </div>
        ) : null}
        {b.limitTokens !== undefined ? (
          <div>
            <Bar used={e.spend.tokens} limit={b.limitTokens} projected={projTokens} label={`${b.id} tokens`} />
            {formatInt(e.spend.tokens)} of {formatInt(b.limitTokens)} tokens
            {projTokens !== null ? <span class="muted"> · projected {formatInt(Math.round(projTokens))}</span> : null}
          </div>
        ) : null}
        {e.spend.unpricedCalls ? <div class="muted">+{formatInt(e.spend.unpricedTokens)} tokens in {formatInt(e.spend.unpricedCalls)} unpriced calls (not in $)</div> : null}
      </td>
      <td class="muted">{formatDateTime(iso(e.resetsAt), props.tz)}</td>
      <td class="muted">{e.byDeployment.map((d) => d.deployment).join(", ") || "—"}</td>
    </tr>
  );
}

function EventRow(props: { ev: StoredBudgetEvent; state: DashboardState }) {
  const { ev, state } = props;
  const target = ev.sessionId && ev.agentId ? { ...state, route: { view: "session" as const, deploymentId: ev.deployment, agentId: ev.agentId, sessionId: ev.sessionId } } : null;
  return (
    <tr data-row={ev.eventId}>
      <td>{formatDateTime(iso(ev.at), state.tz)}</td>
      <td>
        <span class={`tag ${ev.kind === "block" ? "tag-bad" : "tag-warn"}`}>{ev.kind}</span>
      </td>
      <td>
        <code>{ev.budgetId}</code>
      </td>
      <td>{ev.deployment}</td>
      <td>
        {target ? (
          <a href={stateUrl(target)} onClick={(e) => followLink(e, target)} data-testid="budget-event-session">
            {ev.sessionKey ?? ev.sessionId}
          </a>
        ) : (
          <span class="muted">{ev.sessionKey ?? "—"}</span>
        )}
      </td>
      <td class="num">{formatUsd(ev.spentUsd)}</td>
    </tr>
  );
}

export function BudgetsView(props: { state: DashboardState }) {
  const s = props.state;
  const budgets = useApi<EffectiveBudgets>(apiUrl("/api/v1/budgets", { deployment: s.deployment }));
  const events = useApi<{ events: StoredBudgetEvent[] }>(apiUrl("/api/v1/budgets/events", { deployment: s.deployment, kind: "block,downgrade", limit: "100" }));
  const data = budgets.data;
  return (
    <div class="view" data-testid="budgets" aria-busy={budgets.loading ? "true" : "false"}>
      <h1 class="view-title">Budgets</h1>
      <Panel title="Spend this period" busy={budgets.loading}>
        {budgets.error ? (
          <ErrorNotice error={budgets.error} retry={budgets.retry} what="budgets" />
        ) : !data ? (
          <Skeleton lines={4} />
        ) : data.budgets.length === 0 ? (
          <EmptyNotice title="No fleet budgets.">Add one with `clawtower budgets set --id … --period day --limit-usd 5`.</EmptyNotice>
        ) : (
          <div class="table-scroll">
            <table class="data" data-testid="budgets-table">
              <caption class="visually-hidden">Spend against limit per budget</caption>
              <thead>
                <tr>
                  <th scope="col">Budget</th>
                  <th scope="col">State</th>
                  <th scope="col">Spent / limit (projected to the period's end)</th>
                  <th scope="col">Resets</th>
                  <th scope="col">Deployments</th>
                </tr>
              </thead>
              <tbody>
                {data.budgets.map((e) => (
                  <BudgetRow key={e.budget.id} e={e} now={data.generatedAt} tz={s.tz} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      <Panel title="Blocked and downgraded runs" busy={events.loading}>
        {events.error ? (
          <ErrorNotice error={events.error} retry={events.retry} what="budget events" />
        ) : !events.data ? (
          <Skeleton lines={3} />
        ) : events.data.events.length === 0 ? (
          <EmptyNotice title="No run was blocked or downgraded." />
        ) : (
          <div class="table-scroll">
            <table class="data" data-testid="budget-events">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">What</th>
                  <th scope="col">Budget</th>
                  <th scope="col">Deployment</th>
                  <th scope="col">Session</th>
                  <th scope="col" class="num">Spent then</th>
                </tr>
              </thead>
              <tbody>
                {events.data.events.map((ev) => (
                  <EventRow key={`${ev.deployment}/${ev.eventId}`} ev={ev} state={s} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  );
}

/** The overview's badge: how many budgets are in warn or exceeded, linking to the Budgets view. */
export function BudgetBadge(props: { state: DashboardState }) {
  const { data } = useApi<EffectiveBudgets>(apiUrl("/api/v1/budgets", { deployment: props.state.deployment }));
  if (!data) return null;
  const exceeded = data.budgets.filter((b) => b.state === "exceeded").length;
  const warn = data.budgets.filter((b) => b.state === "warn").length;
  if (exceeded + warn === 0) return null;
  const next = { ...props.state, route: { view: "budgets" as const } };
  return (
    <a class={`tag ${exceeded ? "tag-bad" : "tag-warn"} budget-badge`} data-testid="budget-badge" href={stateUrl(next)} onClick={(e) => followLink(e, next)}>
      {[exceeded ? `${exceeded} budget${exceeded === 1 ? "" : "s"} exceeded` : null, warn ? `${warn} near the limit` : null].filter(Boolean).join(" · ")}
    </a>
  );
}
