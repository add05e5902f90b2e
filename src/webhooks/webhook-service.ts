import type { Logger } from 'pino';
import { type BusEvent, DEVICE_SOURCES, type EventBus, isRemote, type ValueEvent } from '../bus/events.ts';
import type { Config } from '../config.ts';
import type { StoredValue } from '../domain/datastream.ts';
import type { TemplateModel } from '../domain/model.ts';
import { parsePin } from '../domain/pins.ts';
import { invalid, notFound } from '../errors.ts';
import type { Registry } from '../ingest/registry.ts';
import type { Leadership } from '../integrations/leadership.ts';
import type { BatchWriter } from '../store/batch-writer.ts';
import type { DevicesRepo } from '../store/devices-repo.ts';
import type { UsersRepo } from '../store/users-repo.ts';
import { isRetryable, isSuccess, type OutgoingRequest, type SendResult, send } from './http-sender.ts';
import {
  placeholdersIn,
  render,
  renderFormText,
  renderHeader,
  renderJsonText,
  renderJsonValue,
  renderUrl,
  type Vars,
} from './placeholders.ts';
import type {
  DeliveryRow,
  LogEntry,
  WebhookAuthType,
  WebhookBody,
  WebhookContentType,
  WebhookDefinition,
  WebhookMethod,
  WebhookRecord,
  WebhooksRepo,
} from './webhooks-repo.ts';

export type WebhookSettings = Config['webhooks'];

export interface WebhookDeps {
  repo: WebhooksRepo;
  registry: Registry;
  devices: DevicesRepo;
  users: UsersRepo;
  writer: BatchWriter;
  bus: EventBus;
  log: Logger;
  clock: () => number;
  /** Only the leader delivers (the outbox is shared); every instance records triggers. */
  leadership: Leadership;
  settings: WebhookSettings;
}

/** What the API accepts (POST, and PATCH with every field optional). */
export interface WebhookInput {
  name?: string;
  trigger?: { type: 'datastream_update'; templateId: string; deviceId?: number | null; datastream: string };
  url?: string;
  method?: WebhookMethod;
  contentType?: WebhookContentType;
  body?: WebhookBody | null;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  auth?: { type: WebhookAuthType; username?: string; password?: string; token?: string };
  perMinute?: number;
  disableAfter?: number;
  enabled?: boolean;
}

/** Shown instead of a secret header's value; sending it back keeps the stored value. */
export const MASK = '********';
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie)$|token|secret|password|api[-_]?key/i;
const MAX_URL = 1024;
const MAX_BODY = 5 * 1024;
/** Safety net only: changes reach other instances at once through the bus. */
const CACHE_REFRESH_MS = 60_000;
/** Extra lease on a claimed delivery beyond the request timeout. */
const LEASE_MARGIN_MS = 5_000;

function formatValue(v: StoredValue | undefined): string {
  if (v === undefined) return '';
  if (Array.isArray(v)) return `${v[0]},${v[1]}`;
  return String(v);
}

function sameValue(a: StoredValue, b: StoredValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a[0] === b[0] && a[1] === b[1];
  }
  return a === b;
}

function formatMeta(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The trigger of one value, as placeholders need it. */
interface TriggerContext {
  templateId: string;
  deviceId: number | null;
  pin: string;
  datastreamId: number | null;
  value: StoredValue | undefined;
  ts: number;
}

/**
 * Outgoing webhooks: matches value events to webhooks, applies the loop rule and the quota,
 * writes deliveries to the outbox, and (on the leader) sends them with retries, logs each
 * attempt and disables a webhook that keeps failing.
 */
export class WebhookService {
  private byTemplate = new Map<string, WebhookRecord[]>();
  private readonly names = new WeakMap<WebhookRecord, Set<string>>();
  private readonly orgNames = new Map<number, string>();
  private readonly pending = new Set<Promise<void>>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private unsubscribe: (() => void) | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private cacheTimer: NodeJS.Timeout | null = null;
  private ticking = false;
  private tickDone: Promise<void> = Promise.resolve();
  private again = false;
  private saturated = false;
  private stopped = false;

  constructor(private readonly d: WebhookDeps) {}

  async start(): Promise<void> {
    await this.reloadCache();
    this.unsubscribe = this.d.bus.subscribe((e) => this.onEvent(e));
    this.d.leadership.onChange((leading) => {
      if (leading) this.wake();
    });
    this.cacheTimer = setInterval(() => {
      this.reloadCache().catch((err) => this.d.log.warn({ err }, 'webhook cache reload failed'));
    }, CACHE_REFRESH_MS);
    this.cacheTimer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.cacheTimer) clearInterval(this.cacheTimer);
    await this.tickDone;
    await Promise.allSettled([...this.pending]);
    // Requests in flight are abandoned: their deliveries stay in the outbox and are made again.
    this.abort.abort();
    await Promise.allSettled([...this.inflight]);
  }

  private track(p: Promise<void>, set: Set<Promise<void>>): void {
    set.add(p);
    void p.finally(() => set.delete(p));
  }

  /** A webhook changed here: reload, and tell the other instances. */
  private async changed(id: number): Promise<void> {
    await this.reloadCache();
    this.d.bus.broadcast({ type: 'invalidate', entity: 'webhook', id: String(id) });
  }

  private async reloadCache(): Promise<void> {
    const all = await this.d.repo.list();
    const next = new Map<string, WebhookRecord[]>();
    for (const w of all) {
      if (!w.enabled) continue;
      const list = next.get(w.templateId) ?? [];
      list.push(w);
      next.set(w.templateId, list);
    }
    this.byTemplate = next;
  }

  // ---------------------------------------------------------------- triggers

  private onEvent(e: BusEvent): void {
    if (e.type === 'invalidate' && e.entity === 'webhook' && isRemote(e)) {
      this.reloadCache().catch((err) => this.d.log.warn({ err }, 'webhook cache reload failed'));
      return;
    }
    // Each value is announced locally on exactly one instance: that instance records it.
    if (e.type !== 'value' || isRemote(e) || this.stopped) return;
    const list = this.byTemplate.get(e.templateId);
    if (!list) return;
    // Loop rule: a device repeating the value it already had fires nothing (a device that
    // echoes its new state after a webhook-driven command would otherwise fire it again).
    // Writes by users and automations always fire.
    if (DEVICE_SOURCES.has(e.source) && e.previous !== undefined && sameValue(e.previous, e.value)) return;
    for (const w of list) {
      if (w.pin !== e.pin || (w.deviceId !== null && w.deviceId !== e.deviceId)) continue;
      this.track(
        this.trigger(w, e).catch((err) => this.d.log.error({ err, webhookId: w.id }, 'webhook trigger failed')),
        this.pending,
      );
    }
  }

  private async trigger(w: WebhookRecord, e: ValueEvent): Promise<void> {
    const ctx: TriggerContext = {
      templateId: e.templateId,
      deviceId: e.deviceId,
      pin: e.pin,
      datastreamId: e.datastreamId,
      value: e.value,
      ts: e.ts,
    };
    const vars = await this.vars(w, ctx);
    const now = this.d.clock();
    if (!(await this.d.repo.takeToken(w.id, now))) {
      await this.d.repo
        .addLog(
          {
            webhookId: w.id,
            deviceId: e.deviceId,
            ts: now,
            status: 'Dropped',
            httpStatus: null,
            url: this.safeUrl(w, vars),
            error: `over the quota of ${w.perMinute} per minute`,
            response: null,
            attempt: 0,
          },
          this.d.settings.logKeep,
        )
        // The webhook may have been deleted since the cache was loaded.
        .catch(() => {});
      return;
    }
    await this.d.repo.addDelivery({ webhookId: w.id, deviceId: e.deviceId, vars: JSON.stringify(vars), now });
    this.wake();
  }

  private namesOf(w: WebhookRecord): Set<string> {
    let set = this.names.get(w);
    if (!set) {
      set = new Set<string>();
      placeholdersIn(w.url, set);
      for (const [k, v] of Object.entries(w.query)) placeholdersIn(`${k}${v}`, set);
      for (const v of Object.values(w.headers)) placeholdersIn(v, set);
      for (const v of Object.values(w.secrets.headers)) placeholdersIn(v, set);
      if (w.body !== null) placeholdersIn(typeof w.body === 'string' ? w.body : JSON.stringify(w.body), set);
      this.names.set(w, set);
    }
    return set;
  }

  private async orgName(orgId: number): Promise<string> {
    let n = this.orgNames.get(orgId);
    if (n === undefined) {
      n = (await this.d.users.orgName(orgId)) ?? '';
      this.orgNames.set(orgId, n);
    }
    return n;
  }

  /** Values of the placeholders this webhook uses, taken when the trigger happens. */
  private async vars(w: WebhookRecord, ctx: TriggerContext): Promise<Vars> {
    const model = await this.d.registry.template(ctx.templateId);
    const state = ctx.deviceId !== null ? await this.d.registry.device(ctx.deviceId) : undefined;
    const out: Vars = {};
    for (const written of this.namesOf(w)) {
      const name = written.replace(/\[\d+\]$/, '');
      if (Object.hasOwn(out, name)) continue;
      const v = await this.resolve(name, ctx, model, state);
      if (v !== undefined) out[name] = v;
    }
    return out;
  }

  private async resolve(
    name: string,
    ctx: TriggerContext,
    model: TemplateModel | undefined,
    state: Awaited<ReturnType<Registry['device']>>,
  ): Promise<string | undefined> {
    const device = state?.device;
    switch (name) {
      case 'device_pinValue':
        return formatValue(ctx.value);
      case 'device_pin':
        return ctx.pin;
      case 'device_dataStreamId':
        return ctx.datastreamId === null ? undefined : String(ctx.datastreamId);
      case 'device_templateId':
        return ctx.templateId;
      case 'device_productName':
        return model?.template.name;
      case 'device_orgName':
        return model ? this.orgName(model.template.orgId) : undefined;
      case 'timestamp_unix':
        return String(ctx.ts);
      case 'timestamp_iso8601':
        return new Date(ctx.ts).toISOString();
    }
    if (!device) return undefined;
    switch (name) {
      case 'device_id':
        return String(device.id);
      case 'device_name':
        return device.name;
      case 'device_authToken':
        return device.token;
      case 'device_dateCreated':
        return String(device.createdAt);
      case 'device_online':
        return String(device.online);
    }
    const ds = /^device_dataStream_(\d+)$/.exec(name);
    if (ds && model) {
      const d = model.byId.get(Number(ds[1]));
      if (!d) return undefined;
      if (d.pin === ctx.pin) return formatValue(ctx.value);
      return formatValue(state?.latest.get(d.pin)?.value);
    }
    const md = /^device_metadata_(.+)$/.exec(name);
    if (md && model) {
      const mf = model.metafields.find((m) => m.name === md[1]);
      if (!mf) return undefined;
      return formatMeta(device.metadata.has(mf.id) ? device.metadata.get(mf.id) : mf.defaultValue);
    }
    return undefined;
  }

  // ---------------------------------------------------------------- requests

  /** Builds the request of a webhook for these placeholder values; throws on a URL that is not http(s). */
  buildRequest(w: WebhookRecord, vars: Vars): OutgoingRequest {
    const url = new URL(renderUrl(w.url, vars));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`not an http(s) URL: ${url.protocol}`);
    for (const [k, v] of Object.entries(w.query)) url.searchParams.append(render(k, vars), render(v, vars));
    const headers: Record<string, string> = { 'user-agent': 'Pinwheel-Webhook/1' };
    let body: string | undefined;
    if (w.body !== null) {
      if (w.method === 'GET') {
        // A GET has no body: web-form fields travel in the query.
        if (w.contentType === 'form' && typeof w.body === 'object') {
          for (const [k, v] of Object.entries(w.body))
            url.searchParams.append(render(k, vars), render(String(v), vars));
        }
      } else if (w.contentType === 'form') {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        if (typeof w.body === 'string') body = renderFormText(w.body, vars);
        else {
          const form = new URLSearchParams();
          for (const [k, v] of Object.entries(w.body)) form.append(render(k, vars), render(String(v), vars));
          body = form.toString();
        }
      } else if (w.contentType === 'json') {
        headers['content-type'] = 'application/json';
        body =
          typeof w.body === 'string' ? renderJsonText(w.body, vars) : JSON.stringify(renderJsonValue(w.body, vars));
      } else {
        headers['content-type'] = 'text/plain; charset=utf-8';
        body = typeof w.body === 'string' ? render(w.body, vars) : JSON.stringify(renderJsonValue(w.body, vars));
      }
    }
    for (const [k, v] of Object.entries({ ...w.headers, ...w.secrets.headers })) {
      headers[k.toLowerCase()] = renderHeader(v, vars);
    }
    if (w.authType === 'basic') {
      const pair = `${w.authUsername ?? ''}:${w.secrets.password ?? ''}`;
      headers.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
    } else if (w.authType === 'bearer') {
      headers.authorization = `Bearer ${w.secrets.token ?? ''}`;
    }
    return { url: url.toString(), method: w.method, headers, body };
  }

  private safeUrl(w: WebhookRecord, vars: Vars): string {
    try {
      return this.buildRequest(w, vars).url;
    } catch {
      return w.url;
    }
  }

  // ---------------------------------------------------------------- delivery worker

  /** Looks for due deliveries now (new ones on this instance do not wait for the poll). */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.tickDone = this.tick();
  }

  private async tick(): Promise<void> {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    this.ticking = true;
    try {
      do {
        this.again = false;
        if (this.stopped || !this.d.leadership.leading) break;
        const free = this.d.settings.concurrency - this.inflight.size;
        this.saturated = free <= 0;
        if (free <= 0) break;
        const now = this.d.clock();
        const rows = await this.d.repo.claim(now, this.d.settings.timeoutMs + LEASE_MARGIN_MS, free);
        if (this.stopped) {
          // Shutting down: hand the rows back at once rather than leaving them leased.
          for (const row of rows) await this.d.repo.retryLater(row.id, now, 'interrupted by shutdown');
          break;
        }
        for (const row of rows) {
          this.track(
            this.deliver(row)
              .catch((err) => this.d.log.error({ err, webhookId: row.webhookId }, 'webhook delivery failed'))
              .finally(() => {
                if (this.saturated) this.wake();
              }),
            this.inflight,
          );
        }
        if (rows.length === free) this.saturated = true;
      } while (this.again);
    } catch (err) {
      if (!this.stopped) this.d.log.error({ err }, 'webhook worker: claiming deliveries failed');
    } finally {
      this.ticking = false;
      if (!this.stopped) {
        this.pollTimer = setTimeout(() => this.wake(), this.d.settings.pollMs);
        this.pollTimer.unref();
      }
    }
  }

  private backoffMs(attempt: number): number {
    const { retryBaseMs, retryMaxMs } = this.d.settings;
    const base = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(base * (1 + Math.random() * 0.2));
  }

  private async addLog(e: Omit<LogEntry, 'ts'> & { ts?: number }): Promise<void> {
    await this.d.repo.addLog({ ...e, ts: e.ts ?? this.d.clock() }, this.d.settings.logKeep);
  }

  private async deliver(row: DeliveryRow): Promise<void> {
    const { repo } = this.d;
    const w = await repo.get(row.webhookId);
    if (!w) {
      await repo.removeDelivery(row.id);
      return;
    }
    const vars = JSON.parse(repo.openVars(row)) as Vars;
    const base = { webhookId: w.id, deviceId: row.deviceId, attempt: row.attempts };
    if (!w.enabled) {
      await repo.removeDelivery(row.id);
      await this.addLog({
        ...base,
        status: 'Dropped',
        httpStatus: null,
        url: this.safeUrl(w, vars),
        error: 'the webhook is disabled',
        response: null,
      });
      return;
    }
    let req: OutgoingRequest;
    let result: SendResult;
    try {
      req = this.buildRequest(w, vars);
    } catch (err) {
      req = { url: w.url, method: w.method, headers: {}, body: undefined };
      result = { httpStatus: null, response: null, error: `bad request: ${errorText(err)}` };
      await this.finish(w, row, req, result, false);
      return;
    }
    result = await send(req, this.d.settings.timeoutMs, this.abort.signal);
    // Shut down mid-request: the delivery stays in the outbox, due at once after the restart.
    if (result.httpStatus === null && this.abort.signal.aborted) {
      await repo.retryLater(row.id, this.d.clock(), 'interrupted by shutdown');
      return;
    }
    await this.finish(w, row, req, result, isRetryable(result));
  }

  private async finish(
    w: WebhookRecord,
    row: DeliveryRow,
    req: OutgoingRequest,
    r: SendResult,
    retryable: boolean,
  ): Promise<void> {
    const { repo } = this.d;
    const base = {
      webhookId: w.id,
      deviceId: row.deviceId,
      attempt: row.attempts,
      httpStatus: r.httpStatus,
      url: req.url,
      response: r.response,
    };
    if (isSuccess(r.httpStatus)) {
      await repo.removeDelivery(row.id);
      await repo.countAttempt(w.id, 'OK');
      await repo.succeeded(w.id);
      await this.addLog({ ...base, status: 'OK', error: null });
      return;
    }
    await repo.countAttempt(w.id, 'Failed');
    if (retryable && row.attempts < this.d.settings.maxAttempts) {
      const wait = this.backoffMs(row.attempts);
      await repo.retryLater(row.id, this.d.clock() + wait, r.error ?? 'failed');
      await this.addLog({ ...base, status: 'Retrying', error: `${r.error ?? 'failed'}; next attempt in ${wait} ms` });
      return;
    }
    await repo.removeDelivery(row.id);
    await this.addLog({ ...base, status: 'Failed', error: r.error ?? 'failed' });
    const failures = await repo.failed(w.id);
    if (w.disableAfter > 0 && failures >= w.disableAfter) await this.autoDisable(w, row.deviceId, failures, r.error);
  }

  private async autoDisable(w: WebhookRecord, deviceId: number | null, failures: number, error: string | null) {
    const now = this.d.clock();
    const reason = `disabled after ${failures} consecutive failed deliveries (last: ${error ?? 'failed'})`;
    if (!(await this.d.repo.disable(w.id, reason, now))) return;
    this.d.log.warn({ webhookId: w.id, failures }, 'webhook disabled after repeated failures');
    await this.changed(w.id);
    if (deviceId === null) return;
    const state = await this.d.registry.device(deviceId);
    if (!state) return;
    const data = { webhookId: w.id, name: w.name, failures, error: error ?? null, reason };
    try {
      await this.d.writer.write([{ kind: 'timeline', deviceId, ts: now, type: 'webhook_disabled', data }]);
      this.d.bus.publish({
        type: 'timeline',
        orgId: state.device.orgId,
        deviceId,
        item: { ts: now, type: 'webhook_disabled', ...data },
      });
    } catch (err) {
      this.d.log.warn({ err, webhookId: w.id }, 'could not note the disabled webhook on the timeline');
    }
  }

  // ---------------------------------------------------------------- API operations

  private async owned(orgId: number, id: number): Promise<WebhookRecord> {
    const w = await this.d.repo.get(id);
    if (!w || w.orgId !== orgId) throw notFound('Webhook');
    return w;
  }

  async view(w: WebhookRecord) {
    const masked: Record<string, string> = { ...w.headers };
    for (const k of Object.keys(w.secrets.headers)) masked[k] = MASK;
    return {
      id: w.id,
      name: w.name,
      trigger: {
        type: 'datastream_update' as const,
        templateId: w.templateId,
        deviceId: w.deviceId,
        datastream: w.pin,
      },
      url: w.url,
      method: w.method,
      contentType: w.contentType,
      body: w.body,
      headers: masked,
      query: w.query,
      auth: w.authType === 'basic' ? { type: w.authType, username: w.authUsername } : { type: w.authType },
      perMinute: w.perMinute,
      disableAfter: w.disableAfter,
      enabled: w.enabled,
      state: w.enabled ? 'enabled' : w.disabledReason ? 'auto_disabled' : 'disabled',
      disabledReason: w.disabledReason,
      consecutiveFailures: w.consecutiveFailures,
      lastTriggeredAt: w.lastTriggeredAt,
      lastStatus: w.lastStatus,
      attempts: w.attempts,
      pending: await this.d.repo.pendingCount(w.id),
      createdAt: w.createdAt,
      updatedAt: w.updatedAt,
    };
  }

  /** Validates input against the org's templates and devices and merges it over `prev`. */
  private async definition(orgId: number, input: WebhookInput, prev?: WebhookRecord): Promise<WebhookDefinition> {
    let templateId = prev?.templateId;
    let deviceId = prev?.deviceId ?? null;
    let pin = prev?.pin;
    if (input.trigger) {
      const t = input.trigger;
      const model = await this.d.registry.template(t.templateId);
      if (!model || model.template.orgId !== orgId) throw invalid(`trigger.templateId: no template ${t.templateId}`);
      const ds = model.byPin.get(parsePin(t.datastream) ?? '') ?? model.byName.get(t.datastream);
      if (!ds) throw invalid(`trigger.datastream: no datastream ${t.datastream} in template ${t.templateId}`);
      deviceId = t.deviceId ?? null;
      if (deviceId !== null) {
        const state = await this.d.registry.device(deviceId);
        if (!state || state.device.orgId !== orgId || state.device.templateId !== t.templateId) {
          throw invalid(`trigger.deviceId: no device ${deviceId} of template ${t.templateId}`);
        }
      }
      templateId = t.templateId;
      pin = ds.pin;
    }
    if (templateId === undefined || pin === undefined) throw invalid('trigger is required');

    const url = input.url ?? prev?.url;
    if (url === undefined) throw invalid('url is required');
    if (url.length > MAX_URL) throw invalid(`url: longer than ${MAX_URL} characters`);
    try {
      const u = new URL(url.replace(/\{[^}]*\}/g, 'x'));
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw invalid('url: must be an http:// or https:// URL');
    }

    const contentType = input.contentType ?? prev?.contentType ?? 'json';
    const body = input.body !== undefined ? input.body : (prev?.body ?? null);
    if (body !== null) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      if (Buffer.byteLength(text) > MAX_BODY) throw invalid(`body: larger than ${MAX_BODY} bytes`);
      if (contentType === 'form' && typeof body === 'object') {
        for (const [k, v] of Object.entries(body)) {
          if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
            throw invalid(`body.${k}: a web-form field must be a string`);
          }
        }
      }
    }

    // Headers: sensitive ones are sealed; the mask sent back keeps the stored value.
    const headers: Record<string, string> = {};
    const secretHeaders: Record<string, string> = {};
    const givenHeaders = input.headers ?? (prev ? { ...prev.headers, ...prev.secrets.headers } : {});
    for (const [k, v] of Object.entries(givenHeaders)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/.test(k)) throw invalid(`headers: bad header name ${k}`);
      if (SECRET_HEADER.test(k)) {
        if (v === MASK) {
          const old = prev && Object.entries(prev.secrets.headers).find(([n]) => n.toLowerCase() === k.toLowerCase());
          if (!old) throw invalid(`headers.${k}: no stored value to keep`);
          secretHeaders[k] = old[1];
        } else secretHeaders[k] = v;
      } else headers[k] = v;
    }

    const secrets = { headers: secretHeaders } as WebhookRecord['secrets'];
    let authType: WebhookAuthType = prev?.authType ?? 'none';
    let authUsername = prev?.authUsername ?? null;
    if (input.auth) {
      const a = input.auth;
      const sameType = prev?.authType === a.type;
      authType = a.type;
      authUsername = null;
      if (a.type === 'basic') {
        if (!a.username) throw invalid('auth.username is required for basic auth');
        authUsername = a.username;
        const password = a.password ?? (sameType ? prev?.secrets.password : undefined);
        if (password === undefined) throw invalid('auth.password is required for basic auth');
        secrets.password = password;
      } else if (a.type === 'bearer') {
        const token = a.token ?? (sameType ? prev?.secrets.token : undefined);
        if (!token) throw invalid('auth.token is required for bearer auth');
        secrets.token = token;
      }
    } else if (prev) {
      if (prev.secrets.password !== undefined) secrets.password = prev.secrets.password;
      if (prev.secrets.token !== undefined) secrets.token = prev.secrets.token;
    }

    const name = input.name ?? prev?.name;
    if (!name) throw invalid('name is required');
    return {
      templateId,
      deviceId,
      pin,
      name,
      url,
      method: input.method ?? prev?.method ?? 'POST',
      contentType,
      body,
      headers,
      query: input.query ?? prev?.query ?? {},
      authType,
      authUsername,
      secrets,
      perMinute: input.perMinute ?? prev?.perMinute ?? this.d.settings.perMinute,
      disableAfter: input.disableAfter ?? prev?.disableAfter ?? this.d.settings.disableAfter,
      enabled: input.enabled ?? prev?.enabled ?? true,
    };
  }

  async create(orgId: number, input: WebhookInput) {
    const def = await this.definition(orgId, input);
    const w = await this.d.repo.create(orgId, def, this.d.clock());
    await this.changed(w.id);
    return this.view(w);
  }

  async list(orgId: number) {
    const all = await this.d.repo.list(orgId);
    return Promise.all(all.map((w) => this.view(w)));
  }

  async get(orgId: number, id: number) {
    return this.view(await this.owned(orgId, id));
  }

  async update(orgId: number, id: number, input: WebhookInput) {
    const prev = await this.owned(orgId, id);
    const def = await this.definition(orgId, input, prev);
    await this.d.repo.update(id, def, this.d.clock());
    await this.changed(id);
    return this.view((await this.d.repo.get(id))!);
  }

  async remove(orgId: number, id: number): Promise<void> {
    await this.owned(orgId, id);
    await this.d.repo.delete(id);
    await this.changed(id);
  }

  async log(orgId: number, id: number, limit: number, before?: number) {
    await this.owned(orgId, id);
    const rows = await this.d.repo.log(id, limit, before);
    return rows.map((r) => ({
      id: r.id,
      ts: r.ts,
      status: r.status,
      httpStatus: r.httpStatus,
      url: r.url,
      ...(r.error !== null ? { error: r.error } : {}),
      deviceId: r.deviceId,
      attempt: r.attempt,
      response: r.response,
    }));
  }

  /**
   * Sends one request now with sample values (the trigger device, or the template's first
   * device, and the datastream's latest value). Not written to the log, not counted in the quota.
   */
  async test(orgId: number, id: number) {
    const w = await this.owned(orgId, id);
    let deviceId = w.deviceId;
    if (deviceId === null) {
      const first = await this.d.devices.list({ orgId, templateId: w.templateId, limit: 1, offset: 0 });
      deviceId = first.items[0]?.id ?? null;
    }
    const model = await this.d.registry.template(w.templateId);
    const state = deviceId !== null ? await this.d.registry.device(deviceId) : undefined;
    const ds = model?.byPin.get(w.pin);
    const ctx: TriggerContext = {
      templateId: w.templateId,
      deviceId,
      pin: w.pin,
      datastreamId: ds?.id ?? null,
      value: state?.latest.get(w.pin)?.value ?? ds?.defaultValue ?? undefined,
      ts: this.d.clock(),
    };
    const vars = await this.vars(w, ctx);
    let req: OutgoingRequest;
    try {
      req = this.buildRequest(w, vars);
    } catch (err) {
      throw invalid(`url: ${errorText(err)}`);
    }
    const r = await send(req, this.d.settings.timeoutMs);
    await this.d.repo.countAttempt(w.id, null);
    return {
      status: isSuccess(r.httpStatus) ? 'OK' : 'Failed',
      httpStatus: r.httpStatus,
      url: req.url,
      ...(r.error !== null ? { error: r.error } : {}),
      response: r.response,
    };
  }
}
