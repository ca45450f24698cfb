/**
 * The dashboard shell: sign-in gate, live-update stream, top bar, filter bar, the current view and a footer
 * that says what this hub is (store, version, which OpenClaw home it watches).
 */
import { useEffect, useState } from "preact/hooks";
import { apiUrl, onUnauthorized } from "./api/client.ts";
import type { Facets, Info } from "./api/types.ts";
import { FilterBar } from "./components/filter-bar.tsx";
import { ErrorNotice } from "./components/states.tsx";
import { TopBar } from "./components/top-bar.tsx";
import { formatDateTime } from "./format.ts";
import { LiveContext, useLiveUpdates, type LiveState } from "./state/live.ts";
import { useDashboardState } from "./state/router.ts";
import { useApi } from "./state/use-api.ts";
import type { DashboardState } from "./state/url-state.ts";
import { AgentsView } from "./views/agents.tsx";
import { BudgetsView } from "./views/budgets.tsx";
import { AlertsView } from "./views/alerts.tsx";
import { EmptyStoreView } from "./views/empty-store.tsx";
import { InsightsView } from "./views/insights.tsx";
import { LiveView } from "./views/live.tsx";
import { LoginView } from "./views/login.tsx";
import { ModelsView } from "./views/models.tsx";
import { OverviewView } from "./views/overview.tsx";
import { ReplayView } from "./views/replay.tsx";
import { SessionsView } from "./views/sessions.tsx";
import { ToolsView } from "./views/tools.tsx";

const TITLES: Record<DashboardState["route"]["view"], string> = {
  overview: "Overview",
  models: "Models",
  agents: "Agents",
  tools: "Tools",
  insights: "Insights",
  sessions: "Sessions",
  budgets: "Budgets",
  session: "Session",
  live: "Live",
  alerts: "Alerts",
};

function Footer(props: { info: Info | null; tz: string }) {
  const i = props.info;
  if (!i) return <footer class="site-footer" />;
  const live = i.liveImport;
  return (
    <footer class="site-footer">
      <span>Clawtower{i.version ? ` ${i.version}` : ""}</span>
      <span>store: {i.store}</span>
      {i.demo ? <span class="tag">demo data</span> : null}
      {i.openclawHome ? (
        <span>
          watching <code>{i.openclawHome.path}</code>
          {i.openclawHome.exists ? "" : " (missing)"}
        </span>
      ) : null}
      {live?.lastSyncAt ? <span>last import check {formatDateTime(live.lastSyncAt, props.tz)}</span> : null}
    </footer>
  );
}

function CurrentView(props: { state: DashboardState; info: Info | null; facets: Facets | null }) {
  const { state } = props;
  const r = state.route;
  switch (r.view) {
    case "overview":
      return <OverviewView state={state} info={props.info} />;
    case "models":
      return <ModelsView state={state} />;
    case "agents":
      return <AgentsView state={state} />;
    case "tools":
      return <ToolsView state={state} />;
    case "insights":
      return <InsightsView state={state} />;
    case "sessions":
      return <SessionsView state={state} facets={props.facets} />;
    case "live":
      return <LiveView state={state} />;
    case "budgets":
      return <BudgetsView state={state} />;
    case "alerts":
      return <AlertsView state={state} />;
    case "session":
      return <ReplayView key={`${r.deploymentId}/${r.agentId}/${r.sessionId}`} state={state} session={r} />;
  }
}

function Shell(props: { live: LiveState; onSignedOut: () => void }) {
  const state = useDashboardState();
  const info = useApi<Info>("/api/v1/info");
  const facets = useApi<Facets>(apiUrl("/api/v1/facets", { deployment: state.deployment }));

  useEffect(() => {
    document.title = `${TITLES[state.route.view]} · Clawtower`;
  }, [state.route.view]);

  // Nothing imported or ingested at all (not merely nothing in this range): explain how to get data in.
  const storeEmpty = facets.data !== null && facets.data.agents.length === 0 && state.route.view !== "session";
  const importError = info.data?.liveImport?.lastError;
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <TopBar state={state} live={props.live} onSignedOut={info.data?.authRequired ? props.onSignedOut : undefined} />
      <FilterBar state={state} facets={facets.data} />
      <main id="main" class="content">
        {info.error && !info.error.unauthorized ? <ErrorNotice error={info.error} retry={info.retry} what="the hub's status" /> : null}
        {importError ? (
          <p class="notice notice-error" role="alert">
            The live import of {info.data?.liveImport?.home ?? "the OpenClaw home"} is failing: {importError}. Numbers may be out of date until it recovers.
          </p>
        ) : null}
        {storeEmpty ? <EmptyStoreView info={info.data} tz={state.tz} /> : <CurrentView state={state} info={info.data} facets={facets.data} />}
      </main>
      <Footer info={info.data} tz={state.tz} />
    </>
  );
}

export function App() {
  const [needsLogin, setNeedsLogin] = useState(false);
  useEffect(() => onUnauthorized(() => setNeedsLogin(true)), []);
  const live = useLiveUpdates(!needsLogin);
  if (needsLogin) return <LoginView onSignedIn={() => setNeedsLogin(false)} />;
  return (
    <LiveContext.Provider value={live}>
      <Shell live={live} onSignedOut={() => setNeedsLogin(true)} />
    </LiveContext.Provider>
  );
}
