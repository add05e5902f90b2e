import type { ColumnDefinitionBuilder } from 'kysely';

/**
 * What a storage backend can do, asked by the code instead of checking the backend's name
 * (the habit of kysely's dialect adapters). Everything dialect-specific lives here.
 */
export interface DialectCapabilities {
  readonly kind: 'sqlite' | 'postgres';
  /** Column type of an auto-increment primary key. */
  readonly autoIdType: 'integer' | 'serial';
  autoId(c: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** Column type for Unix-millisecond timestamps. */
  readonly bigintType: 'integer' | 'bigint';
  readonly doubleType: 'real' | 'double precision';
  /** Two-argument scalar min/max functions. */
  readonly leastFn: 'min' | 'least';
  readonly greatestFn: 'max' | 'greatest';
  /** Most bind parameters one statement may carry. */
  readonly maxParams: number;
  /** `FOR UPDATE SKIP LOCKED` for claiming work rows (SQLite has one writer and needs none). */
  readonly skipLocked: boolean;
}

export const sqliteCapabilities: DialectCapabilities = {
  kind: 'sqlite',
  autoIdType: 'integer',
  autoId: (c) => c.primaryKey().autoIncrement(),
  bigintType: 'integer',
  doubleType: 'real',
  leastFn: 'min',
  greatestFn: 'max',
  maxParams: 30_000,
  skipLocked: false,
};

export const postgresCapabilities: DialectCapabilities = {
  kind: 'postgres',
  autoIdType: 'serial',
  autoId: (c) => c.primaryKey(),
  bigintType: 'bigint',
  doubleType: 'double precision',
  leastFn: 'least',
  greatestFn: 'greatest',
  maxParams: 60_000,
  skipLocked: true,
};
