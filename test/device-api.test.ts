import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, seedDevice, startApp, type TestApp } from './helpers/harness.ts';

/** Blynk's error body, byte for byte. */
const errorBody = (message: string) => JSON.stringify({ error: { message } });

const TEMPLATE = 'Weather station';

/** One datastream of each kind, on fixed pins. */
const DATASTREAMS = [
  { name: 'Temperature', pin: 'V1', type: 'double' },
  { name: 'Counter', pin: 'V2', type: 'integer', min: -10, max: 100 },
  { name: 'Position', pin: 'V3', type: 'location' },
  { name: 'Label', pin: 'V4', type: 'string' },
  {
    name: 'Mode',
    pin: 'V5',
    type: 'enum',
    options: [
      { value: 0, label: 'Off' },
      { value: 1, label: 'On' },
      { value: 2, label: 'Auto' },
    ],
    fallback: 0,
  },
  { name: 'Setpoint', pin: 'V6', type: 'integer', defaultValue: 7 },
  { name: 'Level', pin: 'V10', type: 'double', saveRaw: true },
];

const METAFIELDS = [
  { name: 'Serial', type: 'text' },
  { name: 'Weight', type: 'number' },
  { name: 'Device Owner', type: 'email' },
];

describe.each(backends())('device API on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  interface Seeded {
    templateId: string;
    deviceId: number;
    token: string;
    /** Datastream id by pin. */
    dsId: Record<string, number>;
    /** Metafield id by name. */
    mfId: Record<string, number>;
  }

  const seed = async (): Promise<Seeded> => {
    const d = await seedDevice(t, DATASTREAMS, { templateName: TEMPLATE, metafields: METAFIELDS });
    const tpl = await t.api('GET', `/api/v1/templates/${d.templateId}`);
    expect(tpl.status).toBe(200);
    const dsId: Record<string, number> = {};
    for (const ds of tpl.body.datastreams as Array<{ pin: string; id: number }>) dsId[ds.pin] = ds.id;
    const mfId: Record<string, number> = {};
    for (const mf of tpl.body.metafields as Array<{ name: string; id: number }>) mfId[mf.name] = mf.id;
    return { ...d, dsId, mfId };
  };

  const expectError = async (
    p: Promise<{ status: number; text: string }>,
    message: string,
    status = 400,
  ): Promise<void> => {
    const r = await p;
    expect({ status: r.status, text: r.text }).toEqual({ status, text: errorBody(message) });
  };

  const expectOk = async (p: Promise<{ status: number; text: string }>): Promise<void> => {
    const r = await p;
    expect({ status: r.status, text: r.text }).toEqual({ status: 200, text: '' });
  };

  /** Current value of a pin as `get` prints it. */
  const read = async (token: string, pin: string): Promise<string> => {
    const r = await t.get(`/external/api/get?token=${token}&${pin}`);
    expect(r.status).toBe(200);
    return r.text;
  };

  const post = async (p: string, body: string, contentType?: string) => {
    const r = await fetch(`${t.url}${p}`, {
      method: 'POST',
      headers: contentType ? { 'content-type': contentType } : {},
      body,
    });
    return { status: r.status, text: await r.text() };
  };

  const history = async (deviceId: number, pin: string, from: number) => {
    const r = await t.api('GET', `/api/v1/devices/${deviceId}/history?pin=${pin}&from=${from}&limit=1000`);
    expect(r.status).toBe(200);
    return r.body.points as Array<[number, unknown]>;
  };

  describe('update', () => {
    it('accepts {pin}={value} with upper- and lower-case pins', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&V1=21.5`));
      expect(await read(d.token, 'v1')).toBe('21.5');
      await expectOk(t.get(`/external/api/update?token=${d.token}&v1=22.25`));
      expect(await read(d.token, 'V1')).toBe('22.25');
    });

    it('accepts pin + value and dataStreamId + value', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&pin=V2&value=5`));
      expect(await read(d.token, 'v2')).toBe('5');
      await expectOk(t.get(`/external/api/update?token=${d.token}&pin=v2&value=6`));
      expect(await read(d.token, 'v2')).toBe('6');
      await expectOk(t.get(`/external/api/update?token=${d.token}&dataStreamId=${d.dsId.V2}&value=8`));
      expect(await read(d.token, 'v2')).toBe('8');
    });

    it('accepts a location as repeated value, repeated pin, or the comma form', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&pin=V3&value=12.5&value=45.25`));
      expect(await read(d.token, 'v3')).toBe('12.5,45.25');
      await expectOk(t.get(`/external/api/update?token=${d.token}&V3=13&V3=46`));
      expect(await read(d.token, 'v3')).toBe('13,46');
      await expectOk(t.get(`/external/api/batch/update?token=${d.token}&V3=-73.8731,40.8414`));
      expect(await read(d.token, 'v3')).toBe('-73.8731,40.8414');
      await expectError(
        t.get(`/external/api/update?token=${d.token}&V3=200,10`),
        "Value doesn't match the Datastream data type.",
      );
      await expectError(
        t.get(`/external/api/update?token=${d.token}&V3=1`),
        "Value doesn't match the Datastream data type.",
      );
      expect(await read(d.token, 'v3')).toBe('-73.8731,40.8414');
    });

    it('accepts the trailing-slash form /update/?', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update/?token=${d.token}&V1=3.5`));
      expect(await read(d.token, 'v1')).toBe('3.5');
    });

    it('rejects decimals for an integer datastream and keeps the previous value', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&V2=4`));
      await expectError(
        t.get(`/external/api/update?token=${d.token}&V2=1.5`),
        "Value doesn't match the Datastream data type.",
      );
      await expectError(
        t.get(`/external/api/update?token=${d.token}&V2=abc`),
        "Value doesn't match the Datastream data type.",
      );
      await expectError(
        t.get(`/external/api/update?token=${d.token}&V2=2147483648`),
        "Value doesn't match the Datastream data type.",
      );
      expect(await read(d.token, 'v2')).toBe('4');
    });

    it('clamps numbers to min and max', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&V2=500`));
      expect(await read(d.token, 'v2')).toBe('100');
      await expectOk(t.get(`/external/api/update?token=${d.token}&V2=-50`));
      expect(await read(d.token, 'v2')).toBe('-10');
    });

    it('replaces an unknown enum value with the fallback', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&V5=2`));
      expect(await read(d.token, 'v5')).toBe('2');
      await expectOk(t.get(`/external/api/update?token=${d.token}&V5=9`));
      expect(await read(d.token, 'v5')).toBe('0');
    });

    it('accepts strings up to 1024 bytes and rejects longer ones', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&V4=${'a'.repeat(1024)}`));
      expect(await read(d.token, 'v4')).toBe('a'.repeat(1024));
      await expectError(
        t.get(`/external/api/update?token=${d.token}&V4=${'b'.repeat(1025)}`),
        'Value is too long. Maximum is 1024 bytes.',
      );
      // 513 two-byte characters: 513 characters but 1026 bytes.
      await expectError(
        t.get(`/external/api/update?token=${d.token}&V4=${encodeURIComponent('é'.repeat(513))}`),
        'Value is too long. Maximum is 1024 bytes.',
      );
      expect(await read(d.token, 'v4')).toBe('a'.repeat(1024));
    });

    it('joins a repeated string value with NUL', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&V4=a&V4=b&V4=c`));
      expect(await read(d.token, 'v4')).toBe('a\u0000b\u0000c');
      expect((await t.get(`/external/api/getAll?token=${d.token}`)).text).toBe('{"v4":"a\\u0000b\\u0000c"}');
    });

    it('writes several pins in one batch/update GET', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/batch/update?token=${d.token}&V1=1.5&V2=3&V4=hi`));
      expect(await read(d.token, 'v1')).toBe('1.5');
      expect(await read(d.token, 'v2')).toBe('3');
      expect(await read(d.token, 'v4')).toBe('hi');
    });

    it('writes nothing when one pin of a batch is rejected', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/batch/update?token=${d.token}&V1=1&V2=1`));
      await expectError(
        t.get(`/external/api/batch/update?token=${d.token}&V1=9&V2=2.5`),
        "Value doesn't match the Datastream data type.",
      );
      await expectError(
        t.get(`/external/api/batch/update?token=${d.token}&V1=9&V99=1`),
        'No datastream setup for that pin.',
      );
      expect(await read(d.token, 'v1')).toBe('1');
      expect(await read(d.token, 'v2')).toBe('1');
    });

    it('rejects an update naming no pin, or a pin without a value', async () => {
      const d = await seed();
      await expectError(t.get(`/external/api/update?token=${d.token}`), 'Wrong pin format.');
      await expectError(t.get(`/external/api/update?token=${d.token}&pin=V1`), 'Wrong value');
    });

    it('rejects wrong pins and unknown datastreams with Blynk texts', async () => {
      const d = await seed();
      await expectError(t.get(`/external/api/update?token=${d.token}&V256=1`), 'Wrong pin format.');
      await expectError(t.get(`/external/api/update?token=${d.token}&Vx=1`), 'Wrong pin format.');
      await expectError(t.get(`/external/api/update?token=${d.token}&V01=1`), 'Wrong pin format.');
      await expectError(t.get(`/external/api/update?token=${d.token}&pin=V256&value=1`), 'Wrong pin format.');
      await expectError(t.get(`/external/api/update?token=${d.token}&V99=1`), 'No datastream setup for that pin.');
      await expectError(
        t.get(`/external/api/update?token=${d.token}&pin=V99&value=1`),
        'No datastream setup for that pin.',
      );
      await expectError(
        t.get(`/external/api/update?token=${d.token}&dataStreamId=abc&value=1`),
        'Wrong dataStreamId format.',
      );
      await expectError(
        t.get(`/external/api/update?token=${d.token}&dataStreamId=-1&value=1`),
        'Wrong dataStreamId format.',
      );
      await expectError(
        t.get(`/external/api/update?token=${d.token}&dataStreamId=9999&value=1`),
        `Requested dataStream doesn't exist in the product ${TEMPLATE}`,
      );
    });

    it('rejects a query that is not valid UTF-8 and keeps the previous value', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&V4=before`));
      await expectError(t.get(`/external/api/update?token=${d.token}&V4=%C3%28`), 'Request with incorrect parameters');
      await expectError(t.get(`/external/api/update?token=${d.token}&%C3%28=1`), 'Request with incorrect parameters');
      expect(await read(d.token, 'v4')).toBe('before');
    });

    it('accepts a valid percent-encoded UTF-8 value', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&V4=${encodeURIComponent('héllo wörld & co')}`));
      expect(await read(d.token, 'v4')).toBe('héllo wörld & co');
    });
  });

  describe('POST batch/update', () => {
    it('imports [[ts, value], ...] into history and the latest value', async () => {
      const d = await seed();
      const now = Date.now();
      const body = JSON.stringify([
        [now - 3000, 1.5],
        [now - 2000, 2.5],
        [now - 1000, 3.5],
      ]);
      const r = await post(`/external/api/batch/update?token=${d.token}&pin=V10`, body, 'application/json');
      expect(r.status).toBe(200);
      expect(await read(d.token, 'v10')).toBe('3.5');
      expect(await history(d.deviceId, 'V10', now - 60_000)).toEqual([
        [now - 3000, 1.5],
        [now - 2000, 2.5],
        [now - 1000, 3.5],
      ]);
    });

    it('also addresses the datastream by dataStreamId', async () => {
      const d = await seed();
      const now = Date.now();
      const r = await post(
        `/external/api/batch/update?token=${d.token}&dataStreamId=${d.dsId.V10}`,
        JSON.stringify([[now - 500, 4]]),
        'application/json; charset=utf-8',
      );
      expect(r.status).toBe(200);
      expect(await read(d.token, 'v10')).toBe('4');
    });

    it('requires a JSON content type', async () => {
      const d = await seed();
      const body = JSON.stringify([[Date.now(), 1]]);
      await expectError(post(`/external/api/batch/update?token=${d.token}&pin=V10`, body), 'Unknown content type.');
      await expectError(
        post(`/external/api/batch/update?token=${d.token}&pin=V10`, body, 'text/plain'),
        'Unknown content type.',
      );
      await expectError(
        post(`/external/api/batch/update?token=${d.token}&pin=V10`, body, 'application/xml'),
        'Unknown content type.',
      );
      await expectError(t.get(`/external/api/get?token=${d.token}&v10`), 'No data');
    });

    it('refuses more than 10000 points', async () => {
      const d = await seed();
      const now = Date.now();
      const points = Array.from({ length: 10_001 }, (_, i) => [now - 20_000 + i, i]);
      await expectError(
        post(`/external/api/batch/update?token=${d.token}&pin=V10`, JSON.stringify(points), 'application/json'),
        'Too much data in batch. Maximum batch size is 10000 points.',
      );
      expect(await history(d.deviceId, 'V10', now - 60_000)).toEqual([]);
    });

    it('refuses timestamps older than the import window and writes nothing', async () => {
      const d = await seed();
      const now = Date.now();
      const body = JSON.stringify([
        [now - 1000, 1],
        [now - 40 * 86_400_000, 2],
      ]);
      await expectError(
        post(`/external/api/batch/update?token=${d.token}&pin=V10`, body, 'application/json'),
        'Request with incorrect parameters',
      );
      expect(await history(d.deviceId, 'V10', now - 60 * 86_400_000)).toEqual([]);
      for (const ts of [now + 40 * 86_400_000, now - 1000.5, String(now)]) {
        await expectError(
          post(`/external/api/batch/update?token=${d.token}&pin=V10`, JSON.stringify([[ts, 1]]), 'application/json'),
          'Request with incorrect parameters',
        );
      }
      await expectError(t.get(`/external/api/get?token=${d.token}&v10`), 'No data');
    });

    it('writes nothing when one value is bad', async () => {
      const d = await seed();
      const now = Date.now();
      const body = JSON.stringify([
        [now - 2000, 1],
        [now - 1000, 'abc'],
      ]);
      await expectError(
        post(`/external/api/batch/update?token=${d.token}&pin=V10`, body, 'application/json'),
        "Value doesn't match the Datastream data type.",
      );
      expect(await history(d.deviceId, 'V10', now - 60_000)).toEqual([]);
      await expectError(t.get(`/external/api/get?token=${d.token}&v10`), 'No data');
    });

    it('refuses malformed bodies and a missing pin', async () => {
      const d = await seed();
      const p = `/external/api/batch/update?token=${d.token}&pin=V10`;
      await expectError(post(p, '{"a":1}', 'application/json'), 'Request with incorrect parameters');
      await expectError(post(p, '[[1,2,3]]', 'application/json'), 'Request with incorrect parameters');
      await expectError(post(p, '[[', 'application/json'), 'Request with incorrect parameters');
      await expectError(
        post(`/external/api/batch/update?token=${d.token}`, '[]', 'application/json'),
        'Wrong pin format.',
      );
    });
  });

  describe('get', () => {
    it('returns one value as raw text', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&V2=42`));
      const r = await t.get(`/external/api/get?token=${d.token}&v2`);
      expect(r.status).toBe(200);
      expect(r.text).toBe('42');
      expect(r.type).toMatch(/^text\/plain/);
    });

    it('returns several values as JSON keyed by the requested pins', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/batch/update?token=${d.token}&V1=1&V2=2&V3=3,4&V4=x`));
      const r = await t.get(`/external/api/get?token=${d.token}&v1&V2&v3&v4`);
      expect(r.status).toBe(200);
      expect(r.type).toMatch(/^application\/json/);
      expect(r.text).toBe('{"v1":1.0,"V2":2,"v3":[3.0,4.0],"v4":"x"}');
    });

    it('reads by dataStreamId and by pin=', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&V1=7.25`));
      expect((await t.get(`/external/api/get?token=${d.token}&dataStreamId=${d.dsId.V1}`)).text).toBe('7.25');
      expect((await t.get(`/external/api/get?token=${d.token}&pin=V1`)).text).toBe('7.25');
    });

    it('returns the default value when nothing is stored, and No data without either', async () => {
      const d = await seed();
      expect(await read(d.token, 'v6')).toBe('7');
      await expectError(t.get(`/external/api/get?token=${d.token}&v1`), 'No data');
    });

    it('rejects wrong pins, unknown datastreams and a request naming nothing', async () => {
      const d = await seed();
      await expectError(t.get(`/external/api/get?token=${d.token}&V256`), 'Wrong pin format.');
      await expectError(t.get(`/external/api/get?token=${d.token}&Vx`), 'Wrong pin format.');
      await expectError(t.get(`/external/api/get?token=${d.token}&v99`), 'No datastream setup for that pin.');
      await expectError(t.get(`/external/api/get?token=${d.token}`), 'Wrong pin format.');
      await expectError(t.get(`/external/api/get?token=${d.token}&dataStreamId=x`), 'Wrong dataStreamId format.');
      await expectError(
        t.get(`/external/api/get?token=${d.token}&dataStreamId=9999`),
        `Requested dataStream doesn't exist in the product ${TEMPLATE}`,
      );
    });
  });

  describe('getAll', () => {
    it('prints every stored value with lower-case keys and Blynk typing', async () => {
      const d = await seed();
      expect((await t.get(`/external/api/getAll?token=${d.token}`)).text).toBe('{}');
      await expectOk(t.get(`/external/api/batch/update?token=${d.token}&V1=1&V2=3&V3=12,11&V4=string&V5=1`));
      const r = await t.get(`/external/api/getAll?token=${d.token}`);
      expect(r.status).toBe(200);
      expect(r.type).toMatch(/^application\/json/);
      expect(r.text).toBe('{"v1":1.0,"v2":3,"v3":[12.0,11.0],"v4":"string","v5":1}');
    });

    it('prints doubles with a fraction as they are', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&V1=-0.5`));
      expect((await t.get(`/external/api/getAll?token=${d.token}`)).text).toBe('{"v1":-0.5}');
    });
  });

  describe('isHardwareConnected', () => {
    it('is false until data arrives, when the lifecycle logs any data', async () => {
      const d = await seed();
      const lc = await t.api('PUT', `/api/v1/templates/${d.templateId}/lifecycle`, {
        logAnyData: true,
        offlineAfterSeconds: 300,
      });
      expect(lc.status).toBe(200);
      const before = await t.get(`/external/api/isHardwareConnected?token=${d.token}`);
      expect({ status: before.status, text: before.text }).toEqual({ status: 200, text: 'false' });
      await expectOk(t.get(`/external/api/update?token=${d.token}&V1=1`));
      const after = await t.get(`/external/api/isHardwareConnected?token=${d.token}`);
      expect({ status: after.status, text: after.text }).toEqual({ status: 200, text: 'true' });
      const dev = await t.api('GET', `/api/v1/devices/${d.deviceId}`);
      expect(dev.body.online).toBe(true);
    });

    it('stays false after data when the lifecycle does not log data', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&V1=1`));
      expect((await t.get(`/external/api/isHardwareConnected?token=${d.token}`)).text).toBe('false');
    });
  });

  describe('logEvent', () => {
    const withEvent = async () => {
      const d = await seed();
      const ev = await t.api('POST', `/api/v1/templates/${d.templateId}/events`, {
        code: 'overheat',
        name: 'Overheat',
        description: 'Template text',
      });
      expect(ev.status).toBe(201);
      return d;
    };

    const events = async (deviceId: number) => {
      const r = await t.api('GET', `/api/v1/devices/${deviceId}/timeline?type=event`);
      expect(r.status).toBe(200);
      return r.body.items as Array<Record<string, unknown>>;
    };

    it('logs an event on the timeline, with the device description', async () => {
      const d = await withEvent();
      await expectOk(
        t.get(`/external/api/logEvent?token=${d.token}&code=overheat&description=${encodeURIComponent('Too hot!')}`),
      );
      const items = await events(d.deviceId);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ type: 'event', code: 'overheat', name: 'Overheat', description: 'Too hot!' });
    });

    it('accepts the logevent alias and falls back to the template description', async () => {
      const d = await withEvent();
      await expectOk(t.get(`/external/api/logevent?token=${d.token}&code=overheat`));
      const items = await events(d.deviceId);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ type: 'event', code: 'overheat', description: 'Template text' });
    });

    it('rejects a missing or unknown code and a long description, logging nothing', async () => {
      const d = await withEvent();
      await expectError(t.get(`/external/api/logEvent?token=${d.token}`), 'Event code is not provided.');
      await expectError(t.get(`/external/api/logEvent?token=${d.token}&code=`), 'Event code is not provided.');
      await expectError(
        t.get(`/external/api/logEvent?token=${d.token}&code=nosuch`),
        "Can't find Event with this code in Product template",
      );
      await expectError(
        t.get(`/external/api/logEvent?token=${d.token}&code=overheat&description=${'x'.repeat(301)}`),
        'Event description is too long. Maximum is 300 characters.',
      );
      expect(await events(d.deviceId)).toEqual([]);
      await expectOk(t.get(`/external/api/logEvent?token=${d.token}&code=overheat&description=${'x'.repeat(300)}`));
      expect(await events(d.deviceId)).toHaveLength(1);
    });
  });

  describe('update/property', () => {
    it('stores a property of a datastream', async () => {
      const d = await seed();
      await expectOk(
        t.get(`/external/api/update/property?token=${d.token}&pin=V1&label=${encodeURIComponent('Room #1')}`),
      );
      await expectOk(t.get(`/external/api/update/property?token=${d.token}&pin=v1&urls=a&urls=b`));
      const props = await t.s.devices.properties(d.deviceId);
      const byName = Object.fromEntries(props.map((p) => [`${p.pin}.${p.property}`, p.value]));
      expect(byName).toEqual({ 'V1.label': 'Room #1', 'V1.urls': ['a', 'b'] });
    });

    it('rejects a missing or wrong pin and a request without a property', async () => {
      const d = await seed();
      await expectError(t.get(`/external/api/update/property?token=${d.token}&label=x`), 'Wrong pin format.');
      await expectError(t.get(`/external/api/update/property?token=${d.token}&pin=V256&label=x`), 'Wrong pin format.');
      await expectError(
        t.get(`/external/api/update/property?token=${d.token}&pin=V99&label=x`),
        'No datastream setup for that pin.',
      );
      await expectError(
        t.get(`/external/api/update/property?token=${d.token}&pin=V1`),
        'Request with incorrect parameters',
      );
      expect(await t.s.devices.properties(d.deviceId)).toEqual([]);
    });
  });

  describe('device/meta', () => {
    it('writes and reads a metafield by name and by id', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/device/meta/update?token=${d.token}&metaFieldName=Serial&value=SN-001`));
      const byName = await t.get(`/external/api/device/meta?token=${d.token}&metaFieldName=Serial`);
      expect({ status: byName.status, text: byName.text }).toEqual({ status: 200, text: 'SN-001' });
      const byId = await t.get(`/external/api/device/meta?token=${d.token}&metaFieldId=${d.mfId.Serial}`);
      expect({ status: byId.status, text: byId.text }).toEqual({ status: 200, text: 'SN-001' });
      await expectOk(
        t.get(`/external/api/device/meta/update?token=${d.token}&metaFieldId=${d.mfId.Serial}&value=SN-002`),
      );
      expect((await t.get(`/external/api/device/meta?token=${d.token}&metaFieldId=Serial`)).text).toBe('SN-002');
      const dev = await t.api('GET', `/api/v1/devices/${d.deviceId}`);
      expect(dev.body.metadata.Serial).toBe('SN-002');
    });

    it('addresses URL-encoded names with spaces', async () => {
      const d = await seed();
      const name = encodeURIComponent('Device Owner');
      await expectOk(t.get(`/external/api/device/meta/update?token=${d.token}&metaFieldName=${name}&value=a%40b.io`));
      expect((await t.get(`/external/api/device/meta?token=${d.token}&metaFieldId=${name}`)).text).toBe('a@b.io');
    });

    it('checks the value against a number metafield', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/device/meta/update?token=${d.token}&metaFieldName=Weight&value=12.5`));
      await expectError(
        t.get(`/external/api/device/meta/update?token=${d.token}&metaFieldName=Weight&value=heavy`),
        'Wrong value',
      );
      await expectError(t.get(`/external/api/device/meta/update?token=${d.token}&metaFieldName=Weight`), 'Wrong value');
      expect((await t.get(`/external/api/device/meta?token=${d.token}&metaFieldName=Weight`)).text).toBe('12.5');
    });

    it('answers loc.latlon from the location datastream as "lat lon"', async () => {
      const d = await seed();
      await expectError(t.get(`/external/api/device/meta?token=${d.token}&metaFieldId=loc.latlon`), 'No data');
      await expectOk(t.get(`/external/api/update?token=${d.token}&V3=12.5,45.25`));
      expect((await t.get(`/external/api/device/meta?token=${d.token}&metaFieldId=loc.latlon`)).text).toBe(
        '45.25 12.5',
      );
    });

    it('rejects a missing or unknown metafield', async () => {
      const d = await seed();
      await expectError(t.get(`/external/api/device/meta?token=${d.token}`), 'Wrong metaField format.');
      await expectError(t.get(`/external/api/device/meta?token=${d.token}&metaFieldId=`), 'Wrong metaField format.');
      await expectError(
        t.get(`/external/api/device/meta?token=${d.token}&metaFieldName=Nope`),
        "MetaField doesn't exist.",
      );
      await expectError(t.get(`/external/api/device/meta/update?token=${d.token}&value=1`), 'Wrong metaField format.');
      await expectError(
        t.get(`/external/api/device/meta/update?token=${d.token}&metaFieldName=Nope&value=1`),
        "MetaField doesn't exist.",
      );
    });
  });

  describe('tokens', () => {
    const paths = [
      '/external/api/update?V1=1',
      '/external/api/batch/update?V1=1',
      '/external/api/get?v1',
      '/external/api/getAll?x=1',
      '/external/api/isHardwareConnected?x=1',
      '/external/api/logEvent?code=a',
      '/external/api/update/property?pin=V1&label=x',
      '/external/api/device/meta?metaFieldName=Serial',
      '/external/api/device/meta/update?metaFieldName=Serial&value=1',
      '/external/api/data/get?x=1',
    ];

    it.each(paths)('%s needs a token', async (p) => {
      await expectError(t.get(p), 'No token provided.');
      await expectError(t.get(`${p}&token=`), 'No token provided.');
    });

    it.each(paths)('%s refuses an unknown token', async (p) => {
      await expectError(t.get(`${p}&token=xw7ITVneg1DifRRQuPGcA7fJvV8-FAVl`), 'Invalid token.');
    });

    it('POST batch/update checks the token first', async () => {
      await expectError(post('/external/api/batch/update?pin=V1', '[]', 'application/json'), 'No token provided.');
      await expectError(
        post('/external/api/batch/update?pin=V1&token=nope', '[]', 'application/json'),
        'Invalid token.',
      );
    });

    it('a deleted device token stops working', async () => {
      const d = await seed();
      await expectOk(t.get(`/external/api/update?token=${d.token}&V1=1`));
      const del = await t.api('DELETE', `/api/v1/devices/${d.deviceId}`);
      expect(del.status).toBe(204);
      await expectError(t.get(`/external/api/get?token=${d.token}&v1`), 'Invalid token.');
    });
  });

  it('answers unknown device API paths with Not found.', async () => {
    await expectError(t.get('/external/api/nosuch?token=x'), 'Not found.', 404);
  });
});
