/**
 * `openclaw.plugin.json`, as data: scripts/build.ts writes it (with the generated config schema), and a
 * test checks that the checked-in file is what this produces.
 */
import { manifestConfigSchema } from "./config/manifest-schema.ts";
import { CLI_COMMAND, PLUGIN_DESCRIPTION, PLUGIN_ID, PLUGIN_NAME, STATE_SUBDIR } from "./identity.ts";

export function buildManifest(): Record<string, unknown> {
  return {
    id: PLUGIN_ID,
    name: PLUGIN_NAME,
    description: PLUGIN_DESCRIPTION,
    activation: { onStartup: true },
    cliCommands: [CLI_COMMAND],
    backupResources: [{ disposition: "include", scope: "state", relativePath: STATE_SUBDIR }],
    uiHints: {
      apiKey: { label: "API key", placeholder: "ct_…", sensitive: true },
      apiUrl: { label: "Hub URL", placeholder: "http://127.0.0.1:4680" },
      deploymentId: { label: "Deployment id" },
    },
    configSchema: manifestConfigSchema(),
  };
}
