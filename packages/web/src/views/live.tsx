/**
 * Live: the sessions active now (last activity within 10 minutes) across every deployment, from `clawtower
 * watch` snapshots where a watcher reports the gateway, else from the ledger (local import, plugin uploads).
 * Refreshes on every change the hub's stream announces, and every 15 s so ages and "stuck" stay current.
 */
import { useEffect, useState } from "preact/hooks";
import { apiUrl } from "../api/client.ts";
import type { LiveReport, LiveSession } from "../api/types.ts";
import { Panel } from "../components/panel.tsx";
import { EmptyNotice, ErrorNotice, Skeleton } from "../components/states.tsx";
import { formatAgo, formatInt, formatUsd } from "../format.ts";
import { useApi } from "../state/use-api.ts";
import type { DashboardState } from "../state/url-state.ts";

const STUCK_CHOICES = [2, 5, 10, 15, 30];
const STUCK_KEY = "clawtower.live.stuckMinutes";

function storedStuckMinutes(): number {
  const v = Number(globalThis.localStorage?.getItem(STUCK_KEY));
  return STUCK_CHOICES.includes(v) ? v : 5;
}

function tokensOf(s: LiveSession): number | null {
  if (s.inputTokens === null || s.outputTokens === null) return null;
  return s.inputTokens + s.outputTokens + (s.cacheReadTokens ?? 0) + (s.cacheWriteTokens ?? 0);
}

const STATUS_CLASS: Record<LiveSession["status"], string> = { running: "tag-ok", idle: "tag-muted", error: "tag-bad", aborted: "tag-bad" };

export function LiveView(props: { state: DashboardState }) {
  const [stuckMinutes, setStuckMinutes] = useState(storedStuckMinutes);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 15_000);
    return () => clearInterval(t);
  }, []);
  const { data, error, loading, retry } = useApi<LiveReport>(apiUrl("/api/v1/live", { stuckMinutes: String(stuckMinutes), deployment: props.state.deployment, t: tick ? String(tick) : null }));
  const now = data?.generatedAt ?? Date.now();
  const running = data?.sessions.filter((s) => s.status === "running").length ?? 0;
  const stuck = data?.sessions.filter((s) => s.stuck).length ?? 0;
  return (
    <div class="view" data-testid="live" aria-busy={loading ? "true" : "false"}>
      <h1 class="view-title">
        Live <span class="muted">· active in the last {data?.activeMinutes ?? 10} min</span>
      </h1>
      <Panel
        title="Sessions active now"
        busy={loading}
        actions={
          <span class="muted">
            {data ? `${formatInt(data.sessions.length)} sessions · ${formatInt(running)} running${stuck ? ` · ${formatInt(stuck)} stuck` : ""} · ` : ""}
            <label>
              stuck after{" "}
              <select
                data-testid="stuck-minutes"
                value={String(stuckMinutes)}
                onChange={(e) => {
                  const v = Number((e.target as HTMLSelectElement).value);
                  globalThis.localStorage?.setItem(STUCK_KEY, String(v));
                  setStuckMinutes(v);
                }}
              >
                {STUCK_CHOICES.map((m) => (
                  <option key={m} value={String(m)}>
                    {m} min
                  </option>
                ))}
              </select>{" "}
              without progress
            </label>
          </span>
        }
      >
        {error ? (
          <ErrorNotice error={error} retry={retry} what="live sessions" />
        ) : !data ? (
          <Skeleton lines={6} />
        ) : data.sessions.length === 0 ? (
          <EmptyNotice title="No session was active in the last 10 minutes.">
            Sessions appear here as they run: run <code>clawtower watch --hub-url …</code> next to a gateway, or let the local import or the plugin bring their calls in.
          </EmptyNotice>
        ) : (
          <div class="table-scroll">
            <table class="data" data-testid="live-table">
              <caption class="visually-hidden">Sessions active now, newest activity first</caption>
              <thead>
                <tr>
                  <th scope="col">Session</th>
                  <th scope="col">Deployment</th>
                  <th scope="col">Status</th>
                  <th scope="col">Model</th>
                  <th scope="col" class="num" title="Tokens in the context now, of the session's real context window">Context</th>
                  <th scope="col" class="num">Tokens</th>
                  <th scope="col" class="num">Cost</th>
                  <th scope="col" class="num">Last activity</th>
                </tr>
              </thead>
              <tbody>
                {data.sessions.map((s) => {
                  const tokens = tokensOf(s);
                  return (
                    <tr key={`${s.deploymentId}/${s.sessionId}`} data-row={s.sessionKey ?? s.sessionId} data-status={s.status} data-stuck={s.stuck ? "true" : "false"}>
                      <th scope="row">
                        <span title={s.sessionId}>{s.label ?? s.sessionKey ?? s.sessionId}</span>
                        <div class="muted">
                          {s.agentId}
                          {s.kind ? ` · ${s.kind}` : ""}
                          {s.source === "ledger" ? " · from the ledger" : ""}
                        </div>
                      </th>
                      <td>{s.deploymentId}</td>
                      <td>
                        <span class={`tag ${STATUS_CLASS[s.status]}`} data-testid="live-status-tag">
                          {s.status}
                        </span>
                        {s.stuck ? (
                          <span class="tag tag-bad" data-testid="stuck" title={`running, no token progress since ${formatAgo(new Date(s.progressAt).toISOString(), now)}`}>
                            stuck
                          </span>
                        ) : null}
                      </td>
                      <td>{s.model ? <code>{s.provider ? `${s.provider}/${s.model}` : s.model}</code> : "—"}</td>
                      <td class="num" data-testid="context" title={s.contextTokens !== null && s.contextWindow ? `${formatInt(s.contextTokens)} of ${formatInt(s.contextWindow)} tokens` : "the context window is not known"}>
                        {s.contextUsedPct !== null ? `${s.contextUsedPct.toFixed(1)}%` : ""}
                      </td>
                      <td class="num" data-testid="tokens">{tokens === null ? "" : formatInt(tokens)}</td>
                      <td class="num" data-testid="cost">{s.costUsd === null ? "" : formatUsd(s.costUsd)}</td>
                      <td class="num">{formatAgo(new Date(s.lastActivityAt).toISOString(), now)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  );
}
