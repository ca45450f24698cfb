/**
 * POST /api/v1/ingest/snapshots — live gateway session snapshots from `clawtower watch` (behind an API key,
 * like every ingest route). Idempotent per (session, fingerprint): a re-sent batch is counted as duplicates.
 * GET /api/v1/live — the sessions active now, for the dashboard's Live view (read auth).
 */
import { Hono } from "hono";
import { liveSessions, recordSessionSnapshots, type StoreConnection } from "@clawtower/store";
import { readableDeployment } from "../auth.ts";
import { readJsonBody } from "../body.ts";
import { HubError } from "../errors.ts";
import { parseWith, z } from "../validation.ts";
import { SnapshotBatch } from "../snapshot-contract.ts";
import { deploymentFor } from "./ingest.ts";

export type SnapshotDeps = { conn: StoreConnection; now: () => number; onChange: () => void };

export function snapshotIngestRoutes(deps: SnapshotDeps): Hono {
  const app = new Hono();
  app.post("/api/v1/ingest/snapshots", async (c) => {
    const body = parseWith(SnapshotBatch, await readJsonBody(c), "body");
    const deploymentId = deploymentFor(c, body.deploymentId);
    const r = await recordSessionSnapshots(deps.conn, deploymentId, body.snapshots, deps.now());
    if (r.accepted > 0) deps.onChange();
    return c.json({ deploymentId, ...r });
  });
  return app;
}

const minutes = z
  .string()
  .regex(/^\d+(\.\d+)?$/, "expected minutes")
  .transform(Number)
  .refine((v) => v > 0 && v <= 10_080, "expected more than 0 and at most 10080 minutes")
  .optional();

export const LiveQuery = z.object({
  activeMinutes: minutes,
  stuckMinutes: minutes,
  deployment: z.string().max(200).optional(),
});

export function liveReadRoutes(deps: { conn: StoreConnection; now: () => number }): Hono {
  const app = new Hono();
  app.get("/api/v1/live", async (c) => {
    const q = parseWith(LiveQuery, c.req.query(), "query");
    // A key bound to a deployment reads that deployment only, as on every read route.
    const only = readableDeployment(c.get("principal"));
    if (only !== null && q.deployment !== undefined && q.deployment !== only) throw new HubError("forbidden", `this API key may read deployment ${only} only`);
    const now = deps.now();
    // Active: last activity within 10 min; stuck: running with no token progress for 5 min (both overridable).
    const activeMinutes = q.activeMinutes ?? 10;
    const stuckMinutes = q.stuckMinutes ?? 5;
    const activeWithinMs = activeMinutes * 60_000;
    const stuckAfterMs = stuckMinutes * 60_000;
    const sessions = await liveSessions(deps.conn, { now, activeWithinMs, stuckAfterMs, deployment: only ?? q.deployment ?? null });
    return c.json({ schemaVersion: 1, generatedAt: now, activeMinutes, stuckMinutes, sessions });
  });
  return app;
}
