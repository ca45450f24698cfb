/**
 * Stacked bar chart over time buckets, drawn by uPlot (canvas; ~45 KB, fast with thousands of bars).
 * The x axis is the bucket index, labelled with the report's own bucket labels — they are already in the
 * dashboard's time zone, so no date math (and no DST bug) happens in the browser. Stacking is done by
 * drawing running totals top series first, each bar painting over the taller one behind it; the legend
 * shows each part's own value (the hovered bucket's, or the range total when not hovering).
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useEffect, useRef } from "preact/hooks";
import type { TimeBucket } from "../api/types.ts";
import { formatBucket } from "../format.ts";
import { cssVar, useTheme } from "../state/theme.ts";
import { hourTickIndexes, stack, tickIndexes, type ChartSeries } from "./timeline-series.ts";

export type TimelineChartProps = {
  /** Bucket labels from the time series (e.g. "2026-11-22", "2026-11-22T13:00"). */
  labels: string[];
  bucket: TimeBucket;
  series: ChartSeries[];
  /** Full value format (legend, tooltip). */
  format: (n: number) => string;
  /** Short value format for the y axis; `step` is the distance between ticks. */
  axisFormat: (n: number, step: number) => string;
  /** Whole numbers (calls, tokens): the y axis never steps by fractions. */
  integer: boolean;
  /** What the chart shows, for screen readers. */
  description: string;
  height?: number;
};

const steps = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i).flatMap((e) => [1, 2, 2.5, 5].map((m) => Number((m * 10 ** e).toPrecision(3))));
const INTEGER_STEPS = steps(0, 12).filter((s) => Number.isInteger(s));
const MONEY_STEPS = steps(-6, 9);

/** `get` returns the latest props: a live refresh swaps the data without rebuilding, and the formatters must see it. */
function options(get: () => TimelineChartProps, width: number): uPlot.Options {
  const p = get();
  const axisColor = cssVar("--text-muted") || "#666";
  const gridColor = cssVar("--grid") || "rgba(128,128,128,.15)";
  const font = `12px ${cssVar("--font-sans") || "system-ui, sans-serif"}`;
  const n = p.labels.length;
  // Drawn top of the stack first; series[0] of the props is the bottom.
  const order = p.series.map((_, i) => i).reverse();
  const total = (i: number) => get().series[i]!.values.reduce((a, v) => a + v, 0);
  const bars = uPlot.paths.bars!({ size: [0.78, 48, 1], align: 0 });
  return {
    width,
    height: p.height ?? 240,
    padding: [8, 8, 0, 0],
    cursor: { drag: { x: false, y: false, setScale: false }, points: { show: false }, focus: { prox: 30 } },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    legend: { live: true },
    scales: {
      x: { time: false, range: () => [-0.5, Math.max(0.5, n - 0.5)] },
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] },
    },
    axes: [
      {
        stroke: axisColor,
        font,
        grid: { show: false },
        ticks: { stroke: gridColor, size: 4 },
        splits: (u) => {
          const fit = Math.floor(u.bbox.width / devicePixelRatio / (p.bucket === "hour" ? 56 : 72));
          return p.bucket === "hour" ? hourTickIndexes(get().labels, fit) : tickIndexes(n, fit);
        },
        values: (_u, splits) =>
          splits.map((i) => {
            const label = get().labels[i];
            if (label === undefined) return "";
            // Hour axes name the day at midnight (every tick, when ticks are days apart), and on the first tick
            // so the reader knows where they start.
            if (p.bucket === "hour" && label.endsWith("T00:00")) return formatBucket(label.slice(0, 10), "day");
            return formatBucket(label, p.bucket, p.bucket === "hour" && i === splits[0]);
          }),
      },
      {
        stroke: axisColor,
        font,
        size: 64,
        grid: { stroke: gridColor, width: 1 },
        ticks: { show: false },
        incrs: p.integer ? INTEGER_STEPS : MONEY_STEPS,
        values: (_u, splits, _axis, _space, step) => splits.map((v) => get().axisFormat(v, step)),
      },
    ],
    series: [
      { label: p.bucket === "hour" ? "Hour" : p.bucket === "day" ? "Day" : p.bucket === "week" ? "Week" : "Month", value: (_u, _v, _s, idx) => {
          const label = idx === null ? undefined : get().labels[idx];
          return label === undefined ? "Total" : formatBucket(label, p.bucket, true);
        },
      },
      ...order.map((i) => ({
        label: p.series[i]!.label,
        stroke: p.series[i]!.color,
        fill: p.series[i]!.color,
        width: 0,
        paths: bars,
        points: { show: false },
        value: (_u: uPlot, _v: number, _s: number, idx: number | null) => get().format(idx === null ? total(i) : (get().series[i]!.values[idx] ?? 0)),
      })),
    ],
  };
}

function chartData(p: TimelineChartProps): uPlot.AlignedData {
  const stacked = stack(p.series);
  const order = p.series.map((_, i) => i).reverse();
  return [p.labels.map((_, i) => i), ...order.map((i) => stacked[i]!)];
}

export function TimelineChart(props: TimelineChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const theme = useTheme();
  // The chart is rebuilt when what it draws changes shape; same shape (a live refresh) only swaps the data.
  const shape = [theme, props.bucket, props.labels.length, props.height ?? 240, ...props.series.map((s) => `${s.label}|${s.color}`)].join("\u0000");
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const u = new uPlot(options(() => latest.current, el.clientWidth || 600), chartData(props), el);
    plot.current = u;
    const resize = new ResizeObserver(() => {
      const w = el.clientWidth;
      if (w > 0 && w !== u.width) u.setSize({ width: w, height: latest.current.height ?? 240 });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    u.setData(chartData(props));
  }, [props.series, props.labels]);

  return <div class="chart" ref={box} role="img" aria-label={props.description} style={{ minHeight: `${(props.height ?? 240) + 34}px` }} />;
}
