import type { Kysely } from 'kysely';
import type { DialectCapabilities } from '../capabilities.ts';

/** One web dashboard per template, stored as JSON (tabs of widgets bound to datastream pins). */
export async function up(db: Kysely<unknown>, caps: DialectCapabilities): Promise<void> {
  await db.schema
    .createTable('dashboards')
    .addColumn('template_id', 'text', (c) => c.primaryKey().references('templates.id').onDelete('cascade'))
    .addColumn('doc', 'text', (c) => c.notNull())
    .addColumn('updated_at', caps.bigintType, (c) => c.notNull())
    .execute();
}
