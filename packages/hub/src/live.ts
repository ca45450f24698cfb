/**
 * Live updates: every write that changes what dashboards show appends a row to the store's `changes`
 * table (local import, ingest, any replica). The feed polls its head once a second — one indexed read —
 * and tells subscribers (the SSE stream) what changed. Polling the shared table is what lets several hub
 * replicas on one PostgreSQL database, or a CLI import next to a running hub, update every dashboard.
 */
import { sql } from "kysely";
import type { StoreConnection } from "@clawtower/store";

export type Change = { changeId: number; deploymentId: string | null; at: number; kind: string };

export type ChangeFeed = {
  subscribe(cb: (changes: Change[]) => void): () => void;
  /** Checks for new changes now (after a local write), instead of waiting for the next poll. */
  poke(): void;
  /** Aborted when the feed closes (hub shutdown), so open streams end instead of idling on a timer. */
  readonly closed: AbortSignal;
  close(): void;
};

export async function createChangeFeed(conn: StoreConnection, intervalMs = 1000): Promise<ChangeFeed> {
  const subscribers = new Set<(changes: Change[]) => void>();
  const head = await sql<{ id: number | null }>`SELECT max(change_id) AS id FROM changes`.execute(conn.db);
  let last = Number(head.rows[0]?.id ?? 0);
  let polling = false;
  let closed = false;
  const closing = new AbortController();
  const poll = async () => {
    if (polling || closed) return;
    polling = true;
    try {
      const rows = await conn.db
        .selectFrom("changes")
        .select(["change_id", "deployment_id", "at", "kind"])
        .where("change_id", ">", last)
        .orderBy("change_id")
        .limit(500)
        .execute();
      if (rows.length > 0) {
        last = Number(rows.at(-1)!.change_id);
        const changes = rows.map((r) => ({ changeId: Number(r.change_id), deploymentId: r.deployment_id, at: Number(r.at), kind: r.kind }));
        for (const s of subscribers) s(changes);
      }
    } catch {
      // a transient store error: the next poll retries
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => void poll(), intervalMs);
  timer.unref();
  return {
    subscribe(cb) {
      subscribers.add(cb);
      return () => subscribers.delete(cb);
    },
    poke() {
      void poll();
    },
    closed: closing.signal,
    close() {
      closed = true;
      closing.abort();
      clearInterval(timer);
      subscribers.clear();
    },
  };
}
