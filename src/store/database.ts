import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { type DialectCapabilities, postgresCapabilities, sqliteCapabilities } from './capabilities.ts';
import { migrateToLatest } from './migrator.ts';
import type { Database } from './schema.ts';

// Timestamps are bigint on PostgreSQL; Unix milliseconds fit a double exactly.
pg.types.setTypeParser(20, (v) => Number(v));

export interface StoreOptions {
  /** postgres:// URL; absent means SQLite. */
  databaseUrl?: string | undefined;
  /** SQLite file path (ignored for PostgreSQL). */
  sqliteFile?: string | undefined;
  /** PostgreSQL schema to use (tests isolate themselves in their own schema). */
  pgSchema?: string | undefined;
  sqliteSynchronous?: 'FULL' | 'NORMAL';
}

export interface Db {
  readonly kysely: Kysely<Database>;
  readonly caps: DialectCapabilities;
  /** Human description for the start-up log, without credentials. */
  readonly description: string;
  /** The raw SQLite connection (SQLite only). */
  readonly sqlite?: SqliteDatabase.Database;
  close(): Promise<void>;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable)';
  }
}

/** Opens the database, applies pending migrations and returns it. */
export async function openDatabase(opts: StoreOptions): Promise<Db> {
  let db: Db;
  if (opts.databaseUrl) {
    const schema = opts.pgSchema;
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: 10,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    if (schema) {
      if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name ${schema}`);
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    }
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    db = {
      kysely,
      caps: postgresCapabilities,
      description: `PostgreSQL ${redactUrl(opts.databaseUrl)}${schema ? ` (schema ${schema})` : ''}`,
      close: () => kysely.destroy(),
    };
  } else {
    const file = opts.sqliteFile;
    if (!file) throw new Error('sqliteFile is required without databaseUrl');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
    // FULL: every commit is fsynced before it returns, so a 200 means the value is on disk.
    sqlite.pragma(`synchronous = ${opts.sqliteSynchronous ?? 'FULL'}`);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    db = {
      kysely,
      caps: sqliteCapabilities,
      sqlite,
      description: `SQLite ${file} (WAL, synchronous=${opts.sqliteSynchronous ?? 'FULL'})`,
      close: () => kysely.destroy(),
    };
  }
  await migrateToLatest(db.kysely, db.caps, opts.databaseUrl ? opts.pgSchema : undefined);
  return db;
}
