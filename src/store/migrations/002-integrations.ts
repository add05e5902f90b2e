import type { Kysely } from 'kysely';
import type { DialectCapabilities } from '../capabilities.ts';

/** Integrations (The Things Stack, later Particle...): settings, a sealed secret, status. */
export async function up(db: Kysely<unknown>, caps: DialectCapabilities): Promise<void> {
  await db.schema
    .createTable('integrations')
    .addColumn('id', caps.autoIdType, (c) => caps.autoId(c))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull().references('templates.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', caps.bigintType, (c) => c.notNull())
    .addColumn('updated_at', caps.bigintType, (c) => c.notNull())
    .addUniqueConstraint('integrations_template_type', ['template_id', 'type'])
    .execute();
  await db.schema.createIndex('integrations_org').on('integrations').columns(['org_id', 'type']).execute();
}
