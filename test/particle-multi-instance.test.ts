import { afterAll, describe, expect, it } from 'vitest';
import { RedisBus } from '../src/bus/redis-bus.ts';
import { RedisLeadership } from '../src/integrations/leadership.ts';
import { newCoreId, startFakeParticle } from './helpers/fake-particle.ts';
import { startApp, type TestApp } from './helpers/harness.ts';
import { PARTICLE_ENV } from './helpers/particle-util.ts';
import { sleep, until } from './helpers/tts-util.ts';

const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!redisUrl)('Particle with several instances', () => {
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  });

  it('holds one stream, ingests each event once, calls each function once per write, and fails over', async () => {
    const fake = await startFakeParticle();
    closers.push(() => fake.close());
    const tag = `${Date.now()}:${Math.random()}`;
    const instance = async (dataDir?: string) => {
      const bus = await RedisBus.connect(redisUrl!, `pinwheel:test:bus:${tag}`, () => {});
      const leadership = RedisLeadership.connect(redisUrl!, `pinwheel:test:lead:${tag}`, 600, () => {});
      const t = await startApp(
        { name: 'sqlite' },
        {
          env: PARTICLE_ENV(fake),
          ...(dataDir ? { dataDir, noAdmin: true } : {}),
          overrides: { bus, leadership },
        },
      );
      closers.push(() => t.close());
      return t;
    };
    const a: TestApp = await instance();
    const b: TestApp = await instance(a.dataDir);
    const token = a.adminToken;
    const api = (t: TestApp, method: string, p: string, body?: unknown) => t.api(method, p, body, token);

    const templateId = (await api(a, 'POST', '/api/v1/templates', { name: 'Photons' })).body.id as string;
    await api(a, 'POST', `/api/v1/templates/${templateId}/datastreams`, {
      name: 'count',
      pin: 'V1',
      type: 'integer',
      saveRaw: true,
    });
    await api(a, 'POST', `/api/v1/templates/${templateId}/datastreams`, { name: 'led', pin: 'V16', type: 'integer' });
    const created = await api(b, 'POST', '/api/v1/integrations/particle', {
      templateId,
      accessToken: fake.token,
      functions: { V16: 'blynk_led' },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as number;
    for (const t of [a, b]) {
      await until(
        () => api(t, 'GET', `/api/v1/integrations/particle/${id}`),
        (r) => r.body.status === 'connected',
      );
    }
    await fake.waitForStreams(1);
    await sleep(200);
    expect(fake.openStreams()).toBe(1);

    const coreid = newCoreId();
    fake.addDevice({ id: coreid, functions: new Map([['blynk_led', () => 1]]) });
    const base = Date.now() - 60_000;
    for (let n = 1; n <= 5; n++) fake.publish('data', JSON.stringify({ count: n }), coreid, new Date(base + n * 1000));
    const devices = await until(
      () => api(a, 'GET', `/api/v1/devices?templateId=${templateId}`),
      (r) => r.body.items.length === 1,
    );
    const deviceId = devices.body.items[0].id as number;
    const history = await until(
      () => api(b, 'GET', `/api/v1/devices/${deviceId}/history?pin=V1&from=0`),
      (r) => r.body.points.length >= 5,
    );
    await sleep(300);
    expect(history.body.points.map((p: [number, number]) => p[1])).toEqual([1, 2, 3, 4, 5]);

    expect((await api(a, 'PUT', `/api/v1/devices/${deviceId}/values`, { led: 1 })).status).toBe(200);
    expect((await api(b, 'PUT', `/api/v1/devices/${deviceId}/values`, { led: 0 })).status).toBe(200);
    await until(
      async () => fake.calls.length,
      (n) => n >= 2,
    );
    await sleep(300);
    expect(fake.calls.map((c) => c.arg)).toEqual(['1', '0']);

    const leader = (await api(a, 'GET', `/api/v1/integrations/particle/${id}`)).body.stats ? a : b;
    const survivor = leader === a ? b : a;
    await leader.close();
    await until(
      () => survivor.api('GET', `/api/v1/integrations/particle/${id}`, undefined, token),
      (r) => r.body.status === 'connected' && r.body.stats !== null,
      5000,
    );
    await fake.waitForStreams(1);
    fake.publish('data', JSON.stringify({ count: 6 }), coreid);
    await until(
      () => survivor.api('GET', `/api/v1/devices/${deviceId}/history?pin=V1&from=0`, undefined, token),
      (r) => r.body.points.length === 6,
    );
  });
});
