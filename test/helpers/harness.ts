import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { createFirstAdmin } from '../../src/http/platform-api/auth-routes.ts';
import { createLogger } from '../../src/logger.ts';
import { createServices, type ServiceOverrides, type Services } from '../../src/services.ts';

export interface Backend {
  name: 'sqlite' | 'postgres';
  databaseUrl?: string;
}

/** SQLite always; PostgreSQL too when TEST_DATABASE_URL is set. Use with describe.each. */
export function backends(): Backend[] {
  const out: Backend[] = [{ name: 'sqlite' }];
  const url = process.env.TEST_DATABASE_URL;
  if (url) out.push({ name: 'postgres', databaseUrl: url });
  return out;
}

export interface TestApp {
  app: FastifyInstance;
  s: Services;
  url: string;
  dataDir: string;
  backend: Backend;
  /** Session token of the seeded admin (admin@example.com / password123). */
  adminToken: string;
  /** fetch against the app with the admin token and JSON body. */
  api(
    method: string,
    p: string,
    body?: unknown,
    token?: string | null,
  ): Promise<{ status: number; body: any; text: string }>;
  /** Raw GET returning status and text (device API). */
  get(p: string): Promise<{ status: number; text: string; body: any; type: string | null }>;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  overrides?: ServiceOverrides;
  /** Skip creating the admin (setup tests). */
  noAdmin?: boolean;
  /** Reuse a data dir / PostgreSQL schema (restart tests). */
  dataDir?: string;
  pgSchema?: string;
}

/** A response body as JSON when it is JSON, else undefined (the text is kept beside it). */
function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

export const ADMIN = { email: 'admin@example.com', password: 'password123', organization: 'Test org' };

/** Starts a real server on 127.0.0.1 with a real database file (or its own PostgreSQL schema). */
export async function startApp(backend: Backend, opts: StartOptions = {}): Promise<TestApp> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pinwheel-test-'));
  const config: Config = loadConfig({
    PINWHEEL_DATA_DIR: dataDir,
    PINWHEEL_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PINWHEEL_SQLITE_SYNCHRONOUS: 'NORMAL',
    PINWHEEL_LIFECYCLE_SWEEP_MS: '50',
    ...(backend.databaseUrl ? { DATABASE_URL: backend.databaseUrl } : {}),
    ...opts.env,
  });
  const pgSchema = backend.databaseUrl ? (opts.pgSchema ?? `t_${crypto.randomBytes(6).toString('hex')}`) : undefined;
  const s = await createServices(config, createLogger(config.logLevel), {
    ...(pgSchema ? { pgSchema } : {}),
    ...opts.overrides,
  });
  const app = await buildApp(s);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  let adminToken = '';
  if (!opts.noAdmin) {
    await createFirstAdmin(s, ADMIN);
    const r = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
    });
    adminToken = ((await r.json()) as { token: string }).token;
  }

  const api: TestApp['api'] = async (method, p, body, token) => {
    const headers: Record<string, string> = {};
    const t = token === undefined ? adminToken : token;
    if (t) headers.authorization = `Bearer ${t}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(`${url}${p}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: parseBody(text), text };
  };
  const get: TestApp['get'] = async (p) => {
    const r = await fetch(`${url}${p}`);
    const text = await r.text();
    return { status: r.status, text, body: parseBody(text), type: r.headers.get('content-type') };
  };

  return {
    app,
    s,
    url,
    dataDir,
    backend,
    adminToken,
    api,
    get,
    async close() {
      await app.close();
      await s.close();
      if (pgSchema && backend.databaseUrl && !opts.pgSchema) {
        const c = new pg.Client({ connectionString: backend.databaseUrl });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
        await c.end();
      }
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates a template with datastreams and one device; returns ids and the device token. */
export async function seedDevice(
  t: TestApp,
  datastreams: Array<Record<string, unknown>>,
  opts: { templateName?: string; metafields?: Array<Record<string, unknown>>; deviceName?: string } = {},
): Promise<{ templateId: string; deviceId: number; token: string }> {
  const tpl = await t.api('POST', '/api/v1/templates', { name: opts.templateName ?? 'Test template' });
  if (tpl.status !== 201) throw new Error(`template: ${tpl.text}`);
  const templateId = tpl.body.id as string;
  for (const ds of datastreams) {
    const r = await t.api('POST', `/api/v1/templates/${templateId}/datastreams`, ds);
    if (r.status !== 201) throw new Error(`datastream ${JSON.stringify(ds)}: ${r.text}`);
  }
  for (const mf of opts.metafields ?? []) {
    const r = await t.api('POST', `/api/v1/templates/${templateId}/metafields`, mf);
    if (r.status !== 201) throw new Error(`metafield: ${r.text}`);
  }
  const dev = await t.api('POST', '/api/v1/devices', { templateId, name: opts.deviceName ?? 'Device 1' });
  if (dev.status !== 201) throw new Error(`device: ${dev.text}`);
  return { templateId, deviceId: dev.body.id as number, token: dev.body.token as string };
}
