/**
 * Runs part reads, on worker threads when there is enough to read to pay for them (parsing is CPU-bound
 * and the machine has more than one core), else on this thread. Outcomes are handed to `onOutcome` one at
 * a time, in completion order, while the workers keep reading.
 */
import os from "node:os";
import { Worker } from "node:worker_threads";
import { readPart, type DbHandles, type ReadOutcome, type ReadTask } from "@clawtower/core";

export type RunReadsOptions = {
  workers?: number | undefined;
  maxLineBytes: number;
  plannedBytes: number;
  dbs: DbHandles;
  onProgress?: (doneBytes: number) => void;
  onOutcome: (outcome: ReadOutcome) => Promise<void>;
};

/** Below this much to read, starting workers costs more than it saves. */
const WORKER_THRESHOLD_BYTES = 48 * 1024 * 1024;

export function defaultWorkerCount(plannedBytes: number): number {
  if (plannedBytes < WORKER_THRESHOLD_BYTES) return 0;
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

export async function runReads(tasks: ReadTask[], opts: RunReadsOptions): Promise<void> {
  const workers = opts.workers ?? defaultWorkerCount(opts.plannedBytes);
  let done = 0;
  const progress = (bytes: number) => {
    done += bytes;
    opts.onProgress?.(done);
  };
  if (workers === 0 || tasks.length <= 1) {
    for (const task of tasks) {
      const outcome = readPart(task, { maxLineBytes: opts.maxLineBytes, dbs: opts.dbs, onProgress: progress });
      await opts.onOutcome(outcome);
    }
    return;
  }

  // Largest first, so that one big file does not start last and leave the other workers idle.
  const queue = [...tasks].sort((a, b) => b.part.sizeHint - a.part.sizeHint);
  let writes = Promise.resolve();
  let failure: unknown = null;
  await new Promise<void>((resolve, reject) => {
    const pool: Worker[] = [];
    let inFlight = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      for (const w of pool) void w.terminate();
      writes.then(() => (failure ? reject(failure) : resolve()), reject);
    };
    // Each worker holds a backlog of tasks: while this thread is busy writing (synchronous SQLite calls
    // keep the event loop from dispatching messages), the workers keep parsing instead of waiting. Most
    // sessions are small, so the backlog is measured in bytes, not in tasks.
    const backlog = new Map<Worker, number>();
    const feed = (w: Worker) => {
      while ((backlog.get(w) ?? 0) < BACKLOG_BYTES) {
        const task = queue.shift();
        if (!task) return;
        inFlight++;
        backlog.set(w, (backlog.get(w) ?? 0) + task.part.sizeHint + 1);
        w.postMessage({ type: "read", task, maxLineBytes: opts.maxLineBytes });
      }
    };
    const count = Math.min(workers, queue.length);
    for (let i = 0; i < count; i++) {
      // Bounded heaps: a worker's garbage is mostly big event strings, and an uncapped heap lets them pile up
      // to hundreds of MB before V8 bothers to collect them. 24 MB of old generation keeps a 1 GB SQLite read
      // under 300 MB of process RSS (40 MB: 310–336 MB) at the same speed; lines of 60 MB still read, as the
      // scanner keeps lines in Buffers, outside the heap (test/sync-home.test.ts, "capped").
      const w = new Worker(new URL("./read-worker-entry.js", import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 8 } });
      pool.push(w);
      w.on("message", (msg: { type: "progress"; bytes: number } | { type: "outcome"; outcome: ReadOutcome; sizeHint: number }) => {
        if (msg.type === "progress") {
          progress(msg.bytes);
          return;
        }
        const outcome = msg.outcome;
        // The task leaves the worker's backlog only once its outcome is written: a worker is fed while this
        // thread writes, but the outcomes waiting to be written stay bounded by the backlog (feeding on
        // arrival let them pile up in this thread's heap whenever writing was the slower side).
        writes = writes
          .then(() => opts.onOutcome(outcome))
          .catch((e: unknown) => {
            failure ??= e;
          })
          .then(() => {
            inFlight--;
            backlog.set(w, (backlog.get(w) ?? 0) - msg.sizeHint - 1);
            feed(w);
            if (inFlight === 0 && queue.length === 0) finish();
          });
      });
      w.on("error", (e) => {
        // A crashed worker loses its queued tasks: fail the whole read rather than report partial totals.
        failure ??= e;
        finish();
      });
      feed(w);
    }
  });
}

/** Bytes of planned reads queued per worker. */
const BACKLOG_BYTES = 48 * 1024 * 1024;
