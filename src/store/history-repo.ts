import type { Kysely } from 'kysely';
import type { StoredValue } from '../domain/datastream.ts';
import type { Database } from './schema.ts';

export interface HistoryPoint {
  ts: number;
  value: StoredValue;
  /** For aggregated minutes: how many raw points, and their min/max. */
  count?: number;
  min?: number | null;
  max?: number | null;
  /** For aggregated numeric minutes: the sum of the raw points. */
  sum?: number;
}

export interface TimelineItem {
  id: number;
  ts: number;
  type: string;
  [k: string]: unknown;
}

type RawRow = Pick<Database['history_raw'], 'ts' | 'num' | 'text'>;
type MinuteRow = Database['history_minute'];

const MINUTE = 60_000;

function rawPoint(r: RawRow): HistoryPoint {
  return { ts: r.ts, value: r.num !== null ? r.num : (JSON.parse(r.text ?? 'null') as StoredValue) };
}

/** A one-minute aggregate as a point: the average for numbers, the last value otherwise. */
function minutePoint(m: MinuteRow): HistoryPoint {
  const text = m.last_text !== null && m.min === null;
  return {
    ts: m.minute,
    value: text ? (JSON.parse(m.last_text!) as StoredValue) : m.sum / m.count,
    count: m.count,
    min: m.min,
    max: m.max,
    ...(text ? {} : { sum: m.sum }),
  };
}

export class HistoryRepo {
  constructor(private readonly db: Kysely<Database>) {}

  private rawRows(deviceId: number, pin: string) {
    return this.db
      .selectFrom('history_raw')
      .select(['ts', 'num', 'text'])
      .where('device_id', '=', deviceId)
      .where('pin', '=', pin);
  }

  private minuteRows(deviceId: number, pin: string) {
    return this.db.selectFrom('history_minute').selectAll().where('device_id', '=', deviceId).where('pin', '=', pin);
  }

  /**
   * Points of one pin, oldest first: raw points and one-minute aggregates (whichever the
   * datastream's "save raw data" setting produced over time), merged by time.
   */
  async points(deviceId: number, pin: string, from: number, to: number, limit: number): Promise<HistoryPoint[]> {
    const [raw, minutes] = await Promise.all([
      this.rawRows(deviceId, pin)
        .where('ts', '>=', from)
        .where('ts', '<=', to)
        .orderBy('ts', 'desc')
        .limit(limit)
        .execute(),
      this.minuteRows(deviceId, pin)
        .where('minute', '>=', from - (from % MINUTE))
        .where('minute', '<=', to)
        .orderBy('minute', 'desc')
        .limit(limit)
        .execute(),
    ]);
    const out: HistoryPoint[] = [...raw.map(rawPoint), ...minutes.map(minutePoint)];
    out.sort((a, b) => a.ts - b.ts);
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  /**
   * Raw points of one pin in [from, to], oldest first, in pages of about `pageSize` (points
   * sharing one timestamp are never split across pages).
   */
  async *scanRaw(
    deviceId: number,
    pin: string,
    from: number,
    to: number,
    pageSize = 5000,
  ): AsyncGenerator<HistoryPoint[]> {
    const base = () => this.rawRows(deviceId, pin);
    let cursor = from;
    while (cursor <= to) {
      const rows = await base().where('ts', '>=', cursor).where('ts', '<=', to).orderBy('ts').limit(pageSize).execute();
      if (rows.length < pageSize) {
        if (rows.length > 0) yield rows.map(rawPoint);
        return;
      }
      const lastTs = rows[rows.length - 1]!.ts;
      if (rows[0]!.ts === lastTs) {
        // A whole page on one timestamp: take every point of that timestamp at once.
        yield (await base().where('ts', '=', lastTs).execute()).map(rawPoint);
        cursor = lastTs + 1;
      } else {
        yield rows.filter((r) => r.ts < lastTs).map(rawPoint);
        cursor = lastTs;
      }
    }
  }

  /** One-minute aggregates of one pin overlapping [from, to], oldest first, in pages. */
  async *scanMinutes(
    deviceId: number,
    pin: string,
    from: number,
    to: number,
    pageSize = 5000,
  ): AsyncGenerator<HistoryPoint[]> {
    let after = from - (from % MINUTE) - 1;
    for (;;) {
      const rows = await this.minuteRows(deviceId, pin)
        .where('minute', '>', after)
        .where('minute', '<=', to)
        .orderBy('minute')
        .limit(pageSize)
        .execute();
      if (rows.length > 0) {
        yield rows.map(minutePoint);
        after = rows[rows.length - 1]!.minute;
      }
      if (rows.length < pageSize) return;
    }
  }

  /** How many stored points (raw points plus minute aggregates) one pin has in [from, to]. */
  async countPoints(deviceId: number, pin: string, from: number, to: number): Promise<number> {
    const [raw, minutes] = await Promise.all([
      this.db
        .selectFrom('history_raw')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('device_id', '=', deviceId)
        .where('pin', '=', pin)
        .where('ts', '>=', from)
        .where('ts', '<=', to)
        .executeTakeFirst(),
      this.db
        .selectFrom('history_minute')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('device_id', '=', deviceId)
        .where('pin', '=', pin)
        .where('minute', '>=', from - (from % MINUTE))
        .where('minute', '<=', to)
        .executeTakeFirst(),
    ]);
    return Number(raw?.n ?? 0) + Number(minutes?.n ?? 0);
  }

  async timeline(
    deviceId: number,
    opts: { from?: number; to?: number; limit: number; types?: string[] },
  ): Promise<TimelineItem[]> {
    let q = this.db.selectFrom('timeline').selectAll().where('device_id', '=', deviceId);
    if (opts.from !== undefined) q = q.where('ts', '>=', opts.from);
    if (opts.to !== undefined) q = q.where('ts', '<=', opts.to);
    if (opts.types && opts.types.length > 0) q = q.where('type', 'in', opts.types);
    const rows = await q.orderBy('ts', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
    return rows.map((r) => ({ ...(JSON.parse(r.data) as Record<string, unknown>), id: r.id, ts: r.ts, type: r.type }));
  }
}
