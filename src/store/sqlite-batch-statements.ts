import type { Database as SqliteConnection, Statement } from 'better-sqlite3';
import type { FoldedBatch } from './apply-ops.ts';

/**
 * The SQLite write path of the writer thread: the same rows as `writeFolded`, with
 * statements prepared once. Measured by `npm run bench`: building and preparing the queries
 * anew for every commit cost about three quarters of the writer's time. The statements here
 * must stay equivalent to writeFolded's (the storage tests run both: SQLite here,
 * PostgreSQL there).
 */
export class SqliteBatchStatements {
  private readonly latest: Statement;
  private readonly raw: Statement;
  private readonly minute: Statement;
  private readonly seen: Statement;
  private readonly online: Statement;
  private readonly firmware: Statement;
  private readonly timeline: Statement;
  private readonly prop: Statement;
  readonly write: (f: FoldedBatch) => void;

  constructor(db: SqliteConnection) {
    this.latest = db.prepare(
      `INSERT INTO latest_values (device_id, pin, value, ts) VALUES (?, ?, ?, ?)
       ON CONFLICT (device_id, pin) DO UPDATE SET value = excluded.value, ts = excluded.ts
       WHERE excluded.ts >= latest_values.ts`,
    );
    this.raw = db.prepare('INSERT INTO history_raw (device_id, pin, ts, num, text) VALUES (?, ?, ?, ?, ?)');
    this.minute = db.prepare(
      `INSERT INTO history_minute (device_id, pin, minute, sum, count, min, max, last_text)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (device_id, pin, minute) DO UPDATE SET
         sum = history_minute.sum + excluded.sum,
         count = history_minute.count + excluded.count,
         min = coalesce(min(history_minute.min, excluded.min), history_minute.min, excluded.min),
         max = coalesce(max(history_minute.max, excluded.max), history_minute.max, excluded.max),
         last_text = coalesce(excluded.last_text, history_minute.last_text)`,
    );
    this.seen = db.prepare(
      'UPDATE devices SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)',
    );
    this.online = db.prepare('UPDATE devices SET online = ? WHERE id = ?');
    this.firmware = db.prepare('UPDATE devices SET firmware_version = ? WHERE id = ?');
    this.timeline = db.prepare('INSERT INTO timeline (device_id, ts, type, data) VALUES (?, ?, ?, ?)');
    this.prop = db.prepare(
      `INSERT INTO device_properties (device_id, pin, property, value, ts) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (device_id, pin, property) DO UPDATE SET value = excluded.value, ts = excluded.ts`,
    );
    this.write = db.transaction((f: FoldedBatch) => this.apply(f));
  }

  private apply(f: FoldedBatch): void {
    for (const r of f.latest) this.latest.run(r.device_id, r.pin, r.value, r.ts);
    for (const r of f.raw) this.raw.run(r.device_id, r.pin, r.ts, r.num, r.text);
    for (const r of f.minutes) this.minute.run(r.device_id, r.pin, r.minute, r.sum, r.count, r.min, r.max, r.last_text);
    for (const [id, ts] of f.seen) this.seen.run(ts, id, ts);
    for (const [id, flag] of f.online) this.online.run(flag, id);
    for (const [id, v] of f.firmware) this.firmware.run(v, id);
    for (const r of f.timeline) this.timeline.run(r.device_id, r.ts, r.type, r.data);
    for (const r of f.props) this.prop.run(r.device_id, r.pin, r.property, r.value, r.ts);
  }
}
