import type { Logger } from 'pino';
import type { EventBus } from '../../bus/events.ts';
import { notFound } from '../../errors.ts';
import type { IntegrationRecord, IntegrationStatus, IntegrationsRepo } from '../../store/integrations-repo.ts';
import type { Leadership } from '../leadership.ts';
import { ensureMetafield, type MetafieldDeps } from './integration-metafield.ts';

export interface ManagedRuntime<S> {
  record: IntegrationRecord<S>;
}

/** What an integration type supplies: how to build, start, stop and restart one connection. */
export interface RuntimeHooks<S, R extends ManagedRuntime<S>> {
  create(record: IntegrationRecord<S>): R;
  start(rt: R): void;
  stop(rt: R): Promise<void>;
  /** True when a change needs a new connection (address, credentials...). */
  mustRestart(current: IntegrationRecord<S>, next: IntegrationRecord<S>): boolean;
  reconnectNow(rt: R): void;
  /** The live state of a connection held here. */
  live(rt: R): { status: IntegrationStatus; lastError: string | null; stats: Record<string, number> };
  /** The settings the API shows (never the secret, which is not among them). */
  publicSettings(settings: S): Record<string, unknown>;
}

export interface RuntimesDeps extends MetafieldDeps {
  integrations: IntegrationsRepo;
  leadership: Leadership;
  bus: EventBus;
  log: Logger;
}

/**
 * The live connections of one integration type. Only the leader instance holds them; the API
 * works on the database from any instance, and a change is applied here and broadcast so the
 * leader (wherever it runs) brings its connection in line.
 */
export class IntegrationRuntimes<S, R extends ManagedRuntime<S>> {
  private readonly byId = new Map<number, R>();
  private readonly byTemplateId = new Map<string, R>();
  private stopped = false;

  constructor(
    private readonly type: string,
    private readonly d: RuntimesDeps,
    private readonly hooks: RuntimeHooks<S, R>,
    /** The routing metafield the template gets on first connect. */
    private readonly metafield: string,
  ) {}

  /** A connection's status changed: logged, pushed live, saved; on connect the template gets its metafield. */
  statusChanged(rt: R, status: IntegrationStatus, lastError: string | null): void {
    if (!this.isCurrent(rt)) return;
    const log = this.d.log.child({ integration: rt.record.id, type: this.type });
    if (status === 'connected') log.info('integration connected');
    else log.warn({ lastError }, 'integration %s', status);
    this.d.bus.publish({
      type: 'integration',
      orgId: rt.record.orgId,
      integrationId: rt.record.id,
      integrationType: this.type,
      templateId: rt.record.templateId,
      status,
      lastError,
    });
    void this.d.integrations
      .setStatus(rt.record.id, status, lastError)
      .catch((err) => log.error({ err }, 'status not saved'));
    if (status === 'connected') {
      void ensureMetafield(this.d, rt.record.templateId, this.metafield).catch((err) =>
        log.error({ err }, 'metafield not created'),
      );
    }
  }

  get(id: number): R | undefined {
    return this.byId.get(id);
  }

  forTemplate(templateId: string): R | undefined {
    return this.byTemplateId.get(templateId);
  }

  all(): IterableIterator<R> {
    return this.byId.values();
  }

  /** False once a runtime was replaced or dropped: its late callbacks must do nothing. */
  isCurrent(rt: R): boolean {
    return this.byId.get(rt.record.id) === rt;
  }

  /** Follows leadership: connections open when this instance leads and close when it stops. */
  async start(): Promise<void> {
    this.d.leadership.onChange((leading) => {
      if (this.stopped) return;
      const work = leading ? this.launchAll() : this.stopAll();
      work.catch((err) => this.d.log.error({ err, type: this.type }, 'integration hand-over failed'));
    });
    if (this.d.leadership.leading) await this.launchAll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.stopAll();
  }

  private async launchAll(): Promise<void> {
    for (const record of await this.d.integrations.list<S>(this.type)) {
      if (!this.byId.has(record.id) && !this.stopped) this.launch(record);
    }
  }

  private async stopAll(): Promise<void> {
    const all = [...this.byId.values()];
    this.byId.clear();
    this.byTemplateId.clear();
    await Promise.all(all.map((rt) => this.hooks.stop(rt)));
  }

  private launch(record: IntegrationRecord<S>): R {
    const rt = this.hooks.create({ ...record, status: 'not_connected', lastError: null });
    this.byId.set(record.id, rt);
    this.byTemplateId.set(record.templateId, rt);
    this.hooks.start(rt);
    return rt;
  }

  private async drop(rt: R): Promise<void> {
    this.byId.delete(rt.record.id);
    if (this.byTemplateId.get(rt.record.templateId) === rt) this.byTemplateId.delete(rt.record.templateId);
    await this.hooks.stop(rt);
  }

  /** A record changed (here or elsewhere): the leader brings its connection in line with the database. */
  async reload(id: number, action?: 'connect'): Promise<void> {
    if (!this.d.leadership.leading || this.stopped) return;
    const record = await this.d.integrations.get<S>(id);
    const rt = this.byId.get(id);
    if (record?.type !== this.type) {
      if (rt) await this.drop(rt);
      return;
    }
    if (!rt) {
      this.launch(record);
    } else if (this.hooks.mustRestart(rt.record, record)) {
      await this.drop(rt);
      this.launch(record);
    } else {
      rt.record = record;
      if (action === 'connect') this.hooks.reconnectNow(rt);
    }
  }

  /** Applies a change here and tells the other instances. */
  async changed(id: number, action?: 'connect'): Promise<void> {
    await this.reload(id, action);
    this.d.bus.broadcast({ type: 'invalidate', entity: 'integration', id: String(id), ...(action ? { action } : {}) });
  }

  /** The template is being deleted: its card goes with it, here and on the leader. */
  async dropTemplate(templateId: string): Promise<void> {
    const rt = this.byTemplateId.get(templateId);
    if (rt) await this.drop(rt);
    for (const r of await this.d.integrations.list<S>(this.type)) {
      if (r.templateId === templateId)
        this.d.bus.broadcast({ type: 'invalidate', entity: 'integration', id: String(r.id) });
    }
  }

  /** Public view: settings and live status (from the connection here, or as the leader last saved it). */
  view(r: IntegrationRecord<S>): Record<string, unknown> {
    const rt = this.byId.get(r.id);
    const record = rt?.record ?? r;
    const live = rt ? this.hooks.live(rt) : undefined;
    return {
      id: record.id,
      templateId: record.templateId,
      name: record.name,
      ...this.hooks.publicSettings(record.settings),
      status: live ? live.status : r.status,
      lastError: live ? live.lastError : r.lastError,
      stats: live ? { ...live.stats } : null,
      createdAt: record.createdAt,
      updatedAt: r.updatedAt,
    };
  }

  async ownRecord(orgId: number, id: number): Promise<IntegrationRecord<S>> {
    const r = await this.d.integrations.get<S>(id);
    if (!r || r.orgId !== orgId || r.type !== this.type) throw notFound('Integration');
    return r;
  }

  list(orgId?: number): Promise<IntegrationRecord<S>[]> {
    return this.d.integrations.list<S>(this.type, orgId);
  }
}
