/** Brand, the views, the live-update status, the theme switch and (on a hub that needs a token) sign-out. Nav links keep every filter. */
import { useState } from "preact/hooks";
import { logout } from "../api/client.ts";
import { formatDateTime } from "../format.ts";
import type { LiveState } from "../state/live.ts";
import { followLink } from "../state/router.ts";
import { setTheme, useTheme } from "../state/theme.ts";
import { stateUrl, type DashboardState, type Route, type View } from "../state/url-state.ts";

const VIEWS: { view: Exclude<View, "session">; label: string }[] = [
  { view: "overview", label: "Overview" },
  { view: "models", label: "Models" },
  { view: "agents", label: "Agents" },
  { view: "tools", label: "Tools" },
  { view: "insights", label: "Insights" },
  { view: "sessions", label: "Sessions" },
  { view: "live", label: "Live" },
  { view: "budgets", label: "Budgets" },
  { view: "alerts", label: "Alerts" },
];

function LiveIndicator(props: { live: LiveState; tz: string }) {
  const { status, lastChangeAt } = props.live;
  const text = status === "live" ? "Live" : status === "connecting" ? "Connecting…" : "Offline";
  const title =
    status === "live"
      ? `Panels refresh by themselves when new data lands${lastChangeAt ? `; last update ${formatDateTime(new Date(lastChangeAt).toISOString(), props.tz)}` : ""}`
      : status === "connecting"
        ? "Connecting to the hub's update stream"
        : "No live updates: the hub's update stream is closed. Reload the page to reconnect.";
  return (
    <span class={`live live-${status}`} title={title} data-testid="live-status" role="status">
      <span class="live-dot" aria-hidden="true" />
      {text}
    </span>
  );
}

function ThemeToggle() {
  const theme = useTheme();
  const next = theme === "dark" ? "light" : "dark";
  return (
    <button type="button" class="btn btn-icon" onClick={() => setTheme(next)} aria-label={`Switch to the ${next} theme`} title={`Switch to the ${next} theme`} data-testid="theme-toggle">
      <span aria-hidden="true">{theme === "dark" ? "☀" : "☾"}</span>
    </button>
  );
}

function SignOut(props: { onSignedOut: () => void }) {
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  const signOut = async () => {
    setBusy(true);
    try {
      await logout();
      props.onSignedOut();
    } catch (e) {
      setFailed((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <button type="button" class="btn" onClick={signOut} disabled={busy} title={failed ?? "End this sign-in on the hub"} data-testid="sign-out">
      {busy ? "Signing out…" : "Sign out"}
    </button>
  );
}

export function TopBar(props: { state: DashboardState; live: LiveState | null; onSignedOut?: (() => void) | undefined }) {
  const s = props.state;
  const active: View = s.route.view === "session" ? "sessions" : s.route.view;
  return (
    <header class="top-bar">
      <a class="brand" href={stateUrl({ ...s, route: { view: "overview" } })} onClick={(e) => followLink(e, { ...s, route: { view: "overview" } })}>
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path d="M12 2 4 6v2h16V6zM6 10v8h3v-8zm4.5 0v8h3v-8zM15 10v8h3v-8zM4 20v2h16v-2z" fill="currentColor" />
        </svg>
        <span>Clawtower</span>
      </a>
      <nav class="views" aria-label="Views">
        {VIEWS.map((v) => {
          const route: Route = { view: v.view };
          const next = { ...s, route };
          return (
            <a key={v.view} href={stateUrl(next)} aria-current={active === v.view ? "page" : undefined} onClick={(e) => followLink(e, next)}>
              {v.label}
            </a>
          );
        })}
      </nav>
      <div class="top-bar-end">
        {props.live ? <LiveIndicator live={props.live} tz={s.tz} /> : null}
        <ThemeToggle />
        {props.onSignedOut ? <SignOut onSignedOut={props.onSignedOut} /> : null}
      </div>
    </header>
  );
}
