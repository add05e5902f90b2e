import type { Kysely, Selectable } from 'kysely';
import type { Datastream, DatastreamType, EnumOption, StoredValue } from '../domain/datastream.ts';
import type { EventType, Metafield, MetafieldType, Template, TemplateEvent, TemplateModel } from '../domain/model.ts';
import { indexTemplate } from '../domain/model.ts';
import type { Database } from './schema.ts';

type DB = Kysely<Database>;

function toTemplate(r: Selectable<Database['templates']>): Template {
  return {
    id: r.id,
    orgId: r.org_id,
    name: r.name,
    description: r.description,
    logAnyData: r.log_any_data === 1,
    offlineAfterSeconds: r.offline_after_seconds,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const parseJson = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

export function toDatastream(r: Selectable<Database['datastreams']>): Datastream {
  return {
    id: r.id,
    templateId: r.template_id,
    name: r.name,
    pin: r.pin,
    type: r.type as DatastreamType,
    min: r.min,
    max: r.max,
    decimals: r.decimals,
    units: r.units,
    defaultValue: parseJson<StoredValue>(r.default_value),
    saveRaw: r.save_raw === 1,
    syncOnConnect: r.sync_on_connect === 1,
    options: parseJson<EnumOption[]>(r.options),
    fallback: r.fallback,
    color: r.color,
  };
}

function toMetafield(r: Selectable<Database['metafields']>): Metafield {
  return {
    id: r.id,
    templateId: r.template_id,
    name: r.name,
    type: r.type as MetafieldType,
    required: r.required === 1,
    defaultValue: parseJson<unknown>(r.default_value),
  };
}

function toEvent(r: Selectable<Database['template_events']>): TemplateEvent {
  return {
    id: r.id,
    templateId: r.template_id,
    code: r.code,
    name: r.name,
    type: r.type as EventType,
    description: r.description,
  };
}

export function datastreamRow(d: Datastream): Database['datastreams'] {
  return {
    template_id: d.templateId,
    id: d.id,
    name: d.name,
    pin: d.pin,
    type: d.type,
    min: d.min,
    max: d.max,
    decimals: d.decimals,
    units: d.units,
    default_value: d.defaultValue === null ? null : JSON.stringify(d.defaultValue),
    save_raw: d.saveRaw ? 1 : 0,
    sync_on_connect: d.syncOnConnect ? 1 : 0,
    options: d.options === null ? null : JSON.stringify(d.options),
    fallback: d.fallback,
    color: d.color,
  };
}

export class TemplatesRepo {
  constructor(private readonly db: DB) {}

  async create(t: Template): Promise<void> {
    await this.db
      .insertInto('templates')
      .values({
        id: t.id,
        org_id: t.orgId,
        name: t.name,
        description: t.description,
        log_any_data: t.logAnyData ? 1 : 0,
        offline_after_seconds: t.offlineAfterSeconds,
        next_datastream_id: 1,
        next_metafield_id: 1,
        next_event_id: 1,
        created_at: t.createdAt,
        updated_at: t.updatedAt,
      })
      .execute();
  }

  async list(orgId: number): Promise<Template[]> {
    const rows = await this.db
      .selectFrom('templates')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toTemplate);
  }

  async get(id: string): Promise<Template | undefined> {
    const r = await this.db.selectFrom('templates').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toTemplate(r) : undefined;
  }

  async update(
    id: string,
    patch: Partial<Pick<Template, 'name' | 'description' | 'logAnyData' | 'offlineAfterSeconds'>>,
    now: number,
  ): Promise<void> {
    await this.db
      .updateTable('templates')
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.logAnyData !== undefined ? { log_any_data: patch.logAnyData ? 1 : 0 } : {}),
        ...(patch.offlineAfterSeconds !== undefined ? { offline_after_seconds: patch.offlineAfterSeconds } : {}),
        updated_at: now,
      })
      .where('id', '=', id)
      .execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const devices = trx.selectFrom('devices').select('id').where('template_id', '=', id);
      await trx.deleteFrom('latest_values').where('device_id', 'in', devices).execute();
      await trx.deleteFrom('history_raw').where('device_id', 'in', devices).execute();
      await trx.deleteFrom('history_minute').where('device_id', 'in', devices).execute();
      await trx.deleteFrom('device_properties').where('device_id', 'in', devices).execute();
      await trx.deleteFrom('timeline').where('device_id', 'in', devices).execute();
      await trx.deleteFrom('templates').where('id', '=', id).execute();
    });
  }

  /** Loads a template and its datastreams, metafields and events, indexed. */
  async loadModel(id: string): Promise<TemplateModel | undefined> {
    const t = await this.get(id);
    if (!t) return undefined;
    const [ds, mf, ev] = await Promise.all([
      this.db.selectFrom('datastreams').selectAll().where('template_id', '=', id).orderBy('id').execute(),
      this.db.selectFrom('metafields').selectAll().where('template_id', '=', id).orderBy('id').execute(),
      this.db.selectFrom('template_events').selectAll().where('template_id', '=', id).orderBy('id').execute(),
    ]);
    return indexTemplate(t, ds.map(toDatastream), mf.map(toMetafield), ev.map(toEvent));
  }

  /** Takes the next per-template id for a datastream, metafield or event. */
  private async nextId(
    trx: DB,
    templateId: string,
    column: 'next_datastream_id' | 'next_metafield_id' | 'next_event_id',
  ): Promise<number> {
    const row = await trx
      .updateTable('templates')
      .set((eb) => ({ [column]: eb(column, '+', 1) }))
      .where('id', '=', templateId)
      .returning(column)
      .executeTakeFirstOrThrow();
    return (row as Record<string, number>)[column]! - 1;
  }

  async addDatastream(d: Omit<Datastream, 'id'>, now: number): Promise<Datastream> {
    return this.db.transaction().execute(async (trx) => {
      const id = await this.nextId(trx, d.templateId, 'next_datastream_id');
      const full = { ...d, id };
      await trx.insertInto('datastreams').values(datastreamRow(full)).execute();
      await trx.updateTable('templates').set({ updated_at: now }).where('id', '=', d.templateId).execute();
      return full;
    });
  }

  async updateDatastream(d: Datastream, now: number): Promise<void> {
    const { template_id, id, ...row } = datastreamRow(d);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('datastreams')
        .set(row)
        .where('template_id', '=', template_id)
        .where('id', '=', id)
        .execute();
      await trx.updateTable('templates').set({ updated_at: now }).where('id', '=', template_id).execute();
    });
  }

  async deleteDatastream(templateId: string, id: number): Promise<void> {
    await this.db.deleteFrom('datastreams').where('template_id', '=', templateId).where('id', '=', id).execute();
  }

  async addMetafield(m: Omit<Metafield, 'id'>): Promise<Metafield> {
    return this.db.transaction().execute(async (trx) => {
      const id = await this.nextId(trx, m.templateId, 'next_metafield_id');
      await trx
        .insertInto('metafields')
        .values({
          template_id: m.templateId,
          id,
          name: m.name,
          type: m.type,
          required: m.required ? 1 : 0,
          default_value:
            m.defaultValue === null || m.defaultValue === undefined ? null : JSON.stringify(m.defaultValue),
        })
        .execute();
      return { ...m, id };
    });
  }

  async deleteMetafield(templateId: string, id: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('device_metadata')
        .where('metafield_id', '=', id)
        .where('device_id', 'in', trx.selectFrom('devices').select('id').where('template_id', '=', templateId))
        .execute();
      await trx.deleteFrom('metafields').where('template_id', '=', templateId).where('id', '=', id).execute();
    });
  }

  async addEvent(e: Omit<TemplateEvent, 'id'>): Promise<TemplateEvent> {
    return this.db.transaction().execute(async (trx) => {
      const id = await this.nextId(trx, e.templateId, 'next_event_id');
      await trx
        .insertInto('template_events')
        .values({ template_id: e.templateId, id, code: e.code, name: e.name, type: e.type, description: e.description })
        .execute();
      return { ...e, id };
    });
  }

  async deleteEvent(templateId: string, id: number): Promise<void> {
    await this.db.deleteFrom('template_events').where('template_id', '=', templateId).where('id', '=', id).execute();
  }

  /** The template's web dashboard (JSON as stored), or undefined when none was saved. */
  async getDashboard(templateId: string): Promise<{ doc: unknown; updatedAt: number } | undefined> {
    const r = await this.db
      .selectFrom('dashboards')
      .selectAll()
      .where('template_id', '=', templateId)
      .executeTakeFirst();
    return r ? { doc: JSON.parse(r.doc), updatedAt: Number(r.updated_at) } : undefined;
  }

  async putDashboard(templateId: string, doc: unknown, now: number): Promise<void> {
    const text = JSON.stringify(doc);
    await this.db
      .insertInto('dashboards')
      .values({ template_id: templateId, doc: text, updated_at: now })
      .onConflict((oc) => oc.column('template_id').doUpdateSet({ doc: text, updated_at: now }))
      .execute();
  }
}
