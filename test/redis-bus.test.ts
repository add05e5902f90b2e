import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { BusEvent } from '../src/bus/events.ts';
import { RedisBus } from '../src/bus/redis-bus.ts';
import { seedDevice, startApp, type TestApp } from './helpers/harness.ts';

const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!redisUrl)('Redis event bus', () => {
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
  });

  /** Two instances sharing one database and one Redis channel, as behind a load balancer. */
  async function twoInstances(): Promise<[TestApp, TestApp]> {
    const channel = `pinwheel:test:${Date.now()}:${Math.random()}`;
    const busA = await RedisBus.connect(redisUrl!, channel, () => {});
    const a = await startApp({ name: 'sqlite' }, { overrides: { bus: busA } });
    closers.push(() => a.close());
    const busB = await RedisBus.connect(redisUrl!, channel, () => {});
    const b = await startApp({ name: 'sqlite' }, { dataDir: a.dataDir, noAdmin: true, overrides: { bus: busB } });
    closers.push(() => b.close());
    return [a, b];
  }

  it('delivers events to other instances and not back to the sender', async () => {
    const channel = `pinwheel:test:${Date.now()}:${Math.random()}`;
    const a = await RedisBus.connect(redisUrl!, channel, () => {});
    const b = await RedisBus.connect(redisUrl!, channel, () => {});
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    const seenByA: BusEvent[] = [];
    const seenByB: BusEvent[] = [];
    a.subscribe((e) => seenByA.push(e));
    b.subscribe((e) => seenByB.push(e));
    a.publish({ type: 'status', orgId: 1, templateId: 'TMPLx', deviceId: 7, online: true, ts: 1 });
    a.broadcast({ type: 'invalidate', entity: 'device', id: '7' });
    const deadline = Date.now() + 3000;
    while (seenByB.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(seenByB.map((e) => e.type)).toEqual(['status', 'invalidate']);
    // A sees its own publish once (locally), never its broadcast nor a Redis echo.
    expect(seenByA.map((e) => e.type)).toEqual(['status']);
  });

  it('lets a WebSocket client on one instance see values written through another', async () => {
    const [a, b] = await twoInstances();
    const { deviceId, token } = await seedDevice(a, [{ name: 't', pin: 'V1', type: 'integer' }]);

    const ws = new WebSocket(`${a.url.replace('http', 'ws')}/api/v1/ws?token=${a.adminToken}`);
    const messages: any[] = [];
    ws.on('message', (m) => messages.push(JSON.parse(String(m))));
    await new Promise((r) => ws.on('open', r));
    ws.send(JSON.stringify({ type: 'subscribe', deviceId }));
    const wait = async (pred: () => boolean) => {
      const deadline = Date.now() + 3000;
      while (!pred() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    };
    await wait(() => messages.some((m) => m.type === 'subscribed'));
    expect((await b.get(`/external/api/update?token=${token}&V1=77`)).status).toBe(200);
    await wait(() => messages.some((m) => m.type === 'value'));
    expect(messages.find((m) => m.type === 'value')).toMatchObject({ deviceId, pin: 'V1', value: 77, source: 'http' });
    ws.close();
  });

  it('keeps a device online while its data reaches another instance', async () => {
    const [a, b] = await twoInstances();
    const { templateId, deviceId, token } = await seedDevice(a, [{ name: 't', pin: 'V1', type: 'integer' }]);
    expect(
      (await a.api('PUT', `/api/v1/templates/${templateId}/lifecycle`, { logAnyData: true, offlineAfterSeconds: 1 }))
        .status,
    ).toBe(200);
    // B caches templates too: let it load the new lifecycle.
    b.s.registry.invalidateTemplate(templateId);

    // First data through A (A starts the offline timer), then 2 s of data through B only.
    expect((await a.get(`/external/api/update?token=${token}&V1=1`)).status).toBe(200);
    const until = Date.now() + 2000;
    let i = 2;
    while (Date.now() < until) {
      expect((await b.get(`/external/api/update?token=${token}&V1=${i++}`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
    }
    const timeline = await a.api('GET', `/api/v1/devices/${deviceId}/timeline`);
    expect(timeline.body.items.map((x: { type: string }) => x.type)).toEqual(['online']);
    // And once the data stops, it does go offline.
    const deadline = Date.now() + 4000;
    let types: string[] = [];
    while (Date.now() < deadline) {
      types = (await a.api('GET', `/api/v1/devices/${deviceId}/timeline`)).body.items.map(
        (x: { type: string }) => x.type,
      );
      if (types.includes('offline')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(types).toContain('offline');
  });

  it('fires a webhook made on one instance for a value written through another, at once', async () => {
    const [a, b] = await twoInstances();
    const hits: string[] = [];
    const target = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('ok');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => target.close(() => r())));
    const port = (target.address() as { port: number }).port;
    const { templateId, token } = await seedDevice(a, [{ name: 't', pin: 'V1', type: 'integer' }]);
    const created = await a.api('POST', '/api/v1/webhooks', {
      name: 'to target',
      trigger: { type: 'datastream_update', templateId, datastream: 'V1' },
      url: `http://127.0.0.1:${port}/hook?v={device_pinValue}`,
      method: 'GET',
      contentType: 'text',
    });
    expect(created.status, created.text).toBe(201);
    // Written through B right away: B must already know the webhook (well before any periodic reload).
    await new Promise((r) => setTimeout(r, 200));
    expect((await b.get(`/external/api/update?token=${token}&V1=42`)).status).toBe(200);
    const deadline = Date.now() + 3000;
    while (hits.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(hits).toEqual(['/hook?v=42']);
  });
});
