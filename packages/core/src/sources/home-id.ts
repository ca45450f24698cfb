/**
 * One identity for an OpenClaw home, derived the same way by every path that reaches it (the local importer
 * and the plugin inside that home's Gateway), so a hub can tell that two deployments are one home and count
 * its events once. The host name is part of it: two machines with the same path are different homes.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";

/** `home-` + 16 hex digits of sha256(host NUL real path). */
export function openclawHomeId(realHome: string, hostname: string): string {
  return `home-${crypto.createHash("sha256").update(`${hostname}\u0000${realHome}`).digest("hex").slice(0, 16)}`;
}

/** The home's id on this machine: its real path (symlinks resolved) and this host's name. */
export function localHomeId(home: string, hostname: string = os.hostname()): string {
  let real = home;
  try {
    real = fs.realpathSync(home);
  } catch {
    // keep the given path; the home may not exist yet
  }
  return openclawHomeId(real, hostname);
}

/** What a home id looks like on the wire (the plugin's `X-Clawtower-Home` header). */
export const HOME_ID_PATTERN = /^home-[0-9a-f]{16}$/;
