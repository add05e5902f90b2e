import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeParticle, newCoreId, startFakeParticle } from './helpers/fake-particle.ts';
import { backends, startApp, type TestApp } from './helpers/harness.ts';
import {
  connectParticle,
  PARTICLE_ENV,
  particleDevice,
  particleIntegration,
  removeParticleIntegrations,
} from './helpers/particle-util.ts';
import { device, makeTemplate, openWs, sleep, timeline, until, type WsClient } from './helpers/tts-util.ts';

/** Events in (SSE), cloud functions out, spark/status, against the fake Particle Cloud. */
describe.each(backends())('Particle data on $name', (backend) => {
  let t: TestApp;
  let fake: FakeParticle;
  const clients: WsClient[] = [];
  beforeAll(async () => {
    fake = await startFakeParticle();
    t = await startApp(backend, { env: PARTICLE_ENV(fake) });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await removeParticleIntegrations(t);
    await until(
      async () => fake.openStreams(),
      (n) => n === 0,
    );
    fake.calls.length = 0;
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  /** Blynk's Particle blueprint: V14 millis, V15 double, V16 switch, V17 LED echo (specs/particle.md §1.10). */
  const BLUEPRINT = [
    { name: 'last_publish', pin: 'V6', type: 'string' },
    { name: 'millis', pin: 'V14', type: 'integer', min: 0, max: 2147483647 },
    { name: 'sensor', pin: 'V15', type: 'double', min: 0, max: 100 },
    { name: 'switch', pin: 'V16', type: 'integer', min: 0, max: 1 },
    { name: 'led', pin: 'V17', type: 'integer', min: 0, max: 1 },
  ];

  async function setup(extra: Record<string, unknown> = {}) {
    const templateId = await makeTemplate(t, BLUEPRINT);
    const id = await connectParticle(t, fake, templateId, extra);
    return { templateId, id };
  }
  const values = async (deviceId: number) => (await device(t, deviceId)).values;
  const waitValue = (deviceId: number, pin: string, value: unknown) =>
    until(
      () => values(deviceId),
      (v) => JSON.stringify(v[pin]?.value) === JSON.stringify(value),
    );

  it('maps JSON event data by pin and name with published_at, ignores t, and creates the device by coreid', async () => {
    const { templateId, id } = await setup();
    const coreid = newCoreId();
    fake.addDevice({ id: coreid, name: 'garage-photon' });
    const at = new Date(Date.now() - 5000);
    // The blueprint firmware: every value quoted, plus the Blynk token `t`.
    fake.publish(
      'blynk_https_get',
      '{"t":"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345","v14":"123456","v15":"21.250000","v16":"1","v17":"1","extra":5}',
      coreid,
      at,
    );
    const d = await particleDevice(t, templateId, coreid);
    expect(d).toMatchObject({ name: 'garage-photon', templateId, metadata: { 'Particle Device ID': coreid } });
    const v = await waitValue(d.id, 'V17', 1);
    expect(v).toEqual({
      V14: { value: 123456, ts: at.getTime() },
      V15: { value: 21.25, ts: at.getTime() },
      V16: { value: 1, ts: at.getTime() },
      V17: { value: 1, ts: at.getTime() },
    });
    // By datastream name, later.
    const at2 = new Date(Date.now() - 1000);
    fake.publish('readings', '{"sensor": 42.5, "last_publish": "now"}', coreid, at2);
    await waitValue(d.id, 'V15', 42.5);
    expect((await values(d.id)).V6).toEqual({ value: 'now', ts: at2.getTime() });
    // `t` is not unmatched; `extra` is.
    const um = await t.api('GET', `/api/v1/integrations/particle/${id}/unmatched`);
    expect(um.body.items).toEqual([
      { key: 'extra', count: 1, lastValue: 5, lastSeenAt: expect.any(Number), coreid, event: 'blynk_https_get' },
    ]);
    expect((await t.api('GET', `/api/v1/devices?templateId=${templateId}`)).body.items).toHaveLength(1);

    // A device made by hand with the Particle id is found, not duplicated; a device unknown to
    // Particle's device lookup is named by its id.
    const manual = await t.api('POST', '/api/v1/devices', {
      templateId,
      name: 'Hand made',
      metadata: { 'Particle Device ID': 'aaaaaaaaaaaaaaaaaaaaaaaa' },
    });
    expect(manual.status, manual.text).toBe(201);
    fake.publish('x', '{"V16": 0}', 'aaaaaaaaaaaaaaaaaaaaaaaa');
    await waitValue(manual.body.id, 'V16', 0);
    const unknown = newCoreId();
    fake.publish('x', '{"V16": 1}', unknown);
    expect((await particleDevice(t, templateId, unknown)).name).toBe(unknown);
    expect((await particleIntegration(t, id)).stats).toMatchObject({ events: 4, malformed: 0 });
  });

  it('non-JSON data, bad values, cloud events and garbage frames do not break the stream', async () => {
    const { templateId, id } = await setup();
    const coreid = newCoreId();
    fake.addDevice({ id: coreid });
    fake.publish('hello', 'not json {', coreid);
    fake.publish('hook-sent/blynk_https_get', '', 'particle-internal');
    fake.publish('spark/device/last_reset', 'power_down', coreid);
    fake.writeRaw('event: junk\ndata: {not json\n\n');
    fake.writeRaw(':keepalive\n\n\n');
    await sleep(150);
    // No device was created by any of that.
    expect((await t.api('GET', `/api/v1/devices?templateId=${templateId}`)).body.items).toEqual([]);
    // A plain value on an event named like a datastream sets it.
    fake.publish('sensor', '12.5', coreid);
    const d = await particleDevice(t, templateId, coreid);
    await waitValue(d.id, 'V15', 12.5);
    // A value that does not fit is skipped (the rest lands) and noted once.
    fake.publish('data', '{"v16": 7, "v14": "abc", "v15": 1.5}', coreid);
    await waitValue(d.id, 'V15', 1.5);
    fake.publish('data', '{"v14": "def"}', coreid);
    fake.publish('data', '{"v15": 2.5}', coreid);
    await waitValue(d.id, 'V15', 2.5);
    const notes = (await timeline(t, d.id, 'integration_error')).filter((n) => n.kind === 'rejected_values');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ integration: 'particle', integrationId: id });
    const card = await particleIntegration(t, id);
    expect(card).toMatchObject({ status: 'connected', lastError: null });
    expect(card.stats.malformed).toBe(1);
    expect(fake.calls).toEqual([]);
  });

  it('a user write of a mapped datastream calls the function with arg; the return value lands on the timeline', async () => {
    const { templateId, id } = await setup();
    const coreid = newCoreId();
    const got: string[] = [];
    fake.addDevice({
      id: coreid,
      functions: new Map([
        [
          'blynk_led',
          (arg: string) => {
            got.push(arg);
            return arg === '1' ? 1 : 0;
          },
        ],
      ]),
    });
    const put = await t.api('PUT', `/api/v1/integrations/particle/${id}/functions`, {
      V16: 'blynk_led',
      led: 'missing_fn',
    });
    expect(put.status, put.text).toBe(200);
    fake.publish('data', '{"v16": 0}', coreid);
    const d = await particleDevice(t, templateId, coreid);
    await waitValue(d.id, 'V16', 0);
    const ws = await openWs(t);
    clients.push(ws);
    ws.send({ type: 'subscribe', deviceId: d.id });
    await sleep(50);

    expect((await t.api('PUT', `/api/v1/devices/${d.id}/values`, { V16: 1 })).status).toBe(200);
    const items = await until(
      () => timeline(t, d.id, 'particle_function'),
      (x) => x.length === 1,
    );
    expect(items[0]).toMatchObject({
      type: 'particle_function',
      integration: 'particle',
      integrationId: id,
      pin: 'V16',
      name: 'switch',
      function: 'blynk_led',
      arg: '1',
      status: 'ok',
      httpStatus: 200,
      return_value: 1,
    });
    expect(got).toEqual(['1']);
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]).toMatchObject({
      coreid,
      fn: 'blynk_led',
      arg: '1',
      contentType: 'application/json',
      productId: null,
      authorization: `Bearer ${fake.token}`,
    });
    await ws.waitFor((m) => m.type === 'timeline' && m.item?.type === 'particle_function');

    // An unknown function: the 404 lands on the timeline.
    expect((await t.api('PUT', `/api/v1/devices/${d.id}/values`, { led: 1 })).status).toBe(200);
    const failed = await until(
      () => timeline(t, d.id, 'particle_function'),
      (x) => x.some((i) => i.function === 'missing_fn'),
    );
    expect(failed.find((i) => i.function === 'missing_fn')).toMatchObject({
      status: 'failed',
      httpStatus: 404,
      error: 'Function missing_fn not found',
    });

    // Values that came from the device (Particle, HTTP) never call a function.
    const before = fake.calls.length;
    fake.publish('data', '{"v16": 0, "v17": 0}', coreid);
    await waitValue(d.id, 'V16', 0);
    const http = await t.get(`/external/api/update?token=${encodeURIComponent(d.token)}&V16=1`);
    expect(http.status).toBe(200);
    await waitValue(d.id, 'V16', 1);
    await sleep(150);
    expect(fake.calls.length).toBe(before);
    // An unmapped datastream calls nothing either.
    expect((await t.api('PUT', `/api/v1/devices/${d.id}/values`, { V15: 5 })).status).toBe(200);
    await sleep(150);
    expect(fake.calls.length).toBe(before);
  });

  it('an offline device: the timeout lands on the timeline, and the call is made again when it comes online', async () => {
    const { templateId, id } = await setup({ functions: { V16: 'blynk_led' } });
    const coreid = newCoreId();
    fake.addDevice({ id: coreid, functions: new Map([['blynk_led', () => 1]]) });
    fake.publish('data', '{"v14": 1}', coreid);
    const d = await particleDevice(t, templateId, coreid);
    fake.setOnline(coreid, false);
    await until(
      () => device(t, d.id),
      (x) => x.online === false,
    );
    expect((await t.api('PUT', `/api/v1/devices/${d.id}/values`, { V16: 1 })).status).toBe(200);
    const items = await until(
      () => timeline(t, d.id, 'particle_function'),
      (x) => x.length === 1,
    );
    expect(items[0]).toMatchObject({ status: 'offline', httpStatus: 400, error: 'Timed out.', arg: '1' });
    expect((await particleIntegration(t, id)).stats).toMatchObject({ calls: 1, callErrors: 1 });

    fake.setOnline(coreid, true);
    const after = await until(
      () => timeline(t, d.id, 'particle_function'),
      (x) => x.length === 2,
    );
    expect(after[0]).toMatchObject({ status: 'ok', return_value: 1, arg: '1', replay: true });
    expect(fake.calls.map((c) => c.arg)).toEqual(['1', '1']);
  });

  it('spark/status sets the device online and offline, on the timeline and the WebSocket', async () => {
    const { templateId } = await setup();
    const coreid = newCoreId();
    fake.addDevice({ id: coreid, name: 'status-dev' });
    // "online" of an unknown device creates it.
    fake.setOnline(coreid, true);
    const d = await particleDevice(t, templateId, coreid);
    expect(d.name).toBe('status-dev');
    await until(
      () => device(t, d.id),
      (x) => x.online === true,
    );
    const ws = await openWs(t);
    clients.push(ws);
    ws.send({ type: 'subscribe', deviceId: d.id });
    await sleep(50);
    fake.setOnline(coreid, false);
    await ws.waitFor((m) => m.type === 'status' && m.deviceId === d.id && m.online === false);
    expect((await device(t, d.id)).online).toBe(false);
    fake.setOnline(coreid, true);
    await ws.waitFor((m) => m.type === 'status' && m.deviceId === d.id && m.online === true);
    const tl = await until(
      () => t.api('GET', `/api/v1/devices/${d.id}/timeline?from=0`),
      (r) => r.body.items.filter((i: any) => i.type === 'online' || i.type === 'offline').length === 3,
    );
    expect(
      tl.body.items.filter((i: any) => i.type === 'online' || i.type === 'offline').map((i: any) => i.type),
    ).toEqual(['online', 'offline', 'online']);
    // Repeating a state changes nothing.
    fake.setOnline(coreid, true);
    await sleep(100);
    const again = await t.api('GET', `/api/v1/devices/${d.id}/timeline?from=0`);
    expect(again.body.items.filter((i: any) => i.type === 'online').length).toBe(2);
  });

  it('perMinute caps function calls when set', async () => {
    const { templateId } = await setup({ functions: { V16: 'blynk_led' }, perMinute: 2 });
    const coreid = newCoreId();
    fake.addDevice({ id: coreid, functions: new Map([['blynk_led', () => 1]]) });
    fake.publish('data', '{"v14": 1}', coreid);
    const d = await particleDevice(t, templateId, coreid);
    for (const v of [1, 0, 1]) {
      expect((await t.api('PUT', `/api/v1/devices/${d.id}/values`, { V16: v })).status).toBe(200);
    }
    const items = await until(
      () => timeline(t, d.id, 'particle_function'),
      (x) => x.length === 3,
    );
    expect(items.map((i) => i.status).sort()).toEqual(['ok', 'ok', 'skipped']);
    expect(fake.calls).toHaveLength(2);
  });
});
