/** Agents: usage per agent over time, and a table with shares and unit costs. */
import { apiUrl } from "../api/client.ts";
import type { AgentsReport } from "../api/types.ts";
import { Panel } from "../components/panel.tsx";
import { EmptyNotice, ErrorNotice, Skeleton } from "../components/states.tsx";
import { TimelinePanel } from "../components/timeline-panel.tsx";
import { UsageTable } from "../components/usage-table.tsx";
import { followLink } from "../state/router.ts";
import { useApi } from "../state/use-api.ts";
import { rangeLabel, reportParams, stateUrl, withFilters, type DashboardState } from "../state/url-state.ts";

export function AgentsView(props: { state: DashboardState }) {
  const s = props.state;
  const { data, error, loading, retry } = useApi<AgentsReport>(apiUrl("/api/v1/reports/agents", reportParams(s)));
  return (
    <div class="view" data-testid="agents" aria-busy={loading ? "true" : "false"}>
      <h1 class="view-title">
        Agents <span class="muted">· {rangeLabel(s.range)}</span>
      </h1>
      <TimelinePanel state={s} fixedSplit="agent" title="By agent over time" />
      <Panel title="Agents" busy={loading}>
        {error ? (
          <ErrorNotice error={error} retry={retry} what="agents" />
        ) : !data ? (
          <Skeleton lines={6} />
        ) : data.rows.length === 0 ? (
          <EmptyNotice title={`No agent made LLM calls in ${rangeLabel(s.range)}.`}>Pick a longer range.</EmptyNotice>
        ) : (
          <UsageTable
            caption="Usage per agent"
            nameHeader="Agent"
            testId="agents-table"
            csvFile="agents.csv"
            csvIdHeader={["agent"]}
            totals={data.totals}
            rows={data.rows.map((r) => {
              // An agent's name filters the whole dashboard to it (its sessions, models, tools).
              const focus = withFilters(s, { agent: r.agentId, route: { view: "sessions" } });
              return {
                ...r,
                key: r.agentId,
                csvId: [r.agentId],
                name: (
                  <a href={stateUrl(focus)} onClick={(e) => followLink(e, focus)} title={`Show the sessions of ${r.agentId}`}>
                    {r.agentId}
                  </a>
                ),
              };
            })}
          />
        )}
      </Panel>
    </div>
  );
}
