/** Worker thread: reads transcript parts for read-pool.ts. Holds read-only database handles between reads. */
import { parentPort } from "node:worker_threads";
import { DbHandles, readPart, type ReadTask } from "@clawtower/core";

const PROGRESS_STEP = 8 * 1024 * 1024;
const dbs = new DbHandles();
let unreported = 0;

parentPort!.on("message", (msg: { type: "read"; task: ReadTask; maxLineBytes: number }) => {
  const outcome = readPart(msg.task, {
    maxLineBytes: msg.maxLineBytes,
    dbs,
    onProgress: (bytes) => {
      unreported += bytes;
      if (unreported >= PROGRESS_STEP) {
        parentPort!.postMessage({ type: "progress", bytes: unreported });
        unreported = 0;
      }
    },
  });
  if (unreported > 0) {
    parentPort!.postMessage({ type: "progress", bytes: unreported });
    unreported = 0;
  }
  parentPort!.postMessage({ type: "outcome", outcome, sizeHint: msg.task.part.sizeHint });
});
