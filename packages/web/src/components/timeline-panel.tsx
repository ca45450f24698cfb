/**
 * The timeline panel: cost, tokens or calls per hour / day / week / month of the selected range, stacked
 * by the metric's parts, by model or by agent. Its choices live in the URL like every other filter.
 */
import { apiUrl } from "../api/client.ts";
import type { TimeBucket, TimeseriesReport } from "../api/types.ts";
import { TimelineChart } from "../charts/timeline-chart.tsx";
import { groupSeries, metricValue, partsSeries } from "../charts/timeline-series.ts";
import { formatCountAxis, formatInt, formatUsd, formatUsdAxis } from "../format.ts";
import { navigate } from "../state/router.ts";
import { useApi } from "../state/use-api.ts";
import { effectiveBucket, rangeLabel, reportParams, type DashboardState, type Metric, type Split } from "../state/url-state.ts";
import { Panel } from "./panel.tsx";
import { Segmented } from "./segmented.tsx";
import { EmptyNotice, ErrorNotice, Skeleton } from "./states.tsx";

const HEIGHT = 240;

const METRIC_LABEL: Record<Metric, string> = { cost: "Cost", tokens: "Tokens", calls: "LLM calls" };

export function TimelinePanel(props: { state: DashboardState; title?: string; fixedSplit?: Exclude<Split, "parts"> }) {
  const s = props.state;
  const bucket = effectiveBucket(s);
  const split = props.fixedSplit ?? s.split;
  const groupBy = split === "parts" ? "none" : split;
  const url = apiUrl("/api/v1/reports/timeseries", { ...reportParams(s), bucket, groupBy });
  const { data, error, loading, retry } = useApi<TimeseriesReport>(url);
  const metric = s.metric;
  const format = metric === "cost" ? formatUsd : formatInt;
  const axisFormat = metric === "cost" ? formatUsdAxis : formatCountAxis;

  const controls = (
    <>
      <Segmented
        label="Metric"
        testId="metric"
        value={metric}
        options={[
          { value: "cost", label: "Cost" },
          { value: "tokens", label: "Tokens" },
          { value: "calls", label: "Calls" },
        ]}
        onChange={(m) => navigate({ ...s, metric: m })}
      />
      <Segmented<TimeBucket>
        label="Bucket"
        testId="bucket"
        value={bucket}
        options={[
          { value: "hour", label: "Hour" },
          { value: "day", label: "Day" },
          { value: "week", label: "Week" },
          { value: "month", label: "Month" },
        ]}
        onChange={(b) => navigate({ ...s, bucket: b })}
      />
      {props.fixedSplit ? null : (
        <Segmented<Split>
          label="Split by"
          testId="split"
          value={split}
          options={[
            { value: "parts", label: metric === "cost" ? "Source" : metric === "tokens" ? "Kind" : "Pricing", title: "Split into the metric's parts" },
            { value: "model", label: "Model" },
            { value: "agent", label: "Agent" },
          ]}
          onChange={(v) => navigate({ ...s, split: v })}
        />
      )}
    </>
  );

  let body;
  if (error) body = <ErrorNotice error={error} retry={retry} what="the timeline" />;
  else if (!data) body = <Skeleton height={HEIGHT + 34} />;
  else if (data.points.length === 0) body = <EmptyNotice title={`Nothing to chart for ${rangeLabel(s.range)}.`}>Pick a longer range.</EmptyNotice>;
  else {
    const series = split === "parts" ? partsSeries(data.points, metric) : groupSeries(data, metric);
    const total = metricValue(data.totals, metric);
    const unpriced = metric === "cost" && data.totals.unpricedCalls > 0;
    body = (
      <>
        <TimelineChart
          labels={data.points.map((p) => p.bucket)}
          bucket={data.bucket}
          series={series}
          format={format}
          axisFormat={axisFormat}
          integer={metric !== "cost"}
          height={HEIGHT}
          description={`${METRIC_LABEL[metric]} per ${data.bucket}, ${rangeLabel(s.range)} (${s.tz}): ${format(total)} in total.`}
        />
        {unpriced ? (
          <p class="chart-note">
            Not in these bars: {formatInt(data.totals.unpricedCalls)} unpriced call{data.totals.unpricedCalls === 1 ? "" : "s"} ({formatInt(data.totals.unpricedTokens)} tokens) whose model has no known price.
          </p>
        ) : null}
      </>
    );
  }
  return (
    <Panel title={props.title ?? `${METRIC_LABEL[metric]} over time`} actions={controls} busy={loading} class="timeline" testId="timeline">
      {body}
    </Panel>
  );
}
