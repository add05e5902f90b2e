import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { DialectCapabilities } from './capabilities.ts';
import * as m001 from './migrations/001-initial.ts';
import * as m002 from './migrations/002-integrations.ts';
import * as m003 from './migrations/003-webhooks.ts';
import * as m004 from './migrations/004-dashboards.ts';

interface MigrationModule {
  up(db: Kysely<unknown>, caps: DialectCapabilities): Promise<void>;
}

/** Migrations in order; add new files here. Names are stored, so never rename one. */
const migrations: Record<string, MigrationModule> = {
  '001-initial': m001,
  '002-integrations': m002,
  '003-webhooks': m003,
  '004-dashboards': m004,
};

class StaticProvider implements MigrationProvider {
  constructor(private readonly caps: DialectCapabilities) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, mod] of Object.entries(migrations)) {
      out[name] = { up: (db) => mod.up(db, this.caps) };
    }
    return out;
  }
}

export async function migrateToLatest(db: Kysely<any>, caps: DialectCapabilities, schema?: string): Promise<void> {
  // With a schema, the migration tables are looked up there and not in any schema that
  // happens to hold a table of the same name.
  const migrator = new Migrator({
    db,
    provider: new StaticProvider(caps),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? 'unknown error');
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
}
