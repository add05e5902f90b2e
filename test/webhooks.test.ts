import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeParticleFunctions } from './helpers/fake-particle-functions.ts';
import { ADMIN, type Backend, backends, seedDevice, startApp, type TestApp } from './helpers/harness.ts';

/** Fast retries and polling so every wait below stays short. */
const ENV = {
  PINWHEEL_WEBHOOK_POLL_MS: '30',
  PINWHEEL_WEBHOOK_RETRY_BASE_MS: '40',
  PINWHEEL_WEBHOOK_RETRY_MAX_MS: '200',
  PINWHEEL_WEBHOOK_MAX_ATTEMPTS: '3',
  PINWHEEL_WEBHOOK_TIMEOUT_MS: '2000',
};

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An HTTP server on 127.0.0.1 that records requests and answers as told. */
async function startTarget(port = 0) {
  const received: Received[] = [];
  let answer: (r: Received) => { status: number; body?: string; headers?: Record<string, string> } = () => ({
    status: 200,
    body: 'ok',
  });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      received.push(r);
      const a = answer(r);
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    received,
    answer(f: typeof answer) {
      answer = f;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (connection refused). */
async function deadPort(): Promise<number> {
  const t = await startTarget();
  await t.close();
  return t.port;
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined | false>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function logOf(t: TestApp, id: number): Promise<any[]> {
  const r = await t.api('GET', `/api/v1/webhooks/${id}/log`);
  expect(r.status, r.text).toBe(200);
  return r.body.items;
}

async function waitLog(t: TestApp, id: number, n: number, ms?: number): Promise<any[]> {
  return waitFor(
    `${n} log entries of webhook ${id}`,
    async () => {
      const items = await logOf(t, id);
      return items.length >= n ? items.reverse() : undefined;
    },
    ms,
  );
}

async function putValue(t: TestApp, deviceId: number, values: Record<string, unknown>) {
  const r = await t.api('PUT', `/api/v1/devices/${deviceId}/values`, values);
  expect(r.status, r.text).toBe(200);
}

async function createHook(t: TestApp, body: Record<string, unknown>): Promise<any> {
  const r = await t.api('POST', '/api/v1/webhooks', body);
  expect(r.status, r.text).toBe(201);
  return r.body;
}

describe.each(backends())('webhooks on $name', (backend: Backend) => {
  let t: TestApp;
  let target: Awaited<ReturnType<typeof startTarget>>;
  let dev: { templateId: string; deviceId: number; token: string };

  beforeAll(async () => {
    t = await startApp(backend, { env: ENV });
    target = await startTarget();
    dev = await seedDevice(
      t,
      [
        { name: 'Text', pin: 'V1', type: 'string' },
        { name: 'Level', pin: 'V2', type: 'integer', min: 0, max: 100 },
        { name: 'Switch', pin: 'V16', type: 'integer', min: 0, max: 1 },
      ],
      { metafields: [{ name: 'Owner', type: 'text' }], deviceName: 'Lamp "A" & B' },
    );
    const md = await t.api('PATCH', `/api/v1/devices/${dev.deviceId}`, { metadata: { Owner: 'Zoë & co' } });
    expect(md.status, md.text).toBe(200);
  });
  afterAll(async () => {
    await target?.close();
    await t?.close();
  });

  it('creates, lists, reads, updates and deletes; validates the trigger and the URL', async () => {
    const bad = await t.api('POST', '/api/v1/webhooks', {
      name: 'x',
      trigger: { type: 'datastream_update', templateId: dev.templateId, datastream: 'V99' },
      url: `${target.url}/x`,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('trigger.datastream');
    const badUrl = await t.api('POST', '/api/v1/webhooks', {
      name: 'x',
      trigger: { type: 'datastream_update', templateId: dev.templateId, datastream: 'V1' },
      url: 'ftp://example.com/x',
    });
    expect(badUrl.status).toBe(400);
    const badMethod = await t.api('POST', '/api/v1/webhooks', {
      name: 'x',
      trigger: { type: 'datastream_update', templateId: dev.templateId, datastream: 'V1' },
      url: `${target.url}/x`,
      method: 'PATCH',
    });
    expect(badMethod.status).toBe(400);

    const w = await createHook(t, {
      name: "Kim's hook-1",
      trigger: { type: 'datastream_update', templateId: dev.templateId, datastream: 'Level' },
      url: `${target.url}/crud`,
      method: 'PUT',
      contentType: 'text',
      body: '{device_pinValue}',
      enabled: false,
    });
    expect(w).toMatchObject({
      id: expect.any(Number),
      name: "Kim's hook-1",
      trigger: { type: 'datastream_update', templateId: dev.templateId, deviceId: null, datastream: 'V2' },
      method: 'PUT',
      contentType: 'text',
      perMinute: 10,
      disableAfter: 10,
      enabled: false,
      state: 'disabled',
      auth: { type: 'none' },
    });
    expect((await t.api('GET', '/api/v1/webhooks')).body.items.map((x: any) => x.id)).toContain(w.id);
    expect((await t.api('GET', `/api/v1/webhooks/${w.id}`)).body.name).toBe("Kim's hook-1");
    const p = await t.api('PATCH', `/api/v1/webhooks/${w.id}`, { perMinute: 3, name: 'Renamed' });
    expect(p.status, p.text).toBe(200);
    expect(p.body).toMatchObject({ perMinute: 3, name: 'Renamed', url: `${target.url}/crud` });
    // Disabled: a write fires nothing.
    await putValue(t, dev.deviceId, { V2: 5 });
    await sleep(150);
    expect(target.received.filter((r) => r.url === '/crud')).toHaveLength(0);
    expect((await t.api('DELETE', `/api/v1/webhooks/${w.id}`)).status).toBe(204);
    expect((await t.api('GET', `/api/v1/webhooks/${w.id}`)).status).toBe(404);
    expect((await t.api('GET', `/api/v1/webhooks/${w.id}/log`)).status).toBe(404);
  });

  it('never returns secrets and stores them sealed', async () => {
    const w = await createHook(t, {
      name: 'secret',
      trigger: { type: 'datastream_update', templateId: dev.templateId, deviceId: dev.deviceId, datastream: 'V2' },
      url: `${target.url}/secret`,
      method: 'POST',
      contentType: 'json',
      body: { v: '{device_pinValue}' },
      headers: { 'X-Api-Key': 'hdr-secret-123', 'X-Plain': 'visible' },
      auth: { type: 'basic', username: 'bob', password: 'pw-secret-456' },
    });
    expect(w.headers).toEqual({ 'X-Api-Key': '********', 'X-Plain': 'visible' });
    expect(w.auth).toEqual({ type: 'basic', username: 'bob' });
    for (const r of [
      await t.api('GET', `/api/v1/webhooks/${w.id}`),
      await t.api('GET', '/api/v1/webhooks'),
      await t.api('PATCH', `/api/v1/webhooks/${w.id}`, { headers: { 'X-Api-Key': '********', 'X-Plain': 'v2' } }),
    ]) {
      expect(r.status, r.text).toBe(200);
      expect(r.text).not.toContain('hdr-secret-123');
      expect(r.text).not.toContain('pw-secret-456');
    }
    const row = await t.s.db.kysely.selectFrom('webhooks').selectAll().where('id', '=', w.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain('hdr-secret-123');
    expect(JSON.stringify(row)).not.toContain('pw-secret-456');

    // The masked header kept its value: the request carries the real secrets.
    await putValue(t, dev.deviceId, { V2: 7 });
    const got = await waitFor('secret request', async () => target.received.find((r) => r.url === '/secret'));
    expect(got.headers['x-api-key']).toBe('hdr-secret-123');
    expect(got.headers['x-plain']).toBe('v2');
    expect(got.headers.authorization).toBe(`Basic ${Buffer.from('bob:pw-secret-456').toString('base64')}`);
    expect(JSON.parse(got.body)).toEqual({ v: '7' });

    const bearer = await t.api('PATCH', `/api/v1/webhooks/${w.id}`, { auth: { type: 'bearer', token: 'tok-789' } });
    expect(bearer.body.auth).toEqual({ type: 'bearer' });
    expect(bearer.text).not.toContain('tok-789');
    await t.api('DELETE', `/api/v1/webhooks/${w.id}`);
  });

  it('fills placeholders escaped for URL, query, headers and JSON, form and text bodies', async () => {
    const value = 'He said "hi" & left = 5 ünï 🚀 \\ done';
    const common = {
      trigger: { type: 'datastream_update', templateId: dev.templateId, datastream: 'V1' },
      method: 'POST',
    };
    const json = await createHook(t, {
      ...common,
      name: 'json',
      url: `${target.url}/json/{device_pinValue}?dev={device_name}`,
      query: { v: '{device_pinValue}', unknown: '{no_such_thing}' },
      headers: { 'X-Value': '{device_pinValue}' },
      contentType: 'json',
      body: JSON.stringify({
        v: '{device_pinValue}',
        name: '{device_name}',
        id: '{device_id}',
        pin: '{device_pin}',
        dsid: '{device_dataStreamId}',
        ds2: '{device_dataStream_2}',
        owner: '{device_metadata_Owner}',
        tpl: '{device_templateId}',
        product: '{device_productName}',
        org: '{device_orgName}',
        token: '{device_authToken}',
        created: '{device_dateCreated}',
        iso: '{timestamp_iso8601}',
        unknown: '{no_such_thing}',
      }).replace('"{device_id}"', '{device_id}'),
    });
    const form = await createHook(t, {
      ...common,
      name: 'form',
      url: `${target.url}/form`,
      contentType: 'form',
      body: { arg: '{device_pinValue}', name: '{device_name}' },
    });
    const text = await createHook(t, {
      ...common,
      name: 'text',
      url: `${target.url}/text`,
      contentType: 'text',
      body: 'value={device_pinValue}; at {timestamp_unix}',
    });
    await putValue(t, dev.deviceId, { V2: 42 });
    const before = Date.now();
    await putValue(t, dev.deviceId, { V1: value });

    const j = await waitFor('json request', async () => target.received.find((r) => r.url.startsWith('/json/')));
    const u = new URL(j.url, target.url);
    expect(decodeURIComponent(u.pathname.slice('/json/'.length))).toBe(value);
    expect(u.searchParams.get('dev')).toBe('Lamp "A" & B');
    expect(u.searchParams.get('v')).toBe(value);
    expect(u.searchParams.get('unknown')).toBe('{no_such_thing}');
    expect(decodeURIComponent(String(j.headers['x-value']))).toBe(value);
    expect(j.headers['content-type']).toBe('application/json');
    const body = JSON.parse(j.body);
    expect(body).toMatchObject({
      v: value,
      name: 'Lamp "A" & B',
      id: dev.deviceId,
      pin: 'V1',
      dsid: '1',
      ds2: '42',
      owner: 'Zoë & co',
      tpl: dev.templateId,
      product: 'Test template',
      org: ADMIN.organization,
      token: dev.token,
      unknown: '{no_such_thing}',
    });
    expect(Number(body.created)).toBeGreaterThan(0);
    expect(Date.parse(body.iso)).toBeGreaterThanOrEqual(before - 1000);

    const f = await waitFor('form request', async () => target.received.find((r) => r.url === '/form'));
    expect(f.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const fields = new URLSearchParams(f.body);
    expect(fields.get('arg')).toBe(value);
    expect(fields.get('name')).toBe('Lamp "A" & B');

    const tx = await waitFor('text request', async () => target.received.find((r) => r.url === '/text'));
    expect(tx.body).toMatch(new RegExp(`^value=${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; at \\d{13}$`));

    for (const w of [json, form, text]) {
      const items = await waitLog(t, w.id, 1);
      expect(items[0]).toMatchObject({ status: 'OK', httpStatus: 200, ts: expect.any(Number) });
      await t.api('DELETE', `/api/v1/webhooks/${w.id}`);
    }
  });

  it('drops triggers over the per-minute quota and logs them as Dropped', async () => {
    const w = await createHook(t, {
      name: 'quota',
      trigger: { type: 'datastream_update', templateId: dev.templateId, deviceId: dev.deviceId, datastream: 'V2' },
      url: `${target.url}/quota`,
      method: 'POST',
      contentType: 'json',
      body: '{"v":{device_pinValue}}',
      perMinute: 2,
    });
    for (let i = 1; i <= 5; i++) await putValue(t, dev.deviceId, { V2: 10 + i });
    const items = await waitLog(t, w.id, 5);
    expect(items.filter((i) => i.status === 'OK')).toHaveLength(2);
    const dropped = items.filter((i) => i.status === 'Dropped');
    expect(dropped).toHaveLength(3);
    expect(dropped[0].error).toContain('2 per minute');
    await sleep(100);
    const got = target.received.filter((r) => r.url === '/quota').map((r) => JSON.parse(r.body).v);
    expect(got.sort()).toEqual([11, 12]);
    await t.api('DELETE', `/api/v1/webhooks/${w.id}`);
  });

  it('loop rule: a device repeating its value fires nothing; user writes always fire', async () => {
    const w = await createHook(t, {
      name: 'loop',
      trigger: { type: 'datastream_update', templateId: dev.templateId, deviceId: dev.deviceId, datastream: 'V16' },
      url: `${target.url}/loop`,
      method: 'POST',
      contentType: 'text',
      body: '{device_pinValue}',
      perMinute: 100,
    });
    const deviceWrite = async (v: number) => {
      const r = await t.get(`/external/api/update?token=${dev.token}&V16=${v}`);
      expect(r.status, r.text).toBe(200);
    };
    const count = () => target.received.filter((r) => r.url === '/loop').length;
    await putValue(t, dev.deviceId, { V16: 1 }); // user: fires
    await waitFor('1 loop call', async () => count() === 1);
    await deviceWrite(1); // device echoes the same state: nothing
    await deviceWrite(1);
    await putValue(t, dev.deviceId, { V16: 1 }); // user again, same value: fires
    await waitFor('2 loop calls', async () => count() === 2);
    await deviceWrite(0); // device changes the value: fires
    await waitFor('3 loop calls', async () => count() === 3);
    await deviceWrite(0);
    await sleep(200);
    expect(count()).toBe(3);
    expect(target.received.filter((r) => r.url === '/loop').map((r) => r.body)).toEqual(['1', '1', '0']);
    await t.api('DELETE', `/api/v1/webhooks/${w.id}`);
  });

  it('retries a target that is down, then logs Failed; 4xx is not retried; 302 counts as success', async () => {
    const port = await deadPort();
    const down = await createHook(t, {
      name: 'down',
      trigger: { type: 'datastream_update', templateId: dev.templateId, deviceId: dev.deviceId, datastream: 'V2' },
      url: `http://127.0.0.1:${port}/down`,
      method: 'POST',
      contentType: 'text',
      body: 'x',
    });
    await putValue(t, dev.deviceId, { V2: 50 });
    const items = await waitLog(t, down.id, 3);
    expect(items.map((i) => i.status)).toEqual(['Retrying', 'Retrying', 'Failed']);
    expect(items.map((i) => i.attempt)).toEqual([1, 2, 3]);
    expect(items[2].httpStatus).toBeNull();
    expect(items[2].error).toMatch(/ECONNREFUSED|fetch failed/);
    const after = (await t.api('GET', `/api/v1/webhooks/${down.id}`)).body;
    expect(after).toMatchObject({ consecutiveFailures: 1, enabled: true, pending: 0, lastStatus: 'Failed' });
    await t.api('DELETE', `/api/v1/webhooks/${down.id}`);

    target.answer((r) =>
      r.url === '/four'
        ? { status: 400, body: '{"ok":false}' }
        : r.url === '/redirect'
          ? { status: 302, headers: { location: '/elsewhere' } }
          : r.url === '/big'
            ? { status: 200, body: 'x'.repeat(40_000) }
            : { status: 200, body: 'ok' },
    );
    const hooks = [];
    for (const name of ['four', 'redirect', 'big']) {
      hooks.push(
        await createHook(t, {
          name,
          trigger: { type: 'datastream_update', templateId: dev.templateId, deviceId: dev.deviceId, datastream: 'V2' },
          url: `${target.url}/${name}`,
          method: 'GET',
          contentType: 'text',
        }),
      );
    }
    await putValue(t, dev.deviceId, { V2: 51 });
    const [four, redirect, big] = await Promise.all(hooks.map((h) => waitLog(t, h.id, 1)));
    await sleep(200);
    expect(await logOf(t, hooks[0].id)).toHaveLength(1);
    expect(four![0]).toMatchObject({ status: 'Failed', httpStatus: 400, error: 'HTTP 400', response: '{"ok":false}' });
    expect(redirect![0]).toMatchObject({ status: 'OK', httpStatus: 302 });
    expect(target.received.some((r) => r.url === '/elsewhere')).toBe(false);
    expect(big![0].status).toBe('OK');
    expect(big![0].response).toHaveLength(16 * 1024);
    for (const h of hooks) await t.api('DELETE', `/api/v1/webhooks/${h.id}`);
    target.answer(() => ({ status: 200, body: 'ok' }));
  });

  it('disables itself after N consecutive failures, says why, and notes it on the timeline', async () => {
    target.answer((r) => (r.url === '/fail' ? { status: 500, body: 'boom' } : { status: 200 }));
    const w = await createHook(t, {
      name: 'fail',
      trigger: { type: 'datastream_update', templateId: dev.templateId, deviceId: dev.deviceId, datastream: 'V2' },
      url: `${target.url}/fail`,
      method: 'POST',
      contentType: 'text',
      body: '{device_pinValue}',
      disableAfter: 2,
      perMinute: 100,
    });
    await putValue(t, dev.deviceId, { V2: 60 });
    await putValue(t, dev.deviceId, { V2: 61 });
    // 2 deliveries × 3 attempts.
    await waitLog(t, w.id, 6);
    const state = await waitFor('auto-disable', async () => {
      const r = (await t.api('GET', `/api/v1/webhooks/${w.id}`)).body;
      return r.enabled === false ? r : undefined;
    });
    expect(state).toMatchObject({ state: 'auto_disabled', consecutiveFailures: 2 });
    expect(state.disabledReason).toContain('2 consecutive failed deliveries');
    expect(state.disabledReason).toContain('HTTP 500');
    const timeline = await waitFor('timeline note', async () => {
      const r = await t.api('GET', `/api/v1/devices/${dev.deviceId}/timeline`);
      return r.body.items.find((i: any) => i.type === 'webhook_disabled');
    });
    expect(timeline).toMatchObject({ webhookId: w.id, name: 'fail', failures: 2 });

    // Disabled: further writes send nothing.
    const sent = target.received.filter((r) => r.url === '/fail').length;
    await putValue(t, dev.deviceId, { V2: 62 });
    await sleep(200);
    expect(target.received.filter((r) => r.url === '/fail').length).toBe(sent);

    // Enabling it again clears the failure state.
    const on = await t.api('PATCH', `/api/v1/webhooks/${w.id}`, { enabled: true });
    expect(on.body).toMatchObject({ enabled: true, state: 'enabled', disabledReason: null, consecutiveFailures: 0 });
    await t.api('DELETE', `/api/v1/webhooks/${w.id}`);
    target.answer(() => ({ status: 200, body: 'ok' }));
  });

  it('test button sends one request now with sample values and does not log it', async () => {
    const w = await createHook(t, {
      name: 'tester',
      trigger: { type: 'datastream_update', templateId: dev.templateId, datastream: 'V2' },
      url: `${target.url}/tester?d={device_id}`,
      method: 'POST',
      contentType: 'json',
      body: '{"v":"{device_pinValue}"}',
      perMinute: 1,
    });
    const r = await t.api('POST', `/api/v1/webhooks/${w.id}/test`);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ status: 'OK', httpStatus: 200 });
    const got = target.received.filter((x) => x.url.startsWith('/tester'));
    expect(got).toHaveLength(1);
    expect(got[0]!.url).toBe(`/tester?d=${dev.deviceId}`);
    expect(await logOf(t, w.id)).toEqual([]);
    // The test did not use the quota.
    await putValue(t, dev.deviceId, { V2: 70 });
    expect((await waitLog(t, w.id, 1))[0].status).toBe('OK');
    const down = await t.api('PATCH', `/api/v1/webhooks/${w.id}`, { url: `http://127.0.0.1:${await deadPort()}/` });
    expect(down.status).toBe(200);
    const failed = await t.api('POST', `/api/v1/webhooks/${w.id}/test`);
    expect(failed.body).toMatchObject({ status: 'Failed', httpStatus: null });
    await t.api('DELETE', `/api/v1/webhooks/${w.id}`);
  });

  it('drives a Particle device through a fake Particle Cloud (specs/particle.md §2.1, §3)', async () => {
    const cloud = await startFakeParticleFunctions('particle-token-40');
    try {
      const pid = 'e00fce68aaaaaaaaaaaaaaaa';
      cloud.device(pid, 'boron');
      const hook = (name: string, extra: Record<string, unknown>) =>
        createHook(t, {
          name,
          trigger: { type: 'datastream_update', templateId: dev.templateId, deviceId: dev.deviceId, datastream: 'V16' },
          url: `${cloud.url}/v1/devices/${pid}/blynk_led`,
          method: 'POST',
          headers: { Authorization: 'Bearer particle-token-40' },
          perMinute: 1,
          ...extra,
        });
      const json = await hook('particle-http-api', { contentType: 'json', body: '{"args":"{device_pinValue}"}' });
      const form = await hook('particle form', { contentType: 'form', body: { arg: '{device_pinValue}' } });
      expect(JSON.stringify(json)).not.toContain('particle-token-40');

      // Several quick switch toggles: with 1 per minute only the first is delivered.
      await putValue(t, dev.deviceId, { V16: 0 });
      await putValue(t, dev.deviceId, { V16: 1 });
      await putValue(t, dev.deviceId, { V16: 0 });
      for (const w of [json, form]) {
        const items = await waitLog(t, w.id, 3);
        expect(items.filter((i) => i.status === 'OK')).toHaveLength(1);
        expect(items.filter((i) => i.status === 'Dropped')).toHaveLength(2);
        const ok = items.find((i) => i.status === 'OK');
        expect(JSON.parse(ok.response)).toEqual({ id: pid, name: 'boron', connected: true, return_value: 0 });
      }
      expect(cloud.calls).toHaveLength(2);
      for (const c of cloud.calls) {
        expect(c).toMatchObject({
          deviceId: pid,
          fn: 'blynk_led',
          arg: '0',
          authorization: 'Bearer particle-token-40',
        });
      }
      expect(cloud.calls.map((c) => c.contentType).sort()).toEqual([
        'application/json',
        'application/x-www-form-urlencoded',
      ]);

      // Offline device: 400 "Timed out." is a 4xx, logged as Failed, not retried.
      cloud.device(pid, 'boron', false);
      await t.api('DELETE', `/api/v1/webhooks/${form.id}`);
      await t.api('PATCH', `/api/v1/webhooks/${json.id}`, { perMinute: 10 });
      await putValue(t, dev.deviceId, { V16: 1 });
      const failed = await waitFor('offline failure', async () =>
        (await logOf(t, json.id)).find((i) => i.status === 'Failed'),
      );
      expect(failed).toMatchObject({ httpStatus: 400 });
      expect(JSON.parse(failed.response)).toEqual({ ok: false, error: 'Timed out.' });
      await t.api('DELETE', `/api/v1/webhooks/${json.id}`);
    } finally {
      await cloud.close();
    }
  });
});

describe.each(backends())('webhook outbox across a restart on $name', (backend: Backend) => {
  it('delivers after a restart what could not be delivered before it', async () => {
    const env = { ...ENV, PINWHEEL_WEBHOOK_RETRY_BASE_MS: '300', PINWHEEL_WEBHOOK_MAX_ATTEMPTS: '50' };
    const pgSchema = backend.databaseUrl ? `t_wh_restart_${Date.now().toString(36)}` : undefined;
    // Our own data dir: the first app must not remove it (database file and secret key) on close.
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pinwheel-wh-'));
    const first = await startApp(backend, { env, dataDir, ...(pgSchema ? { pgSchema } : {}) });
    let second: TestApp | undefined;
    let target: Awaited<ReturnType<typeof startTarget>> | undefined;
    try {
      const port = await deadPort();
      const dev = await seedDevice(first, [{ name: 'Level', pin: 'V2', type: 'integer' }]);
      const w = await createHook(first, {
        name: 'restart',
        trigger: { type: 'datastream_update', templateId: dev.templateId, datastream: 'V2' },
        url: `http://127.0.0.1:${port}/after-restart`,
        method: 'POST',
        contentType: 'json',
        body: '{"v":{device_pinValue},"name":"{device_name}"}',
      });
      await putValue(first, dev.deviceId, { V2: 77 });
      await waitLog(first, w.id, 1);
      expect((await first.api('GET', `/api/v1/webhooks/${w.id}`)).body.pending).toBe(1);
      await first.close();

      target = await startTarget(port);
      second = await startApp(backend, { env, dataDir, noAdmin: true, ...(pgSchema ? { pgSchema } : {}) });
      const login = await second.api(
        'POST',
        '/api/v1/auth/login',
        { email: ADMIN.email, password: ADMIN.password },
        null,
      );
      const token = login.body.token as string;
      const got = await waitFor('delivery after restart', async () =>
        target!.received.find((r) => r.url === '/after-restart'),
      );
      expect(JSON.parse(got.body)).toEqual({ v: 77, name: 'Device 1' });
      const items = await waitFor('OK in the log', async () => {
        const r = await second!.api('GET', `/api/v1/webhooks/${w.id}/log`, undefined, token);
        return r.body.items.some((i: any) => i.status === 'OK') ? r.body.items : undefined;
      });
      expect(items[0]).toMatchObject({ status: 'OK', httpStatus: 200 });
      expect(target.received.filter((r) => r.url === '/after-restart')).toHaveLength(1);
    } finally {
      await second?.close();
      await target?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (pgSchema && backend.databaseUrl) {
        const c = new pg.Client({ connectionString: backend.databaseUrl });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
        await c.end();
      }
    }
  });
});
