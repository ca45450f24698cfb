/**
 * One deployment per OpenClaw home. The local importer and the plugin in that home's Gateway both name the
 * home (core's openclawHomeId); whichever reaches the store first makes its deployment the home's, and the
 * other path writes into it. Rows are keyed by (deployment, agent, session, event id) and inserted only when
 * new, so the same event delivered both ways, in either order, counts once everywhere (calls, sessions,
 * rollups). Each deployment remembers the paths its data arrives through, for the dashboard.
 */
import { CompiledQuery, sql } from "kysely";
import type { StoreConnection } from "./connection.ts";
import type { Db } from "./refs.ts";

export type DeploymentVia = "local" | "watch" | "plugin" | "ingest";

export type HomeClaim = {
  homeId: string;
  /** The deployment this path would use on its own: the importer's `local-…` id, the plugin key's deployment. */
  candidate: string;
  via: DeploymentVia;
  /** What this path calls the deployment (`host:/path`, or the sender's deployment id). */
  name: string;
  now: number;
  /** For a new deployment row. */
  kind: "local" | "remote";
  openclawHome: string | null;
};

export type HomeResolution = {
  deploymentId: string;
  /** Set when the home could not be joined (it belongs to another plugin deployment): the data stays apart. */
  refused: string | null;
};

/**
 * The deployment a path writing home `homeId` must use, recording the path. Rules:
 *   - no deployment is that home yet: the candidate becomes it;
 *   - another deployment is: the path writes into that one — unless a plugin deployment would join a home
 *     that another plugin deployment already holds (refused: keys must not write into each other's data);
 *   - both already hold data (written before homes were recorded): the plugin's deployment is kept and the
 *     local one gives way — its rows are dropped and the importer reads the home again into the kept one
 *     (local data can always be read again from OpenClaw's files; pushed data cannot).
 */
export async function resolveHome(conn: StoreConnection, claim: HomeClaim): Promise<HomeResolution> {
  // The steady state, on every ingest request and every import: the home's deployment is this path's, or this
  // plugin deployment already writes into it. Reads only (the path's row is refreshed once a minute).
  const owner = await conn.db.selectFrom("deployments").select("deployment_id").where("home_id", "=", claim.homeId).executeTakeFirst();
  if (owner && (owner.deployment_id === claim.candidate || (claim.via === "plugin" && (await pathSeen(conn.db, owner.deployment_id, "plugin", claim.candidate)) !== null))) {
    await recordPath(conn.db, owner.deployment_id, claim.via, claim.name, claim.now);
    return { deploymentId: owner.deployment_id, refused: null };
  }
  return conn.db.transaction().execute(async (trx) => {
    const owner = await trx.selectFrom("deployments").select(["deployment_id", "kind"]).where("home_id", "=", claim.homeId).executeTakeFirst();
    const candidate = await trx.selectFrom("deployments").select(["deployment_id", "kind", "home_id"]).where("deployment_id", "=", claim.candidate).executeTakeFirst();
    if (!owner) {
      if (!candidate) {
        await trx
          .insertInto("deployments")
          .values({ deployment_id: claim.candidate, name: claim.name, kind: claim.kind, openclaw_home: claim.openclawHome, created_at: claim.now, last_seen_at: claim.now, home_id: claim.homeId })
          .onConflict((oc) => oc.column("deployment_id").doUpdateSet({ home_id: claim.homeId }))
          .execute();
      } else if (candidate.home_id === null) {
        await trx.updateTable("deployments").set({ home_id: claim.homeId }).where("deployment_id", "=", claim.candidate).execute();
      }
      await recordPath(trx, claim.candidate, claim.via, claim.name, claim.now);
      return { deploymentId: claim.candidate, refused: null };
    }
    if (owner.deployment_id === claim.candidate) {
      await recordPath(trx, owner.deployment_id, claim.via, claim.name, claim.now);
      return { deploymentId: owner.deployment_id, refused: null };
    }
    if (claim.via === "plugin") {
      const plugins = await trx.selectFrom("deployment_paths").select("name").where("deployment_id", "=", owner.deployment_id).where("via", "=", "plugin").execute();
      const other = plugins.find((p) => p.name !== claim.candidate);
      if (other || owner.kind !== "local") {
        return { deploymentId: claim.candidate, refused: `home ${claim.homeId} is already deployment "${owner.deployment_id}" (plugin "${other?.name ?? owner.deployment_id}"); this deployment's data is kept apart` };
      }
      if (candidate && (await holdsData(trx, claim.candidate))) {
        // Both paths wrote before the home was known: the pushed data stays, the local import moves into it.
        const paths = await trx.selectFrom("deployment_paths").selectAll().where("deployment_id", "=", owner.deployment_id).execute();
        await dropDeployment(trx, conn, owner.deployment_id);
        await trx.updateTable("deployments").set({ home_id: claim.homeId }).where("deployment_id", "=", claim.candidate).execute();
        for (const p of paths) await recordPath(trx, claim.candidate, p.via as DeploymentVia, p.name, Number(p.last_seen_at));
        await recordPath(trx, claim.candidate, claim.via, claim.name, claim.now);
        return { deploymentId: claim.candidate, refused: null };
      }
    } else if (candidate || (await holdsData(trx, claim.candidate))) {
      // The importer's own id holds an import of this home made before the home had another deployment (or
      // one still running when it gave way): read again into the home's deployment instead.
      await dropDeployment(trx, conn, claim.candidate);
    }
    await recordPath(trx, owner.deployment_id, claim.via, claim.name, claim.now);
    return { deploymentId: owner.deployment_id, refused: null };
  });
}

/** How often a path's last_seen_at is refreshed: a write per request would cost a commit per request. */
const PATH_REFRESH_MS = 60_000;

async function pathSeen(db: Db, deploymentId: string, via: DeploymentVia, name: string): Promise<number | null> {
  const row = await db.selectFrom("deployment_paths").select("last_seen_at").where("deployment_id", "=", deploymentId).where("via", "=", via).where("name", "=", name).executeTakeFirst();
  return row ? Number(row.last_seen_at) : null;
}

/** Records that `deploymentId`'s data arrives through `via` under `name` (refreshing it at most once a minute). */
export async function recordPath(db: Db, deploymentId: string, via: DeploymentVia, name: string, now: number): Promise<void> {
  const seen = await pathSeen(db, deploymentId, via, name);
  if (seen !== null && now - seen >= 0 && now - seen < PATH_REFRESH_MS) return;
  await db
    .insertInto("deployment_paths")
    .values({ deployment_id: deploymentId, via, name, first_seen_at: now, last_seen_at: now })
    .onConflict((oc) => oc.columns(["deployment_id", "via", "name"]).doUpdateSet({ last_seen_at: now }))
    .execute();
}

async function holdsData(db: Db, deploymentId: string): Promise<boolean> {
  const row = await db.selectFrom("sessions").select("session_id").where("deployment_id", "=", deploymentId).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Tables that keep what is not the deployment's ledger: keys, the ingest audit and the change feed stay. */
const KEPT = new Set(["api_keys", "ingest_batches", "changes"]);

/** Removes a deployment and everything derived from its data (every table with a deployment_id column but KEPT). */
async function dropDeployment(db: Db, conn: StoreConnection, deploymentId: string): Promise<void> {
  const tables =
    conn.dialect === "sqlite"
      ? await sql<{ name: string }>`SELECT m.name AS name FROM sqlite_master m, pragma_table_info(m.name) c
          WHERE m.type = 'table' AND c.name = 'deployment_id'`.execute(db)
      : await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.columns
          WHERE table_schema = current_schema() AND column_name = 'deployment_id'`.execute(db);
  // Sessions first: their delete trigger also removes the session search entries (SQLite), which must not be
  // deleted behind its back.
  const names = tables.rows.map((r) => r.name).filter((name) => !KEPT.has(name) && name !== "session_search_keys");
  names.sort((a, b) => Number(b === "sessions") - Number(a === "sessions"));
  for (const name of names) {
    await db.executeQuery(CompiledQuery.raw(`DELETE FROM ${name} WHERE deployment_id = ${conn.dialect === "sqlite" ? "?" : "$1"}`, [deploymentId]));
  }
}
