/**
 * The version `clawtower --version` and /api/v1/info report: the package's own package.json, one directory up
 * from this module both in the repo (packages/cli/src/) and in the published bundle (dist/).
 */
import fs from "node:fs";
import { STORE_SCHEMA_VERSION } from "@clawtower/store/schema-version";

export const VERSION: string = (JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** `clawtower --version`: the release first (what scripts compare), then the store schema it writes. */
export function versionLine(): string {
  return `${VERSION} (store schema ${STORE_SCHEMA_VERSION})`;
}
