import type { Logger } from 'pino';
import { DEVICE_SOURCES, type EventBus, type ValueEvent } from '../../bus/events.ts';
import type { Datastream } from '../../domain/datastream.ts';
import type { DeviceState } from '../../domain/model.ts';
import { parsePin } from '../../domain/pins.ts';
import { conflict, invalid, notFound } from '../../errors.ts';
import type { IngestPipeline } from '../../ingest/pipeline.ts';
import type { Registry } from '../../ingest/registry.ts';
import type { Lifecycle } from '../../lifecycle/lifecycle.ts';
import type { BatchWriter } from '../../store/batch-writer.ts';
import type { DevicesRepo } from '../../store/devices-repo.ts';
import type { IntegrationRecord, IntegrationsRepo } from '../../store/integrations-repo.ts';
import type { TemplatesRepo } from '../../store/templates-repo.ts';
import type { WriteOp } from '../../store/write-ops.ts';
import { DeviceDirectory } from '../common/device-directory.ts';
import { type IntegrationContext, integrationContext } from '../common/integration-metafield.ts';
import { IntegrationRuntimes } from '../common/integration-runtimes.ts';
import { NoteLimiter, publishTimeline } from '../common/timeline-notes.ts';
import { type UnmatchedKey, UnmatchedKeys } from '../common/unmatched-keys.ts';
import type { Leadership } from '../leadership.ts';
import type { BackoffOptions } from '../tts/backoff.ts';
import { type CallResult, callFunction, deviceName, streamUrl } from './api.ts';
import { functionArg, functionFor, mapEvent, type ParticleEvent, parseEnvelope } from './event-mapper.ts';
import { FUNCTION_NAME_RE, PARTICLE_DEVICE_METAFIELD, type ParticleSettings } from './settings.ts';
import type { SseMessage } from './sse.ts';
import { ParticleStream } from './stream.ts';

export interface ParticleDeps {
  integrations: IntegrationsRepo;
  templates: TemplatesRepo;
  devices: DevicesRepo;
  registry: Registry;
  ingest: IngestPipeline;
  lifecycle: Lifecycle;
  writer: BatchWriter;
  bus: EventBus;
  log: Logger;
  clock: () => number;
  leadership: Leadership;
  /** Particle Cloud API base URL (https://api.particle.io). */
  apiUrl: string;
  backoff: BackoffOptions;
  /** No byte on the event stream for this long: reopen it. */
  idleTimeoutMs: number;
  /** Least time between two timeline notes of one kind on one device. */
  noteIntervalMs: number;
}

/** A function call that found the device offline: made again when it comes online. */
interface Pending {
  pin: string;
  fn: string;
  arg: string;
  since: number;
}

interface Runtime {
  record: IntegrationRecord<ParticleSettings>;
  stream: ParticleStream;
  /** Particle device id → Pinwheel device. */
  directory: DeviceDirectory;
  /** Events of one Particle device are handled in order. */
  chains: Map<string, Promise<void>>;
  /** Function calls to one device go one after the other. */
  calls: Map<number, Promise<void>>;
  /** Device → function → the latest call that found the device offline. */
  pending: Map<number, Map<string, Pending>>;
  callTimes: number[];
  unmatched: UnmatchedKeys;
  notes: NoteLimiter;
  stats: { events: number; values: number; malformed: number; calls: number; callErrors: number };
}

/** A call that found the device offline is made again when it comes online within this time. */
const PENDING_TTL_MS = 60 * 60 * 1000;
/** Events that are the cloud's, not the device's data. */
const NOT_DATA = /^(spark|particle|hook-sent|hook-response|hook-error)(\/|$)/i;

export interface ParticleInput {
  accessToken: string;
  name?: string | undefined;
  productId?: string | null | undefined;
  functions?: Record<string, string> | undefined;
  perMinute?: number | null | undefined;
  autoCreate?: boolean | undefined;
}

export type ParticlePatch = Partial<Omit<ParticleInput, 'accessToken'>> & { accessToken?: string | undefined };

/**
 * Native Particle integration: one Server-Sent Events stream per integration (account or
 * product) brings device events in; user writes of mapped datastreams call cloud functions.
 * Only the leader instance holds streams; the API works on the database from any instance.
 */
export class ParticleService {
  private readonly runtimes: IntegrationRuntimes<ParticleSettings, Runtime>;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly d: ParticleDeps) {
    this.runtimes = new IntegrationRuntimes<ParticleSettings, Runtime>(
      'particle',
      d,
      {
        create: (record) => this.createRuntime(record),
        start: (rt) => rt.stream.start(),
        stop: (rt) => rt.stream.stop(),
        mustRestart: (cur, next) => next.secret !== cur.secret || next.settings.productId !== cur.settings.productId,
        reconnectNow: (rt) => rt.stream.reconnectNow(),
        live: (rt) => ({ status: rt.stream.status, lastError: rt.stream.lastError, stats: rt.stats }),
        publicSettings: (s) => ({
          productId: s.productId,
          functions: s.functions,
          perMinute: s.perMinute,
          autoCreate: s.autoCreate,
        }),
      },
      PARTICLE_DEVICE_METAFIELD,
    );
  }

  /** Call before or after the leadership starts (the TTS service starts it). */
  async start(): Promise<void> {
    this.unsubscribe = this.d.bus.subscribe((e) => {
      if (e.type === 'value') this.onValue(e);
    });
    await this.runtimes.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.runtimes.stop();
  }

  /** An integration changed on another instance. */
  reload(id: number, action?: 'connect'): Promise<void> {
    return this.runtimes.reload(id, action);
  }

  /** The template is being deleted: its integration goes with it. */
  dropTemplate(templateId: string): Promise<void> {
    return this.runtimes.dropTemplate(templateId);
  }

  // ---- API ----------------------------------------------------------------------------

  async list(orgId: number): Promise<Array<Record<string, unknown>>> {
    return (await this.runtimes.list(orgId)).map((r) => this.runtimes.view(r));
  }

  private async ownRecord(orgId: number, id: number): Promise<IntegrationRecord<ParticleSettings>> {
    const r = await this.d.integrations.get<ParticleSettings>(id);
    if (!r || r.orgId !== orgId || r.type !== 'particle') throw notFound('Integration');
    return r;
  }

  async get(orgId: number, id: number): Promise<Record<string, unknown>> {
    return this.runtimes.view(await this.runtimes.ownRecord(orgId, id));
  }

  async unmatched(orgId: number, id: number): Promise<UnmatchedKey[]> {
    await this.runtimes.ownRecord(orgId, id);
    const rt = this.runtimes.get(id);
    return rt ? rt.unmatched.list() : [];
  }

  /** Every key must name a datastream of the template (pin or name), every value be a function name. */
  private async checkFunctions(templateId: string, functions: Record<string, string>): Promise<void> {
    const model = await this.d.registry.template(templateId);
    if (!model) throw notFound('Template');
    for (const [key, fn] of Object.entries(functions)) {
      const pin = parsePin(key);
      if (!model.byName.has(key) && !(pin && model.byPin.has(pin))) {
        throw invalid(`functions: the template has no datastream ${key}`);
      }
      if (!FUNCTION_NAME_RE.test(fn)) {
        throw invalid(`functions: ${JSON.stringify(fn)} is not a Particle function name (1-64 characters)`);
      }
    }
  }

  async create(orgId: number, templateId: string, input: ParticleInput, now: number): Promise<Record<string, unknown>> {
    const settings: ParticleSettings = {
      productId: input.productId ?? null,
      functions: input.functions ?? {},
      perMinute: input.perMinute ?? null,
      autoCreate: input.autoCreate ?? true,
    };
    await this.checkFunctions(templateId, settings.functions);
    if ((await this.d.integrations.list('particle')).some((r) => r.templateId === templateId)) {
      throw conflict('this template already has a Particle integration');
    }
    let record: IntegrationRecord<ParticleSettings>;
    try {
      record = await this.d.integrations.create<ParticleSettings>({
        orgId,
        type: 'particle',
        templateId,
        name: input.name ?? (settings.productId ? `Particle product ${settings.productId}` : 'Particle'),
        settings,
        secret: input.accessToken,
        createdAt: now,
        updatedAt: now,
      });
    } catch (err) {
      if (/unique|duplicate/i.test(String((err as Error).message))) {
        throw conflict('this template already has a Particle integration');
      }
      throw err;
    }
    await this.runtimes.changed(record.id);
    return this.runtimes.view(record);
  }

  async update(orgId: number, id: number, patch: ParticlePatch, now: number): Promise<Record<string, unknown>> {
    const current = await this.runtimes.ownRecord(orgId, id);
    const { accessToken, name, ...rest } = patch;
    const settings: ParticleSettings = { ...current.settings };
    if (rest.productId !== undefined) settings.productId = rest.productId;
    if (rest.functions !== undefined) settings.functions = rest.functions;
    if (rest.perMinute !== undefined) settings.perMinute = rest.perMinute;
    if (rest.autoCreate !== undefined) settings.autoCreate = rest.autoCreate;
    await this.checkFunctions(current.templateId, settings.functions);
    await this.d.integrations.update(
      id,
      { settings, ...(name ? { name } : {}), ...(accessToken ? { secret: accessToken } : {}) },
      now,
    );
    await this.runtimes.changed(id);
    return this.runtimes.view(await this.runtimes.ownRecord(orgId, id));
  }

  async setFunctions(
    orgId: number,
    id: number,
    functions: Record<string, string>,
    now: number,
  ): Promise<Record<string, unknown>> {
    return this.update(orgId, id, { functions }, now);
  }

  async remove(orgId: number, id: number): Promise<void> {
    await this.runtimes.ownRecord(orgId, id);
    await this.d.integrations.delete(id);
    await this.runtimes.changed(id);
  }

  async connectNow(orgId: number, id: number): Promise<Record<string, unknown>> {
    await this.runtimes.ownRecord(orgId, id);
    await this.runtimes.changed(id, 'connect');
    return this.runtimes.view(await this.runtimes.ownRecord(orgId, id));
  }

  /** Public view: settings and live status; never the token. */
  // ---- the stream -------------------------------------------------------------------------

  private createRuntime(record: IntegrationRecord<ParticleSettings>): Runtime {
    const rt: Runtime = {
      record,
      stream: undefined as unknown as ParticleStream,
      directory: new DeviceDirectory(this.d, {
        orgId: record.orgId,
        templateId: record.templateId,
        what: 'Particle event',
      }),
      chains: new Map(),
      calls: new Map(),
      pending: new Map(),
      callTimes: [],
      unmatched: new UnmatchedKeys(),
      notes: new NoteLimiter({ type: 'particle', id: record.id }, this.d.noteIntervalMs, this.d.clock),
      stats: { events: 0, values: 0, malformed: 0, calls: 0, callErrors: 0 },
    };
    rt.stream = new ParticleStream(
      streamUrl(this.d.apiUrl, record.settings.productId),
      record.secret,
      {
        onStatus: (status, lastError) => this.runtimes.statusChanged(rt, status, lastError),
        onMessage: (m) => this.onMessage(rt, m),
      },
      { backoff: this.d.backoff, idleTimeoutMs: this.d.idleTimeoutMs },
    );
    return rt;
  }

  private live(rt: Runtime): boolean {
    return this.runtimes.isCurrent(rt);
  }

  private onMessage(rt: Runtime, m: SseMessage): void {
    if (!this.live(rt)) return;
    const e = parseEnvelope(m.event, m.data, this.d.clock());
    if (!e) {
      rt.stats.malformed += 1;
      return;
    }
    if (e.coreid === 'particle-internal') return;
    let work: (() => Promise<void>) | undefined;
    if (e.name === 'spark/status') work = () => this.onDeviceStatus(rt, e);
    else if (!NOT_DATA.test(e.name)) work = () => this.onData(rt, e);
    if (!work) return;
    rt.stats.events += 1;
    const prev = rt.chains.get(e.coreid) ?? Promise.resolve();
    const next = prev
      .then(work)
      .catch((err) =>
        this.d.log.error({ err, integration: rt.record.id, event: e.name }, 'Particle event not handled'),
      );
    rt.chains.set(e.coreid, next);
    void next.then(() => {
      if (rt.chains.get(e.coreid) === next) rt.chains.delete(e.coreid);
    });
  }

  private async context(rt: Runtime): Promise<IntegrationContext | undefined> {
    const ctx = await integrationContext(this.d, rt.record.templateId, PARTICLE_DEVICE_METAFIELD);
    // No template means it (and with it this integration) was deleted.
    if (!ctx) void this.reload(rt.record.id).catch(() => {});
    return ctx;
  }

  private resolveDevice(rt: Runtime, coreid: string, ctx: IntegrationContext, create: boolean) {
    const s = rt.record.settings;
    const name = async () => (await deviceName(this.d.apiUrl, rt.record.secret, s.productId, coreid)) ?? coreid;
    return rt.directory.resolve(coreid, ctx, create && s.autoCreate ? name : false);
  }

  private async onData(rt: Runtime, e: ParticleEvent): Promise<void> {
    const ctx = await this.context(rt);
    if (!ctx) return;
    const mapped = mapEvent(ctx.model, e);
    if (mapped.kind === 'none') return;
    const state = await this.resolveDevice(rt, e.coreid, ctx, true);
    if (!state || !this.live(rt)) return;
    const now = this.d.clock();
    const prepared = this.d.ingest.prepare(mapped.values);
    const ops: WriteOp[] = [];
    const firmware =
      mapped.firmwareVersion !== undefined && mapped.firmwareVersion !== state.device.firmwareVersion
        ? mapped.firmwareVersion
        : undefined;
    if (firmware !== undefined) ops.push({ kind: 'firmware', deviceId: state.device.id, version: firmware });
    if (prepared.rejected.length > 0) {
      rt.notes.note(
        state,
        'rejected_values',
        {
          message: `Particle event values that do not fit their datastream were skipped: ${prepared.rejected
            .map((r) => `${r.datastream.name} (${r.datastream.type}) ← ${JSON.stringify(r.raw)?.slice(0, 60)}`)
            .join('; ')}`,
          event: e.name,
          values: prepared.rejected.map((r) => ({ pin: r.datastream.pin, name: r.datastream.name, raw: r.raw })),
        },
        ops,
      );
    }
    for (const u of mapped.unmatched) rt.unmatched.record(u.key, u.value, now, { coreid: e.coreid, event: e.name });
    rt.stats.values += prepared.accepted.length;
    await this.d.ingest.commit(state, ctx.model, prepared.accepted, 'particle', ops);
    // Like values, the firmware version shows only once it is stored.
    if (firmware !== undefined) state.device.firmwareVersion = firmware;
    publishTimeline(this.d.bus, state, ops);
  }

  /** `spark/status`: "online" / "offline" (also "auto-update" and the like, ignored). */
  private async onDeviceStatus(rt: Runtime, e: ParticleEvent): Promise<void> {
    const word = e.data.trim().toLowerCase();
    if (word !== 'online' && word !== 'offline') return;
    const ctx = await this.context(rt);
    if (!ctx) return;
    const online = word === 'online';
    const state = await this.resolveDevice(rt, e.coreid, ctx, online);
    if (!state || !this.live(rt)) return;
    await this.d.lifecycle.setOnline(state, online, e.publishedAt);
    if (online) this.replayPending(rt, state);
  }

  // ---- functions ------------------------------------------------------------------------

  /** Every user-originated write of a mapped datastream calls its cloud function. */
  private onValue(e: ValueEvent): void {
    if (DEVICE_SOURCES.has(e.source)) return;
    const rt = this.runtimes.forTemplate(e.templateId);
    if (!rt) return;
    const fns = rt.record.settings.functions;
    if (Object.keys(fns).length === 0) return;
    void this.d.registry
      .template(e.templateId)
      .then((model) => {
        const ds = model?.byPin.get(e.pin);
        const fn = ds ? functionFor(fns, ds) : undefined;
        if (!ds || !fn) return;
        this.queueCall(rt, e.deviceId, ds, fn, functionArg(e.value));
      })
      .catch((err) => this.d.log.error({ err, integration: rt.record.id }, 'Particle function call failed'));
  }

  private queueCall(rt: Runtime, deviceId: number, ds: Datastream, fn: string, arg: string, replay = false): void {
    const prev = rt.calls.get(deviceId) ?? Promise.resolve();
    const next = prev
      .then(() => this.call(rt, deviceId, ds, fn, arg, replay))
      .catch((err) => this.d.log.error({ err, integration: rt.record.id }, 'Particle function call failed'));
    rt.calls.set(deviceId, next);
    void next.then(() => {
      if (rt.calls.get(deviceId) === next) rt.calls.delete(deviceId);
    });
  }

  private overQuota(rt: Runtime): boolean {
    const limit = rt.record.settings.perMinute;
    if (!limit) return false;
    const now = this.d.clock();
    rt.callTimes = rt.callTimes.filter((t) => now - t < 60_000);
    if (rt.callTimes.length >= limit) return true;
    rt.callTimes.push(now);
    return false;
  }

  private async call(rt: Runtime, deviceId: number, ds: Datastream, fn: string, arg: string, replay: boolean) {
    const ctx = await this.context(rt);
    const state = await this.d.registry.device(deviceId);
    if (!ctx || !state || !this.live(rt)) return;
    const coreid = state.device.metadata.get(ctx.metafieldId);
    const data: Record<string, unknown> = {
      integration: 'particle',
      integrationId: rt.record.id,
      pin: ds.pin,
      name: ds.name,
      function: fn,
      arg,
      ...(replay ? { replay: true } : {}),
    };
    if (typeof coreid !== 'string' || coreid === '') {
      Object.assign(data, { status: 'not_sent', error: `The device has no ${PARTICLE_DEVICE_METAFIELD}` });
    } else if (this.overQuota(rt)) {
      Object.assign(data, {
        status: 'skipped',
        error: `Over the quota of ${rt.record.settings.perMinute} function calls per minute`,
      });
    } else {
      rt.stats.calls += 1;
      const r: CallResult = await callFunction(
        this.d.apiUrl,
        rt.record.secret,
        rt.record.settings.productId,
        coreid,
        fn,
        arg,
      );
      const pending = rt.pending.get(deviceId);
      if (r.ok) {
        pending?.delete(fn);
        Object.assign(data, { status: 'ok', httpStatus: r.httpStatus, return_value: r.returnValue });
      } else {
        rt.stats.callErrors += 1;
        Object.assign(data, {
          status: r.offline ? 'offline' : 'failed',
          httpStatus: r.httpStatus,
          error: r.error,
        });
        if (r.offline) {
          const map = pending ?? new Map<string, Pending>();
          map.set(fn, { pin: ds.pin, fn, arg, since: this.d.clock() });
          rt.pending.set(deviceId, map);
        }
      }
    }
    if (rt.pending.get(deviceId)?.size === 0) rt.pending.delete(deviceId);
    const ops: WriteOp[] = [
      { kind: 'timeline', deviceId: state.device.id, ts: this.d.clock(), type: 'particle_function', data },
    ];
    await this.d.writer.write(ops);
    publishTimeline(this.d.bus, state, ops);
  }

  /** The device came online: make the calls that found it offline (the latest per function). */
  private replayPending(rt: Runtime, state: DeviceState): void {
    const pending = rt.pending.get(state.device.id);
    if (!pending) return;
    rt.pending.delete(state.device.id);
    const now = this.d.clock();
    void this.d.registry.template(rt.record.templateId).then((model) => {
      for (const p of pending.values()) {
        const ds = model?.byPin.get(p.pin);
        if (ds && now - p.since < PENDING_TTL_MS) this.queueCall(rt, state.device.id, ds, p.fn, p.arg, true);
      }
    });
  }
}
