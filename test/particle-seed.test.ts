import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, seedDevice, startApp, type TestApp } from './helpers/harness.ts';

/**
 * Particle → Pinwheel the way Blynk's guide does it (specs/particle.md §1.10): the firmware
 * publishes blynk_https_get, Particle's webhook turns it into a GET of batch/update. These
 * tests send what Particle's cloud sends, byte for byte where it matters.
 */

const PARTICLE_UA = 'ParticleBot/1.1 (https://docs.particle.io/webhooks)';
const PUBLISHED_AT = '2024-05-01T12:34:56.789Z';
const PARTICLE_DEVICE_ID = 'e00fce68f4a5c1d2b3a49876';

/** The datastreams of blynk.md §11, created by hand (the "manual" path of the guide). */
const MANUAL_DATASTREAMS = [
  { name: 'V6_last_publish', pin: 'V6', type: 'string' },
  { name: 'Integer V14', pin: 'V14', type: 'integer', saveRaw: true, min: 0, max: 2147483647, defaultValue: 0 },
  { name: 'Double V15', pin: 'V15', type: 'double', saveRaw: true, min: 0, max: 3.3, decimals: '#.##' },
  { name: 'Integer V16', pin: 'V16', type: 'integer', saveRaw: true, min: 0, max: 1, defaultValue: 0 },
  { name: 'Integer V17', pin: 'V17', type: 'integer', saveRaw: true, min: 0, max: 1, defaultValue: 0 },
];

/**
 * A GET as Particle's webhook service makes it: only Host, User-Agent and the connection
 * header, no body. The query string is given already encoded.
 */
function particleGet(baseUrl: string, pathAndQuery: string): Promise<{ status: number; text: string }> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method: 'GET',
        path: pathAndQuery,
        headers: { host: u.host, 'user-agent': PARTICLE_UA, connection: 'close' },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The event data as the blueprint firmware's snprintf formats it (%lu, %f, %d; all quoted). */
function firmwareEvent(token: string, v: { v14: number; v15: number; v16: number; v17: number }): string {
  return `{"t":"${token}","v14":"${v.v14}","v15":"${v.v15.toFixed(6)}","v16":"${v.v16}","v17":"${v.v17}"}`;
}

/**
 * A small Particle-style mustache renderer: {{x}} HTML-escapes (as the reference mustache.js
 * does), {{{x}}} does not; dotted paths; custom variables come from the event data only when
 * it is valid JSON; a missing variable renders empty.
 */
function renderMustache(template: string, vars: Record<string, unknown>): string {
  const htmlEscape = (s: string) =>
    s.replace(
      /[&<>"'`=/]/g,
      (c) =>
        ({
          '&': '&amp;',
          '<': '&lt;',
          '>': '&gt;',
          '"': '&quot;',
          "'": '&#39;',
          '/': '&#x2F;',
          '`': '&#x60;',
          '=': '&#x3D;',
        })[c]!,
    );
  const lookup = (name: string): string => {
    let cur: unknown = vars;
    for (const part of name.split('.')) {
      if (cur === null || typeof cur !== 'object') return '';
      cur = (cur as Record<string, unknown>)[part];
    }
    return cur === undefined || cur === null ? '' : String(cur);
  };
  return template
    .replace(/\{\{\{\s*([\w.]+)\s*\}\}\}/g, (_m, n: string) => lookup(n))
    .replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_m, n: string) => htmlEscape(lookup(n)));
}

interface ParticleWebhook {
  event: string;
  url: string;
  requestType: string;
  noDefaults?: boolean;
  query?: Record<string, string>;
}

/**
 * What Particle's cloud does with a GET webhook when an event matches: renders url and query
 * with the event's variables, adds the default fields unless noDefaults, URL-encodes the
 * query (a comma becomes %2C, a colon %3A, a space +).
 */
function particleRequest(
  hook: ParticleWebhook,
  event: { name: string; data: string; publishedAt: string; deviceId: string },
): { url: string } {
  expect(hook.requestType).toBe('GET');
  expect(event.name.startsWith(hook.event)).toBe(true);
  let custom: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(event.data);
    if (parsed && typeof parsed === 'object') custom = parsed;
  } catch {
    // Not JSON: no custom variables.
  }
  const vars = {
    ...custom,
    PARTICLE_DEVICE_ID: event.deviceId,
    PARTICLE_EVENT_NAME: event.name,
    PARTICLE_EVENT_VALUE: event.data,
    PARTICLE_PUBLISHED_AT: event.publishedAt,
  };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(hook.query ?? {})) params.append(k, renderMustache(v, vars));
  if (!hook.noDefaults) {
    params.append('event', event.name);
    params.append('data', event.data);
    params.append('published_at', event.publishedAt);
    params.append('coreid', event.deviceId);
  }
  return { url: `${renderMustache(hook.url, vars)}?${params.toString()}` };
}

describe.each(backends())('Particle webhook → batch/update on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  const values = async (deviceId: number) => {
    const r = await t.api('GET', `/api/v1/devices/${deviceId}`);
    expect(r.status).toBe(200);
    return r.body as { online: boolean; values: Record<string, { value: unknown; ts: number }> };
  };

  const exactParticleQuery = (token: string) =>
    `/external/api/batch/update?token=${token}&V6=2024-05-01T12%3A34%3A56.789Z&V14=123&V15=1.650000&V16=1&V17=0`;

  it('a template built by hand per blynk.md §11 takes the exact Particle request', async () => {
    const d = await seedDevice(t, MANUAL_DATASTREAMS, { templateName: 'Particle by hand' });
    const lc = await t.api('PUT', `/api/v1/templates/${d.templateId}/lifecycle`, {
      logAnyData: true,
      offlineAfterSeconds: 660,
    });
    expect(lc.status).toBe(200);
    expect((await particleGet(t.url, `/external/api/isHardwareConnected?token=${d.token}`)).text).toBe('false');

    const r = await particleGet(t.url, exactParticleQuery(d.token));
    expect(r).toEqual({ status: 200, text: '' });

    const v = (await values(d.deviceId)).values;
    expect(v.V6!.value).toBe(PUBLISHED_AT);
    expect(v.V14!.value).toBe(123);
    expect(v.V15!.value).toBe(1.65);
    expect(v.V16!.value).toBe(1);
    expect(v.V17!.value).toBe(0);
    // All points of one batch share one timestamp.
    expect(new Set(Object.values(v).map((x) => x.ts)).size).toBe(1);
    expect((await particleGet(t.url, `/external/api/isHardwareConnected?token=${d.token}`)).text).toBe('true');
    expect((await values(d.deviceId)).online).toBe(true);
    // What the device API reads back.
    const got = await t.get(`/external/api/get?token=${d.token}&V6`);
    expect(got.text).toBe(PUBLISHED_AT);
    const all = await t.get(`/external/api/getAll?token=${d.token}`);
    expect(all.body).toEqual({ v6: PUBLISHED_AT, v14: 123, v15: 1.65, v16: 1, v17: 0 });
  });

  it('a blueprint-created device takes it too, and goes online (logAnyData)', async () => {
    const bp = await t.api('POST', '/api/v1/blueprints/particle-device/apply', { deviceName: 'Photon 2' });
    expect(bp.status).toBe(201);
    const dev = bp.body.devices[0];
    expect(dev.online).toBe(false);
    const r = await particleGet(t.url, exactParticleQuery(dev.token));
    expect(r).toEqual({ status: 200, text: '' });
    const state = await values(dev.id);
    expect(state.online).toBe(true);
    expect(Object.fromEntries(Object.entries(state.values).map(([k, x]) => [k, x.value]))).toEqual({
      V6: PUBLISHED_AT,
      V14: 123,
      V15: 1.65,
      V16: 1,
      V17: 0,
    });
    expect((await particleGet(t.url, `/external/api/isHardwareConnected?token=${dev.token}`)).text).toBe('true');
  });

  it('accepts a location in the comma form Particle can send (V3=lon,lat, comma encoded or not)', async () => {
    const bp = await t.api('POST', '/api/v1/blueprints/particle-device/apply', {});
    const { id: templateId } = bp.body.template;
    const { id: deviceId, token } = bp.body.devices[0];
    const ds = await t.api('POST', `/api/v1/templates/${templateId}/datastreams`, {
      name: 'Location',
      pin: 'V3',
      type: 'location',
    });
    expect(ds.status).toBe(201);
    expect(await particleGet(t.url, `/external/api/batch/update?token=${token}&V3=-73.8731,40.8414`)).toEqual({
      status: 200,
      text: '',
    });
    expect((await values(deviceId)).values.V3!.value).toEqual([-73.8731, 40.8414]);
    expect(
      await particleGet(t.url, `/external/api/batch/update?token=${token}&V3=13.4050%2C52.5200&V6=${PUBLISHED_AT}`),
    ).toEqual({ status: 200, text: '' });
    expect((await values(deviceId)).values.V3!.value).toEqual([13.405, 52.52]);
  });

  it('the returned Particle webhook, rendered as Particle renders it, makes a request Pinwheel accepts', async () => {
    const bp = await t.api('POST', '/api/v1/blueprints/particle-device/apply', { deviceName: 'Boron' });
    const hook = bp.body.particleWebhook as ParticleWebhook;
    const { id: deviceId, token } = bp.body.devices[0];
    const data = firmwareEvent(token, { v14: 4_000_123, v15: 2.5, v16: 0, v17: 1 });
    const { url } = particleRequest(hook, {
      name: 'blynk_https_get',
      data,
      publishedAt: PUBLISHED_AT,
      deviceId: PARTICLE_DEVICE_ID,
    });
    const u = new URL(url);
    expect(u.origin).toBe(t.url);
    expect(u.pathname).toBe('/external/api/batch/update');
    // noDefaults: only the hook's own fields; the colons of the timestamp are encoded.
    expect([...u.searchParams.keys()]).toEqual(['token', 'V6', 'V14', 'V15', 'V16', 'V17']);
    expect(u.search).toContain('V6=2024-05-01T12%3A34%3A56.789Z');
    expect(u.search).toContain('V15=2.500000');

    const r = await particleGet(t.url, `${u.pathname}${u.search}`);
    expect(r).toEqual({ status: 200, text: '' });
    const state = await values(deviceId);
    expect(state.online).toBe(true);
    expect(Object.fromEntries(Object.entries(state.values).map(([k, x]) => [k, x.value]))).toEqual({
      V6: PUBLISHED_AT,
      V14: 4_000_123,
      V15: 2.5,
      V16: 0,
      V17: 1,
    });
  });

  it('shows why the hook needs noDefaults and valid JSON event data', async () => {
    const bp = await t.api('POST', '/api/v1/blueprints/particle-device/apply', {});
    const hook = bp.body.particleWebhook as ParticleWebhook;
    const { token } = bp.body.devices[0];
    const event = {
      name: 'blynk_https_get',
      data: firmwareEvent(token, { v14: 1, v15: 1, v16: 0, v17: 0 }),
      publishedAt: PUBLISHED_AT,
      deviceId: PARTICLE_DEVICE_ID,
    };
    // With Particle's default fields added, event/data/... are not pins.
    const withDefaults = new URL(particleRequest({ ...hook, noDefaults: false }, event).url);
    const r1 = await particleGet(t.url, `${withDefaults.pathname}${withDefaults.search}`);
    expect(r1).toEqual({ status: 400, text: JSON.stringify({ error: { message: 'Wrong pin format.' } }) });
    // Truncated event data is not JSON: every custom variable renders empty, so the token too.
    const truncated = new URL(particleRequest(hook, { ...event, data: event.data.slice(0, 40) }).url);
    const r2 = await particleGet(t.url, `${truncated.pathname}${truncated.search}`);
    expect(r2.status).toBe(400);
    expect(JSON.parse(r2.text).error.message).toMatch(/token/i);
  });

  it('refuses values that do not fit, storing nothing of that request', async () => {
    const bp = await t.api('POST', '/api/v1/blueprints/particle-device/apply', {});
    const { id: deviceId, token } = bp.body.devices[0];
    const r = await particleGet(
      t.url,
      `/external/api/batch/update?token=${token}&V6=2024-05-01T12%3A34%3A56.789Z&V14=1.5&V15=1.000000&V16=1&V17=0`,
    );
    expect(r).toEqual({
      status: 400,
      text: JSON.stringify({ error: { message: "Value doesn't match the Datastream data type." } }),
    });
    expect((await values(deviceId)).values).toEqual({});
    // Out-of-range numbers are clamped to the datastream's bounds (blynk.md §1.3).
    const ok = await particleGet(t.url, `/external/api/batch/update?token=${token}&V15=5.000000&V16=7`);
    expect(ok.status).toBe(200);
    const v = (await values(deviceId)).values;
    expect(v.V15!.value).toBe(3.3);
    expect(v.V16!.value).toBe(1);
  });
});
