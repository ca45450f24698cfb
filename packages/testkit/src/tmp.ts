/** Temporary directories for tests, removed when the test process exits. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const made: string[] = [];
let hooked = false;

export function tmpDir(prefix = "clawtower-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      if (process.env["KEEP_TMP"]) return;
      for (const d of made) fs.rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}
