import path from 'node:path';
import type { Logger } from 'pino';
import { DEVICE_SOURCES, type EventBus, isRemote } from './bus/events.ts';
import { MemoryBus } from './bus/memory-bus.ts';
import { RedisBus } from './bus/redis-bus.ts';
import type { Config } from './config.ts';
import { IngestPipeline } from './ingest/pipeline.ts';
import { Registry } from './ingest/registry.ts';
import { type Leadership, RedisLeadership, SoloLeadership } from './integrations/leadership.ts';
import { ParticleService } from './integrations/particle/particle-service.ts';
import { TtsService } from './integrations/tts/tts-service.ts';
import { Lifecycle } from './lifecycle/lifecycle.ts';
import { LoginThrottle } from './security/login-throttle.ts';
import { SecretBox } from './security/secret-box.ts';
import { BatchWriter } from './store/batch-writer.ts';
import { KyselyCommitter, SqliteInlineCommitter, SqliteWorkerCommitter } from './store/committers.ts';
import { type Db, openDatabase } from './store/database.ts';
import { DevicesRepo } from './store/devices-repo.ts';
import { HistoryRepo } from './store/history-repo.ts';
import { IntegrationsRepo } from './store/integrations-repo.ts';
import { TemplatesRepo } from './store/templates-repo.ts';
import { UsersRepo } from './store/users-repo.ts';
import { WebhookService } from './webhooks/webhook-service.ts';
import { WebhooksRepo } from './webhooks/webhooks-repo.ts';

/** Everything the HTTP layer and integrations use, built once from the config. */
export interface Services {
  config: Config;
  log: Logger;
  db: Db;
  box: SecretBox;
  bus: EventBus;
  writer: BatchWriter;
  registry: Registry;
  lifecycle: Lifecycle;
  ingest: IngestPipeline;
  templates: TemplatesRepo;
  devices: DevicesRepo;
  users: UsersRepo;
  history: HistoryRepo;
  integrations: IntegrationsRepo;
  tts: TtsService;
  webhooks: WebhookService;
  particle: ParticleService;
  loginThrottle: LoginThrottle;
  clock: () => number;
  close(): Promise<void>;
}

export interface ServiceOverrides {
  /** PostgreSQL schema (tests). */
  pgSchema?: string;
  clock?: () => number;
  bus?: EventBus;
  leadership?: Leadership;
}

export async function createServices(config: Config, log: Logger, o: ServiceOverrides = {}): Promise<Services> {
  const clock = o.clock ?? Date.now;
  const sqliteFile = path.join(config.dataDir, 'pinwheel.db');
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    sqliteFile,
    pgSchema: o.pgSchema,
    sqliteSynchronous: config.sqliteSynchronous,
  });
  const box = SecretBox.loadOrCreate(config.dataDir, config.secretKeyHex);
  const onBusError = (err: unknown) => log.error({ err }, 'event listener failed');
  const bus =
    o.bus ??
    (config.redisUrl
      ? await RedisBus.connect(config.redisUrl, 'pinwheel:events', onBusError)
      : new MemoryBus(onBusError));
  const templates = new TemplatesRepo(db.kysely);
  const devices = new DevicesRepo(db.kysely, box);
  const users = new UsersRepo(db.kysely);
  const history = new HistoryRepo(db.kysely);
  const writer = new BatchWriter(
    db.sqlite
      ? config.sqliteWriter === 'thread'
        ? new SqliteWorkerCommitter(sqliteFile, config.sqliteSynchronous)
        : new SqliteInlineCommitter(db.sqlite)
      : new KyselyCommitter(db.kysely, db.caps),
  );
  const registry = new Registry(templates, devices);
  const lifecycle = new Lifecycle(registry, writer, bus, (err) => log.error({ err }, 'lifecycle sweep failed'), clock);
  const ingest = new IngestPipeline(writer, bus, lifecycle, clock);

  // Keep caches in step with other instances (Redis bus); local changes update them directly.
  bus.subscribe((e) => {
    if (!isRemote(e)) return;
    if (e.type === 'invalidate') {
      if (e.entity === 'template') registry.invalidateTemplate(e.id);
      else if (e.entity === 'device') registry.invalidateDevice(Number(e.id));
    } else if (e.type === 'value' && DEVICE_SOURCES.has(e.source)) {
      // Another instance heard from this device: keep our offline timer from firing early.
      void registry.template(e.templateId).then((m) => {
        if (m) lifecycle.extend(e.deviceId, clock() + m.template.offlineAfterSeconds * 1000);
      });
    }
    if (e.type === 'value' || e.type === 'status') {
      void registry.cachedDevice(e.deviceId).then((s) => {
        if (!s) return;
        if (e.type === 'status') s.device.online = e.online;
        else {
          const cur = s.latest.get(e.pin);
          if (!cur || e.ts >= cur.ts) s.latest.set(e.pin, { value: e.value, ts: e.ts });
        }
      });
    }
  });

  await lifecycle.start(devices, config.lifecycleSweepMs);

  const integrations = new IntegrationsRepo(db.kysely, box);
  // With several instances (Redis), one holds the integrations' connections at a time.
  const leadership =
    o.leadership ??
    (config.redisUrl
      ? RedisLeadership.connect(config.redisUrl, 'pinwheel:leader:integrations', 15_000, (err) =>
          log.warn({ err }, 'integration leadership: Redis error'),
        )
      : new SoloLeadership());
  const tts = new TtsService({
    integrations,
    templates,
    devices,
    registry,
    ingest,
    writer,
    bus,
    log: log.child({ component: 'tts' }),
    clock,
    leadership,
    backoff: { minMs: config.ttsReconnectMinMs, maxMs: config.ttsReconnectMaxMs },
    noteIntervalMs: config.integrationNoteIntervalMs,
  });
  const particle = new ParticleService({
    integrations,
    templates,
    devices,
    registry,
    ingest,
    lifecycle,
    writer,
    bus,
    log: log.child({ component: 'particle' }),
    clock,
    leadership,
    apiUrl: config.particleApiUrl,
    backoff: { minMs: config.particleReconnectMinMs, maxMs: config.particleReconnectMaxMs },
    idleTimeoutMs: config.particleIdleTimeoutMs,
    noteIntervalMs: config.integrationNoteIntervalMs,
  });
  bus.subscribe((e) => {
    if (isRemote(e) && e.type === 'invalidate' && e.entity === 'integration') {
      void tts.reload(Number(e.id), e.action).catch((err) => log.error({ err }, 'integration reload failed'));
      void particle.reload(Number(e.id), e.action).catch((err) => log.error({ err }, 'integration reload failed'));
    }
  });
  await particle.start();
  await tts.start();
  const webhooks = new WebhookService({
    repo: new WebhooksRepo(db.kysely, db.caps, box),
    registry,
    devices,
    users,
    writer,
    bus,
    log: log.child({ component: 'webhooks' }),
    clock,
    leadership,
    settings: config.webhooks,
  });
  await webhooks.start();

  return {
    config,
    log,
    db,
    box,
    bus,
    writer,
    registry,
    lifecycle,
    ingest,
    templates,
    devices,
    users,
    history,
    integrations,
    tts,
    particle,
    webhooks,
    loginThrottle: new LoginThrottle(config.loginMaxFailures, config.loginBlockSeconds * 1000, clock),
    clock,
    async close() {
      await webhooks.stop();
      await particle.stop();
      await tts.stop();
      lifecycle.stop();
      await writer.close();
      await bus.close();
      await db.close();
    },
  };
}
