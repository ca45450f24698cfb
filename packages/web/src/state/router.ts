/**
 * Browser glue for url-state.ts: the current DashboardState comes from `location`, changes go through the
 * History API (push for navigation, replace for typing in a search box), and components re-render on
 * back/forward. The time zone default is the reader's saved choice, else the browser's own zone.
 */
import { useEffect, useState } from "preact/hooks";
import { parseState, routePath, stateUrl, type DashboardState } from "./url-state.ts";

const TZ_KEY = "clawtower.tz";

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function defaultTimeZone(): string {
  try {
    return localStorage.getItem(TZ_KEY) || browserTimeZone();
  } catch {
    return browserTimeZone();
  }
}

/** Remembers the reader's zone for links that carry none (the URL still wins when it has one). */
export function rememberTimeZone(tz: string): void {
  try {
    localStorage.setItem(TZ_KEY, tz);
  } catch {
    // private mode: the choice still lives in the URL
  }
}

function readLocation(): DashboardState {
  return parseState(location.pathname, location.search, defaultTimeZone());
}

let current = readLocation();
const listeners = new Set<(s: DashboardState) => void>();

function publish(): void {
  current = readLocation();
  for (const l of listeners) l(current);
}

window.addEventListener("popstate", publish);

/** Writes the canonical URL of the current state without adding a history entry (fills in range and tz). */
export function canonicalizeLocation(): void {
  const url = stateUrl(current);
  if (url !== location.pathname + location.search) history.replaceState(history.state, "", url);
}

export function navigate(next: DashboardState, opts: { replace?: boolean } = {}): void {
  const url = stateUrl(next);
  if (url === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  const viewChanged = routePath(next.route) !== routePath(current.route);
  publish();
  if (viewChanged && !opts.replace) window.scrollTo(0, 0);
}

export function getState(): DashboardState {
  return current;
}

export function useDashboardState(): DashboardState {
  const [state, setState] = useState(current);
  useEffect(() => {
    listeners.add(setState);
    // The location may have changed between the first render and this effect.
    if (state !== current) setState(current);
    return () => {
      listeners.delete(setState);
    };
  }, []);
  return state;
}

/** Plain left clicks on internal links navigate in place; modified clicks (new tab, …) keep the browser's way. */
export function followLink(e: MouseEvent, next: DashboardState): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(next);
}
