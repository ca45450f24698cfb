/**
 * Our own state and secrets on disk: written whole or not at all (a private temporary file beside the target,
 * synced, renamed over it), mode 0600 whatever the umask, in a 0700 directory when we create it.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function writePrivateFileAtomic(file: string, data: string | Uint8Array): void {
  ensurePrivateDir(path.dirname(file));
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${crypto.randomBytes(4).toString("hex")}.tmp`);
  const fd = fs.openSync(tmp, "wx", 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
