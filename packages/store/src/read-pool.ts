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
    let running = 0;
    const pool: Worker[] = [];
    const finish = () => {
      for (const w of pool) void w.terminate();
      writes.then(() => (failure ? reject(failure) : resolve()), reject);
    };
    const next = (w: Worker) => {
      const task = queue.shift();
      if (!task) {
        running--;
        if (running === 0) finish();
        return;
      }
      w.postMessage({ type: "read", task, maxLineBytes: opts.maxLineBytes });
    };
    const count = Math.min(workers, queue.length);
    for (let i = 0; i < count; i++) {
      const w = new Worker(new URL("./read-worker.ts", import.meta.url));
      pool.push(w);
      running++;
      w.on("message", (msg: { type: "progress"; bytes: number } | { type: "outcome"; outcome: ReadOutcome }) => {
        if (msg.type === "progress") {
          progress(msg.bytes);
          return;
        }
        const outcome = msg.outcome;
        writes = writes.then(() => opts.onOutcome(outcome)).catch((e: unknown) => {
          failure ??= e;
        });
        next(w);
      });
      w.on("error", (e) => {
        failure ??= e;
        running--;
        if (running === 0) finish();
      });
      next(w);
    }
  });
}
