/** Tools: the most used tools, how often they fail, and how large their results are (context they consume). */
import { apiUrl } from "../api/client.ts";
import type { ToolsReport } from "../api/types.ts";
import { CsvDownload } from "../components/csv-download.tsx";
import { Panel } from "../components/panel.tsx";
import { ShareBar } from "../components/share-bar.tsx";
import { EmptyNotice, ErrorNotice, Skeleton } from "../components/states.tsx";
import { formatBytes, formatInt, formatPercent } from "../format.ts";
import { useApi } from "../state/use-api.ts";
import { rangeLabel, reportParams, type DashboardState } from "../state/url-state.ts";

export function ToolsView(props: { state: DashboardState }) {
  const s = props.state;
  const { data, error, loading, retry } = useApi<ToolsReport>(apiUrl("/api/v1/reports/tools", reportParams(s)));
  const maxCalls = data ? Math.max(1, ...data.tools.map((t) => t.calls)) : 1;
  return (
    <div class="view" data-testid="tools" aria-busy={loading ? "true" : "false"}>
      <h1 class="view-title">
        Tools <span class="muted">· {rangeLabel(s.range)}</span>
      </h1>
      <Panel
        title="Tool calls"
        busy={loading}
        actions={
          data ? (
            <span class="muted">
              {formatInt(data.totals.calls)} calls · {formatInt(data.totals.errors)} errors · {formatBytes(data.totals.resultBytes)} of results
            </span>
          ) : null
        }
      >
        {error ? (
          <ErrorNotice error={error} retry={retry} what="tools" />
        ) : !data ? (
          <Skeleton lines={10} />
        ) : data.tools.length === 0 ? (
          <EmptyNotice title={`No tool calls in ${rangeLabel(s.range)}.`}>Pick a longer range or another agent.</EmptyNotice>
        ) : (
          <>
          <CsvDownload
            filename="tools.csv"
            testId="tools-table-csv"
            header={["tool", "calls", "with_result", "errors", "error_rate", "avg_result_bytes", "max_result_bytes", "result_bytes", "args_bytes"]}
            rows={() => data.tools.map((t) => [t.name, t.calls, t.withResult, t.errors, t.errorRate, t.avgResultBytes, t.maxResultBytes, t.resultBytes, t.argsBytes])}
          />
          <div class="table-scroll">
            <table class="data" data-testid="tools-table">
              <caption class="visually-hidden">Calls, errors and result sizes per tool</caption>
              <thead>
                <tr>
                  <th scope="col">Tool</th>
                  <th scope="col" class="share-col">Calls</th>
                  <th scope="col" class="num" title="Errors among calls whose result is stored">Errors</th>
                  <th scope="col" class="num">Error rate</th>
                  <th scope="col" class="num" title="Average size of a result">Avg result</th>
                  <th scope="col" class="num" title="Largest single result">Max result</th>
                  <th scope="col" class="num" title="All results together">Total results</th>
                  <th scope="col" class="num" title="All arguments together">Arguments</th>
                </tr>
              </thead>
              <tbody>
                {data.tools.map((t) => (
                  <tr key={t.name} data-row={t.name}>
                    <th scope="row">
                      <code>{t.name}</code>
                    </th>
                    <td class="share-col">
                      <ShareBar ratio={t.calls / maxCalls} label={formatInt(t.calls)} />
                    </td>
                    <td class="num">{formatInt(t.errors)}</td>
                    <td class={`num ${t.errorRate !== null && t.errorRate >= 0.1 ? "bad" : ""}`} title={t.withResult < t.calls ? `${formatInt(t.calls - t.withResult)} call(s) have no stored result` : undefined}>
                      {formatPercent(t.errorRate)}
                    </td>
                    <td class="num">{formatBytes(t.avgResultBytes)}</td>
                    <td class="num">{formatBytes(t.maxResultBytes)}</td>
                    <td class="num">{formatBytes(t.resultBytes)}</td>
                    <td class="num">{formatBytes(t.argsBytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          </>
        )}
      </Panel>
    </div>
  );
}
