// Public surface of @clawtower/store: connection + migrations, incremental import of an OpenClaw home,
// idempotent ledger writes, and the report queries.
export * from "./schema.ts";
export { STORE_SCHEMA_VERSION } from "./schema-version.ts";
export { openStore, migrate, storeSchemaVersion, parseStoreUrl, redactUrl, type OpenStoreOptions, type StoreConnection } from "./connection.ts";
export { syncHome, type SyncOptions, type SyncReport } from "./sync-home.ts";
export * from "./ledger-writer.ts";
export * from "./session-aggregates.ts";
export * from "./report-queries.ts";
export * from "./metrics-query.ts";
export * from "./span-export.ts";
export * from "./diagnostics.ts";
export * from "./api-keys.ts";
export * from "./ingest.ts";
export * from "./snapshots.ts";
export * from "./replay.ts";
export * from "./rollups.ts";
export { isStoreFullError } from "./store-errors.ts";
export { recordPath, resolveHome, type DeploymentVia, type HomeClaim, type HomeResolution } from "./homes.ts";
export { startBackgroundCheckpoints } from "./background-checkpoints.ts";
export { checkStoreIntegrity, startIntegrityCheck, type IntegrityReport } from "./integrity.ts";
export { storeRecovery, StoreDamagedError } from "./store-damage.ts";
export * from "./auth-sessions.ts";
export * from "./login-throttle.ts";
export * from "./session-snapshots.ts";
