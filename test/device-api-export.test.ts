import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WriteOp } from '../src/store/write-ops.ts';
import { backends, seedDevice, startApp, type TestApp } from './helpers/harness.ts';

const errorBody = (message: string) => JSON.stringify({ error: { message } });

/** The server's fixed "now": 2024-06-15 12:00:00 UTC. */
const NOW = Date.UTC(2024, 5, 15, 12, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;

const TEMPLATE = 'Export template';
const DATASTREAMS = [
  { name: 'Temperature', pin: 'V1', type: 'double' },
  { name: 'Counter', pin: 'V2', type: 'integer' },
  { name: 'Position', pin: 'V3', type: 'location' },
  { name: 'Label', pin: 'V4', type: 'string' },
  { name: 'Level', pin: 'V10', type: 'double', saveRaw: true },
];

const META_FLOAT = [
  { name: 'data_stream_name', type: 'String' },
  { name: 'ts', type: 'Int64' },
  { name: 'value', type: 'Float64' },
];

type Row = { data_stream_name: string; ts: number | string; value: number | string };
const row = (data_stream_name: string, ts: number | string, value: number | string): Row => ({
  data_stream_name,
  ts,
  value,
});

describe.each(backends())('data/get export on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend, { overrides: { clock: () => NOW } });
  });
  afterAll(async () => {
    await t.close();
  });

  const seed = async () => {
    const d = await seedDevice(t, DATASTREAMS, { templateName: TEMPLATE });
    const tpl = await t.api('GET', `/api/v1/templates/${d.templateId}`);
    const dsId: Record<string, number> = {};
    for (const ds of tpl.body.datastreams as Array<{ pin: string; id: number }>) dsId[ds.pin] = ds.id;
    return { ...d, dsId };
  };

  /** Imports timestamped points through POST batch/update. */
  const importPoints = async (token: string, pin: string, points: Array<[number, number]>) => {
    const r = await fetch(`${t.url}/external/api/batch/update?token=${token}&pin=${pin}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(points),
    });
    expect(r.status).toBe(200);
  };

  const update = async (token: string, qs: string) => {
    const r = await t.get(`/external/api/update?token=${token}&${qs}`);
    expect({ status: r.status, text: r.text }).toEqual({ status: 200, text: '' });
  };

  const exp = (token: string, qs = '') => t.get(`/external/api/data/get?token=${token}${qs ? `&${qs}` : ''}`);

  /** The JSON export, asserted to be a 200. */
  const exportJson = async (token: string, qs = '') => {
    const r = await exp(token, qs);
    expect(r.status, r.text).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    return r.body as { meta: unknown; data: Row[]; rows: number; rows_before_limit_at_least: number };
  };

  const expectError = async (p: Promise<{ status: number; text: string }>, message: string, status = 400) => {
    const r = await p;
    expect({ status: r.status, text: r.text }).toEqual({ status, text: errorBody(message) });
  };

  describe('raw data', () => {
    it('exports every datastream by default, oldest first, in Blynk JSON', async () => {
      const d = await seed();
      await importPoints(d.token, 'V10', [
        [NOW - 3 * HOUR, 1.5],
        [NOW - 2 * HOUR, 2.5],
      ]);
      await update(d.token, 'V1=20');
      expect(await exportJson(d.token)).toEqual({
        meta: META_FLOAT,
        data: [row('Level', NOW - 3 * HOUR, 1.5), row('Level', NOW - 2 * HOUR, 2.5), row('Temperature', NOW, 20)],
        rows: 3,
        rows_before_limit_at_least: 3,
      });
    });

    it('exports one datastream by pin or dataStreamId', async () => {
      const d = await seed();
      await importPoints(d.token, 'V10', [[NOW - HOUR, 1]]);
      await update(d.token, 'V1=20');
      const expected = {
        meta: META_FLOAT,
        data: [row('Level', NOW - HOUR, 1)],
        rows: 1,
        rows_before_limit_at_least: 1,
      };
      expect(await exportJson(d.token, 'pin=V10')).toEqual(expected);
      expect(await exportJson(d.token, 'pin=v10')).toEqual(expected);
      expect(await exportJson(d.token, `dataStreamId=${d.dsId.V10}`)).toEqual(expected);
    });

    it('limits the export to the period', async () => {
      const d = await seed();
      await importPoints(d.token, 'V10', [
        [NOW - 20 * 86_400_000, 1],
        [NOW - 3 * 86_400_000, 2],
        [NOW - 5 * HOUR, 3],
        [NOW - 30 * MIN, 4],
      ]);
      const values = async (qs: string) => (await exportJson(d.token, `pin=V10&${qs}`)).data.map((r) => r.value);
      expect(await values('period=HOUR')).toEqual([4]);
      expect(await values('period=DAY')).toEqual([3, 4]);
      expect(await values('period=WEEK')).toEqual([2, 3, 4]);
      expect(await values('period=MONTH')).toEqual([1, 2, 3, 4]);
      expect(await values('')).toEqual([1, 2, 3, 4]);
    });

    it('returns an empty export when there is nothing stored', async () => {
      const d = await seed();
      expect(await exportJson(d.token, 'pin=V1')).toEqual({
        meta: META_FLOAT,
        data: [],
        rows: 0,
        rows_before_limit_at_least: 0,
      });
    });

    it('exports one-minute averages for datastreams that do not save raw data', async () => {
      const d = await seed();
      await update(d.token, 'V1=1');
      await update(d.token, 'V1=2');
      await update(d.token, 'V1=6');
      expect((await exportJson(d.token, 'pin=V1')).data).toEqual([row('Temperature', NOW, 3)]);
    });
  });

  describe('aggregation', () => {
    const H = NOW - 5 * HOUR;
    const seedHourly = async () => {
      const d = await seed();
      await importPoints(d.token, 'V10', [
        [H + 10 * MIN, 1],
        [H + 20 * MIN, 2],
        [H + 30 * MIN, 3],
        [H + 65 * MIN, 10],
      ]);
      return d;
    };

    it('aggregates HOURLY with every source type', async () => {
      const d = await seedHourly();
      const values = async (source: string) =>
        (await exportJson(d.token, `pin=V10&granularityType=HOURLY&sourceType=${source}`)).data;
      expect(await values('AVG')).toEqual([row('Level', H, 2), row('Level', H + HOUR, 10)]);
      expect(await values('MIN')).toEqual([row('Level', H, 1), row('Level', H + HOUR, 10)]);
      expect(await values('MAX')).toEqual([row('Level', H, 3), row('Level', H + HOUR, 10)]);
      expect(await values('SUM')).toEqual([row('Level', H, 6), row('Level', H + HOUR, 10)]);
      expect(await values('COUNT')).toEqual([row('Level', H, 3), row('Level', H + HOUR, 1)]);
      // AVG is the default.
      expect((await exportJson(d.token, 'pin=V10&granularityType=HOURLY')).data).toEqual(await values('AVG'));
    });

    it('types COUNT values as integers', async () => {
      const d = await seedHourly();
      const r = await exportJson(d.token, 'pin=V10&granularityType=HOURLY&sourceType=COUNT');
      expect(r.meta).toEqual([META_FLOAT[0], META_FLOAT[1], { name: 'value', type: 'UInt64' }]);
    });

    it('aggregates by MINUTE', async () => {
      const d = await seedHourly();
      await importPoints(d.token, 'V10', [[H + 10 * MIN + 30_000, 5]]);
      expect((await exportJson(d.token, 'pin=V10&granularityType=MINUTE&sourceType=MAX')).data).toEqual([
        row('Level', H + 10 * MIN, 5),
        row('Level', H + 20 * MIN, 2),
        row('Level', H + 30 * MIN, 3),
        row('Level', H + 65 * MIN, 10),
      ]);
    });

    it('aggregates stored one-minute aggregates with their real sum, count, min and max', async () => {
      const d = await seed();
      await update(d.token, 'V1=1');
      await update(d.token, 'V1=2');
      await update(d.token, 'V1=6');
      const value = async (source: string) =>
        (await exportJson(d.token, `pin=V1&granularityType=HOURLY&sourceType=${source}`)).data.map((r) => r.value);
      expect(await value('SUM')).toEqual([9]);
      expect(await value('COUNT')).toEqual([3]);
      expect(await value('MIN')).toEqual([1]);
      expect(await value('MAX')).toEqual([6]);
      expect(await value('AVG')).toEqual([3]);
    });

    it('aligns DAILY buckets to midnight in tzName', async () => {
      const d = await seed();
      await importPoints(d.token, 'V10', [
        [Date.UTC(2024, 5, 14, 3), 1], // 13 June 23:00 in New York
        [Date.UTC(2024, 5, 14, 5), 3], // 14 June 01:00 in New York
      ]);
      expect((await exportJson(d.token, 'pin=V10&granularityType=DAILY')).data).toEqual([
        row('Level', Date.UTC(2024, 5, 14), 2),
      ]);
      expect((await exportJson(d.token, 'pin=V10&granularityType=DAILY&tzName=America/New_York')).data).toEqual([
        row('Level', Date.UTC(2024, 5, 13, 4), 1),
        row('Level', Date.UTC(2024, 5, 14, 4), 3),
      ]);
    });

    it('aligns HOURLY buckets to local hours in zones with half-hour offsets', async () => {
      const d = await seed();
      await importPoints(d.token, 'V10', [
        [Date.UTC(2024, 5, 15, 7, 10), 1], // 12:40 in Kolkata
        [Date.UTC(2024, 5, 15, 7, 40), 2], // 13:10 in Kolkata
      ]);
      expect((await exportJson(d.token, 'pin=V10&granularityType=HOURLY&tzName=Asia/Kolkata')).data).toEqual([
        row('Level', Date.UTC(2024, 5, 15, 6, 30), 1),
        row('Level', Date.UTC(2024, 5, 15, 7, 30), 2),
      ]);
    });

    it('takes the last value of a bucket for strings and locations, typing values as String', async () => {
      const d = await seed();
      await update(d.token, 'V2=5');
      await update(d.token, 'V3=1,2');
      await update(d.token, 'V4=a');
      await update(d.token, 'V4=b');
      const r = await exportJson(d.token, 'granularityType=HOURLY&sourceType=SUM');
      expect(r.meta).toEqual([META_FLOAT[0], META_FLOAT[1], { name: 'value', type: 'String' }]);
      expect(r.data).toEqual([row('Counter', NOW, '5'), row('Position', NOW, '1,2'), row('Label', NOW, 'b')]);
    });

    it('accepts THREE_MONTHS with an aggregating granularity', async () => {
      const d = await seed();
      await importPoints(d.token, 'V10', [[NOW - 20 * 86_400_000, 4]]);
      const r = await exportJson(d.token, 'pin=V10&period=THREE_MONTHS&granularityType=DAILY');
      expect(r.data).toEqual([row('Level', Date.UTC(2024, 4, 26), 4)]);
    });
  });

  describe('formats', () => {
    it('formats timestamps as ISO_SIMPLE and ISO_US in tzName', async () => {
      const d = await seed();
      await importPoints(d.token, 'V10', [
        [Date.UTC(2024, 5, 14, 0, 5, 0), 1],
        [Date.UTC(2024, 5, 14, 13, 45, 41), 2],
      ]);
      const ts = async (qs: string) => {
        const r = await exportJson(d.token, `pin=V10&${qs}`);
        expect(r.meta).toEqual([META_FLOAT[0], { name: 'ts', type: 'String' }, META_FLOAT[2]]);
        return r.data.map((x) => x.ts);
      };
      expect(await ts('format=ISO_SIMPLE')).toEqual(['2024-06-14 00:05:00', '2024-06-14 13:45:41']);
      expect(await ts('format=ISO_US')).toEqual(['06/14/24 12:05:00 AM', '06/14/24 01:45:41 PM']);
      expect(await ts('format=ISO_US&tzName=America/New_York')).toEqual([
        '06/13/24 08:05:00 PM',
        '06/14/24 09:45:41 AM',
      ]);
      expect(await ts('format=ISO_SIMPLE&tzName=Europe/Berlin')).toEqual([
        '2024-06-14 02:05:00',
        '2024-06-14 15:45:41',
      ]);
    });

    it('includes timeline events with sendEvents=true', async () => {
      const d = await seed();
      const ev = await t.api('POST', `/api/v1/templates/${d.templateId}/events`, {
        code: 'overheat',
        name: 'Overheat',
      });
      expect(ev.status).toBe(201);
      await importPoints(d.token, 'V10', [[NOW - HOUR, 1.5]]);
      const logged = await t.get(`/external/api/logEvent?token=${d.token}&code=overheat`);
      expect(logged.status).toBe(200);
      expect((await exportJson(d.token)).data).toEqual([row('Level', NOW - HOUR, 1.5)]);
      expect(await exportJson(d.token, 'sendEvents=false')).toMatchObject({ rows: 1 });
      expect(await exportJson(d.token, 'sendEvents=true')).toEqual({
        meta: [META_FLOAT[0], META_FLOAT[1], { name: 'value', type: 'String' }],
        data: [row('Level', NOW - HOUR, '1.5'), row('event', NOW, 'Overheat')],
        rows: 2,
        rows_before_limit_at_least: 2,
      });
    });

    it('answers CSV with output=CSV, quoting fields', async () => {
      const d = await seed();
      await update(d.token, `V4=${encodeURIComponent('say "hi", ok')}`);
      await update(d.token, 'V3=1.5,2');
      const r = await exp(d.token, 'output=CSV&granularityType=MINUTE');
      expect(r.status).toBe(200);
      expect(r.type).toMatch(/^text\/csv/);
      expect(r.text).toBe(`data_stream_name,ts,value\r\nPosition,${NOW},"1.5,2"\r\nLabel,${NOW},"say ""hi"", ok"\r\n`);
      const empty = await exp(d.token, 'output=CSV&pin=V1');
      expect({ status: empty.status, text: empty.text }).toEqual({
        status: 200,
        text: 'data_stream_name,ts,value\r\n',
      });
    });

    it('writes a file with output=FILE and serves it from the returned link', async () => {
      const d = await seed();
      await importPoints(d.token, 'V10', [[NOW - HOUR, 1.5]]);
      const r = await exp(d.token, 'output=FILE&format=ISO_SIMPLE');
      expect(r.status).toBe(200);
      const link = r.body.link as string;
      const prefix = `${t.url}/external/api/data/file/`;
      expect(link.startsWith(prefix)).toBe(true);
      const name = link.slice(prefix.length);
      expect(name).toMatch(new RegExp(`^device_data_${d.deviceId}_${NOW}_[0-9a-f]{32}\\.csv$`));
      expect(fs.existsSync(path.join(t.dataDir, 'exports', name))).toBe(true);
      const file = await fetch(link);
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(await file.text()).toBe('data_stream_name,ts,value\r\nLevel,2024-06-15 11:00:00,1.5\r\n');
    });

    it('answers No data for a FILE export without rows', async () => {
      const d = await seed();
      await expectError(exp(d.token, 'output=FILE'), 'No data');
      expect(
        fs.existsSync(path.join(t.dataDir, 'exports'))
          ? fs.readdirSync(path.join(t.dataDir, 'exports')).filter((n) => n.includes(`_${d.deviceId}_`))
          : [],
      ).toEqual([]);
    });

    it('serves only generated export names', async () => {
      await expectError(t.get('/external/api/data/file/pinwheel.db'), 'Not found.', 404);
      await expectError(t.get('/external/api/data/file/..%2Fpinwheel.db'), 'Not found.', 404);
      await expectError(t.get(`/external/api/data/file/device_data_1_2_${'0'.repeat(32)}.csv`), 'Not found.', 404);
    });
  });

  describe('limits', () => {
    it('caps the rows at 100000 and tells how many there were', async () => {
      const d = await seed();
      const total = 100_005;
      const first = NOW - total * 1000;
      const ops: WriteOp[] = [];
      for (let i = 0; i < total; i++) {
        ops.push({ kind: 'value', deviceId: d.deviceId, pin: 'V10', value: i, ts: first + i * 1000, saveRaw: true });
      }
      await t.s.writer.write(ops);
      const r = await exportJson(d.token, 'pin=V10&period=WEEK');
      expect(r.rows).toBe(100_000);
      expect(r.rows_before_limit_at_least).toBe(total);
      expect(r.data).toHaveLength(100_000);
      expect(r.data[0]).toEqual(row('Level', first, 0));
      expect(r.data[99_999]).toEqual(row('Level', first + 99_999_000, 99_999));

      const counts = await exportJson(d.token, 'pin=V10&period=WEEK&granularityType=HOURLY&sourceType=COUNT');
      expect(counts.rows).toBe(counts.rows_before_limit_at_least);
      expect(counts.data.reduce((n, x) => n + (x.value as number), 0)).toBe(total);
    }, 60_000);
  });

  describe('errors', () => {
    it.each([
      'period=YEAR',
      'period=',
      'period=day',
      'granularityType=SECOND',
      'sourceType=MEDIAN',
      'format=RFC',
      'tzName=Mars/Olympus',
      'tzName=',
      'output=XML',
      'sendEvents=yes',
      'period=THREE_MONTHS',
      'period=THREE_MONTHS&granularityType=RAW_DATA',
      'period=%C3%28',
    ])('%s → Request with incorrect parameters', async (qs) => {
      const d = await seed();
      await expectError(exp(d.token, qs), 'Request with incorrect parameters');
    });

    it('rejects wrong pins and datastreams with Blynk texts', async () => {
      const d = await seed();
      await expectError(exp(d.token, 'pin=V256'), 'Wrong pin format.');
      await expectError(exp(d.token, 'pin=Vx'), 'Wrong pin format.');
      await expectError(exp(d.token, 'pin=V99'), 'No datastream setup for that pin.');
      await expectError(exp(d.token, 'dataStreamId=x'), 'Wrong dataStreamId format.');
      await expectError(
        exp(d.token, 'dataStreamId=9999'),
        `Requested dataStream doesn't exist in the product ${TEMPLATE}`,
      );
    });

    it('checks the token', async () => {
      await expectError(t.get('/external/api/data/get'), 'No token provided.');
      await expectError(t.get('/external/api/data/get?token=nope'), 'Invalid token.');
    });
  });
});

describe('data/get links with a configured public URL', () => {
  it('builds the link from PINWHEEL_PUBLIC_URL', async () => {
    const t = await startApp(backends()[0]!, {
      env: { PINWHEEL_PUBLIC_URL: 'https://iot.example.com/' },
      overrides: { clock: () => NOW },
    });
    try {
      const d = await seedDevice(t, DATASTREAMS);
      await t.get(`/external/api/update?token=${d.token}&V1=1`);
      const r = await t.get(`/external/api/data/get?token=${d.token}&output=FILE`);
      expect(r.status).toBe(200);
      expect(r.body.link).toMatch(
        /^https:\/\/iot\.example\.com\/external\/api\/data\/file\/device_data_\d+_\d+_[0-9a-f]{32}\.csv$/,
      );
    } finally {
      await t.close();
    }
  });
});
