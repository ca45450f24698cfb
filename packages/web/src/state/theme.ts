/**
 * Light and dark themes: CSS custom properties keyed on <html data-theme>. The choice is remembered; with
 * none, the system preference decides. index.html applies it before the first paint (no flash); this
 * module switches it later and tells charts, which draw on canvas with concrete colours.
 */
import { useEffect, useState } from "preact/hooks";

export type Theme = "light" | "dark";

const KEY = "clawtower.theme";
const listeners = new Set<(t: Theme) => void>();

export function currentTheme(): Theme {
  return document.documentElement.dataset["theme"] === "dark" ? "dark" : "light";
}

export function setTheme(theme: Theme): void {
  document.documentElement.dataset["theme"] = theme;
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    // not remembered in private mode; still applied
  }
  for (const l of listeners) l(theme);
}

export function useTheme(): Theme {
  const [theme, set] = useState(currentTheme);
  useEffect(() => {
    listeners.add(set);
    return () => {
      listeners.delete(set);
    };
  }, []);
  return theme;
}

/** A CSS custom property's value in the current theme (for canvas drawing). */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
