import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeParticle, newCoreId, startFakeParticle } from './helpers/fake-particle.ts';
import { backends, startApp, type TestApp } from './helpers/harness.ts';
import {
  connectParticle,
  PARTICLE_ENV,
  particleDevice,
  particleIntegration,
  removeParticleIntegrations,
  waitParticleStatus,
} from './helpers/particle-util.ts';
import { makeTemplate, openWs, sleep, until, type WsClient } from './helpers/tts-util.ts';

/** The Particle integration's event stream against the fake Particle Cloud. */
describe.each(backends())('Particle connection on $name', (backend) => {
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
    fake.refuseStreams(null);
    await until(
      async () => fake.openStreams(),
      (n) => n === 0,
    );
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('connects at once, adds the metafield, pushes the status on the WebSocket, and never returns the token', async () => {
    const templateId = await makeTemplate(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    const ws = await openWs(t);
    clients.push(ws);
    const opensBefore = fake.streamOpens.length;

    const r = await t.api('POST', '/api/v1/integrations/particle', { templateId, accessToken: fake.token });
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({
      id: expect.any(Number),
      templateId,
      name: 'Particle',
      productId: null,
      functions: {},
      perMinute: null,
      autoCreate: true,
      status: 'not_connected',
      lastError: null,
    });
    expect(r.text).not.toContain(fake.token);
    expect(r.body).not.toHaveProperty('accessToken');
    const id = r.body.id as number;

    const msg = await ws.waitFor((m) => m.type === 'integration' && m.integrationId === id && m.status === 'connected');
    expect(msg).toEqual({
      type: 'integration',
      integrationId: id,
      integrationType: 'particle',
      templateId,
      status: 'connected',
      lastError: null,
    });
    expect(await waitParticleStatus(t, id, 'connected')).toMatchObject({ lastError: null });
    expect(fake.streamOpens.slice(opensBefore)).toEqual([{ path: '/v1/devices/events', status: 200 }]);
    const tpl = await until(
      () => t.api('GET', `/api/v1/templates/${templateId}`),
      (x) => x.body.metafields.length > 0,
    );
    expect(tpl.body.metafields.map((m: { name: string }) => m.name)).toEqual(['Particle Device ID']);

    // Neither the list, nor one, nor the database file shows the token.
    const list = await t.api('GET', '/api/v1/integrations/particle');
    expect(list.body.items.find((i: { id: number }) => i.id === id)).toMatchObject({ status: 'connected' });
    expect(list.text).not.toContain(fake.token);
    expect((await t.api('GET', `/api/v1/integrations/particle/${id}`)).text).not.toContain(fake.token);
    if (backend.name === 'sqlite') {
      await t.s.writer.flush();
      for (const f of fs.readdirSync(t.dataDir).filter((x) => x.startsWith('pinwheel.db'))) {
        expect(fs.readFileSync(path.join(t.dataDir, f)).includes(fake.token)).toBe(false);
      }
    }

    // One Particle integration per template.
    const again = await t.api('POST', '/api/v1/integrations/particle', { templateId, accessToken: fake.token });
    expect(again.status, again.text).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');

    expect((await t.api('DELETE', `/api/v1/integrations/particle/${id}`)).status).toBe(204);
    expect((await t.api('GET', `/api/v1/integrations/particle/${id}`)).status).toBe(404);
    await until(
      async () => fake.openStreams(),
      (n) => n === 0,
    );
  });

  it('a product integration opens the product stream', async () => {
    const templateId = await makeTemplate(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    const id = await connectParticle(t, fake, templateId, { productId: 12345 });
    expect(await particleIntegration(t, id)).toMatchObject({ productId: '12345', name: 'Particle product 12345' });
    expect(fake.streamOpens.at(-1)).toEqual({ path: '/v1/products/12345/events', status: 200 });
    const coreid = newCoreId();
    fake.addDevice({ id: coreid, name: 'prod-dev', productId: '12345' });
    const other = newCoreId();
    fake.addDevice({ id: other, productId: '999' });
    fake.publish('temp', '{"temp": 4}', other);
    fake.publish('temp', '{"temp": 5}', coreid);
    const d = await particleDevice(t, templateId, coreid);
    expect(d.name).toBe('prod-dev');
    await sleep(100);
    const devices = (await t.api('GET', `/api/v1/devices?templateId=${templateId}`)).body.items;
    expect(devices).toHaveLength(1);
  });

  it('a wrong token ends broken with a clear error and retries slowly, not in a storm', async () => {
    const templateId = await makeTemplate(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    const before = fake.streamOpens.length;
    const r = await t.api('POST', '/api/v1/integrations/particle', { templateId, accessToken: 'wrong-token' });
    expect(r.status, r.text).toBe(201);
    const b = await waitParticleStatus(t, r.body.id, 'broken');
    expect(b.lastError).toMatch(/401/);
    expect(b.lastError).toMatch(/access token/i);
    expect(b.lastError).toContain('The access token provided is invalid.');
    // Back-off after a refused token starts at the maximum (300 ms here) and grows.
    await sleep(700);
    const attempts = fake.streamOpens.slice(before);
    expect(attempts.every((a) => a.status === 401)).toBe(true);
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts.length).toBeLessThanOrEqual(4);

    // A new token through PATCH reconnects.
    const p = await t.api('PATCH', `/api/v1/integrations/particle/${r.body.id}`, { accessToken: fake.token });
    expect(p.status, p.text).toBe(200);
    expect(p.text).not.toContain(fake.token);
    await waitParticleStatus(t, r.body.id, 'connected');
  });

  it('reopens a dropped stream by itself and later events land', async () => {
    const templateId = await makeTemplate(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    const id = await connectParticle(t, fake, templateId);
    const ws = await openWs(t);
    clients.push(ws);
    const coreid = newCoreId();
    fake.addDevice({ id: coreid });
    fake.publish('data', '{"temp": 1}', coreid);
    const d = await particleDevice(t, templateId, coreid);

    // The cloud goes away for a while: the stream breaks and retries.
    fake.refuseStreams(503);
    fake.dropStreams();
    const broken = await waitParticleStatus(t, id, 'broken');
    expect(broken.lastError).toMatch(/closed|lost|503/);
    await ws.waitFor((m) => m.type === 'integration' && m.integrationId === id && m.status === 'broken');
    await until(
      async () => fake.streamOpens.filter((o) => o.status === 503).length,
      (n) => n >= 2,
    );
    fake.refuseStreams(null);
    await waitParticleStatus(t, id, 'connected');
    await fake.waitForStreams(1);
    fake.publish('data', '{"temp": 2}', coreid);
    await until(
      async () => (await t.api('GET', `/api/v1/devices/${d.id}`)).body.values.V1?.value,
      (v) => v === 2,
    );

    // A plain drop (no refusal) reconnects too.
    fake.dropStreams();
    await fake.waitForStreams(1);
    await waitParticleStatus(t, id, 'connected');
    fake.publish('data', '{"temp": 3}', coreid);
    await until(
      async () => (await t.api('GET', `/api/v1/devices/${d.id}`)).body.values.V1?.value,
      (v) => v === 3,
    );
  });

  it('validates the body and the function map', async () => {
    const templateId = await makeTemplate(t, [{ name: 'led', pin: 'V16', type: 'integer' }]);
    expect((await t.api('POST', '/api/v1/integrations/particle', { templateId })).status).toBe(400);
    expect(
      (await t.api('POST', '/api/v1/integrations/particle', { templateId: 'nope', accessToken: fake.token })).status,
    ).toBe(400);
    const bad = await t.api('POST', '/api/v1/integrations/particle', {
      templateId,
      accessToken: fake.token,
      functions: { V99: 'x' },
    });
    expect(bad.status, bad.text).toBe(400);
    expect(bad.body.error.message).toContain('V99');
    const id = await connectParticle(t, fake, templateId);
    const put = await t.api('PUT', `/api/v1/integrations/particle/${id}/functions`, { v16: 'blynk_led' });
    expect(put.status, put.text).toBe(200);
    expect(put.body.functions).toEqual({ v16: 'blynk_led' });
    expect((await t.api('PUT', `/api/v1/integrations/particle/${id}/functions`, { led: 'bad name!' })).status).toBe(
      400,
    );
    expect((await t.api('PUT', `/api/v1/integrations/particle/${id}/functions`, { V2: 'x' })).status).toBe(400);
    const p = await t.api('PATCH', `/api/v1/integrations/particle/${id}`, { perMinute: 5, name: 'Mine' });
    expect(p.body).toMatchObject({ perMinute: 5, name: 'Mine', functions: { v16: 'blynk_led' }, status: 'connected' });
    const n = await t.api('PATCH', `/api/v1/integrations/particle/${id}`, { perMinute: null });
    expect(n.body.perMinute).toBeNull();
    // Moving to a product reopens the product stream; null goes back to the account stream.
    const prod = await t.api('PATCH', `/api/v1/integrations/particle/${id}`, { productId: 'my-product' });
    expect(prod.body.productId).toBe('my-product');
    await until(
      async () => fake.streamOpens.at(-1)?.path,
      (x) => x === '/v1/products/my-product/events',
    );
    const back = await t.api('PATCH', `/api/v1/integrations/particle/${id}`, { productId: null });
    expect(back.status, back.text).toBe(200);
    expect(back.body.productId).toBeNull();
    await until(
      async () => fake.streamOpens.at(-1)?.path,
      (x) => x === '/v1/devices/events',
    );
    expect((await t.api('POST', `/api/v1/integrations/particle/${id}/connect`)).status).toBe(200);
    await waitParticleStatus(t, id, 'connected');
    expect((await t.api('GET', '/api/v1/integrations/particle/999999')).status).toBe(404);
  });
});
