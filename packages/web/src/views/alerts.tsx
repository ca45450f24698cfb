/**
 * Alerts: the rules with their firing state and channel health, what is firing now, the recent state changes,
 * and a form to add a rule (kind, threshold, scope, one channel) or delete one. Reads need a read key or sign-in;
 * adding and deleting need the admin token (or an admin key), as the hub's API says.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/client.ts";
import { Panel } from "../components/panel.tsx";
import { EmptyNotice, ErrorNotice, Skeleton } from "../components/states.tsx";
import { formatDateTime } from "../format.ts";
import { useApi } from "../state/use-api.ts";
import type { DashboardState } from "../state/url-state.ts";

type ChannelHealth = { channel: number; status: "ok" | "retrying" | "dead" | "never"; lastError: string | null; pending: number };
type Rule = {
  id: string;
  name: string;
  severity: string;
  enabled: boolean;
  forMs: number;
  condition: { kind: string } & Record<string, unknown>;
  scope: Record<string, string>;
  channels: { type: string; url: string }[];
  firing: number;
  pending: number;
  channelHealth: ChannelHealth[];
};
type Instance = { ruleId: string; rule: string; severity: string; key: string; state: string; value: number; labels: Record<string, string>; activeSince: number };
type HistoryEvent = { rule: string; key: string; at: number; from: string | null; to: string; value: number };

/** The condition's parameters for each kind, as the form's starting point (the hub validates them). */
const EXAMPLES: Record<string, Record<string, unknown>> = {
  "session-cost": { aboveUsd: 1 },
  "session-tokens": { aboveTokens: 100000 },
  "window-spend": { window: "day", tz: "UTC", aboveUsd: 10 },
  "spend-spike": { window: "day", tz: "UTC", factor: 3, baselineWindows: 7, minUsd: 1 },
  "error-rate": { windowMinutes: 60, aboveRatio: 0.2, minCalls: 20 },
  "tool-error-rate": { windowMinutes: 60, aboveRatio: 0.2, minCalls: 20 },
  "tool-loop": { repeats: 5 },
  "context-bloat": { abovePromptTokens: 150000, growingCalls: 10 },
  "stuck-session": { idleMinutes: 15 },
  budget: { states: ["warning", "exceeded"] },
};

async function send(method: "POST" | "DELETE", url: string, body?: unknown): Promise<void> {
  const res = await fetch(url, { method, credentials: "same-origin", headers: body === undefined ? {} : { "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (!res.ok) {
    const b = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new ApiError(res.status, b?.error?.code ?? `http_${res.status}`, b?.error?.message ?? `the hub answered ${res.status}`);
  }
}

function describeCondition(c: Rule["condition"]): string {
  return `${c.kind} ${Object.entries(c)
    .filter(([k]) => k !== "kind")
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`)
    .join(" ")}`;
}

function AddRule(props: { onAdded: () => void }) {
  const [kind, setKind] = useState("session-cost");
  const [params, setParams] = useState(JSON.stringify(EXAMPLES["session-cost"]));
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setError(null);
    setSecret(null);
    let condition: Record<string, unknown>;
    try {
      condition = { kind, ...(JSON.parse(params) as Record<string, unknown>) };
    } catch {
      setError("The parameters must be JSON, e.g. {\"aboveUsd\": 1}");
      return;
    }
    const scope: Record<string, string> = {};
    for (const k of ["deployment", "agent", "channel", "sessionKind", "model"]) {
      const v = String(f.get(k) ?? "").trim();
      if (v) scope[k] = v;
    }
    const url = String(f.get("url") ?? "").trim();
    const body = { name: String(f.get("name") ?? "").trim(), severity: String(f.get("severity")), condition, scope, channels: url ? [{ type: String(f.get("channelType")), url }] : [] };
    try {
      const res = await fetch("/api/v1/alerts/rules", { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const answer = (await res.json().catch(() => null)) as { rule?: { channels: { secret?: string }[] }; error?: { message?: string } } | null;
      if (!res.ok) throw new Error(answer?.error?.message ?? `the hub answered ${res.status}`);
      const s = answer?.rule?.channels.find((c) => c.secret)?.secret;
      if (s) setSecret(s);
      props.onAdded();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="alert-form" onSubmit={submit} data-testid="alert-add">
      <label>
        Name <input name="name" required pattern="[A-Za-z0-9._\-]+" />
      </label>
      <label>
        Kind{" "}
        <select
          name="kind"
          value={kind}
          onChange={(e) => {
            const k = (e.currentTarget as HTMLSelectElement).value;
            setKind(k);
            setParams(JSON.stringify(EXAMPLES[k] ?? {}));
          }}
        >
          {Object.keys(EXAMPLES).map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </label>
      <label>
        Parameters <input name="params" value={params} onInput={(e) => setParams((e.currentTarget as HTMLInputElement).value)} size={48} />
      </label>
      <label>
        Severity{" "}
        <select name="severity">
          <option>warning</option>
          <option>info</option>
          <option>critical</option>
        </select>
      </label>
      <fieldset>
        <legend>Scope (empty: everything)</legend>
        {["deployment", "agent", "channel", "sessionKind", "model"].map((k) => (
          <label key={k}>
            {k} <input name={k} size={12} />
          </label>
        ))}
      </fieldset>
      <label>
        Notify{" "}
        <select name="channelType">
          <option value="webhook">webhook</option>
          <option value="slack">slack</option>
        </select>{" "}
        <input name="url" type="url" placeholder="https://…" size={40} />
      </label>
      <button type="submit" class="btn">
        Add rule
      </button>
      {error ? (
        <p class="notice notice-error" role="alert" data-testid="alert-add-error">
          {error}
        </p>
      ) : null}
      {secret ? (
        <p class="notice" data-testid="alert-secret">
          Webhook signing secret (shown once): <code>{secret}</code>
        </p>
      ) : null}
    </form>
  );
}

export function AlertsView(props: { state: DashboardState }) {
  const tz = props.state.tz;
  const rules = useApi<{ rules: Rule[] }>("/api/v1/alerts/rules");
  const live = useApi<{ instances: Instance[] }>("/api/v1/alerts/instances");
  const history = useApi<{ events: HistoryEvent[] }>("/api/v1/alerts/history?limit=50");
  const [actionError, setActionError] = useState<string | null>(null);
  const refresh = () => {
    rules.retry();
    live.retry();
    history.retry();
  };
  // Alert states change on the hub's timer too (not only with new data, which the live stream reports): poll.
  useEffect(() => {
    const t = setInterval(refresh, 5000);
    return () => clearInterval(t);
  }, []);
  const remove = async (r: Rule) => {
    setActionError(null);
    try {
      await send("DELETE", `/api/v1/alerts/rules/${encodeURIComponent(r.id)}`);
      refresh();
    } catch (e) {
      setActionError((e as Error).message);
    }
  };
  const iso = (ms: number) => formatDateTime(new Date(ms).toISOString(), tz);
  return (
    <div class="view" data-testid="alerts" aria-busy={rules.loading ? "true" : "false"}>
      <h1 class="view-title">Alerts</h1>
      <Panel title="Firing now" busy={live.loading}>
        {live.error ? (
          <ErrorNotice error={live.error} retry={live.retry} what="alert states" />
        ) : !live.data ? (
          <Skeleton lines={3} />
        ) : live.data.instances.length === 0 ? (
          <EmptyNotice title="Nothing is firing.">Rules fire as data arrives; pending ones wait for their `for` duration.</EmptyNotice>
        ) : (
          <table class="data" data-testid="alerts-firing">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Severity</th>
                <th scope="col">State</th>
                <th scope="col">Where</th>
                <th scope="col" class="num">Value</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {live.data.instances.map((i) => (
                <tr key={`${i.ruleId}/${i.key}`} data-row={`${i.rule}/${i.key}`}>
                  <th scope="row">{i.rule}</th>
                  <td class={i.severity === "critical" ? "bad" : undefined}>{i.severity}</td>
                  <td>{i.state}</td>
                  <td>
                    <code>{Object.entries(i.labels).map(([k, v]) => `${k}=${v}`).join(" ") || "(window)"}</code>
                  </td>
                  <td class="num">{Math.round(i.value * 10000) / 10000}</td>
                  <td>{iso(i.activeSince)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
      <Panel title="Rules" busy={rules.loading}>
        {actionError ? (
          <p class="notice notice-error" role="alert">
            {actionError}
          </p>
        ) : null}
        {rules.error ? (
          <ErrorNotice error={rules.error} retry={rules.retry} what="alert rules" />
        ) : !rules.data ? (
          <Skeleton lines={4} />
        ) : rules.data.rules.length === 0 ? (
          <EmptyNotice title="No alert rules yet.">Add one below, or with `clawtower alerts add --preset bmasterai`.</EmptyNotice>
        ) : (
          <table class="data" data-testid="alerts-rules">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Condition</th>
                <th scope="col">Scope</th>
                <th scope="col">Severity</th>
                <th scope="col" class="num">Firing</th>
                <th scope="col" class="num">Pending</th>
                <th scope="col">Channels</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {rules.data.rules.map((r) => (
                <tr key={r.id} data-row={r.name}>
                  <th scope="row">
                    {r.name}
                    {r.enabled ? "" : " (disabled)"}
                  </th>
                  <td>
                    <code>{describeCondition(r.condition)}</code>
                  </td>
                  <td>{Object.entries(r.scope).map(([k, v]) => `${k}=${v}`).join(" ") || "everything"}</td>
                  <td>{r.severity}</td>
                  <td class={`num ${r.firing ? "bad" : ""}`}>{r.firing}</td>
                  <td class="num">{r.pending}</td>
                  <td>
                    {r.channels.map((c, i) => {
                      const h = r.channelHealth[i];
                      return (
                        <div key={i} data-channel-status={h?.status ?? "never"} title={h?.lastError ?? undefined} class={h?.status === "dead" ? "bad" : undefined}>
                          {c.type} · {h?.status ?? "never"}
                          {h?.pending ? ` (${h.pending} queued)` : ""}
                        </div>
                      );
                    })}
                  </td>
                  <td>
                    <button type="button" class="btn" onClick={() => void remove(r)} data-testid={`alert-delete-${r.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
      <Panel title="Add a rule">
        <AddRule onAdded={refresh} />
      </Panel>
      <Panel title="History" busy={history.loading}>
        {history.error ? (
          <ErrorNotice error={history.error} retry={history.retry} what="alert history" />
        ) : !history.data ? (
          <Skeleton lines={3} />
        ) : history.data.events.length === 0 ? (
          <EmptyNotice title="No state changes yet." />
        ) : (
          <table class="data" data-testid="alerts-history">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Rule</th>
                <th scope="col">Instance</th>
                <th scope="col">Change</th>
                <th scope="col" class="num">Value</th>
              </tr>
            </thead>
            <tbody>
              {history.data.events.map((e, i) => (
                <tr key={i}>
                  <td>{iso(e.at)}</td>
                  <td>{e.rule}</td>
                  <td>
                    <code>{e.key || "(window)"}</code>
                  </td>
                  <td>
                    {e.from ?? "—"} → {e.to}
                  </td>
                  <td class="num">{Math.round(e.value * 10000) / 10000}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
    </div>
  );
}
