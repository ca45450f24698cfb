/**
 * Which deployment pushed lines land in. A sender that names its OpenClaw home (the plugin's `X-Clawtower-Home`
 * header, core's openclawHomeId) writes into that home's deployment, so a home that is also imported locally
 * counts once (store homes.ts); every sender's path is recorded for the dashboard.
 */
import type { Context } from "hono";
import { HOME_ID_PATTERN } from "@clawtower/core";
import { recordPath, resolveHome, type StoreConnection } from "@clawtower/store";
import { HubError } from "../errors.ts";

export const HOME_HEADER = "x-clawtower-home";

/** Maps each of `deployments` (the key's own) to the deployment its lines are written to. */
export async function targetDeployments(c: Context, conn: StoreConnection, deployments: Iterable<string>, now: number, log: (line: string) => void): Promise<Map<string, string>> {
  const home = c.req.header(HOME_HEADER);
  if (home !== undefined && !HOME_ID_PATTERN.test(home)) throw new HubError("invalid_body", `${HOME_HEADER} must look like home-<16 hex digits> (got ${JSON.stringify(home.slice(0, 40))})`);
  const out = new Map<string, string>();
  for (const d of new Set(deployments)) {
    if (home === undefined) {
      await recordPath(conn.db, d, "ingest", d, now);
      out.set(d, d);
      continue;
    }
    const r = await resolveHome(conn, { homeId: home, candidate: d, via: "plugin", name: d, now, kind: "remote", openclawHome: null });
    if (r.refused) log(`ingest: ${r.refused}`);
    out.set(d, r.deploymentId);
  }
  return out;
}

/** Rewrites each line's deployment to its target (see targetDeployments). */
export async function routeLinesToHomes(c: Context, conn: StoreConnection, lines: { deploymentId: string }[], now: number): Promise<void> {
  const targets = await targetDeployments(c, conn, lines.map((l) => l.deploymentId), now, (line) => console.error(line));
  for (const l of lines) l.deploymentId = targets.get(l.deploymentId) ?? l.deploymentId;
}
