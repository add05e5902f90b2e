import { type Kysely, type Selectable, sql } from 'kysely';
import type { SecretBox } from '../security/secret-box.ts';
import type { DialectCapabilities } from '../store/capabilities.ts';
import type { Database } from '../store/schema.ts';

export const WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
export type WebhookMethod = (typeof WEBHOOK_METHODS)[number];
export const WEBHOOK_CONTENT_TYPES = ['form', 'json', 'text'] as const;
export type WebhookContentType = (typeof WEBHOOK_CONTENT_TYPES)[number];
export const WEBHOOK_AUTH_TYPES = ['none', 'basic', 'bearer'] as const;
export type WebhookAuthType = (typeof WEBHOOK_AUTH_TYPES)[number];

/** What is sealed with the SecretBox: auth secrets and the values of sensitive headers. */
export interface WebhookSecrets {
  password?: string;
  token?: string;
  headers: Record<string, string>;
}

export type WebhookBody = string | Record<string, unknown>;

/** A webhook as stored, secrets opened (in memory only; the API never returns them). */
export interface WebhookRecord {
  id: number;
  orgId: number;
  templateId: string;
  deviceId: number | null;
  pin: string;
  name: string;
  url: string;
  method: WebhookMethod;
  contentType: WebhookContentType;
  body: WebhookBody | null;
  /** Headers that are not secret. */
  headers: Record<string, string>;
  query: Record<string, string>;
  authType: WebhookAuthType;
  authUsername: string | null;
  secrets: WebhookSecrets;
  perMinute: number;
  disableAfter: number;
  enabled: boolean;
  disabledReason: string | null;
  consecutiveFailures: number;
  lastTriggeredAt: number | null;
  lastStatus: string | null;
  attempts: number;
  createdAt: number;
  updatedAt: number;
}

export type WebhookDefinition = Pick<
  WebhookRecord,
  | 'templateId'
  | 'deviceId'
  | 'pin'
  | 'name'
  | 'url'
  | 'method'
  | 'contentType'
  | 'body'
  | 'headers'
  | 'query'
  | 'authType'
  | 'authUsername'
  | 'secrets'
  | 'perMinute'
  | 'disableAfter'
  | 'enabled'
>;

export interface DeliveryRow {
  id: number;
  webhookId: number;
  deviceId: number | null;
  varsEnc: string;
  /** Attempts made, counting the one this claim is for. */
  attempts: number;
  createdAt: number;
}

export type LogStatus = 'OK' | 'Failed' | 'Retrying' | 'Dropped';

export interface LogEntry {
  webhookId: number;
  deviceId: number | null;
  ts: number;
  status: LogStatus;
  httpStatus: number | null;
  url: string;
  error: string | null;
  response: string | null;
  attempt: number;
}

export class WebhooksRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps: DialectCapabilities,
    private readonly box: SecretBox,
  ) {}

  private toRecord(r: Selectable<Database['webhooks']>): WebhookRecord {
    return {
      id: r.id,
      orgId: r.org_id,
      templateId: r.template_id,
      deviceId: r.device_id,
      pin: r.pin,
      name: r.name,
      url: r.url,
      method: r.method as WebhookMethod,
      contentType: r.content_type as WebhookContentType,
      body: r.body === null ? null : (JSON.parse(r.body) as WebhookBody),
      headers: JSON.parse(r.headers) as Record<string, string>,
      query: JSON.parse(r.query) as Record<string, string>,
      authType: r.auth_type as WebhookAuthType,
      authUsername: r.auth_username,
      secrets: JSON.parse(this.box.open(r.secret_enc)) as WebhookSecrets,
      perMinute: r.per_minute,
      disableAfter: r.disable_after,
      enabled: r.enabled === 1,
      disabledReason: r.disabled_reason,
      consecutiveFailures: r.consecutive_failures,
      lastTriggeredAt: r.last_triggered_at,
      lastStatus: r.last_status,
      attempts: r.attempts,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  private columns(d: WebhookDefinition) {
    return {
      template_id: d.templateId,
      device_id: d.deviceId,
      pin: d.pin,
      name: d.name,
      url: d.url,
      method: d.method,
      content_type: d.contentType,
      body: d.body === null ? null : JSON.stringify(d.body),
      headers: JSON.stringify(d.headers),
      query: JSON.stringify(d.query),
      auth_type: d.authType,
      auth_username: d.authUsername,
      secret_enc: this.box.seal(JSON.stringify(d.secrets)),
      per_minute: d.perMinute,
      disable_after: d.disableAfter,
      enabled: d.enabled ? 1 : 0,
    };
  }

  async create(orgId: number, d: WebhookDefinition, now: number): Promise<WebhookRecord> {
    const row = await this.db
      .insertInto('webhooks')
      .values({
        org_id: orgId,
        ...this.columns(d),
        disabled_reason: null,
        consecutive_failures: 0,
        tokens: d.perMinute,
        tokens_at: now,
        last_triggered_at: null,
        last_status: null,
        attempts: 0,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return this.toRecord(row);
  }

  async get(id: number): Promise<WebhookRecord | undefined> {
    const r = await this.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? this.toRecord(r) : undefined;
  }

  async list(orgId?: number): Promise<WebhookRecord[]> {
    let q = this.db.selectFrom('webhooks').selectAll();
    if (orgId !== undefined) q = q.where('org_id', '=', orgId);
    return (await q.orderBy('id').execute()).map((r) => this.toRecord(r));
  }

  /** Replaces the definition; re-enabling clears the failure state; the quota bucket refills. */
  async update(id: number, d: WebhookDefinition, now: number): Promise<void> {
    await this.db
      .updateTable('webhooks')
      .set({
        ...this.columns(d),
        ...(d.enabled ? { disabled_reason: null, consecutive_failures: 0 } : {}),
        tokens: d.perMinute,
        tokens_at: now,
        updated_at: now,
      })
      .where('id', '=', id)
      .execute();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('webhooks').where('id', '=', id).execute();
  }

  /**
   * Takes one request from the webhook's token bucket (capacity perMinute, refilled at
   * perMinute per minute) in one atomic statement, so instances sharing PostgreSQL agree.
   * False: over quota.
   */
  async takeToken(id: number, now: number): Promise<boolean> {
    const least = sql.raw(this.caps.leastFn);
    const greatest = sql.raw(this.caps.greatestFn);
    const level = sql<number>`${least}(per_minute, tokens + ${greatest}(${now} - tokens_at, 0) * per_minute / 60000.0)`;
    const r = await this.db
      .updateTable('webhooks')
      .set({
        tokens: sql<number>`${level} - 1`,
        tokens_at: sql<number>`${greatest}(tokens_at, ${now})`,
        last_triggered_at: now,
      })
      .where('id', '=', id)
      .where(sql<boolean>`${level} >= 1`)
      .returning('id')
      .executeTakeFirst();
    return r !== undefined;
  }

  async noteTriggered(id: number, now: number): Promise<void> {
    await this.db.updateTable('webhooks').set({ last_triggered_at: now }).where('id', '=', id).execute();
  }

  async addDelivery(d: { webhookId: number; deviceId: number | null; vars: string; now: number }): Promise<void> {
    await this.db
      .insertInto('webhook_deliveries')
      .values({
        webhook_id: d.webhookId,
        device_id: d.deviceId,
        vars_enc: this.box.seal(d.vars),
        attempts: 0,
        due_at: d.now,
        created_at: d.now,
        last_error: null,
      })
      .execute();
  }

  /**
   * Claims up to `limit` due deliveries: their due time moves `leaseMs` ahead (if this
   * process dies mid-request the row becomes due again) and the attempt is counted. On
   * PostgreSQL, rows another instance is claiming are skipped (FOR UPDATE SKIP LOCKED);
   * SQLite has a single writer, so the statement alone is atomic.
   */
  async claim(now: number, leaseMs: number, limit: number): Promise<DeliveryRow[]> {
    let due = this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('due_at', '<=', now)
      .orderBy('due_at')
      .orderBy('id')
      .limit(limit);
    if (this.caps.skipLocked) due = due.forUpdate().skipLocked();
    const rows = await this.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ due_at: now + leaseMs, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', due)
      .returningAll()
      .execute();
    return rows
      .map((r) => ({
        id: r.id,
        webhookId: r.webhook_id,
        deviceId: r.device_id,
        varsEnc: r.vars_enc,
        attempts: r.attempts,
        createdAt: r.created_at,
      }))
      .sort((a, b) => a.id - b.id);
  }

  openVars(d: DeliveryRow): string {
    return this.box.open(d.varsEnc);
  }

  async removeDelivery(id: number): Promise<void> {
    await this.db.deleteFrom('webhook_deliveries').where('id', '=', id).execute();
  }

  async retryLater(id: number, dueAt: number, error: string): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ due_at: dueAt, last_error: error })
      .where('id', '=', id)
      .execute();
  }

  async pendingCount(webhookId: number): Promise<number> {
    const r = await this.db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('webhook_id', '=', webhookId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async countAttempt(id: number, status: string | null): Promise<void> {
    await this.db
      .updateTable('webhooks')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), ...(status !== null ? { last_status: status } : {}) }))
      .where('id', '=', id)
      .execute();
  }

  async succeeded(id: number): Promise<void> {
    await this.db.updateTable('webhooks').set({ consecutive_failures: 0 }).where('id', '=', id).execute();
  }

  /** One more delivery given up; returns the new run of consecutive failures. */
  async failed(id: number): Promise<number> {
    const r = await this.db
      .updateTable('webhooks')
      .set((eb) => ({ consecutive_failures: eb('consecutive_failures', '+', 1) }))
      .where('id', '=', id)
      .returning('consecutive_failures')
      .executeTakeFirst();
    return r?.consecutive_failures ?? 0;
  }

  /** Disables a webhook that is still enabled; true when this call did it. */
  async disable(id: number, reason: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('webhooks')
      .set({ enabled: 0, disabled_reason: reason, updated_at: now })
      .where('id', '=', id)
      .where('enabled', '=', 1)
      .returning('id')
      .executeTakeFirst();
    return r !== undefined;
  }

  async addLog(e: LogEntry, keep: number): Promise<void> {
    const r = await this.db
      .insertInto('webhook_log')
      .values({
        webhook_id: e.webhookId,
        device_id: e.deviceId,
        ts: e.ts,
        status: e.status,
        http_status: e.httpStatus,
        url: e.url,
        error: e.error,
        response: e.response,
        attempt: e.attempt,
      })
      .returning('id')
      .executeTakeFirst();
    // Prune now and then rather than on every insert.
    if (r && r.id % 20 === 0) {
      const cut = await this.db
        .selectFrom('webhook_log')
        .select('id')
        .where('webhook_id', '=', e.webhookId)
        .orderBy('id', 'desc')
        .offset(keep)
        .limit(1)
        .executeTakeFirst();
      if (cut) {
        await this.db
          .deleteFrom('webhook_log')
          .where('webhook_id', '=', e.webhookId)
          .where('id', '<=', cut.id)
          .execute();
      }
    }
  }

  async log(webhookId: number, limit: number, beforeId?: number): Promise<Array<LogEntry & { id: number }>> {
    let q = this.db.selectFrom('webhook_log').selectAll().where('webhook_id', '=', webhookId);
    if (beforeId !== undefined) q = q.where('id', '<', beforeId);
    const rows = await q.orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      id: r.id,
      webhookId: r.webhook_id,
      deviceId: r.device_id,
      ts: r.ts,
      status: r.status as LogStatus,
      httpStatus: r.http_status,
      url: r.url,
      error: r.error,
      response: r.response,
      attempt: r.attempt,
    }));
  }
}
