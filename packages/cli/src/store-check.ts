/**
 * The store's quick check when the hub starts (`clawtower serve`): a damaged store is refused before it is
 * served when the check ends soon enough, else reported when it ends.
 */
import { StoreDamagedError, type IntegrityReport } from "@clawtower/store";

/** How long the start waits for the store's quick check before serving and letting it finish in the background. */
const INTEGRITY_WAIT_MS = 3000;

export type IntegrityState = { check: "quick"; state: "checking" | "ok" | "damaged" | "not run"; problems: string[] } | null;

/**
 * Refuses a damaged store before serving when its quick check ends within INTEGRITY_WAIT_MS (a store of a
 * few GiB from the page cache); a bigger store is served meanwhile and damage found later is logged and shown
 * in the hub's info. Returns the check's state, for the hub's info.
 */
export async function checkOnStart(file: string, check: Promise<IntegrityReport> | null, log: (line: string) => void, waitMs = INTEGRITY_WAIT_MS): Promise<() => IntegrityState> {
  if (!check) return () => null; // PostgreSQL checks its own pages
  let state: NonNullable<IntegrityState> = { check: "quick", state: "checking", problems: [] };
  const settled = check.then(
    (r) => {
      state = { check: "quick", state: r.ok ? "ok" : "damaged", problems: r.problems };
      return r;
    },
    (e: unknown) => {
      state = { check: "quick", state: "not run", problems: [] };
      log(`warning: could not check the store ${file}: ${(e as Error).message}`);
      return null;
    },
  );
  const early = await Promise.race([settled, new Promise<"later">((resolve) => setTimeout(resolve, waitMs, "later").unref())]);
  if (early === "later") {
    log(`checking the store ${file} in the background (a big store)…`);
    void settled.then((r) => {
      if (r && !r.ok) log(`ERROR: ${new StoreDamagedError(r.file, r.problems).message} (still serving what can be read)`);
    });
  } else if (early && !early.ok) throw new StoreDamagedError(early.file, early.problems);
  return () => state;
}
