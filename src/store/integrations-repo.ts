import type { Kysely, Selectable } from 'kysely';
import type { SecretBox } from '../security/secret-box.ts';
import type { Database } from './schema.ts';

export type IntegrationStatus = 'not_connected' | 'connected' | 'broken';

/** An integration as stored. `secret` is decrypted in memory only, never returned by the API. */
export interface IntegrationRecord<S = Record<string, unknown>> {
  id: number;
  orgId: number;
  type: string;
  templateId: string;
  name: string;
  settings: S;
  secret: string;
  status: IntegrationStatus;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export class IntegrationsRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox,
  ) {}

  private toRecord<S>(r: Selectable<Database['integrations']>): IntegrationRecord<S> {
    return {
      id: r.id,
      orgId: r.org_id,
      type: r.type,
      templateId: r.template_id,
      name: r.name,
      settings: JSON.parse(r.settings) as S,
      secret: this.box.open(r.secret_enc),
      status: r.status as IntegrationStatus,
      lastError: r.last_error,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  async create<S>(i: Omit<IntegrationRecord<S>, 'id' | 'status' | 'lastError'>): Promise<IntegrationRecord<S>> {
    const row = await this.db
      .insertInto('integrations')
      .values({
        org_id: i.orgId,
        type: i.type,
        template_id: i.templateId,
        name: i.name,
        settings: JSON.stringify(i.settings),
        secret_enc: this.box.seal(i.secret),
        status: 'not_connected',
        last_error: null,
        created_at: i.createdAt,
        updated_at: i.updatedAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return this.toRecord<S>(row);
  }

  async list<S>(type: string, orgId?: number): Promise<IntegrationRecord<S>[]> {
    let q = this.db.selectFrom('integrations').selectAll().where('type', '=', type);
    if (orgId !== undefined) q = q.where('org_id', '=', orgId);
    const rows = await q.orderBy('id').execute();
    return rows.map((r) => this.toRecord<S>(r));
  }

  async get<S>(id: number): Promise<IntegrationRecord<S> | undefined> {
    const r = await this.db.selectFrom('integrations').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? this.toRecord<S>(r) : undefined;
  }

  async update<S>(id: number, patch: { name?: string; settings?: S; secret?: string }, now: number): Promise<void> {
    await this.db
      .updateTable('integrations')
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.settings !== undefined ? { settings: JSON.stringify(patch.settings) } : {}),
        ...(patch.secret !== undefined ? { secret_enc: this.box.seal(patch.secret) } : {}),
        updated_at: now,
      })
      .where('id', '=', id)
      .execute();
  }

  async setStatus(id: number, status: IntegrationStatus, lastError: string | null): Promise<void> {
    await this.db.updateTable('integrations').set({ status, last_error: lastError }).where('id', '=', id).execute();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('integrations').where('id', '=', id).execute();
  }
}
