import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeTts, startFakeTts } from './helpers/fake-tts.ts';
import { ADMIN, backends, startApp, type TestApp } from './helpers/harness.ts';
import { uniqueUid } from './helpers/tts-side.ts';
import {
  deviceFor,
  integration,
  makeTemplate,
  openWs,
  sleep,
  until,
  uplink,
  type WsClient,
  waitStatus,
} from './helpers/tts-util.ts';

/**
 * Connection behaviour of The Things Stack integration against the in-process fake, which
 * authenticates like TTS (username app@tenant + API key, CONNACK 5 otherwise) and can be
 * stopped and restarted on the same port. Mosquitto cannot refuse logins or vanish on
 * demand, so these run on the fake only.
 */
describe.each(backends())('The Things Stack connection on $name', (backend) => {
  let t: TestApp;
  const fakes: FakeTts[] = [];
  const clients: WsClient[] = [];
  beforeAll(async () => {
    t = await startApp(backend, {
      env: { PINWHEEL_TTS_RECONNECT_MIN_MS: '50', PINWHEEL_TTS_RECONNECT_MAX_MS: '300' },
    });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    // Cards left behind would keep reconnecting to closed fakes.
    for (const i of (await t.api('GET', '/api/v1/integrations/tts')).body.items) {
      await t.api('DELETE', `/api/v1/integrations/tts/${i.id}`);
    }
    for (const f of fakes.splice(0)) await f.close();
  });
  afterAll(async () => {
    await t.close();
  });

  const fake = async () => {
    const f = await startFakeTts({ uid: uniqueUid(), apiKey: `NNSXS.${Math.random().toString(36).slice(2)}.SECRET` });
    fakes.push(f);
    return f;
  };
  const card = (templateId: string, f: { port: number; uid: string }, apiKey: string) => ({
    templateId,
    host: '127.0.0.1',
    port: f.port,
    tls: false,
    username: f.uid,
    apiKey,
  });

  it('connects at once, reports not_connected → connected, adds the metafield, and pushes the status on the WebSocket', async () => {
    const f = await fake();
    const templateId = await makeTemplate(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    const before = await t.api('GET', `/api/v1/templates/${templateId}`);
    expect(before.body.metafields).toEqual([]);
    const ws = await openWs(t);
    clients.push(ws);

    const r = await t.api('POST', '/api/v1/integrations/tts', card(templateId, f, f.apiKey));
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({
      id: expect.any(Number),
      templateId,
      name: f.uid,
      host: '127.0.0.1',
      port: f.port,
      tls: false,
      username: f.uid,
      fPort: 1,
      priority: 'NORMAL',
      confirmed: false,
      downlinkShape: 'blynk',
      coalesce: false,
      flatten: true,
      mapping: {},
      autoCreate: true,
      status: 'not_connected',
      lastError: null,
    });
    const id = r.body.id as number;

    await f.waitForSubscriber();
    const msg = await ws.waitFor((m) => m.type === 'integration' && m.integrationId === id && m.status === 'connected');
    expect(msg).toEqual({
      type: 'integration',
      integrationId: id,
      integrationType: 'tts',
      templateId,
      status: 'connected',
      lastError: null,
    });
    expect(await waitStatus(t, id, 'connected')).toMatchObject({ status: 'connected', lastError: null });
    expect(f.connectAttempts).toBe(1);

    const tpl = await until(
      () => t.api('GET', `/api/v1/templates/${templateId}`),
      (x) => x.body.metafields.length > 0,
    );
    expect(tpl.body.metafields.map((m: { name: string }) => m.name)).toEqual(['TheThingsNetwork Device']);

    // The list shows the card with the same live status.
    const list = await t.api('GET', '/api/v1/integrations/tts');
    expect(list.body.items.find((i: { id: number }) => i.id === id)).toMatchObject({ status: 'connected' });

    // Deleting the card disconnects it.
    expect((await t.api('DELETE', `/api/v1/integrations/tts/${id}`)).status).toBe(204);
    expect((await t.api('GET', `/api/v1/integrations/tts/${id}`)).status).toBe(404);
  });

  it('a wrong API key ends broken with a refused-login error and retries slowly, not in a storm', async () => {
    const f = await fake();
    const templateId = await makeTemplate(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    const start = Date.now();
    const r = await t.api('POST', '/api/v1/integrations/tts', card(templateId, f, 'NNSXS.WRONG.KEY'));
    expect(r.status, r.text).toBe(201);
    const id = r.body.id as number;

    const broken = await waitStatus(t, id, 'broken');
    expect(broken.lastError).toMatch(/refused the login/);
    expect(broken.lastError).toContain('API key');

    // Back-off after a refused login starts at the maximum (300 ms here) and doubles:
    // attempts at 0, ≥150, ≥450, ≥1050 ms, the next one only after ≥2250 ms.
    await sleep(Math.max(0, start + 2000 - Date.now()));
    const attempts = f.connectAttempts;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(4);
    expect((await integration(t, id)).status).toBe('broken');
    // The template gets no metafield from a connection that never worked.
    expect((await t.api('GET', `/api/v1/templates/${templateId}`)).body.metafields).toEqual([]);

    // Fixing the key reconnects at once.
    const p = await t.api('PATCH', `/api/v1/integrations/tts/${id}`, { apiKey: f.apiKey });
    expect(p.status, p.text).toBe(200);
    expect(await waitStatus(t, id, 'connected', 2000)).toMatchObject({ lastError: null });
  });

  it('a refused TCP connection is broken with its reason', async () => {
    const f = await fake();
    await f.stop();
    const templateId = await makeTemplate(t, []);
    const r = await t.api('POST', '/api/v1/integrations/tts', card(templateId, f, f.apiKey));
    expect(r.status, r.text).toBe(201);
    const broken = await waitStatus(t, r.body.id, 'broken');
    expect(broken.lastError).toMatch(/^Connection refused/);
    // Not an auth failure: it keeps trying at the short delays (min 50 ms, max 300 ms).
    await f.restart();
    await waitStatus(t, r.body.id, 'connected', 2000);
  });

  it('a dropped connection goes broken, reconnects by itself, and uplinks land again', async () => {
    const f = await fake();
    const templateId = await makeTemplate(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    const ws = await openWs(t);
    clients.push(ws);
    const r = await t.api('POST', '/api/v1/integrations/tts', card(templateId, f, f.apiKey));
    const id = r.body.id as number;
    await waitStatus(t, id, 'connected');
    await f.waitForSubscriber();

    const u1 = uplink('dev-drop', { temp: 1.5 });
    await f.publish('dev-drop', 'up', u1.body);
    const dev = await deviceFor(t, templateId, 'dev-drop');
    await until(
      () => t.api('GET', `/api/v1/devices/${dev.id}`),
      (x) => x.body.values.V1?.value === 1.5,
    );

    await f.stop();
    const broken = await waitStatus(t, id, 'broken');
    expect(typeof broken.lastError).toBe('string');
    expect(broken.lastError.length).toBeGreaterThan(0);
    const brokenMsg = await ws.waitFor(
      (m) => m.type === 'integration' && m.integrationId === id && m.status === 'broken',
    );
    expect(brokenMsg).toMatchObject({ integrationId: id, integrationType: 'tts', templateId });
    expect(brokenMsg.lastError).toEqual(expect.any(String));
    const attemptsWhileDown = f.connectAttempts;

    await sleep(400);
    await f.restart();
    expect(await waitStatus(t, id, 'connected', 3000)).toMatchObject({ lastError: null });
    const from = ws.messages.indexOf(brokenMsg);
    await ws.waitFor((m) => m.type === 'integration' && m.integrationId === id && m.status === 'connected', 2000, from);
    await f.waitForSubscriber();
    expect(f.connectAttempts).toBeGreaterThan(attemptsWhileDown);

    const u2 = uplink('dev-drop', { temp: 2.5 });
    await f.publish('dev-drop', 'up', u2.body);
    const after = await until(
      () => t.api('GET', `/api/v1/devices/${dev.id}`),
      (x) => x.body.values.V1?.value === 2.5,
    );
    expect(after.body.values.V1).toEqual({ value: 2.5, ts: u2.ts });
    // Still one device: the reconnect did not lose the mapping.
    expect((await t.api('GET', `/api/v1/devices?templateId=${templateId}`)).body.total).toBe(1);
  });

  it('one application per template and one template per application (409)', async () => {
    const f = await fake();
    const other = await fake();
    const a = await makeTemplate(t, []);
    const b = await makeTemplate(t, []);
    const r = await t.api('POST', '/api/v1/integrations/tts', card(a, f, f.apiKey));
    expect(r.status, r.text).toBe(201);
    const same = await t.api('POST', '/api/v1/integrations/tts', card(b, f, f.apiKey));
    expect(same.status, same.text).toBe(409);
    expect(same.body.error.code).toBe('CONFLICT');
    expect(same.body.error.message).toContain(f.uid);
    const twice = await t.api('POST', '/api/v1/integrations/tts', card(a, other, other.apiKey));
    expect(twice.status, twice.text).toBe(409);
    expect(twice.body.error).toEqual({
      code: 'CONFLICT',
      message: 'this template already has a The Things Stack application',
    });
    // Moving the card of A onto the application B would take is refused too.
    const rb = await t.api('POST', '/api/v1/integrations/tts', card(b, other, other.apiKey));
    expect(rb.status, rb.text).toBe(201);
    const move = await t.api('PATCH', `/api/v1/integrations/tts/${r.body.id}`, { username: other.uid });
    expect(move.status, move.text).toBe(409);
    // The other card was not touched.
    await waitStatus(t, rb.body.id, 'connected');
    expect(
      (await t.api('GET', '/api/v1/integrations/tts')).body.items.filter((i: { templateId: string }) =>
        [a, b].includes(i.templateId),
      ),
    ).toHaveLength(2);
  });

  it('rejects invalid cards', async () => {
    const f = await fake();
    const tpl = await makeTemplate(t, []);
    const ok = card(tpl, f, f.apiKey);
    for (const bad of [
      { ...ok, username: 'Bad_User' },
      { ...ok, host: 'host with spaces' },
      { ...ok, port: 0 },
      { ...ok, fPort: 224 },
      { ...ok, priority: 'URGENT' },
      { ...ok, apiKey: '' },
      { ...ok, templateId: 'TMPLnothere' },
      { ...ok, extra: true },
    ]) {
      const r = await t.api('POST', '/api/v1/integrations/tts', bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
    }
    expect(f.connectAttempts).toBe(0);
  });

  it.skipIf(backend.name !== 'sqlite')(
    'a restarted server reconnects its cards and finds its devices again',
    async () => {
      const f = await fake();
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pinwheel-tts-restart-'));
      try {
        const env = { PINWHEEL_TTS_RECONNECT_MIN_MS: '50', PINWHEEL_TTS_RECONNECT_MAX_MS: '300' };
        const a = await startApp(backend, { env, dataDir });
        const templateId = await makeTemplate(a, [{ name: 'temp', pin: 'V1', type: 'double' }]);
        const r = await a.api('POST', '/api/v1/integrations/tts', card(templateId, f, f.apiKey));
        await waitStatus(a, r.body.id, 'connected');
        await f.waitForSubscriber();
        await f.publish('dev-r', 'up', uplink('dev-r', { temp: 1 }).body);
        const d = await deviceFor(a, templateId, 'dev-r');
        await a.close();

        const b = await startApp(backend, { env, dataDir, noAdmin: true });
        try {
          const login = await fetch(`${b.url}/api/v1/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
          });
          const token = ((await login.json()) as { token: string }).token;
          const card2 = await until(
            async () => (await b.api('GET', `/api/v1/integrations/tts/${r.body.id}`, undefined, token)).body,
            (x) => x.status === 'connected',
          );
          expect(card2).toMatchObject({ templateId, username: f.uid, status: 'connected' });
          await f.waitForSubscriber();
          const u = uplink('dev-r', { temp: 2 });
          await f.publish('dev-r', 'up', u.body);
          const after = await until(
            async () => (await b.api('GET', `/api/v1/devices/${d.id}`, undefined, token)).body,
            (x) => x.values?.V1?.value === 2,
          );
          expect(after.values.V1).toEqual({ value: 2, ts: u.ts });
          expect((await b.api('GET', `/api/v1/devices?templateId=${templateId}`, undefined, token)).body.total).toBe(1);
        } finally {
          await b.close();
        }
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );

  it('never returns the API key and stores it encrypted', async () => {
    const f = await fake();
    const templateId = await makeTemplate(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    const responses: string[] = [];
    const r = await t.api('POST', '/api/v1/integrations/tts', card(templateId, f, f.apiKey));
    responses.push(r.text);
    const id = r.body.id as number;
    await waitStatus(t, id, 'connected');
    responses.push((await t.api('GET', `/api/v1/integrations/tts/${id}`)).text);
    responses.push((await t.api('GET', '/api/v1/integrations/tts')).text);
    responses.push((await t.api('PATCH', `/api/v1/integrations/tts/${id}`, { priority: 'HIGH' })).text);
    responses.push((await t.api('POST', `/api/v1/integrations/tts/${id}/connect`)).text);
    responses.push((await t.api('GET', `/api/v1/integrations/tts/${id}/unmatched`)).text);
    responses.push((await t.api('GET', `/api/v1/templates/${templateId}`)).text);
    // A key change answers without the new key either.
    const newKey = `${f.apiKey}.ROTATED`;
    responses.push((await t.api('PATCH', `/api/v1/integrations/tts/${id}`, { apiKey: newKey })).text);
    for (const text of responses) {
      expect(text).not.toContain(f.apiKey);
      expect(text).not.toContain('NNSXS');
      expect(text).not.toMatch(/apiKey|secret/i);
    }
    // The rotated key is refused by the fake: the card is broken, and says why.
    expect((await waitStatus(t, id, 'broken')).lastError).toMatch(/refused the login/);

    if (backend.name === 'sqlite') {
      await t.s.writer.flush();
      const files = fs.readdirSync(t.dataDir).filter((n) => fs.statSync(path.join(t.dataDir, n)).isFile());
      expect(files.some((n) => n.endsWith('.db') || n.endsWith('.sqlite'))).toBe(true);
      for (const name of files) {
        const bytes = fs.readFileSync(path.join(t.dataDir, name));
        expect(bytes.includes(Buffer.from(f.apiKey)), name).toBe(false);
        expect(bytes.includes(Buffer.from(newKey)), name).toBe(false);
        expect(bytes.includes(Buffer.from('NNSXS.')), name).toBe(false);
      }
    }
  });
});
