import { type Kysely, type Selectable, sql } from 'kysely';
import type { StoredValue } from '../domain/datastream.ts';
import type { Device, LatestValue } from '../domain/model.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { Database } from './schema.ts';

type DB = Kysely<Database>;

export interface DeviceListQuery {
  orgId: number;
  templateId?: string | undefined;
  search?: string | undefined;
  limit: number;
  offset: number;
}

export class DevicesRepo {
  constructor(
    private readonly db: DB,
    private readonly box: SecretBox,
  ) {}

  private toDevice(r: Selectable<Database['devices']>, metadata: Map<number, unknown>): Device {
    return {
      id: r.id,
      orgId: r.org_id,
      templateId: r.template_id,
      name: r.name,
      token: this.box.open(r.token_enc),
      online: r.online === 1,
      lastSeenAt: r.last_seen_at,
      firmwareVersion: r.firmware_version,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      metadata,
    };
  }

  private async metadataFor(ids: number[]): Promise<Map<number, Map<number, unknown>>> {
    const out = new Map<number, Map<number, unknown>>();
    for (const id of ids) out.set(id, new Map());
    if (ids.length === 0) return out;
    const rows = await this.db.selectFrom('device_metadata').selectAll().where('device_id', 'in', ids).execute();
    for (const r of rows) out.get(r.device_id)?.set(r.metafield_id, JSON.parse(r.value));
    return out;
  }

  async create(input: {
    orgId: number;
    templateId: string;
    name: string;
    token: string;
    tokenHash: string;
    metadata: Map<number, unknown>;
    now: number;
  }): Promise<Device> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('devices')
        .values({
          org_id: input.orgId,
          template_id: input.templateId,
          name: input.name,
          token_hash: input.tokenHash,
          token_enc: this.box.seal(input.token),
          online: 0,
          last_seen_at: null,
          firmware_version: null,
          created_at: input.now,
          updated_at: input.now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      if (input.metadata.size > 0) {
        await trx
          .insertInto('device_metadata')
          .values(
            [...input.metadata].map(([k, v]) => ({ device_id: row.id, metafield_id: k, value: JSON.stringify(v) })),
          )
          .execute();
      }
      return this.toDevice(row, new Map(input.metadata));
    });
  }

  async get(id: number): Promise<Device | undefined> {
    const r = await this.db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return undefined;
    const md = await this.metadataFor([r.id]);
    return this.toDevice(r, md.get(r.id)!);
  }

  async idByTokenHash(hash: string): Promise<number | undefined> {
    const r = await this.db.selectFrom('devices').select('id').where('token_hash', '=', hash).executeTakeFirst();
    return r?.id;
  }

  async list(q: DeviceListQuery): Promise<{ items: Device[]; total: number }> {
    let base = this.db.selectFrom('devices').where('org_id', '=', q.orgId);
    if (q.templateId) base = base.where('template_id', '=', q.templateId);
    if (q.search) {
      const like = `%${q.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      // SQLite's LIKE has no escape character unless one is named; PostgreSQL's is "\".
      base = base.where(sql<boolean>`lower(name) like ${like} escape '\\'`);
    }
    const [rows, count] = await Promise.all([
      base.selectAll().orderBy('id').limit(q.limit).offset(q.offset).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    const md = await this.metadataFor(rows.map((r) => r.id));
    return { items: rows.map((r) => this.toDevice(r, md.get(r.id)!)), total: Number(count.n) };
  }

  /** Devices of a template whose metafield has the given value (integration routing). */
  async findByMetafield(templateId: string, metafieldId: number, value: unknown): Promise<number[]> {
    const rows = await this.db
      .selectFrom('device_metadata')
      .innerJoin('devices', 'devices.id', 'device_metadata.device_id')
      .select('devices.id')
      .where('devices.template_id', '=', templateId)
      .where('device_metadata.metafield_id', '=', metafieldId)
      .where('device_metadata.value', '=', JSON.stringify(value))
      .orderBy('devices.id')
      .execute();
    return rows.map((r) => r.id);
  }

  async update(id: number, patch: { name?: string; metadata?: Map<number, unknown> }, now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('devices')
        .set({ ...(patch.name !== undefined ? { name: patch.name } : {}), updated_at: now })
        .where('id', '=', id)
        .execute();
      for (const [metafieldId, value] of patch.metadata ?? []) {
        await trx
          .insertInto('device_metadata')
          .values({ device_id: id, metafield_id: metafieldId, value: JSON.stringify(value) })
          .onConflict((oc) => oc.columns(['device_id', 'metafield_id']).doUpdateSet({ value: JSON.stringify(value) }))
          .execute();
      }
    });
  }

  async setFirmwareVersion(id: number, version: string, now: number): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({ firmware_version: version, updated_at: now })
      .where('id', '=', id)
      .execute();
  }

  async delete(id: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('latest_values').where('device_id', '=', id).execute();
      await trx.deleteFrom('history_raw').where('device_id', '=', id).execute();
      await trx.deleteFrom('history_minute').where('device_id', '=', id).execute();
      await trx.deleteFrom('device_properties').where('device_id', '=', id).execute();
      await trx.deleteFrom('timeline').where('device_id', '=', id).execute();
      await trx.deleteFrom('devices').where('id', '=', id).execute();
    });
  }

  async latestValues(id: number): Promise<Map<string, LatestValue>> {
    const rows = await this.db.selectFrom('latest_values').selectAll().where('device_id', '=', id).execute();
    return new Map(rows.map((r) => [r.pin, { value: JSON.parse(r.value) as StoredValue, ts: r.ts }]));
  }

  async deleteLatestValue(id: number, pin: string): Promise<void> {
    await this.db.deleteFrom('latest_values').where('device_id', '=', id).where('pin', '=', pin).execute();
  }

  /** Devices that were online when the process last stopped (their timers must resume). */
  async onlineDevices(): Promise<Array<{ id: number; templateId: string; lastSeenAt: number | null }>> {
    const rows = await this.db
      .selectFrom('devices')
      .select(['id', 'template_id', 'last_seen_at'])
      .where('online', '=', 1)
      .execute();
    return rows.map((r) => ({ id: r.id, templateId: r.template_id, lastSeenAt: r.last_seen_at }));
  }

  async properties(id: number): Promise<Array<{ pin: string; property: string; value: unknown; ts: number }>> {
    const rows = await this.db.selectFrom('device_properties').selectAll().where('device_id', '=', id).execute();
    return rows.map((r) => ({ pin: r.pin, property: r.property, value: JSON.parse(r.value), ts: r.ts }));
  }
}
