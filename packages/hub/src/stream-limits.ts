/**
 * Caps on concurrent live-update streams (SSE), per client address and for the whole hub: each open stream
 * holds a socket and some buffers, so without a cap one client could open thousands and grow the hub's memory.
 */
export type StreamLimits = { perClient: number; total: number };

/** A dashboard tab holds one stream: 16 leaves room for many tabs; 256 streams cost about 15 MiB of memory. */
export const DEFAULT_STREAM_LIMITS: StreamLimits = { perClient: 16, total: 256 };

export type StreamSlots = {
  /** A release function, or why no stream may open now. */
  acquire(client: string): { release: () => void } | { refused: "client" | "total" };
  open(): number;
};

export function createStreamSlots(limits: StreamLimits): StreamSlots {
  const perClient = new Map<string, number>();
  let total = 0;
  return {
    acquire(client) {
      const mine = perClient.get(client) ?? 0;
      if (mine >= limits.perClient) return { refused: "client" };
      if (total >= limits.total) return { refused: "total" };
      perClient.set(client, mine + 1);
      total++;
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          total--;
          const left = (perClient.get(client) ?? 1) - 1;
          if (left > 0) perClient.set(client, left);
          else perClient.delete(client);
        },
      };
    },
    open: () => total,
  };
}
