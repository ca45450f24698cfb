/**
 * The store schema version this build migrates stores to (the last entry of MIGRATIONS in schema.ts, which
 * checks that it is). A module of its own so that `clawtower --version` can name it without loading the store.
 */
export const STORE_SCHEMA_VERSION = 17;
