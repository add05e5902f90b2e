import path from 'node:path';
import { z } from 'zod';

/**
 * Every setting Pinwheel reads, from the environment, validated once at boot.
 * Each entry is documented in README.md ("Configuration"); a test keeps the two in sync.
 */
const intFromEnv = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

const boolFromEnv = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);

export const configSchema = z.object({
  PINWHEEL_PORT: intFromEnv(8080, 0, 65535),
  PINWHEEL_HOST: z.string().min(1).default('0.0.0.0'),
  PINWHEEL_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (leave unset for SQLite)')
      .optional(),
  ),
  REDIS_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// URL')
      .optional(),
  ),
  PINWHEEL_ADMIN_EMAIL: z.preprocess(emptyToUndefined, z.string().email().optional()),
  PINWHEEL_ADMIN_PASSWORD: z.preprocess(emptyToUndefined, z.string().min(8).optional()),
  PINWHEEL_ADMIN_ORGANIZATION: z.string().min(1).default('My organization'),
  PINWHEEL_SECRET_KEY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)')
      .optional(),
  ),
  PINWHEEL_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PINWHEEL_PUBLIC_URL: z.preprocess(emptyToUndefined, z.string().url().optional()),
  PINWHEEL_SQLITE_SYNCHRONOUS: z.enum(['FULL', 'NORMAL']).default('FULL'),
  PINWHEEL_SQLITE_WRITER: z.enum(['inline', 'thread']).default('inline'),
  PINWHEEL_LOGIN_MAX_FAILURES: intFromEnv(5, 1),
  PINWHEEL_LOGIN_BLOCK_SECONDS: intFromEnv(600, 1),
  PINWHEEL_SESSION_TTL_HOURS: intFromEnv(24 * 14, 1),
  PINWHEEL_BATCH_MAX_POINTS: intFromEnv(10_000, 1),
  PINWHEEL_IMPORT_MAX_AGE_DAYS: intFromEnv(31, 1),
  PINWHEEL_LIFECYCLE_SWEEP_MS: intFromEnv(1000, 10),
  PINWHEEL_BODY_LIMIT_BYTES: intFromEnv(2 * 1024 * 1024, 1024),
  PINWHEEL_OPENAPI: boolFromEnv(true),
  PINWHEEL_TTS_RECONNECT_MIN_MS: intFromEnv(1000, 10),
  PINWHEEL_TTS_RECONNECT_MAX_MS: intFromEnv(60_000, 10),
  PINWHEEL_INTEGRATION_NOTE_INTERVAL_MS: intFromEnv(600_000, 0),
  PINWHEEL_PARTICLE_API_URL: z.string().url().default('https://api.particle.io'),
  PINWHEEL_PARTICLE_RECONNECT_MIN_MS: intFromEnv(2000, 10),
  PINWHEEL_PARTICLE_RECONNECT_MAX_MS: intFromEnv(120_000, 10),
  PINWHEEL_PARTICLE_IDLE_TIMEOUT_MS: intFromEnv(60_000, 100),
  PINWHEEL_WEBHOOK_PER_MINUTE: intFromEnv(10, 1, 6000),
  PINWHEEL_WEBHOOK_TIMEOUT_MS: intFromEnv(10_000, 10, 600_000),
  PINWHEEL_WEBHOOK_MAX_ATTEMPTS: intFromEnv(5, 1, 100),
  PINWHEEL_WEBHOOK_RETRY_BASE_MS: intFromEnv(5_000, 1),
  PINWHEEL_WEBHOOK_RETRY_MAX_MS: intFromEnv(300_000, 1),
  PINWHEEL_WEBHOOK_DISABLE_AFTER: intFromEnv(10, 0, 1_000_000),
  PINWHEEL_WEBHOOK_POLL_MS: intFromEnv(1000, 10),
  PINWHEEL_WEBHOOK_CONCURRENCY: intFromEnv(8, 1, 1000),
  PINWHEEL_WEBHOOK_LOG_KEEP: intFromEnv(500, 10),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  admin: { email: string; password: string; organization: string } | undefined;
  secretKeyHex: string | undefined;
  logLevel: RawConfig['PINWHEEL_LOG_LEVEL'];
  publicUrl: string | undefined;
  sqliteSynchronous: 'FULL' | 'NORMAL';
  sqliteWriter: 'inline' | 'thread';
  loginMaxFailures: number;
  loginBlockSeconds: number;
  sessionTtlHours: number;
  batchMaxPoints: number;
  importMaxAgeDays: number;
  lifecycleSweepMs: number;
  bodyLimitBytes: number;
  openapi: boolean;
  ttsReconnectMinMs: number;
  ttsReconnectMaxMs: number;
  integrationNoteIntervalMs: number;
  particleApiUrl: string;
  particleReconnectMinMs: number;
  particleReconnectMaxMs: number;
  particleIdleTimeoutMs: number;
  webhooks: {
    perMinute: number;
    timeoutMs: number;
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
    disableAfter: number;
    pollMs: number;
    concurrency: number;
    logKeep: number;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  if (Boolean(c.PINWHEEL_ADMIN_EMAIL) !== Boolean(c.PINWHEEL_ADMIN_PASSWORD)) {
    throw new ConfigError(
      'Invalid configuration:\n  PINWHEEL_ADMIN_EMAIL and PINWHEEL_ADMIN_PASSWORD must be set together',
    );
  }
  return {
    port: c.PINWHEEL_PORT,
    host: c.PINWHEEL_HOST,
    dataDir: path.resolve(c.PINWHEEL_DATA_DIR),
    databaseUrl: c.DATABASE_URL,
    redisUrl: c.REDIS_URL,
    admin:
      c.PINWHEEL_ADMIN_EMAIL && c.PINWHEEL_ADMIN_PASSWORD
        ? {
            email: c.PINWHEEL_ADMIN_EMAIL,
            password: c.PINWHEEL_ADMIN_PASSWORD,
            organization: c.PINWHEEL_ADMIN_ORGANIZATION,
          }
        : undefined,
    secretKeyHex: c.PINWHEEL_SECRET_KEY,
    logLevel: c.PINWHEEL_LOG_LEVEL,
    publicUrl: c.PINWHEEL_PUBLIC_URL,
    sqliteSynchronous: c.PINWHEEL_SQLITE_SYNCHRONOUS,
    sqliteWriter: c.PINWHEEL_SQLITE_WRITER,
    loginMaxFailures: c.PINWHEEL_LOGIN_MAX_FAILURES,
    loginBlockSeconds: c.PINWHEEL_LOGIN_BLOCK_SECONDS,
    sessionTtlHours: c.PINWHEEL_SESSION_TTL_HOURS,
    batchMaxPoints: c.PINWHEEL_BATCH_MAX_POINTS,
    importMaxAgeDays: c.PINWHEEL_IMPORT_MAX_AGE_DAYS,
    lifecycleSweepMs: c.PINWHEEL_LIFECYCLE_SWEEP_MS,
    bodyLimitBytes: c.PINWHEEL_BODY_LIMIT_BYTES,
    openapi: c.PINWHEEL_OPENAPI,
    ttsReconnectMinMs: c.PINWHEEL_TTS_RECONNECT_MIN_MS,
    ttsReconnectMaxMs: Math.max(c.PINWHEEL_TTS_RECONNECT_MAX_MS, c.PINWHEEL_TTS_RECONNECT_MIN_MS),
    integrationNoteIntervalMs: c.PINWHEEL_INTEGRATION_NOTE_INTERVAL_MS,
    particleApiUrl: c.PINWHEEL_PARTICLE_API_URL.replace(/\/+$/, ''),
    particleReconnectMinMs: c.PINWHEEL_PARTICLE_RECONNECT_MIN_MS,
    particleReconnectMaxMs: Math.max(c.PINWHEEL_PARTICLE_RECONNECT_MAX_MS, c.PINWHEEL_PARTICLE_RECONNECT_MIN_MS),
    particleIdleTimeoutMs: c.PINWHEEL_PARTICLE_IDLE_TIMEOUT_MS,
    webhooks: {
      perMinute: c.PINWHEEL_WEBHOOK_PER_MINUTE,
      timeoutMs: c.PINWHEEL_WEBHOOK_TIMEOUT_MS,
      maxAttempts: c.PINWHEEL_WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: c.PINWHEEL_WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: Math.max(c.PINWHEEL_WEBHOOK_RETRY_MAX_MS, c.PINWHEEL_WEBHOOK_RETRY_BASE_MS),
      disableAfter: c.PINWHEEL_WEBHOOK_DISABLE_AFTER,
      pollMs: c.PINWHEEL_WEBHOOK_POLL_MS,
      concurrency: c.PINWHEEL_WEBHOOK_CONCURRENCY,
      logKeep: c.PINWHEEL_WEBHOOK_LOG_KEEP,
    },
  };
}
