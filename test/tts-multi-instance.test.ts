import { afterAll, describe, expect, it } from 'vitest';
import { RedisBus } from '../src/bus/redis-bus.ts';
import { RedisLeadership } from '../src/integrations/leadership.ts';
import { startFakeTts } from './helpers/fake-tts.ts';
import { startApp, type TestApp } from './helpers/harness.ts';
import { until } from './helpers/tts-util.ts';

const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!redisUrl)('The Things Stack with several instances', () => {
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  });

  it('holds one connection, ingests each uplink once, sends one downlink per write, and fails over', async () => {
    const tts = await startFakeTts();
    closers.push(() => tts.close());
    const tag = `${Date.now()}:${Math.random()}`;
    const instance = async (dataDir?: string) => {
      const bus = await RedisBus.connect(redisUrl!, `pinwheel:test:bus:${tag}`, () => {});
      const leadership = RedisLeadership.connect(redisUrl!, `pinwheel:test:lead:${tag}`, 600, () => {});
      const t = await startApp(
        { name: 'sqlite' },
        { ...(dataDir ? { dataDir, noAdmin: true } : {}), overrides: { bus, leadership } },
      );
      closers.push(() => t.close());
      return t;
    };
    const a: TestApp = await instance();
    const b: TestApp = await instance(a.dataDir);
    const token = a.adminToken;
    const api = (t: TestApp, method: string, p: string, body?: unknown) => t.api(method, p, body, token);

    const tpl = await api(a, 'POST', '/api/v1/templates', { name: 'Field sensors' });
    const templateId = tpl.body.id as string;
    await api(a, 'POST', `/api/v1/templates/${templateId}/datastreams`, {
      name: 'count',
      pin: 'V1',
      type: 'integer',
      saveRaw: true,
    });
    await api(a, 'POST', `/api/v1/templates/${templateId}/datastreams`, { name: 'speed', pin: 'V2', type: 'integer' });
    // Created through the instance that does not lead: the leader still connects it.
    const created = await api(b, 'POST', '/api/v1/integrations/tts', {
      templateId,
      host: '127.0.0.1',
      port: tts.port,
      tls: false,
      username: tts.uid,
      apiKey: tts.apiKey,
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as number;
    for (const t of [a, b]) {
      await until(
        () => api(t, 'GET', `/api/v1/integrations/tts/${id}`),
        (r) => r.body.status === 'connected',
      );
    }
    expect(tts.connectAttempts).toBe(1);

    const base = Date.now() - 60_000;
    const uplink = (n: number) => ({
      end_device_ids: { device_id: 'node-1' },
      uplink_message: {
        f_port: 1,
        decoded_payload: { count: n },
        received_at: new Date(base + n * 1000).toISOString(),
      },
    });
    for (let n = 1; n <= 5; n++) await tts.publish('node-1', 'up', uplink(n));
    const devices = await until(
      () => api(a, 'GET', `/api/v1/devices?templateId=${templateId}`),
      (r) => r.body.items.length === 1,
    );
    const deviceId = devices.body.items[0].id as number;
    const history = await until(
      () => api(b, 'GET', `/api/v1/devices/${deviceId}/history?pin=V1&from=0`),
      (r) => r.body.points.length >= 5,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect((await api(b, 'GET', `/api/v1/devices/${deviceId}/history?pin=V1&from=0`)).body.points).toHaveLength(5);
    expect(history.body.points.map((p: [number, number]) => p[1])).toEqual([1, 2, 3, 4, 5]);

    // A write on either instance goes down exactly once.
    expect((await api(a, 'PUT', `/api/v1/devices/${deviceId}/values`, { speed: 7 })).status).toBe(200);
    expect((await api(b, 'PUT', `/api/v1/devices/${deviceId}/values`, { speed: 8 })).status).toBe(200);
    await until(
      async () => tts.downlinks.length,
      (n) => n >= 2,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(tts.downlinks.map((d) => d.body.downlinks[0].decoded_payload.value)).toEqual([7, 8]);

    // The leader goes away: the other instance takes the connection over.
    const leader = (await api(a, 'GET', `/api/v1/integrations/tts/${id}`)).body.stats ? a : b;
    const survivor = leader === a ? b : a;
    await leader.close();
    await until(
      () => survivor.api('GET', `/api/v1/integrations/tts/${id}`, undefined, token),
      (r) => r.body.status === 'connected' && r.body.stats !== null,
      5000,
    );
    await tts.waitForSubscriber();
    await tts.publish('node-1', 'up', uplink(6));
    await until(
      () => survivor.api('GET', `/api/v1/devices/${deviceId}/history?pin=V1&from=0`, undefined, token),
      (r) => r.body.points.length === 6,
    );
  });
});
