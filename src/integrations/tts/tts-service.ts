import crypto from 'node:crypto';
import type { Logger } from 'pino';
import { DEVICE_SOURCES, type EventBus, type ValueEvent } from '../../bus/events.ts';
import { conflict } from '../../errors.ts';
import type { IngestPipeline } from '../../ingest/pipeline.ts';
import type { Registry } from '../../ingest/registry.ts';
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
import type { BackoffOptions } from './backoff.ts';
import { TtsConnection } from './connection.ts';
import { buildDownlink, ourCorrelationId, type TtsDownlink } from './downlink-builder.ts';
import { defaultPort, TTS_DEVICE_METAFIELD, type TtsSettings } from './settings.ts';
import { deviceTopic, type ParsedTopic, parseTopic } from './topics.ts';
import { mapUplink, parseRfc3339 } from './uplink-mapper.ts';

export interface TtsDeps {
  integrations: IntegrationsRepo;
  templates: TemplatesRepo;
  devices: DevicesRepo;
  registry: Registry;
  ingest: IngestPipeline;
  writer: BatchWriter;
  bus: EventBus;
  log: Logger;
  clock: () => number;
  leadership: Leadership;
  backoff: BackoffOptions;
  /** Least time between two timeline notes of one kind on one device. */
  noteIntervalMs: number;
}

interface Runtime {
  record: IntegrationRecord<TtsSettings>;
  conn: TtsConnection;
  /** TTS device id → Pinwheel device. */
  directory: DeviceDirectory;
  unmatched: UnmatchedKeys;
  notes: NoteLimiter;
  /** Coalescing: device → pin → the latest downlink not yet sent. */
  pending: Map<number, Map<string, TtsDownlink>>;
  /** Our correlation id → where it went. */
  correlations: Map<string, { deviceId: number; pin: string }>;
  stats: { uplinks: number; malformed: number; downlinks: number };
}

const MAX_CORRELATIONS = 10_000;
/** Sources that are the device speaking: their values are never sent back down. */
const NO_DOWNLINK = new Set<string>([...DEVICE_SOURCES].filter((s) => s !== 'particle'));

export type TtsInput = Omit<TtsSettings, 'port'> & {
  port?: number | undefined;
  apiKey: string;
  name?: string | undefined;
};

/** The Things Stack integration: one MQTT session per application card, uplinks in, downlinks out. */
export class TtsService {
  private readonly runtimes: IntegrationRuntimes<TtsSettings, Runtime>;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly d: TtsDeps) {
    this.runtimes = new IntegrationRuntimes<TtsSettings, Runtime>(
      'tts',
      d,
      {
        create: (record) => this.createRuntime(record),
        start: (rt) => rt.conn.start(),
        stop: (rt) => rt.conn.stop(),
        mustRestart: (cur, next) =>
          next.secret !== cur.secret ||
          (['host', 'port', 'tls', 'username'] as const).some((k) => next.settings[k] !== cur.settings[k]),
        reconnectNow: (rt) => rt.conn.reconnectNow(),
        live: (rt) => ({ status: rt.conn.status, lastError: rt.conn.lastError, stats: rt.stats }),
        publicSettings: (s) => ({ ...s }),
      },
      TTS_DEVICE_METAFIELD,
    );
  }

  async start(): Promise<void> {
    this.unsubscribe = this.d.bus.subscribe((e) => {
      if (e.type === 'value') this.onValue(e);
    });
    await this.runtimes.start();
    await this.d.leadership.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.d.leadership.stop();
    await this.runtimes.stop();
  }

  /** An application card changed on another instance. */
  reload(id: number, action?: 'connect'): Promise<void> {
    return this.runtimes.reload(id, action);
  }

  // ---- API ----------------------------------------------------------------------------

  async list(orgId: number): Promise<Array<Record<string, unknown>>> {
    return (await this.runtimes.list(orgId)).map((r) => this.runtimes.view(r));
  }

  async get(orgId: number, id: number): Promise<Record<string, unknown>> {
    return this.runtimes.view(await this.runtimes.ownRecord(orgId, id));
  }

  /** Unmatched keys as seen by the instance that holds the connection (this one, or none). */
  async unmatched(orgId: number, id: number): Promise<UnmatchedKey[]> {
    await this.runtimes.ownRecord(orgId, id);
    const rt = this.runtimes.get(id);
    return rt ? rt.unmatched.list() : [];
  }

  async create(orgId: number, templateId: string, input: TtsInput, now: number): Promise<Record<string, unknown>> {
    const { apiKey, name, ...rest } = input;
    const settings: TtsSettings = { ...rest, port: input.port ?? defaultPort(input.tls) };
    await this.assertFree(templateId, settings);
    let record: IntegrationRecord<TtsSettings>;
    try {
      record = await this.d.integrations.create<TtsSettings>({
        orgId,
        type: 'tts',
        templateId,
        name: name ?? settings.username,
        settings,
        secret: apiKey,
        createdAt: now,
        updatedAt: now,
      });
    } catch (err) {
      if (/unique|duplicate/i.test(String((err as Error).message))) {
        throw conflict('this template already has a The Things Stack application');
      }
      throw err;
    }
    await this.runtimes.changed(record.id);
    return this.runtimes.view(record);
  }

  async update(
    orgId: number,
    id: number,
    patch: Partial<TtsSettings> & { apiKey?: string; name?: string },
    now: number,
  ): Promise<Record<string, unknown>> {
    const current = await this.runtimes.ownRecord(orgId, id);
    const { apiKey, name, ...settingsPatch } = patch;
    const settings: TtsSettings = { ...current.settings, ...settingsPatch };
    if (settingsPatch.tls !== undefined && settingsPatch.port === undefined && current.settings.tls !== settings.tls) {
      settings.port = defaultPort(settings.tls);
    }
    await this.assertFree(current.templateId, settings, id);
    await this.d.integrations.update(
      id,
      { settings, ...(name ? { name } : {}), ...(apiKey ? { secret: apiKey } : {}) },
      now,
    );
    await this.runtimes.changed(id);
    return this.runtimes.view(await this.runtimes.ownRecord(orgId, id));
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

  /** The template is being deleted: its application card goes with it. */
  dropTemplate(templateId: string): Promise<void> {
    return this.runtimes.dropTemplate(templateId);
  }

  /** Forget cached TTS → device routes of a template (device deleted or metadata edited). */
  forgetDevice(deviceId: number): void {
    for (const rt of this.runtimes.all()) {
      rt.directory.forget(deviceId);
      rt.pending.delete(deviceId);
    }
  }

  // ---- internals ------------------------------------------------------------------------

  /** One application per template, and one template per application. */
  private async assertFree(templateId: string, s: TtsSettings, selfId?: number): Promise<void> {
    for (const other of await this.runtimes.list()) {
      if (other.id === selfId) continue;
      const o = other.settings;
      if (o.host.toLowerCase() === s.host.toLowerCase() && o.username === s.username) {
        throw conflict(
          `The Things Stack application ${s.username} on ${s.host} is already connected to template ${other.templateId}; one application serves one template, or new devices could not be placed`,
        );
      }
      if (other.templateId === templateId) {
        throw conflict('this template already has a The Things Stack application');
      }
    }
  }

  private createRuntime(record: IntegrationRecord<TtsSettings>): Runtime {
    const rt: Runtime = {
      record,
      conn: undefined as unknown as TtsConnection,
      directory: new DeviceDirectory(this.d, { orgId: record.orgId, templateId: record.templateId, what: 'uplink' }),
      unmatched: new UnmatchedKeys(),
      notes: new NoteLimiter({ type: 'tts', id: record.id }, this.d.noteIntervalMs, this.d.clock),
      pending: new Map(),
      correlations: new Map(),
      stats: { uplinks: 0, malformed: 0, downlinks: 0 },
    };
    rt.conn = new TtsConnection(
      record.id,
      record.settings,
      record.secret,
      {
        onStatus: (status, lastError) => this.runtimes.statusChanged(rt, status, lastError),
        onMessage: (topic, payload) => this.onMessage(rt, topic, payload),
      },
      this.d.backoff,
    );
    return rt;
  }

  private onMessage(rt: Runtime, topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed || parsed.uid !== rt.record.settings.username) return;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      rt.stats.malformed += 1;
      this.d.log.warn(
        { integration: rt.record.id, topic },
        'The Things Stack sent a message that is not JSON; ignored',
      );
      return;
    }
    const work =
      parsed.event === 'up'
        ? this.onUplink(rt, parsed, body)
        : parsed.event === 'join'
          ? this.onJoin(rt, parsed, body)
          : parsed.event === 'location/solved'
            ? this.onLocation(rt, parsed, body)
            : parsed.event.startsWith('down/') && parsed.event !== 'down/push' && parsed.event !== 'down/replace'
              ? this.onDownlinkStatus(rt, parsed, body)
              : Promise.resolve();
    work.catch((err) => this.d.log.error({ err, integration: rt.record.id, topic }, 'The Things Stack message failed'));
  }

  private context(rt: Runtime): Promise<IntegrationContext | undefined> {
    return integrationContext(this.d, rt.record.templateId, TTS_DEVICE_METAFIELD);
  }

  private resolveDevice(rt: Runtime, ttsId: string, ctx: IntegrationContext, create: boolean) {
    return rt.directory.resolve(ttsId, ctx, create && rt.record.settings.autoCreate ? async () => ttsId : false);
  }

  private async onUplink(rt: Runtime, topic: ParsedTopic, body: unknown): Promise<void> {
    const ctx = await this.context(rt);
    if (!ctx) return;
    const now = this.d.clock();
    const mapped = mapUplink(ctx.model, rt.record.settings, body, now);
    if (!mapped) {
      rt.stats.malformed += 1;
      return;
    }
    rt.stats.uplinks += 1;
    const state = await this.resolveDevice(rt, topic.deviceId, ctx, true);
    if (!state) return;
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
          message: `Uplink values that do not fit their datastream were skipped: ${prepared.rejected
            .map((r) => `${r.datastream.name} (${r.datastream.type}) ← ${JSON.stringify(r.raw)?.slice(0, 60)}`)
            .join('; ')}`,
          values: prepared.rejected.map((r) => ({ pin: r.datastream.pin, name: r.datastream.name, raw: r.raw })),
        },
        ops,
      );
    }
    if (mapped.formatterMissing) {
      const fPort = (body as { uplink_message?: { f_port?: unknown } }).uplink_message?.f_port;
      rt.notes.note(
        state,
        'formatter_missing',
        {
          message: `An uplink on f_port ${String(fPort)} carried a payload but no decoded_payload: the payload formatter in The Things Stack is missing or failed`,
        },
        ops,
      );
    }
    for (const u of mapped.unmatched) rt.unmatched.record(u.key, u.value, now, { ttsDeviceId: topic.deviceId });
    await this.d.ingest.commit(state, ctx.model, prepared.accepted, 'tts', ops);
    // Like values, the firmware version shows only once it is stored.
    if (firmware !== undefined) state.device.firmwareVersion = firmware;
    publishTimeline(this.d.bus, state, ops);
  }

  private async onJoin(rt: Runtime, topic: ParsedTopic, body: unknown): Promise<void> {
    const ctx = await this.context(rt);
    if (!ctx) return;
    const state = await this.resolveDevice(rt, topic.deviceId, ctx, false);
    if (!state) return;
    const ts = parseRfc3339((body as { received_at?: unknown }).received_at) ?? this.d.clock();
    const ops: WriteOp[] = [
      { kind: 'timeline', deviceId: state.device.id, ts, type: 'join', data: { integration: 'tts' } },
    ];
    await this.d.ingest.touch(state, ctx.model, 'tts', ops);
    publishTimeline(this.d.bus, state, ops);
  }

  private async onLocation(rt: Runtime, topic: ParsedTopic, body: unknown): Promise<void> {
    const solved = (body as { location_solved?: { service?: unknown; location?: Record<string, unknown> } })
      .location_solved;
    const lat = solved?.location?.latitude;
    const lon = solved?.location?.longitude;
    if (typeof lat !== 'number' || typeof lon !== 'number') return;
    const ctx = await this.context(rt);
    if (!ctx) return;
    const state = await this.resolveDevice(rt, topic.deviceId, ctx, false);
    if (!state) return;
    const ts = parseRfc3339((body as { received_at?: unknown }).received_at) ?? this.d.clock();
    const loc = ctx.model.datastreams.find((d) => d.type === 'location');
    const ops: WriteOp[] = [
      {
        kind: 'timeline',
        deviceId: state.device.id,
        ts,
        type: 'location_solved',
        data: { integration: 'tts', service: solved?.service ?? null, latitude: lat, longitude: lon },
      },
    ];
    const prepared = loc ? this.d.ingest.prepare([{ datastream: loc, raw: [lon, lat], ts }]) : { accepted: [] };
    await this.d.ingest.commit(state, ctx.model, prepared.accepted, 'tts', ops);
    publishTimeline(this.d.bus, state, ops);
  }

  private async onDownlinkStatus(rt: Runtime, topic: ParsedTopic, body: unknown): Promise<void> {
    const status = topic.event.slice('down/'.length);
    const b = body as Record<string, any>;
    const inner = b[`downlink_${status}`] ?? b.downlink_queue_invalidated;
    const correlationId =
      ourCorrelationId(b.correlation_ids) ??
      ourCorrelationId(inner?.correlation_ids) ??
      ourCorrelationId(inner?.downlink?.correlation_ids);
    if (!correlationId) return;
    const where = rt.correlations.get(correlationId);
    const ctx = await this.context(rt);
    if (!ctx) return;
    const state = where
      ? await this.d.registry.device(where.deviceId)
      : await this.resolveDevice(rt, topic.deviceId, ctx, false);
    if (!state) return;
    if (where && (status === 'sent' || status === 'failed')) {
      const pending = rt.pending.get(where.deviceId);
      const p = pending?.get(where.pin);
      if (p && ourCorrelationId(p.correlation_ids) === correlationId) pending!.delete(where.pin);
    }
    const error = status === 'failed' ? inner?.error : undefined;
    const data: Record<string, unknown> = {
      integration: 'tts',
      correlationId,
      status,
      ...(where ? { pin: where.pin } : {}),
    };
    if (error) data.error = String(error.message_format ?? error.name ?? 'failed');
    const ops: WriteOp[] = [
      { kind: 'timeline', deviceId: state.device.id, ts: this.d.clock(), type: 'downlink_status', data },
    ];
    await this.d.writer.write(ops);
    publishTimeline(this.d.bus, state, ops);
  }

  /** Every accepted value that did not come from the device goes down as one downlink. */
  private onValue(e: ValueEvent): void {
    if (NO_DOWNLINK.has(e.source)) return;
    const rt = this.runtimes.forTemplate(e.templateId);
    if (!rt) return;
    void this.sendDownlink(rt, e).catch((err) =>
      this.d.log.error({ err, integration: rt.record.id }, 'downlink to The Things Stack failed'),
    );
  }

  private async sendDownlink(rt: Runtime, e: ValueEvent): Promise<void> {
    const ctx = await this.context(rt);
    if (!ctx) return;
    const state = await this.d.registry.device(e.deviceId);
    const ds = ctx.model.byPin.get(e.pin);
    const ttsId = state?.device.metadata.get(ctx.metafieldId);
    if (!state || !ds || typeof ttsId !== 'string' || ttsId === '') return;
    const correlationId = crypto.randomUUID();
    const downlink = buildDownlink(rt.record.settings, ds, e.value, e.ts, correlationId);
    const uid = rt.record.settings.username;
    let published: boolean;
    let mode: 'push' | 'replace';
    if (rt.record.settings.coalesce) {
      mode = 'replace';
      let pending = rt.pending.get(state.device.id);
      if (!pending) {
        pending = new Map();
        rt.pending.set(state.device.id, pending);
      }
      pending.set(ds.pin, downlink);
      published = rt.conn.publish(deviceTopic(uid, ttsId, 'down/replace'), { downlinks: [...pending.values()] });
    } else {
      mode = 'push';
      published = rt.conn.publish(deviceTopic(uid, ttsId, 'down/push'), { downlinks: [downlink] });
    }
    if (published) {
      rt.stats.downlinks += 1;
      rt.correlations.set(correlationId, { deviceId: state.device.id, pin: ds.pin });
      if (rt.correlations.size > MAX_CORRELATIONS) {
        const oldest = rt.correlations.keys().next().value;
        if (oldest !== undefined) rt.correlations.delete(oldest);
      }
    }
    const ops: WriteOp[] = [
      {
        kind: 'timeline',
        deviceId: state.device.id,
        ts: this.d.clock(),
        type: 'downlink',
        data: {
          integration: 'tts',
          correlationId,
          pin: ds.pin,
          name: ds.name,
          value: e.value,
          mode,
          status: published ? 'published' : 'not_sent',
          ...(published ? {} : { error: `The Things Stack is ${rt.conn.status}: the downlink was not sent` }),
        },
      },
    ];
    await this.d.writer.write(ops);
    publishTimeline(this.d.bus, state, ops);
  }
}
