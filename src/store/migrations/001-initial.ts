import type { Kysely } from 'kysely';
import type { DialectCapabilities } from '../capabilities.ts';

/** The first schema. Written once, run on SQLite and PostgreSQL alike. */
export async function up(db: Kysely<unknown>, caps: DialectCapabilities): Promise<void> {
  const ts = caps.bigintType;
  const real = caps.doubleType;

  await db.schema
    .createTable('organizations')
    .addColumn('id', caps.autoIdType, (c) => caps.autoId(c))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', caps.autoIdType, (c) => caps.autoId(c))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('auth_tokens')
    .addColumn('id', caps.autoIdType, (c) => caps.autoId(c))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('expires_at', ts)
    .execute();

  await db.schema
    .createTable('templates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('log_any_data', 'integer', (c) => c.notNull())
    .addColumn('offline_after_seconds', 'integer', (c) => c.notNull())
    .addColumn('next_datastream_id', 'integer', (c) => c.notNull())
    .addColumn('next_metafield_id', 'integer', (c) => c.notNull())
    .addColumn('next_event_id', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('templates_org').on('templates').column('org_id').execute();

  await db.schema
    .createTable('datastreams')
    .addColumn('template_id', 'text', (c) => c.notNull().references('templates.id').onDelete('cascade'))
    .addColumn('id', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('pin', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('min', real)
    .addColumn('max', real)
    .addColumn('decimals', 'text')
    .addColumn('units', 'text')
    .addColumn('default_value', 'text')
    .addColumn('save_raw', 'integer', (c) => c.notNull())
    .addColumn('sync_on_connect', 'integer', (c) => c.notNull())
    .addColumn('options', 'text')
    .addColumn('fallback', 'integer')
    .addColumn('color', 'text')
    .addPrimaryKeyConstraint('datastreams_pk', ['template_id', 'id'])
    .addUniqueConstraint('datastreams_pin', ['template_id', 'pin'])
    .addUniqueConstraint('datastreams_name', ['template_id', 'name'])
    .execute();

  await db.schema
    .createTable('metafields')
    .addColumn('template_id', 'text', (c) => c.notNull().references('templates.id').onDelete('cascade'))
    .addColumn('id', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('required', 'integer', (c) => c.notNull())
    .addColumn('default_value', 'text')
    .addPrimaryKeyConstraint('metafields_pk', ['template_id', 'id'])
    .addUniqueConstraint('metafields_name', ['template_id', 'name'])
    .execute();

  await db.schema
    .createTable('template_events')
    .addColumn('template_id', 'text', (c) => c.notNull().references('templates.id').onDelete('cascade'))
    .addColumn('id', 'integer', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('template_events_pk', ['template_id', 'id'])
    .addUniqueConstraint('template_events_code', ['template_id', 'code'])
    .execute();

  await db.schema
    .createTable('devices')
    .addColumn('id', caps.autoIdType, (c) => caps.autoId(c))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('template_id', 'text', (c) => c.notNull().references('templates.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('token_enc', 'text', (c) => c.notNull())
    .addColumn('online', 'integer', (c) => c.notNull())
    .addColumn('last_seen_at', ts)
    .addColumn('firmware_version', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('devices_org').on('devices').columns(['org_id', 'template_id']).execute();

  await db.schema
    .createTable('device_metadata')
    .addColumn('device_id', 'integer', (c) => c.notNull().references('devices.id').onDelete('cascade'))
    .addColumn('metafield_id', 'integer', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_metadata_pk', ['device_id', 'metafield_id'])
    .execute();
  await db.schema
    .createIndex('device_metadata_value')
    .on('device_metadata')
    .columns(['metafield_id', 'value'])
    .execute();

  // Tables written by the batched writer carry no foreign key to devices: a device deleted
  // while its values sit in a batch must not fail the whole batch (other devices' accepted
  // writes). They are cleaned up when the device is deleted.
  await db.schema
    .createTable('latest_values')
    .addColumn('device_id', 'integer', (c) => c.notNull())
    .addColumn('pin', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('ts', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('latest_values_pk', ['device_id', 'pin'])
    .execute();

  await db.schema
    .createTable('history_raw')
    .addColumn('device_id', 'integer', (c) => c.notNull())
    .addColumn('pin', 'text', (c) => c.notNull())
    .addColumn('ts', ts, (c) => c.notNull())
    .addColumn('num', real)
    .addColumn('text', 'text')
    .execute();
  await db.schema.createIndex('history_raw_lookup').on('history_raw').columns(['device_id', 'pin', 'ts']).execute();

  await db.schema
    .createTable('history_minute')
    .addColumn('device_id', 'integer', (c) => c.notNull())
    .addColumn('pin', 'text', (c) => c.notNull())
    .addColumn('minute', ts, (c) => c.notNull())
    .addColumn('sum', real, (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('min', real)
    .addColumn('max', real)
    .addColumn('last_text', 'text')
    .addPrimaryKeyConstraint('history_minute_pk', ['device_id', 'pin', 'minute'])
    .execute();

  await db.schema
    .createTable('device_properties')
    .addColumn('device_id', 'integer', (c) => c.notNull())
    .addColumn('pin', 'text', (c) => c.notNull())
    .addColumn('property', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('ts', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('device_properties_pk', ['device_id', 'pin', 'property'])
    .execute();

  await db.schema
    .createTable('timeline')
    .addColumn('id', caps.autoIdType, (c) => caps.autoId(c))
    .addColumn('device_id', 'integer', (c) => c.notNull())
    .addColumn('ts', ts, (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('timeline_device').on('timeline').columns(['device_id', 'ts']).execute();
}
