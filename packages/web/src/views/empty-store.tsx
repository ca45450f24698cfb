/**
 * Shown when the store holds nothing at all yet: says which OpenClaw home is being watched (from
 * /api/v1/info) and how to get data in. It goes away by itself when the first data lands (live updates).
 */
import type { Info } from "../api/types.ts";
import { formatDateTime } from "../format.ts";

export function EmptyStoreView(props: { info: Info | null; tz: string }) {
  const home = props.info?.openclawHome;
  const live = props.info?.liveImport;
  return (
    <div class="view" data-testid="empty-store">
      <div class="notice notice-empty welcome">
        <h1>No data yet</h1>
        <p>
          Start OpenClaw, or point Clawtower at its home with <code>--openclaw-home DIR</code>. To look around first, try <code>clawtower serve --demo</code>.
        </p>
        {home ? (
          home.exists ? (
            <p>
              Clawtower is watching <code>{home.path}</code>
              {live?.running ? " and imports new sessions as they are written" : ""}. No sessions were found there yet.
            </p>
          ) : (
            <p>
              Clawtower is set to watch <code>{home.path}</code>, which does not exist. Start OpenClaw there, or restart Clawtower with <code>--openclaw-home</code> (or{" "}
              <code>OPENCLAW_STATE_DIR</code>) pointing at the right directory.
            </p>
          )
        ) : (
          <p>This hub imports nothing itself: gateways send their sessions through the ingest API (create a key with <code>clawtower keys create</code>).</p>
        )}
        {live?.lastSyncAt ? <p class="muted">Last checked {formatDateTime(live.lastSyncAt, props.tz)}.</p> : null}
        {live?.lastError ? <p class="bad">The last import failed: {live.lastError}</p> : null}
      </div>
    </div>
  );
}
