/** The OpenClaw plugin entry: identity and wiring only (see plugin.ts). */
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
import { PLUGIN_DESCRIPTION, PLUGIN_ID, PLUGIN_NAME } from "./identity.ts";
import { registerClawtower } from "./plugin.ts";

export default definePluginEntry({
  id: PLUGIN_ID,
  name: PLUGIN_NAME,
  description: PLUGIN_DESCRIPTION,
  register: registerClawtower,
});
