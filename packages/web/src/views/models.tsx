/** Models: cost, tokens and calls per model over time, and a table with shares and unit costs. */
import { apiUrl } from "../api/client.ts";
import type { ModelsReport } from "../api/types.ts";
import { Panel } from "../components/panel.tsx";
import { EmptyNotice, ErrorNotice, Skeleton } from "../components/states.tsx";
import { TimelinePanel } from "../components/timeline-panel.tsx";
import { UsageTable } from "../components/usage-table.tsx";
import { useApi } from "../state/use-api.ts";
import { rangeLabel, reportParams, type DashboardState } from "../state/url-state.ts";

export function ModelsView(props: { state: DashboardState }) {
  const s = props.state;
  const { data, error, loading, retry } = useApi<ModelsReport>(apiUrl("/api/v1/reports/models", reportParams(s)));
  return (
    <div class="view" data-testid="models" aria-busy={loading ? "true" : "false"}>
      <h1 class="view-title">
        Models <span class="muted">· {rangeLabel(s.range)}</span>
      </h1>
      <TimelinePanel state={s} fixedSplit="model" title="By model over time" />
      <Panel title="Models" busy={loading}>
        {error ? (
          <ErrorNotice error={error} retry={retry} what="models" />
        ) : !data ? (
          <Skeleton lines={8} />
        ) : data.rows.length === 0 ? (
          <EmptyNotice title={`No LLM calls in ${rangeLabel(s.range)}.`}>Pick a longer range or another agent.</EmptyNotice>
        ) : (
          <UsageTable
            caption="Usage per model"
            nameHeader="Model"
            testId="models-table"
            csvFile="models.csv"
            csvIdHeader={["provider", "model"]}
            totals={data.totals}
            rows={data.rows.map((r) => ({
              ...r,
              key: `${r.provider}/${r.model}`,
              csvId: [r.provider, r.model],
              name: (
                <>
                  <span class="model-name">{r.model}</span> <span class="muted">{r.provider}</span>
                </>
              ),
            }))}
          />
        )}
      </Panel>
    </div>
  );
}
