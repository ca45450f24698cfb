/**
 * The filters every panel follows: time range (presets or custom days), time zone, agent and deployment.
 * Each change is a navigation, so it lands in the URL and the back button undoes it.
 */
import type { DeploymentPath, Facets } from "../api/types.ts";
import { navigate, rememberTimeZone } from "../state/router.ts";
import { RANGE_PRESETS, initialCustomRange, withFilters, type DashboardState, type RangePreset } from "../state/url-state.ts";
import { Segmented, type SegmentOption } from "./segmented.tsx";

const PRESET_LABELS: Record<RangePreset | "custom", { label: string; title: string }> = {
  "24h": { label: "Today", title: "The last 24 hours" },
  "7d": { label: "7 d", title: "The last 7 days" },
  "30d": { label: "30 d", title: "The last 30 days" },
  "90d": { label: "90 d", title: "The last 90 days" },
  all: { label: "All", title: "Everything in the store" },
  custom: { label: "Custom", title: "Calendar days of your choice, in the selected time zone" },
};

const RANGE_OPTIONS: SegmentOption<RangePreset | "custom">[] = [...RANGE_PRESETS, "custom" as const].map((p) => ({ value: p, ...PRESET_LABELS[p] }));

let zonesCache: string[] | null = null;

/** Every IANA zone the browser knows, with UTC and the current choice guaranteed to be present. */
function timeZones(current: string): string[] {
  if (!zonesCache) {
    let list: string[] = [];
    try {
      list = (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf("timeZone");
    } catch {
      list = [];
    }
    zonesCache = ["UTC", ...list.filter((z) => z !== "UTC")];
  }
  return zonesCache.includes(current) ? zonesCache : [current, ...zonesCache];
}

export function FilterBar(props: { state: DashboardState; facets: Facets | null }) {
  const s = props.state;
  const agents = props.facets?.agents ?? [];
  const deployments = props.facets?.deployments ?? [];
  const go = (next: DashboardState) => navigate(next);
  return (
    <div class="filter-bar" role="search" aria-label="Filters for every panel">
      <Segmented
        label="Time range"
        testId="range"
        value={s.range.preset}
        options={RANGE_OPTIONS}
        onChange={(p) => go(withFilters(s, { range: p === "custom" ? (s.range.preset === "custom" ? s.range : initialCustomRange(Date.now(), s.tz)) : { preset: p }, bucket: null }))}
      />
      {s.range.preset === "custom" ? (
        <div class="custom-range">
          <label>
            <span>From</span>
            <input
              type="date"
              name="from"
              value={s.range.from}
              max={s.range.to}
              required
              onChange={(e) => {
                const v = (e.currentTarget as HTMLInputElement).value;
                if (v && s.range.preset === "custom") go(withFilters(s, { range: { preset: "custom", from: v, to: v > s.range.to ? v : s.range.to } }));
              }}
            />
          </label>
          <label>
            <span>To</span>
            <input
              type="date"
              name="to"
              value={s.range.to}
              min={s.range.from}
              required
              onChange={(e) => {
                const v = (e.currentTarget as HTMLInputElement).value;
                if (v && s.range.preset === "custom") go(withFilters(s, { range: { preset: "custom", from: v < s.range.from ? v : s.range.from, to: v } }));
              }}
            />
          </label>
        </div>
      ) : null}
      <label class="field">
        <span>Time zone</span>
        <select
          name="tz"
          value={s.tz}
          onChange={(e) => {
            const tz = (e.currentTarget as HTMLSelectElement).value;
            rememberTimeZone(tz);
            go(withFilters(s, { tz }));
          }}
        >
          {timeZones(s.tz).map((z) => (
            <option key={z} value={z}>
              {z.replaceAll("_", " ")}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>Agent</span>
        <select name="agent" value={s.agent ?? ""} onChange={(e) => go(withFilters(s, { agent: (e.currentTarget as HTMLSelectElement).value || null }))}>
          <option value="">All agents</option>
          {(s.agent && !agents.includes(s.agent) ? [s.agent, ...agents] : agents).map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
      {deployments.length > 1 || s.deployment ? (
        <label class="field">
          <span>Deployment</span>
          <select name="deployment" value={s.deployment ?? ""} onChange={(e) => go(withFilters(s, { deployment: (e.currentTarget as HTMLSelectElement).value || null }))}>
            <option value="">All deployments</option>
            {deployments.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name === d.id ? d.id : `${d.name} (${d.id})`}
                {d.paths?.length ? ` — via ${pathsLabel(d.paths)}` : ""}
              </option>
            ))}
          </select>
        </label>
      ) : deployments.length === 1 && deployments[0]!.paths?.length ? (
        <span class="field deployment-paths" title={`deployment ${deployments[0]!.id}`}>
          <span>Data via</span>
          <span data-testid="deployment-paths">{pathsLabel(deployments[0]!.paths)}</span>
        </span>
      ) : null}
    </div>
  );
}

const VIA: Record<string, string> = { local: "local import", watch: "live import", plugin: "plugin", ingest: "ingest API" };

/** "live import + plugin gw-1": the paths a deployment's data arrives through. */
export function pathsLabel(paths: DeploymentPath[]): string {
  return paths.map((p) => (p.via === "plugin" || p.via === "ingest" ? `${VIA[p.via]} ${p.name}` : (VIA[p.via] ?? p.via))).join(" + ");
}
