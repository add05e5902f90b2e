import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { backends, seedDevice, startApp, type TestApp } from './helpers/harness.ts';

type Msg = Record<string, any>;

/** A WebSocket client that records every message and can wait for one matching a predicate. */
class Client {
  readonly messages: Msg[] = [];
  private waiters: Array<() => void> = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as Msg);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }
  /** Resolves with the first message (from `from` on) matching `pred`, or rejects after `ms`. */
  async waitFor(pred: (m: Msg) => boolean, ms = 5000, from = 0): Promise<Msg> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.slice(from).find(pred);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${ms} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  close(): void {
    this.ws.close();
  }
}

const wsUrl = (t: TestApp, token?: string) =>
  `${t.url.replace(/^http/, 'ws')}/api/v1/ws${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`;

function connect(t: TestApp, token: string = t.adminToken): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(t, token));
    const c = new Client(ws);
    ws.once('open', () => resolve(c));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

/** Tries to connect and returns the HTTP status of the refused upgrade. */
function refusedStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      reject(new Error('upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', () => {});
  });
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000, step = 25): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms; last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, step));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(backends())('WebSocket and connection lifecycle on $name', (backend) => {
  let t: TestApp;
  const clients: Client[] = [];
  beforeAll(async () => {
    t = await startApp(backend);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await t.close();
  });

  async function subscribed(deviceId: number): Promise<Client> {
    const c = await connect(t);
    clients.push(c);
    c.send({ type: 'subscribe', deviceId });
    await c.waitFor((m) => m.type === 'subscribed' && m.deviceId === deviceId);
    return c;
  }
  const connected = async (token: string) => (await t.get(`/external/api/isHardwareConnected?token=${token}`)).text;
  const timelineTypes = async (deviceId: number): Promise<string[]> =>
    (await t.api('GET', `/api/v1/devices/${deviceId}/timeline`)).body.items.map((i: { type: string }) => i.type);

  it('refuses the upgrade without a valid token', async () => {
    expect(await refusedStatus(wsUrl(t))).toBe(401);
    expect(await refusedStatus(wsUrl(t, 'pws_bogus'))).toBe(401);
    expect(await refusedStatus(wsUrl(t, ''))).toBe(401);
    // An API token works as well as a session token.
    const api = await t.api('POST', '/api/v1/api-tokens', { name: 'ws' });
    const c = await connect(t, api.body.token);
    clients.push(c);
    c.send({ type: 'ping' });
    await c.waitFor((m) => m.type === 'pong');
  });

  it('pushes values from the device API and from PUT /values to subscribers of that device only', async () => {
    const a = await seedDevice(t, [{ name: 'temp', pin: 'V1', type: 'double' }], { deviceName: 'A' });
    const b = await seedDevice(t, [{ name: 'temp', pin: 'V1', type: 'double' }], { deviceName: 'B' });
    const c = await subscribed(a.deviceId);

    const before = Date.now();
    expect((await t.get(`/external/api/update?token=${b.token}&V1=99`)).status).toBe(200);
    expect((await t.get(`/external/api/update?token=${a.token}&v1=21.5`)).status).toBe(200);
    const m1 = await c.waitFor((m) => m.type === 'value');
    expect(m1).toMatchObject({ type: 'value', deviceId: a.deviceId, pin: 'V1', value: 21.5 });
    expect(m1.ts).toBeGreaterThanOrEqual(before - 1000);
    expect(m1.ts).toBeLessThanOrEqual(Date.now() + 1000);

    const from = c.messages.length;
    const put = await t.api('PUT', `/api/v1/devices/${a.deviceId}/values`, { temp: 7 });
    expect(put.status, put.text).toBe(200);
    const m2 = await c.waitFor((m) => m.type === 'value', 5000, from);
    expect(m2).toMatchObject({ type: 'value', deviceId: a.deviceId, pin: 'V1', value: 7, ts: expect.any(Number) });

    // A refused write is not announced; device B's value never reached this client.
    expect((await t.api('PUT', `/api/v1/devices/${a.deviceId}/values`, { temp: 'hot' })).status).toBe(400);
    expect((await t.get(`/external/api/update?token=${a.token}&v1=abc`)).status).toBe(400);
    const from3 = c.messages.length;
    expect((await t.get(`/external/api/update?token=${a.token}&v1=3`)).status).toBe(200);
    await c.waitFor((m) => m.type === 'value' && m.value === 3, 5000, from3);
    const values = c.messages.filter((m) => m.type === 'value');
    expect(values.map((m) => m.value)).toEqual([21.5, 7, 3]);
    expect(values.every((m) => m.deviceId === a.deviceId)).toBe(true);
  });

  it('answers an unknown device, a malformed message and an unknown type with error messages', async () => {
    const c = await connect(t);
    clients.push(c);
    c.send({ type: 'subscribe', deviceId: 987654 });
    const e1 = await c.waitFor((m) => m.type === 'error');
    expect(e1.message).toContain('987654');
    c.ws.send('not json');
    await c.waitFor((m) => m.type === 'error', 5000, 1);
    c.send({ type: 'dance' });
    await c.waitFor((m) => m.type === 'error', 5000, 2);
    // The socket is still usable.
    c.send({ type: 'ping' });
    await c.waitFor((m) => m.type === 'pong');
  });

  it('with logAnyData, data marks the device online and it goes offline after the wait', async () => {
    const d = await seedDevice(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    const lc = await t.api('PUT', `/api/v1/templates/${d.templateId}/lifecycle`, {
      logAnyData: true,
      offlineAfterSeconds: 1,
    });
    expect(lc.status, lc.text).toBe(200);
    const c = await subscribed(d.deviceId);
    expect(await connected(d.token)).toBe('false');

    expect((await t.get(`/external/api/update?token=${d.token}&V1=1`)).status).toBe(200);
    const on = await c.waitFor((m) => m.type === 'status');
    expect(on).toMatchObject({ type: 'status', deviceId: d.deviceId, online: true });
    expect(await connected(d.token)).toBe('true');
    expect((await t.api('GET', `/api/v1/devices/${d.deviceId}`)).body.online).toBe(true);
    expect(
      await until(
        () => timelineTypes(d.deviceId),
        (ts) => ts.includes('online'),
      ),
    ).toContain('online');

    // Keep sending for ~1.5 s (longer than the wait): the device must stay online throughout.
    let last = Date.now();
    for (let i = 0; i < 5; i++) {
      await sleep(300);
      expect((await t.get(`/external/api/update?token=${d.token}&V1=${i + 2}`)).status).toBe(200);
      last = Date.now();
    }
    expect(c.messages.filter((m) => m.type === 'status' && m.online === false)).toEqual([]);
    expect(await connected(d.token)).toBe('true');

    const off = await c.waitFor((m) => m.type === 'status' && m.online === false, 5000);
    const elapsed = Date.now() - last;
    expect(off).toMatchObject({ type: 'status', deviceId: d.deviceId, online: false });
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(3000);
    expect(await connected(d.token)).toBe('false');
    expect((await t.api('GET', `/api/v1/devices/${d.deviceId}`)).body.online).toBe(false);
    const types = await until(
      () => timelineTypes(d.deviceId),
      (ts) => ts.includes('offline'),
    );
    // Newest first: offline after online, exactly one of each.
    expect(types.filter((x) => x === 'online' || x === 'offline')).toEqual(['offline', 'online']);
    expect(c.messages.filter((m) => m.type === 'status').map((m) => m.online)).toEqual([true, false]);

    // New data brings it back online.
    expect((await t.get(`/external/api/update?token=${d.token}&V1=9`)).status).toBe(200);
    await c.waitFor((m) => m.type === 'status' && m.online === true, 5000, c.messages.indexOf(off) + 1);
    expect(await connected(d.token)).toBe('true');
  });

  it('any device data counts: a logged event marks the device online too', async () => {
    const d = await seedDevice(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    await t.api('POST', `/api/v1/templates/${d.templateId}/events`, { code: 'hello', name: 'Hello' });
    await t.api('PUT', `/api/v1/templates/${d.templateId}/lifecycle`, { logAnyData: true, offlineAfterSeconds: 1 });
    const c = await subscribed(d.deviceId);
    expect((await t.get(`/external/api/logEvent?token=${d.token}&code=hello`)).status).toBe(200);
    await c.waitFor((m) => m.type === 'status' && m.online === true);
    await c.waitFor((m) => m.type === 'status' && m.online === false);
  });

  it('without logAnyData, data does not mark the device online', async () => {
    const d = await seedDevice(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    const lc = await t.api('PUT', `/api/v1/templates/${d.templateId}/lifecycle`, {
      logAnyData: false,
      offlineAfterSeconds: 1,
    });
    expect(lc.status).toBe(200);
    const c = await subscribed(d.deviceId);
    expect((await t.get(`/external/api/update?token=${d.token}&V1=1`)).status).toBe(200);
    await c.waitFor((m) => m.type === 'value');
    // Several sweeps (50 ms each) pass; nothing may change.
    await sleep(300);
    expect(c.messages.filter((m) => m.type === 'status')).toEqual([]);
    expect(await connected(d.token)).toBe('false');
    expect((await t.api('GET', `/api/v1/devices/${d.deviceId}`)).body.online).toBe(false);
    expect(await timelineTypes(d.deviceId)).not.toContain('online');
  });

  it('a user write (source web) does not mark the device online', async () => {
    const d = await seedDevice(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    await t.api('PUT', `/api/v1/templates/${d.templateId}/lifecycle`, { logAnyData: true, offlineAfterSeconds: 1 });
    const c = await subscribed(d.deviceId);
    expect((await t.api('PUT', `/api/v1/devices/${d.deviceId}/values`, { V1: 5 })).status).toBe(200);
    const v = await c.waitFor((m) => m.type === 'value');
    expect(v).toMatchObject({ deviceId: d.deviceId, pin: 'V1', value: 5 });
    await sleep(300);
    expect(c.messages.filter((m) => m.type === 'status')).toEqual([]);
    expect(await connected(d.token)).toBe('false');
    expect((await t.api('GET', `/api/v1/devices/${d.deviceId}`)).body.online).toBe(false);
    expect((await t.api('GET', `/api/v1/devices/${d.deviceId}`)).body.lastSeenAt).toBeNull();
    expect(await timelineTypes(d.deviceId)).not.toContain('online');
  });

  it('turning logAnyData on later applies to the next data', async () => {
    const d = await seedDevice(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    const c = await subscribed(d.deviceId);
    expect((await t.get(`/external/api/update?token=${d.token}&V1=1`)).status).toBe(200);
    await c.waitFor((m) => m.type === 'value');
    expect(await connected(d.token)).toBe('false');
    await t.api('PUT', `/api/v1/templates/${d.templateId}/lifecycle`, { logAnyData: true, offlineAfterSeconds: 1 });
    expect((await t.get(`/external/api/update?token=${d.token}&V1=2`)).status).toBe(200);
    await c.waitFor((m) => m.type === 'status' && m.online === true);
    expect(await connected(d.token)).toBe('true');
  });

  it('deleting an online device stops its timer without errors', async () => {
    const d = await seedDevice(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    await t.api('PUT', `/api/v1/templates/${d.templateId}/lifecycle`, { logAnyData: true, offlineAfterSeconds: 1 });
    const c = await subscribed(d.deviceId);
    await t.get(`/external/api/update?token=${d.token}&V1=1`);
    await c.waitFor((m) => m.type === 'status' && m.online === true);
    expect((await t.api('DELETE', `/api/v1/devices/${d.deviceId}`)).status).toBe(204);
    await sleep(1300);
    expect(c.messages.filter((m) => m.type === 'status' && m.online === false)).toEqual([]);
    expect((await t.get('/healthz')).status).toBe(200);
  });
});
