import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, backends, seedDevice, startApp, type TestApp } from './helpers/harness.ts';

/** mulberry32: small, seedable, good enough to pick junk. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = process.env.JUNK_SEED ? Number(process.env.JUNK_SEED) : Math.floor(Math.random() * 2 ** 31);
const REQUESTS = Number(process.env.JUNK_REQUESTS ?? 300);
const BODY_LIMIT = 2 * 1024 * 1024;

interface JunkRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

interface Ids {
  deviceToken: string;
  deviceId: number;
  templateId: string;
  sessionToken: string;
}

function junkGenerator(rand: () => number, ids: Ids) {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => rand() < p;
  const randomText = (max: number) => {
    // Array.from: whole code points, so no lone surrogates.
    const alphabet = Array.from('abcXYZ019 _-.~!$&\'()*+,;=:@/?#[]%é€😀\u0000\u0001"\\<>{}|^`');
    let s = '';
    const n = int(max);
    for (let i = 0; i < n; i++) s += alphabet[int(alphabet.length)];
    return s;
  };

  const pins = () =>
    pick(['v0', 'V1', 'v1', 'V2', 'V255', 'V256', 'V01', 'V-1', 'v9999999999', 'd3', 'a0', 'V', '', randomText(6)]);
  const values = () =>
    pick([
      '1',
      '-1',
      '1.5',
      '1e309',
      '-1e309',
      '9'.repeat(400),
      'NaN',
      'Infinity',
      'true',
      '',
      '%ZZ',
      '%E0%A4%A',
      '%C0%80',
      '%00',
      '%FF%FE',
      'x'.repeat(int(3000)),
      encodeURIComponent(randomText(20)),
      '12.5,48.1',
      '__proto__',
    ]);
  const keys = () =>
    pick([
      'token',
      'pin',
      'value',
      'dataStreamId',
      'code',
      'description',
      'metaFieldId',
      'metaFieldName',
      'period',
      'granularityType',
      'limit',
      'offset',
      'from',
      'to',
      'templateId',
      'search',
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'hasOwnProperty',
      '__proto__[x]',
      '%ZZ',
      encodeURIComponent(randomText(5)),
      pins(),
    ]);
  const tokenValue = () =>
    pick([
      ids.deviceToken,
      ids.deviceToken,
      'x'.repeat(32),
      '',
      '%ZZ',
      ids.deviceToken.toUpperCase(),
      'a'.repeat(5000),
    ]);

  const query = () => {
    if (chance(0.1)) return '';
    const parts: string[] = [];
    if (chance(0.7)) parts.push(`token=${tokenValue()}`);
    const n = int(8);
    for (let i = 0; i < n; i++) {
      const k = chance(0.4) ? pins() : keys();
      if (chance(0.15)) parts.push(k);
      else parts.push(`${k}=${values()}`);
      if (chance(0.15)) parts.push(`${k}=${values()}`); // repeated key
    }
    if (chance(0.05)) parts.push(`junk=${'z'.repeat(20_000)}`);
    return `?${parts.join('&')}`;
  };

  const deviceApiPaths = [
    '/external/api/update',
    '/external/api/update/',
    '/external/api/get',
    '/external/api/getAll',
    '/external/api/batch/update',
    '/external/api/update/property',
    '/external/api/logEvent',
    '/external/api/logevent',
    '/external/api/isHardwareConnected',
    '/external/api/device/meta',
    '/external/api/device/meta/update',
    '/external/api/data/get',
    '/external/api/upload',
    '/external/api/provision',
    '/external/api/nothing',
    '/external/',
  ];
  const platformPaths = () => {
    const tid = pick([ids.templateId, 'TMPLnope', '%ZZ', '..', '0', 'x'.repeat(300)]);
    const did = pick([String(ids.deviceId), '0', '-1', '99999999999999999999', 'abc', '1.5', '%ZZ', '1e3']);
    const dsid = pick(['0', '1', '-1', 'abc', '99999999999']);
    return pick([
      '/api/v1/setup',
      '/api/v1/auth/login',
      '/api/v1/auth/me',
      '/api/v1/api-tokens',
      `/api/v1/api-tokens/${did}`,
      '/api/v1/templates',
      `/api/v1/templates/${tid}`,
      `/api/v1/templates/${tid}/datastreams`,
      `/api/v1/templates/${tid}/datastreams/${dsid}`,
      `/api/v1/templates/${tid}/metafields`,
      `/api/v1/templates/${tid}/metafields/${dsid}`,
      `/api/v1/templates/${tid}/events`,
      `/api/v1/templates/${tid}/lifecycle`,
      '/api/v1/devices',
      `/api/v1/devices/${did}`,
      `/api/v1/devices/${did}/values`,
      `/api/v1/devices/${did}/history`,
      `/api/v1/devices/${did}/timeline`,
      '/api/v1/ws',
      '/api/v1/',
      '/api/v1/nothing',
      '/api/docs/json',
    ]);
  };
  const randomPath = () =>
    pick([
      '/',
      '/healthz',
      '//external//api//get',
      '/..%2f..%2fetc/passwd',
      `/${encodeURIComponent(randomText(30))}`,
      `/${'a/'.repeat(200)}`,
      `/${'x'.repeat(5000)}`,
      '/%ZZ',
      '/%00',
      '/favicon.ico',
    ]);

  const deepJson = (depth: number) =>
    chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const randomJson = (depth = 0): unknown => {
    const r = int(depth > 3 ? 5 : 8);
    switch (r) {
      case 0:
        return null;
      case 1:
        return chance(0.5);
      case 2:
        return pick([0, -1, 1.5, 1e308, -2147483649, 2147483648, Number.MAX_SAFE_INTEGER + 2]);
      case 3:
        return randomText(30);
      case 4:
        return pick(['V1', 'temp', 'integer', 'enum', 'location', 'TMPLnope']);
      case 5: {
        const n = int(5);
        return Array.from({ length: n }, () => randomJson(depth + 1));
      }
      default: {
        const o: Record<string, unknown> = {};
        const n = int(6);
        for (let i = 0; i < n; i++) {
          o[
            pick([
              'name',
              'pin',
              'type',
              'V1',
              'v2',
              'email',
              'password',
              'templateId',
              'metadata',
              'options',
              'min',
              'max',
              'logAnyData',
              'offlineAfterSeconds',
              '__proto__',
              'constructor',
              randomText(8),
            ])
          ] = randomJson(depth + 1);
        }
        return o;
      }
    }
  };

  const body = (): { body?: string | Buffer; contentType?: string } => {
    const r = int(10);
    switch (r) {
      case 0:
        return {};
      case 1:
        return { body: '{"name": ', contentType: 'application/json' };
      case 2:
        return { body: deepJson(pick([100, 5_000, 100_000])), contentType: 'application/json' };
      case 3:
        return {
          body: JSON.stringify(randomJson()),
          contentType: pick([
            'text/plain',
            'application/xml',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/octet-stream',
            '',
          ]),
        };
      case 4:
        // Beyond the 2 MB limit (rarely: it is slow).
        return chance(0.25)
          ? {
              body: Buffer.alloc(BODY_LIMIT + 1024 + int(1024), 0x61),
              contentType: pick(['application/json', 'text/plain']),
            }
          : { body: JSON.stringify(randomJson()), contentType: 'application/json' };
      case 5:
        return { body: Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22]), contentType: 'application/json; charset=utf-8' };
      case 6:
        return { body: '', contentType: 'application/json' };
      case 7:
        return {
          body: '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
          contentType: 'application/json',
        };
      default:
        return { body: JSON.stringify(randomJson()), contentType: 'application/json' };
    }
  };

  return (): JunkRequest => {
    const kind = int(10);
    const basePath = kind < 4 ? pick(deviceApiPaths) : kind < 9 ? platformPaths() : randomPath();
    const method = pick(['GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']);
    const headers: Record<string, string> = {};
    const auth = int(5);
    if (auth === 0) headers.authorization = `Bearer ${ids.sessionToken}`;
    else if (auth === 1)
      headers.authorization = `Bearer ${pick(['pws_nope', 'pwa_nope', '', ids.deviceToken, 'x'.repeat(10_000)])}`;
    else if (auth === 2) headers.authorization = pick(['Basic YTpi', 'Bearer', 'bearer  ', '\u00ff']);
    const req: JunkRequest = { method, path: basePath + query(), headers };
    if (method !== 'GET' && method !== 'HEAD') {
      const b = body();
      if (b.body !== undefined) req.body = b.body;
      if (b.contentType) headers['content-type'] = b.contentType;
    }
    return req;
  };
}

describe.each(backends())('junk requests on $name', (backend) => {
  let t: TestApp;
  let keep: { deviceId: number; token: string };
  let ids: Ids;
  beforeAll(async () => {
    t = await startApp(backend);
    // The value that must survive: on its own template and device, never addressed by the junk.
    const k = await seedDevice(t, [{ name: 'keep', pin: 'V1', type: 'double' }], { templateName: 'Keep' });
    keep = { deviceId: k.deviceId, token: k.token };
    expect((await t.get(`/external/api/update?token=${k.token}&V1=42.25`)).status).toBe(200);
    // What the junk may hit and damage: another template and device, and a throwaway session.
    const j = await seedDevice(t, [
      { name: 'temp', pin: 'V1', type: 'double' },
      { name: 'mode', pin: 'V2', type: 'enum', options: [{ value: 0, label: 'a' }], fallback: 0 },
      { name: 'where', pin: 'V3', type: 'location' },
      { name: 'text', pin: 'V4', type: 'string' },
    ]);
    const login = await t.api('POST', '/api/v1/auth/login', { email: ADMIN.email, password: ADMIN.password }, null);
    ids = { deviceToken: j.token, deviceId: j.deviceId, templateId: j.templateId, sessionToken: login.body.token };
  });
  afterAll(async () => {
    await t.close();
  });

  it(`survives ${REQUESTS} junk requests (JUNK_SEED=${SEED})`, { timeout: 120_000 }, async () => {
    console.log(`junk test on ${backend.name}: JUNK_SEED=${SEED}`);
    const next = junkGenerator(prng(SEED), ids);
    const failures: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const req = next();
      const label = `#${i} ${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(req.headers).slice(0, 200)} body=${req.body === undefined ? '-' : String(req.body.length)}`;
      let status: number;
      let text: string;
      let type: string | null;
      try {
        const r = await fetch(`${t.url}${req.path}`, {
          method: req.method,
          headers: req.headers,
          ...(req.body !== undefined ? { body: req.body } : {}),
        });
        status = r.status;
        type = r.headers.get('content-type');
        text = await r.text();
      } catch (err) {
        // The server may reset a connection on a body over the limit; anything else is a failure.
        const oversized = req.body !== undefined && req.body.length > BODY_LIMIT;
        if (!oversized) failures.push(`${label}: request failed: ${String(err)}`);
        continue;
      }
      if (status >= 500) {
        failures.push(`${label}: ${status} ${text.slice(0, 300)}`);
        continue;
      }
      if (status < 400 || req.method === 'HEAD' || status === 101) continue;
      let body: any;
      try {
        body = JSON.parse(text);
      } catch {
        failures.push(`${label}: ${status} non-JSON error body (${type}): ${text.slice(0, 200)}`);
        continue;
      }
      // The router ignores duplicate slashes: "//external//api" is the device API.
      const pathOnly = req.path.split('?')[0]!.replace(/\/{2,}/g, '/');
      const msgOk =
        body && typeof body.error === 'object' && typeof body.error.message === 'string' && body.error.message !== '';
      if (!msgOk) {
        failures.push(`${label}: ${status} bad envelope ${text.slice(0, 200)}`);
        continue;
      }
      if (pathOnly.startsWith('/external/')) {
        if (Object.keys(body.error).join() !== 'message')
          failures.push(`${label}: device API envelope has extra keys: ${text.slice(0, 200)}`);
      } else if (typeof body.error.code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(body.error.code)) {
        failures.push(`${label}: platform envelope without a code: ${text.slice(0, 200)}`);
      }
    }
    expect(failures, `JUNK_SEED=${SEED}`).toEqual([]);

    // Still alive and nothing leaked into Object.prototype.
    const h = await t.get('/healthz');
    expect(h.status).toBe(200);
    expect(h.body).toEqual({ ok: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    // The value accepted before the junk is unchanged, through both APIs.
    expect((await t.get(`/external/api/get?token=${keep.token}&v1`)).text).toBe('42.25');
    const dev = await t.api('GET', `/api/v1/devices/${keep.deviceId}`);
    expect(dev.status).toBe(200);
    expect(dev.body.values.V1.value).toBe(42.25);
    // And the server still accepts new values normally.
    expect((await t.get(`/external/api/update?token=${keep.token}&V1=43`)).status).toBe(200);
    expect((await t.get(`/external/api/get?token=${keep.token}&v1`)).text).toBe('43');
  });
});
