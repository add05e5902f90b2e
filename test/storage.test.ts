import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type Backend, backends, seedDevice, startApp } from './helpers/harness.ts';

// SQLite runs with each writer (inline on the main thread, and the writer thread).
const variants = backends().flatMap(
  (backend): Array<{ label: string; backend: Backend; env: Record<string, string> }> =>
    backend.name === 'sqlite'
      ? [
          { label: 'sqlite, inline writer', backend, env: { PINWHEEL_SQLITE_WRITER: 'inline' } },
          { label: 'sqlite, writer thread', backend, env: { PINWHEEL_SQLITE_WRITER: 'thread' } },
        ]
      : [{ label: backend.name, backend, env: {} }],
);

describe.each(variants)('storage on $label', ({ backend, env }) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('commits writes that arrive in the same turn of the event loop together', async () => {
    const t = await startApp(backend, { env });
    cleanups.push(() => t.close());
    const { deviceId } = await seedDevice(t, [{ name: 'n', pin: 'V1', type: 'integer', saveRaw: true }]);
    const state = (await t.s.registry.device(deviceId))!;
    const model = (await t.s.registry.template(state.device.templateId))!;
    const ds = model.byPin.get('V1')!;
    const before = t.s.writer.commits;
    const N = 300;
    // N requests handled in one turn, as a busy server does: each awaits its own durability.
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        t.s.ingest.commit(state, model, t.s.ingest.prepare([{ datastream: ds, raw: i }]).accepted, 'http'),
      ),
    );
    expect(t.s.writer.commits - before, `commits for ${N} writes issued in one turn`).toBe(1);
    const h = await t.api('GET', `/api/v1/devices/${deviceId}/history?pin=V1&limit=1000&from=0`);
    expect(h.body.points.map((p: [number, number]) => p[1]).sort((a: number, b: number) => a - b)).toEqual(
      Array.from({ length: N }, (_, i) => i),
    );
  });

  it('acknowledges and stores every write of a concurrent HTTP burst', async () => {
    const t = await startApp(backend, { env });
    cleanups.push(() => t.close());
    const { deviceId, token } = await seedDevice(t, [{ name: 'n', pin: 'V1', type: 'integer', saveRaw: true }]);
    const N = 300;
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) => t.get(`/external/api/update?token=${token}&V1=${i}`)),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const h = await t.api('GET', `/api/v1/devices/${deviceId}/history?pin=V1&limit=1000&from=0`);
    expect(h.body.points).toHaveLength(N);
    expect(new Set(h.body.points.map((p: [number, number]) => p[1])).size).toBe(N);
  });

  it('keeps every acknowledged value across a restart', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pinwheel-restart-'));
    const pgSchema = backend.databaseUrl ? `t_${crypto.randomBytes(6).toString('hex')}` : undefined;
    const opts = { dataDir, env, ...(pgSchema ? { pgSchema } : {}) };
    cleanups.push(async () => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (pgSchema) {
        const c = new pg.Client({ connectionString: backend.databaseUrl });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
        await c.end();
      }
    });
    const first = await startApp(backend, opts);
    const { deviceId, token } = await seedDevice(first, [
      { name: 'temp', pin: 'V1', type: 'double' },
      { name: 'where', pin: 'V2', type: 'location' },
    ]);
    expect((await first.get(`/external/api/update?token=${token}&V1=19.25`)).status).toBe(200);
    expect((await first.get(`/external/api/batch/update?token=${token}&V2=2.35,48.85`)).status).toBe(200);
    await first.close();

    const second = await startApp(backend, { ...opts, noAdmin: true });
    cleanups.push(() => second.close());
    expect((await second.get(`/external/api/getAll?token=${token}`)).text).toBe('{"v1":19.25,"v2":[2.35,48.85]}');
    const login = await second.api(
      'POST',
      '/api/v1/auth/login',
      { email: 'admin@example.com', password: 'password123' },
      null,
    );
    const dev = await second.api('GET', `/api/v1/devices/${deviceId}`, undefined, login.body.token);
    expect(dev.body.values.V1.value).toBe(19.25);
    expect(dev.body.values.V2.value).toEqual([2.35, 48.85]);
    expect(dev.body.token).toBe(token);
  });

  it.skipIf(backend.name !== 'sqlite')('stores device tokens encrypted, never in clear text', async () => {
    const t = await startApp(backend, { env });
    cleanups.push(() => t.close());
    const { token } = await seedDevice(t, [{ name: 'n', pin: 'V1', type: 'integer' }]);
    await t.s.writer.flush();
    const files = fs.readdirSync(t.dataDir).filter((f) => f.startsWith('pinwheel.db'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect(fs.readFileSync(path.join(t.dataDir, f)).includes(Buffer.from(token))).toBe(false);
    }
    expect(fs.statSync(path.join(t.dataDir, 'secret.key')).mode & 0o077).toBe(0);
  });
});

describe('when storage fails', () => {
  it('answers 503 and does not show the value as stored', async () => {
    const t = await startApp({ name: 'sqlite' });
    try {
      const { deviceId, token } = await seedDevice(t, [{ name: 'n', pin: 'V1', type: 'integer' }]);
      expect((await t.get(`/external/api/update?token=${token}&V1=1`)).status).toBe(200);
      await t.s.writer.close();
      const r = await t.get(`/external/api/update?token=${token}&V1=2`);
      expect(r.status).toBe(503);
      expect(r.body).toEqual({ error: { message: 'Storage is unavailable; nothing was written.' } });
      const api = await t.api('PUT', `/api/v1/devices/${deviceId}/values`, { V1: 3 });
      expect(api.status).toBe(503);
      expect(api.body.error.code).toBe('STORAGE_UNAVAILABLE');
      expect((await t.get(`/external/api/get?token=${token}&V1`)).text).toBe('1');
    } finally {
      await t.app.close();
      await t.s.db.close();
    }
  });
});
