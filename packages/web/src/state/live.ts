/**
 * Live updates: one EventSource on /api/v1/stream. Each `change` event (new data landed: live import,
 * ingest) bumps a revision number; every data hook refetches when it moves, so visible panels refresh in
 * place without a reload. Bursts are coalesced, and a reconnect after an outage bumps it too (changes may
 * have been missed while the stream was down).
 */
import { createContext } from "preact";
import { useEffect, useState } from "preact/hooks";

export type LiveStatus = "connecting" | "live" | "offline";

export type LiveState = {
  /** Increases whenever the hub reports new data. */
  revision: number;
  status: LiveStatus;
  /** When the last change arrived (ms since epoch), null before the first. */
  lastChangeAt: number | null;
};

export const INITIAL_LIVE: LiveState = { revision: 0, status: "connecting", lastChangeAt: null };

export const LiveContext = createContext<LiveState>(INITIAL_LIVE);

const COALESCE_MS = 250;

/** Opens the stream while `enabled` (not before the reader is signed in: the stream needs the cookie too). */
export function useLiveUpdates(enabled: boolean): LiveState & { refresh(): void } {
  const [state, setState] = useState<LiveState>(INITIAL_LIVE);
  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource("/api/v1/stream");
    let timer: ReturnType<typeof setTimeout> | null = null;
    let wasOffline = false;
    const bump = () => {
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        setState((s) => ({ ...s, revision: s.revision + 1, lastChangeAt: Date.now() }));
      }, COALESCE_MS);
    };
    source.addEventListener("open", () => {
      setState((s) => ({ ...s, status: "live" }));
      if (wasOffline) bump();
      wasOffline = false;
    });
    source.addEventListener("change", bump);
    source.addEventListener("error", () => {
      // EventSource retries by itself; CLOSED means it gave up (e.g. 401), so say so.
      wasOffline = true;
      setState((s) => ({ ...s, status: source.readyState === EventSource.CLOSED ? "offline" : "connecting" }));
    });
    // Closing before the page goes away keeps the browser from reporting an aborted request.
    const close = () => source.close();
    window.addEventListener("pagehide", close);
    return () => {
      window.removeEventListener("pagehide", close);
      if (timer !== null) clearTimeout(timer);
      source.close();
    };
  }, [enabled]);
  return { ...state, refresh: () => setState((s) => ({ ...s, revision: s.revision + 1 })) };
}
