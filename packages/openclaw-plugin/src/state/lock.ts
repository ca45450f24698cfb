/**
 * One upload cycle at a time, across processes: the Gateway's service and `openclaw clawtower sync` share
 * `<stateDir>/clawtower/cycle.lock`. The lock file is created exclusively (O_EXCL) and holds the owner's
 * pid, host and start time. A lock is stale when its owner process is gone (same host) or it is older
 * than `staleAfterMs` (a hung or foreign owner); a stale lock is renamed away — only one contender's rename
 * can succeed — and the lock is taken again.
 */
import fs from "node:fs";
import os from "node:os";

export type LockOwner = { pid: number; host: string; startedAt: number; purpose: string };

export type Lock = { release(): void };

export type LockResult = { ok: true; lock: Lock } | { ok: false; owner: LockOwner | null };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, "utf8")) as LockOwner;
    return typeof v.pid === "number" && typeof v.startedAt === "number" ? v : null;
  } catch {
    return null;
  }
}

export function isStale(owner: LockOwner | null, now: number, staleAfterMs: number, host = os.hostname()): boolean {
  if (!owner) return true; // unreadable or half-written by a crashed owner
  if (now - owner.startedAt > staleAfterMs) return true;
  return owner.host === host && !alive(owner.pid);
}

export function tryLock(file: string, purpose: string, opts: { staleAfterMs: number; now?: () => number }): LockResult {
  const now = opts.now ?? Date.now;
  const me: LockOwner = { pid: process.pid, host: os.hostname(), startedAt: now(), purpose };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, "wx", 0o600);
      fs.writeSync(fd, JSON.stringify(me));
      fs.closeSync(fd);
      let released = false;
      return {
        ok: true,
        lock: {
          release() {
            if (released) return;
            released = true;
            // Only remove the lock if it is still ours (a stale-lock takeover may have replaced it).
            const owner = readOwner(file);
            if (owner && owner.pid === me.pid && owner.startedAt === me.startedAt) fs.rmSync(file, { force: true });
          },
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const owner = readOwner(file);
    // A lock being written right now has no content yet: give its owner a moment before calling it stale.
    if (!owner && attempt === 0) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    if (!isStale(owner, now(), opts.staleAfterMs)) return { ok: false, owner };
    const aside = `${file}.stale-${process.pid}-${now()}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      continue; // another contender moved it first; try to take the lock again
    }
    // Between reading the stale owner and the rename, another contender may have replaced it with a fresh
    // lock of its own: if what was moved is not the stale lock, put it back (link fails if a lock exists).
    const moved = readOwner(aside);
    if (moved && owner && (moved.pid !== owner.pid || moved.startedAt !== owner.startedAt)) {
      try {
        fs.linkSync(aside, file);
      } catch {
        // a newer lock exists; the one we moved lost its race anyway
      }
    }
    fs.rmSync(aside, { force: true });
  }
  return { ok: false, owner: readOwner(file) };
}
