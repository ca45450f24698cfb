/**
 * The errors `main.ts` maps to exit codes. They live apart from the commands so that the entry point can
 * tell them apart without loading a command's dependencies (the store, the hub) before it runs.
 */

/** Bad usage: an unknown flag value, a bad date or time zone (exit 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The OpenClaw home to read does not exist (exit 1, with what to do). */
export class NoOpenClawHomeError extends Error {
  constructor(home: string, from: string) {
    super(
      `no OpenClaw home at ${home} (from ${from === "flag" ? "--openclaw-home" : from === "env" ? "OPENCLAW_STATE_DIR" : "the default ~/.openclaw"}).` +
        ` Point --openclaw-home at the directory that holds agents/ and openclaw.json.`,
    );
    this.name = "NoOpenClawHomeError";
  }
}

/** The reports `clawtower report` knows. */
export const REPORT_KINDS = ["summary", "daily", "weekly", "monthly", "sessions", "models", "agents", "tools"] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
