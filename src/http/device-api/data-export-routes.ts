import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Datastream, isNumericType, type StoredValue } from '../../domain/datastream.ts';
import { DeviceApiError } from '../../errors.ts';
import type { Services } from '../../services.ts';
import type { HistoryPoint } from '../../store/history-repo.ts';
import type { Query } from '../querystring.ts';
import { addressedDatastream, deviceFromRequest, first } from './device-request.ts';

const tag = { tags: ['Device API'] };

/** Most rows one export returns; `rows_before_limit_at_least` tells how many there were. */
export const EXPORT_MAX_ROWS = 100_000;
/** Export files are removed this long after they were written (Blynk: 45 days). */
const EXPORT_FILE_TTL_MS = 45 * 86_400_000;
const EXPORT_FILE_RE = /^device_data_\d+_\d+_[0-9a-f]{32}\.csv$/;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PERIODS = { HOUR, DAY, WEEK: 7 * DAY, MONTH: 30 * DAY, THREE_MONTHS: 90 * DAY } as const;
const GRANULARITIES = ['RAW_DATA', 'MINUTE', 'HOURLY', 'DAILY'] as const;
const SOURCE_TYPES = ['AVG', 'MIN', 'MAX', 'SUM', 'COUNT'] as const;
const FORMATS = ['TS', 'ISO_US', 'ISO_SIMPLE'] as const;
const OUTPUTS = ['JSON', 'CSV', 'FILE'] as const;

type Granularity = (typeof GRANULARITIES)[number];
type SourceType = (typeof SOURCE_TYPES)[number];
type Format = (typeof FORMATS)[number];
type Output = (typeof OUTPUTS)[number];

interface ExportParams {
  from: number;
  to: number;
  granularity: Granularity;
  source: SourceType;
  tz: string;
  format: Format;
  sendEvents: boolean;
  output: Output;
}

/** One exported row; `order` breaks ties between rows of the same timestamp. */
interface Row {
  name: string;
  ts: number;
  value: StoredValue;
  order: number;
}

/** One of `allowed`, the default when absent, else Blynk's "incorrect parameters". */
function oneOf<T extends string>(q: Query, key: string, allowed: readonly T[], def: T): T {
  const v = first(q[key]);
  if (v === undefined) return def;
  if (!(allowed as readonly string[]).includes(v)) throw new DeviceApiError('INCORRECT_PARAMETERS');
  return v as T;
}

function validTimeZone(tz: string): boolean {
  if (tz.length === 0 || tz.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function parseParams(q: Query, now: number): ExportParams {
  const period = oneOf(q, 'period', Object.keys(PERIODS) as Array<keyof typeof PERIODS>, 'MONTH');
  const granularity = oneOf(q, 'granularityType', GRANULARITIES, 'RAW_DATA');
  if (granularity === 'RAW_DATA' && period === 'THREE_MONTHS') throw new DeviceApiError('INCORRECT_PARAMETERS');
  const source = oneOf(q, 'sourceType', SOURCE_TYPES, 'AVG');
  const format = oneOf(q, 'format', FORMATS, 'TS');
  const output = oneOf(q, 'output', OUTPUTS, 'JSON');
  const sendEvents = oneOf(q, 'sendEvents', ['true', 'false'], 'false') === 'true';
  const tz = first(q.tzName) ?? 'UTC';
  if (!validTimeZone(tz)) throw new DeviceApiError('INCORRECT_PARAMETERS');
  return { from: now - PERIODS[period], to: now, granularity, source, tz, format, sendEvents, output };
}

/** Wall-clock fields of an instant in a time zone. */
class ZoneClock {
  private readonly fmt: Intl.DateTimeFormat;
  constructor(readonly tz: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  }

  fields(t: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
    const f: Record<string, number> = {};
    for (const p of this.fmt.formatToParts(new Date(t))) if (p.type !== 'literal') f[p.type] = Number(p.value);
    return { y: f.year!, mo: f.month!, d: f.day!, h: f.hour! % 24, mi: f.minute!, s: f.second! };
  }

  /** Offset of local time from UTC at instant t, in ms. */
  offset(t: number): number {
    const f = this.fields(t);
    const local = Date.UTC(f.y, f.mo - 1, f.d, f.h, f.mi, f.s);
    return local - (t - (((t % 1000) + 1000) % 1000));
  }

  /** The instant of local midnight starting the day y-mo-d (mo 1-based; overflow allowed). */
  midnight(y: number, mo: number, d: number): number {
    const wall = Date.UTC(y, mo - 1, d);
    let t = wall - this.offset(wall);
    t = wall - this.offset(t);
    return t;
  }
}

/** Bucket boundaries for aggregated exports, aligned to local time in `tz`. */
class Bucketer {
  private start = Number.NaN;
  private end = Number.NaN;
  constructor(
    private readonly granularity: Exclude<Granularity, 'RAW_DATA'>,
    private readonly clock: ZoneClock,
  ) {}

  /** Start of the bucket holding t (cached for runs of points in one bucket). */
  of(t: number): number {
    if (t >= this.start && t < this.end) return this.start;
    if (this.granularity === 'DAILY') {
      const f = this.clock.fields(t);
      this.start = this.clock.midnight(f.y, f.mo, f.d);
      this.end = this.clock.midnight(f.y, f.mo, f.d + 1);
      if (t < this.start || t >= this.end) {
        // A day that does not start at midnight (rare DST rules): fall back to 24 hours.
        this.start = t - ((((t + this.clock.offset(t)) % DAY) + DAY) % DAY);
        this.end = this.start + DAY;
      }
    } else {
      const size = this.granularity === 'MINUTE' ? 60_000 : HOUR;
      const off = this.clock.tz === 'UTC' ? 0 : this.clock.offset(t);
      const local = t + off;
      this.start = local - (((local % size) + size) % size) - off;
      this.end = this.start + size;
    }
    return this.start;
  }
}

interface Acc {
  sum: number;
  count: number;
  min: number;
  max: number;
  lastTs: number;
  last: StoredValue;
}

function addToAcc(acc: Acc | undefined, p: HistoryPoint): Acc {
  const a: Acc = acc ?? { sum: 0, count: 0, min: Infinity, max: -Infinity, lastTs: -Infinity, last: p.value };
  if (p.ts >= a.lastTs) {
    a.lastTs = p.ts;
    a.last = p.value;
  }
  if (typeof p.value === 'number') {
    const n = p.count ?? 1;
    a.sum += p.sum ?? p.value * n;
    a.count += n;
    a.min = Math.min(a.min, p.min ?? p.value);
    a.max = Math.max(a.max, p.max ?? p.value);
  }
  return a;
}

function aggregate(acc: Acc, numeric: boolean, source: SourceType): StoredValue {
  if (!numeric || acc.count === 0) return acc.last;
  switch (source) {
    case 'AVG':
      return acc.sum / acc.count;
    case 'MIN':
      return acc.min;
    case 'MAX':
      return acc.max;
    case 'SUM':
      return acc.sum;
    case 'COUNT':
      return acc.count;
  }
}

const byTime = (a: Row, b: Row) => a.ts - b.ts || a.order - b.order;

/** Keeps the first EXPORT_MAX_ROWS rows (by time) of `kept` and `more` together. */
function mergeCapped(kept: Row[], more: Row[]): Row[] {
  if (more.length === 0) return kept;
  const all = kept.concat(more);
  all.sort(byTime);
  return all.length > EXPORT_MAX_ROWS ? all.slice(0, EXPORT_MAX_ROWS) : all;
}

/** Rows of one datastream and how many there were before the cap. */
async function datastreamRows(
  s: Services,
  deviceId: number,
  ds: Datastream,
  order: number,
  p: ExportParams,
  clock: ZoneClock,
): Promise<{ rows: Row[]; total: number }> {
  if (p.granularity === 'RAW_DATA') {
    const collect = async (pages: AsyncGenerator<HistoryPoint[]>) => {
      const out: HistoryPoint[] = [];
      for await (const page of pages) {
        out.push(...page);
        if (out.length >= EXPORT_MAX_ROWS) break;
      }
      return out;
    };
    const [raw, minutes, total] = await Promise.all([
      collect(s.history.scanRaw(deviceId, ds.pin, p.from, p.to)),
      collect(s.history.scanMinutes(deviceId, ds.pin, p.from, p.to)),
      s.history.countPoints(deviceId, ds.pin, p.from, p.to),
    ]);
    const rows = mergeCapped(
      [],
      raw.concat(minutes).map((pt) => ({ name: ds.name, ts: pt.ts, value: pt.value, order })),
    );
    return { rows, total };
  }
  const bucketer = new Bucketer(p.granularity, clock);
  const buckets = new Map<number, Acc>();
  const feed = async (pages: AsyncGenerator<HistoryPoint[]>) => {
    for await (const page of pages) {
      for (const pt of page) {
        const b = bucketer.of(pt.ts);
        buckets.set(b, addToAcc(buckets.get(b), pt));
      }
    }
  };
  await feed(s.history.scanRaw(deviceId, ds.pin, p.from, p.to));
  await feed(s.history.scanMinutes(deviceId, ds.pin, p.from, p.to));
  const numeric = isNumericType(ds.type);
  const rows: Row[] = [];
  for (const [ts, acc] of buckets) rows.push({ name: ds.name, ts, value: aggregate(acc, numeric, p.source), order });
  return { rows: mergeCapped([], rows), total: rows.length };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function formatTs(ts: number, format: Format, clock: ZoneClock): number | string {
  if (format === 'TS') return ts;
  const f = clock.fields(ts);
  if (format === 'ISO_SIMPLE') return `${f.y}-${pad(f.mo)}-${pad(f.d)} ${pad(f.h)}:${pad(f.mi)}:${pad(f.s)}`;
  const h12 = f.h % 12 === 0 ? 12 : f.h % 12;
  return `${pad(f.mo)}/${pad(f.d)}/${pad(f.y % 100)} ${pad(h12)}:${pad(f.mi)}:${pad(f.s)} ${f.h < 12 ? 'AM' : 'PM'}`;
}

function valueText(v: StoredValue): string {
  return Array.isArray(v) ? `${v[0]},${v[1]}` : String(v);
}

function csvField(v: string | number): string {
  const t = String(v);
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

interface Exported {
  meta: Array<{ name: string; type: string }>;
  data: Array<{ data_stream_name: string; ts: number | string; value: number | string }>;
  rows: number;
  rows_before_limit_at_least: number;
}

async function runExport(
  s: Services,
  req: FastifyRequest,
): Promise<{ deviceId: number; p: ExportParams; result: Exported }> {
  const { q, state, model } = await deviceFromRequest(s, req);
  const p = parseParams(q, s.clock());
  const addressed = addressedDatastream(model, q);
  const streams = addressed ? [addressed] : model.datastreams;
  const clock = new ZoneClock(p.tz);
  const deviceId = state.device.id;

  let rows: Row[] = [];
  let total = 0;
  let numericOnly = !p.sendEvents;
  for (const [i, ds] of streams.entries()) {
    const part = await datastreamRows(s, deviceId, ds, i, p, clock);
    if (part.rows.length === 0 && part.total === 0) continue;
    if (!isNumericType(ds.type)) numericOnly = false;
    rows = mergeCapped(rows, part.rows);
    total += part.total;
  }
  if (p.sendEvents) {
    const items = await s.history.timeline(deviceId, {
      from: p.from,
      to: p.to,
      limit: EXPORT_MAX_ROWS + 1,
      types: ['event'],
    });
    total += items.length;
    const events = items.reverse().map((it) => ({
      name: 'event',
      ts: it.ts,
      value: String(it.name ?? it.code ?? ''),
      order: streams.length,
    }));
    rows = mergeCapped(rows, events);
  }

  const countOnly = p.source === 'COUNT' && p.granularity !== 'RAW_DATA';
  const valueType = numericOnly ? (countOnly ? 'UInt64' : 'Float64') : 'String';
  const data = rows.map((r) => ({
    data_stream_name: r.name,
    ts: formatTs(r.ts, p.format, clock),
    value: numericOnly && typeof r.value === 'number' ? r.value : valueText(r.value),
  }));
  return {
    deviceId,
    p,
    result: {
      meta: [
        { name: 'data_stream_name', type: 'String' },
        { name: 'ts', type: p.format === 'TS' ? 'Int64' : 'String' },
        { name: 'value', type: valueType },
      ],
      data,
      rows: data.length,
      rows_before_limit_at_least: Math.max(total, data.length),
    },
  };
}

function toCsv(result: Exported): string {
  const lines = ['data_stream_name,ts,value'];
  for (const r of result.data) lines.push(`${csvField(r.data_stream_name)},${csvField(r.ts)},${csvField(r.value)}`);
  return `${lines.join('\r\n')}\r\n`;
}

function exportsDir(s: Services): string {
  return path.join(s.config.dataDir, 'exports');
}

/** Removes export files older than their time to live; failures only cost disk space. */
async function pruneExports(dir: string, now: number): Promise<void> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!EXPORT_FILE_RE.test(name)) continue;
    const file = path.join(dir, name);
    try {
      const st = await fs.promises.stat(file);
      if (now - st.mtimeMs > EXPORT_FILE_TTL_MS) await fs.promises.unlink(file);
    } catch {
      // Another request removed it first.
    }
  }
}

/** Base URL for links: the configured public URL, else what the client called us by. */
function baseUrl(s: Services, req: FastifyRequest): string {
  if (s.config.publicUrl) return s.config.publicUrl.replace(/\/+$/, '');
  const host = req.host;
  const safeHost = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host) ? host : 'localhost';
  return `${req.protocol}://${safeHost}`;
}

/** `data/get`: history export (specs/blynk.md §1.2), as JSON, CSV or a downloadable CSV file. */
export function registerDataExportRoutes(app: FastifyInstance, s: Services): void {
  app.get(
    '/external/api/data/get',
    { schema: { ...tag, summary: 'Export datastream history (and events)' } },
    async (req, reply) => {
      const { deviceId, p, result } = await runExport(s, req);
      if (p.output === 'JSON') return reply.type('application/json; charset=utf-8').send(JSON.stringify(result));
      if (p.output === 'CSV') return reply.type('text/csv; charset=utf-8').send(toCsv(result));
      if (result.rows === 0) throw new DeviceApiError('NO_DATA');
      const dir = exportsDir(s);
      await fs.promises.mkdir(dir, { recursive: true });
      const now = s.clock();
      await pruneExports(dir, now);
      const name = `device_data_${deviceId}_${now}_${crypto.randomBytes(16).toString('hex')}.csv`;
      await fs.promises.writeFile(path.join(dir, name), toCsv(result));
      return reply
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ link: `${baseUrl(s, req)}/external/api/data/file/${name}` }));
    },
  );

  app.get(
    '/external/api/data/file/:name',
    { schema: { ...tag, summary: 'Download an export file made by data/get', hide: true } },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      if (!EXPORT_FILE_RE.test(name)) throw new DeviceApiError('NOT_FOUND');
      let body: Buffer;
      try {
        body = await fs.promises.readFile(path.join(exportsDir(s), name));
      } catch {
        throw new DeviceApiError('NOT_FOUND');
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(body);
    },
  );
}
