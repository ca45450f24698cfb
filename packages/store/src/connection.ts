/**
 * Opens the store: embedded SQLite through `node:sqlite` (WAL, busy timeout) or PostgreSQL through `pg`,
 * both behind Kysely, and applies pending migrations. Several processes may open the same PostgreSQL
 * database: migrations run under an advisory lock.
 */
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase, type SqliteStatement } from "kysely";
import { MIGRATIONS, type Database, type Dialect } from "./schema.ts";
import { catchUpSessionSearch, sessionSearchDeferred } from "./session-search-bulk.ts";
import { secureStoreFiles } from "./file-modes.ts";
import { isStoreDamage, StoreDamagedError } from "./store-damage.ts";
import { forgetStatements, prepared } from "./statements.ts";

export type StoreConnection = {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The underlying `node:sqlite` handle (SQLite only), for the bulk-write path that Kysely is too slow for. */
  sqlite: DatabaseSync | null;
  /** A human-readable description of where the data lives (path or redacted URL). */
  location: string;
  close(): Promise<void>;
};

export type OpenStoreOptions =
  | { kind: "sqlite"; path: string; warn?: (line: string) => void }
  | { kind: "postgres"; url: string; schema?: string; poolSize?: number };

/**
 * `pg`, loaded on first use: a SQLite store (every local command) does not pay its ~15–20 ms of module loading.
 * PostgreSQL returns int8 and numeric as strings; every number we store fits a double exactly (nano-dollar sums
 * stay below 2^53 up to $9M), so they are parsed as numbers.
 */
async function loadPg(): Promise<typeof import("pg").default> {
  const pg = (await import("pg")).default;
  pg.types.setTypeParser(20, (v) => Number(v));
  pg.types.setTypeParser(1700, (v) => Number(v));
  return pg;
}

function toSqliteValue(v: unknown): SQLInputValue {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v === undefined) return null;
  return v as SQLInputValue;
}

/**
 * Adapts `node:sqlite` to the interface Kysely's SqliteDialect expects. Kysely prepares every query it runs:
 * statements come from the handle's one cache (statements.ts), which the direct writers share. `all` and
 * `run` complete before they return, so one statement can serve every call; `iterate` (a stream still open
 * while other queries run) gets a statement of its own.
 */
class NodeSqliteAdapter implements SqliteDatabase {
  readonly raw: DatabaseSync;
  /** Whether a statement returns rows, asked of SQLite once per statement. */
  readonly #readers = new WeakMap<StatementSync, boolean>();
  constructor(raw: DatabaseSync) {
    this.raw = raw;
  }
  close(): void {
    forgetStatements(this.raw);
    this.raw.close();
  }
  #statement(text: string): { st: StatementSync; reader: boolean } {
    const st = prepared(this.raw, text);
    let reader = this.#readers.get(st);
    if (reader === undefined) {
      reader = st.columns().length > 0;
      this.#readers.set(st, reader);
    }
    return { st, reader };
  }
  prepare(text: string): SqliteStatement {
    // SQLite ends the transaction itself on some errors (SQLITE_FULL, SQLITE_IOERR…): Kysely's rollback would
    // then fail with "cannot rollback - no transaction is active" and hide the error that matters.
    if (ROLLBACK.test(text) && !this.raw.isTransaction) return NOTHING_TO_ROLL_BACK;
    const { st, reader } = this.#statement(text);
    return {
      reader,
      all: (params) => {
        const args = params.map(toSqliteValue);
        try {
          return st.all(...args);
        } catch (e) {
          return readOversized(this.raw, text, args, e);
        }
      },
      run: (params) => {
        const r = st.run(...params.map(toSqliteValue));
        return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
      },
      iterate: (params) => this.raw.prepare(text).iterate(...params.map(toSqliteValue)),
    };
  }
}

const ROLLBACK = /^\s*rollback\b/i;

const NOTHING_TO_ROLL_BACK: SqliteStatement = {
  reader: false,
  all: () => [],
  run: () => ({ changes: 0, lastInsertRowid: 0 }),
  iterate: () => [][Symbol.iterator](),
};

/**
 * A query over values too large for a double, which only a store written before ingest checked usage holds
 * (every value written since is bounded: see core's MAX_TOKENS_PER_CALL): node:sqlite refuses to read an
 * integer beyond 2^53 (RangeError) and SQLite an integer SUM beyond 2^63 ("integer overflow"). A query
 * (SELECT only: re-running a write would write twice) is then run again reading integers as bigints, and if
 * need be summing as doubles (TOTAL), and gives each value as the nearest double: a report answers, exact for
 * every normal value, instead of failing on one bad row forever. Anything else is rethrown.
 */
function readOversized(raw: DatabaseSync, text: string, args: SQLInputValue[], error: unknown): unknown[] {
  const e = error as { code?: string; message?: string };
  const tooLarge = e.code === "ERR_OUT_OF_RANGE";
  const overflow = e.code === "ERR_SQLITE_ERROR" && e.message?.includes("integer overflow") === true;
  if (!(tooLarge || overflow) || !/^\s*select\b/i.test(text)) throw error;
  const run = (query: string) => {
    const st = raw.prepare(query);
    st.setReadBigInts(true);
    return st.all(...args);
  };
  let rows: Record<string, unknown>[];
  try {
    rows = run(text);
  } catch (again) {
    if (!(again as Error).message?.includes("integer overflow")) throw again;
    rows = run(text.replace(/\bsum\(/gi, "total("));
  }
  for (const row of rows) for (const [k, v] of Object.entries(row)) if (typeof v === "bigint") row[k] = Number(v);
  return rows;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://…";
  }
}

export async function openStore(options: OpenStoreOptions): Promise<StoreConnection> {
  if (options.kind === "sqlite") {
    fs.mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true, mode: 0o700 });
    secureStoreFiles(options.path, options.warn ?? ((line) => process.stderr.write(`clawtower: ${line}\n`)));
    const raw = new DatabaseSync(options.path);
    try {
      // NORMAL: imports of OpenClaw's files may lose their last commits to a power loss (the files are read
      // again); ingest commits, which nothing resends, switch to FULL (durable-commit.ts).
      raw.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = OFF; PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;");
    } catch (e) {
      raw.close();
      throw isStoreDamage(e) ? new StoreDamagedError(path.resolve(options.path), [(e as Error).message], { cause: e }) : e;
    }
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new NodeSqliteAdapter(raw) }) });
    const conn: StoreConnection = { db, dialect: "sqlite", sqlite: raw, location: path.resolve(options.path), close: () => db.destroy() };
    try {
      await migrate(conn);
      // A bulk import that did not finish left session search deferred: index what it inserted.
      if (sessionSearchDeferred(raw)) catchUpSessionSearch(raw);
    } catch (e) {
      await conn.close().catch(() => {});
      throw isStoreDamage(e) ? new StoreDamagedError(conn.location, [(e as Error).message], { cause: e }) : e;
    }
    return conn;
  }
  const pg = await loadPg();
  const schema = options.schema;
  if (schema !== undefined) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}"`);
    const admin = new pg.Client({ connectionString: options.url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await admin.end();
    }
  }
  // search_path is set at connection start-up, so every pooled connection sees the schema from its first query.
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 8, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  // No JIT: the dashboard's queries are short index ranges, and PostgreSQL's JIT compiles them for 30–50 ms
  // whenever their cost estimate crosses its threshold, a multiple of their run time.
  // No parallel workers either: starting them costs ~30 ms a query on a small machine (a 0.6 ms model-filtered
  // session page took 45 ms with two), the planner picks them on misestimates, and a dashboard already runs its
  // queries side by side on several connections (at 5 M calls: worst p95 102 → 59 ms, agents 98 → 29 ms).
  // Writes are unaffected: PostgreSQL does not parallelise data-modifying statements.
  // (A client runs its queries in order, so this SET precedes the first real query.)
  pool.on("connect", (client) => {
    client.query("SET jit = off; SET max_parallel_workers_per_gather = 0").catch(() => {});
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const conn: StoreConnection = {
    db,
    dialect: "postgres",
    sqlite: null,
    location: redactUrl(options.url) + (schema ? ` (schema ${schema})` : ""),
    close: () => db.destroy(),
  };
  await migrate(conn);
  return conn;
}

/** The highest migration the store has applied (what /api/v1/info reports; a newer replica may have gone further). */
export async function storeSchemaVersion(conn: StoreConnection): Promise<number> {
  const r = await sql<{ v: number | null }>`SELECT max(version) AS v FROM schema_migrations`.execute(conn.db);
  return Number(r.rows[0]?.v ?? 0);
}

/** Applies pending migrations in one transaction; on PostgreSQL under an advisory lock so replicas agree. */
export async function migrate(conn: StoreConnection): Promise<number> {
  const { db, dialect } = conn;
  return db.transaction().execute(async (trx) => {
    if (dialect === "postgres") await sql`SELECT pg_advisory_xact_lock(4680)`.execute(trx);
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`.execute(
      trx,
    );
    const applied = await sql<{ version: number }>`SELECT version FROM schema_migrations`.execute(trx);
    const done = new Set(applied.rows.map((r) => Number(r.version)));
    let count = 0;
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const statement of m.sql(dialect)) await sql.raw(statement).execute(trx);
      await sql`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, ${m.name}, ${new Date().toISOString()})`.execute(
        trx,
      );
      count++;
    }
    return count;
  });
}

export function parseStoreUrl(value: string): OpenStoreOptions {
  if (value.startsWith("postgres://") || value.startsWith("postgresql://")) return { kind: "postgres", url: value };
  if (value.startsWith("sqlite:")) return { kind: "sqlite", path: value.slice("sqlite:".length) };
  return { kind: "sqlite", path: value };
}
