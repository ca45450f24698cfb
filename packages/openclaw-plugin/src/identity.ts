/** The plugin's names, shared by the entry, the manifest (scripts/build.ts) and the CLI. */
export const PLUGIN_ID = "clawtower";
export const PLUGIN_NAME = "Clawtower";
export const PLUGIN_DESCRIPTION = "Ships this Gateway's transcripts, skills and live per-call usage to a Clawtower (or Influxion-compatible) hub.";
export const CLI_COMMAND = { name: "clawtower", description: "Clawtower uploads: status, sync, ledger reset", hasSubcommands: true } as const;
/** Our files under the state dir (`<stateDir>/clawtower/`). */
export const STATE_SUBDIR = "clawtower";
