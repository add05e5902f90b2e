import type { Kysely } from 'kysely';
import type { DialectCapabilities } from '../capabilities.ts';

/**
 * Outgoing webhooks: their definitions (secrets sealed), the outbox of deliveries still to
 * make (it survives a restart), and a log of attempts per webhook.
 */
export async function up(db: Kysely<unknown>, caps: DialectCapabilities): Promise<void> {
  await db.schema
    .createTable('webhooks')
    .addColumn('id', caps.autoIdType, (c) => caps.autoId(c))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('template_id', 'text', (c) => c.notNull().references('templates.id').onDelete('cascade'))
    .addColumn('device_id', 'integer', (c) => c.references('devices.id').onDelete('cascade'))
    .addColumn('pin', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('body', 'text')
    .addColumn('headers', 'text', (c) => c.notNull())
    .addColumn('query', 'text', (c) => c.notNull())
    .addColumn('auth_type', 'text', (c) => c.notNull())
    .addColumn('auth_username', 'text')
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('per_minute', 'integer', (c) => c.notNull())
    .addColumn('disable_after', 'integer', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('disabled_reason', 'text')
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull())
    .addColumn('tokens', caps.doubleType, (c) => c.notNull())
    .addColumn('tokens_at', caps.bigintType, (c) => c.notNull())
    .addColumn('last_triggered_at', caps.bigintType)
    .addColumn('last_status', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('created_at', caps.bigintType, (c) => c.notNull())
    .addColumn('updated_at', caps.bigintType, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhooks_org').on('webhooks').columns(['org_id']).execute();
  await db.schema.createIndex('webhooks_template').on('webhooks').columns(['template_id']).execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', caps.autoIdType, (c) => caps.autoId(c))
    .addColumn('webhook_id', 'integer', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('device_id', 'integer')
    .addColumn('vars_enc', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('due_at', caps.bigintType, (c) => c.notNull())
    .addColumn('created_at', caps.bigintType, (c) => c.notNull())
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['due_at']).execute();
  await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['webhook_id']).execute();

  await db.schema
    .createTable('webhook_log')
    .addColumn('id', caps.autoIdType, (c) => caps.autoId(c))
    .addColumn('webhook_id', 'integer', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('device_id', 'integer')
    .addColumn('ts', caps.bigintType, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('http_status', 'integer')
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('response', 'text')
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_log_webhook').on('webhook_log').columns(['webhook_id', 'id']).execute();
}
