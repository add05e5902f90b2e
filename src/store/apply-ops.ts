import { type Kysely, sql } from 'kysely';
import type { DialectCapabilities } from './capabilities.ts';
import type { Database } from './schema.ts';
import type { WriteOp } from './write-ops.ts';

const MINUTE = 60_000;

function chunks<T>(rows: T[], columns: number, caps: DialectCapabilities): T[][] {
  const size = Math.max(1, Math.floor(caps.maxParams / columns / 4));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** A batch reduced to the rows it writes. Plain data: it crosses to the writer thread as is. */
export interface FoldedBatch {
  latest: Array<{ device_id: number; pin: string; value: string; ts: number }>;
  raw: Database['history_raw'][];
  minutes: Database['history_minute'][];
  seen: Array<[deviceId: number, ts: number]>;
  online: Array<[deviceId: number, online: number]>;
  firmware: Array<[deviceId: number, version: string]>;
  timeline: Array<Omit<Database['timeline'], 'id'>>;
  props: Database['device_properties'][];
}

/**
 * Folds a batch of ops into rows, coalescing what can be coalesced: one latest-value row per
 * device+pin (newest wins), one minute aggregate per device+pin+minute, one last-seen per
 * device. Pure; shared by every backend.
 */
export function foldOps(ops: WriteOp[]): FoldedBatch {
  const latest = new Map<string, { device_id: number; pin: string; value: string; ts: number }>();
  const raw: Database['history_raw'][] = [];
  const minutes = new Map<string, Database['history_minute']>();
  const seen = new Map<number, number>();
  const online = new Map<number, number>();
  const timeline: Array<Omit<Database['timeline'], 'id'>> = [];
  const props = new Map<string, Database['device_properties']>();
  const firmware = new Map<number, string>();

  for (const op of ops) {
    switch (op.kind) {
      case 'value': {
        const json = JSON.stringify(op.value);
        const key = `${op.deviceId}\u0000${op.pin}`;
        const cur = latest.get(key);
        if (!cur || op.ts >= cur.ts) latest.set(key, { device_id: op.deviceId, pin: op.pin, value: json, ts: op.ts });
        const isNum = typeof op.value === 'number';
        if (op.saveRaw) {
          raw.push({
            device_id: op.deviceId,
            pin: op.pin,
            ts: op.ts,
            num: isNum ? (op.value as number) : null,
            text: isNum ? null : json,
          });
        } else {
          const minute = op.ts - (op.ts % MINUTE);
          const mkey = `${key}\u0000${minute}`;
          const m = minutes.get(mkey);
          if (!m) {
            minutes.set(mkey, {
              device_id: op.deviceId,
              pin: op.pin,
              minute,
              sum: isNum ? (op.value as number) : 0,
              count: 1,
              min: isNum ? (op.value as number) : null,
              max: isNum ? (op.value as number) : null,
              last_text: isNum ? null : json,
            });
          } else {
            m.count += 1;
            if (isNum) {
              const n = op.value as number;
              m.sum += n;
              m.min = m.min === null ? n : Math.min(m.min, n);
              m.max = m.max === null ? n : Math.max(m.max, n);
            } else {
              m.last_text = json;
            }
          }
        }
        break;
      }
      case 'seen':
        seen.set(op.deviceId, Math.max(op.ts, seen.get(op.deviceId) ?? 0));
        break;
      case 'online':
        online.set(op.deviceId, op.online ? 1 : 0);
        break;
      case 'timeline':
        timeline.push({ device_id: op.deviceId, ts: op.ts, type: op.type, data: JSON.stringify(op.data) });
        break;
      case 'property':
        props.set(`${op.deviceId}\u0000${op.pin}\u0000${op.property}`, {
          device_id: op.deviceId,
          pin: op.pin,
          property: op.property,
          value: JSON.stringify(op.value),
          ts: op.ts,
        });
        break;
      case 'firmware':
        firmware.set(op.deviceId, op.version);
        break;
    }
  }

  return {
    latest: [...latest.values()],
    raw,
    minutes: [...minutes.values()],
    seen: [...seen],
    online: [...online],
    firmware: [...firmware],
    timeline,
    props: [...props.values()],
  };
}

/** Writes a folded batch with Kysely (PostgreSQL; any dialect). Call inside a transaction. */
export async function writeFolded(trx: Kysely<Database>, caps: DialectCapabilities, f: FoldedBatch): Promise<void> {
  const { latest, raw, minutes, seen, online, firmware, timeline, props } = f;
  for (const part of chunks(latest, 4, caps)) {
    await trx
      .insertInto('latest_values')
      .values(part)
      .onConflict((oc) =>
        oc
          .columns(['device_id', 'pin'])
          .doUpdateSet({ value: (eb) => eb.ref('excluded.value'), ts: (eb) => eb.ref('excluded.ts') })
          .where('excluded.ts', '>=', (eb) => eb.ref('latest_values.ts')),
      )
      .execute();
  }
  for (const part of chunks(raw, 5, caps)) {
    await trx.insertInto('history_raw').values(part).execute();
  }
  const least = sql.raw(caps.leastFn);
  const greatest = sql.raw(caps.greatestFn);
  for (const part of chunks(minutes, 8, caps)) {
    await trx
      .insertInto('history_minute')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['device_id', 'pin', 'minute']).doUpdateSet({
          sum: sql`history_minute.sum + excluded.sum`,
          count: sql`history_minute.count + excluded.count`,
          min: sql`coalesce(${least}(history_minute.min, excluded.min), history_minute.min, excluded.min)`,
          max: sql`coalesce(${greatest}(history_minute.max, excluded.max), history_minute.max, excluded.max)`,
          last_text: sql`coalesce(excluded.last_text, history_minute.last_text)`,
        }),
      )
      .execute();
  }
  for (const [deviceId, ts] of seen) {
    await trx
      .updateTable('devices')
      .set({ last_seen_at: ts })
      .where('id', '=', deviceId)
      .where((eb) => eb.or([eb('last_seen_at', 'is', null), eb('last_seen_at', '<', ts)]))
      .execute();
  }
  for (const [deviceId, flag] of online) {
    await trx.updateTable('devices').set({ online: flag }).where('id', '=', deviceId).execute();
  }
  for (const [deviceId, version] of firmware) {
    await trx.updateTable('devices').set({ firmware_version: version }).where('id', '=', deviceId).execute();
  }
  for (const part of chunks(timeline, 4, caps)) {
    await trx.insertInto('timeline').values(part).execute();
  }
  for (const part of chunks(props, 5, caps)) {
    await trx
      .insertInto('device_properties')
      .values(part)
      .onConflict((oc) =>
        oc
          .columns(['device_id', 'pin', 'property'])
          .doUpdateSet({ value: (eb) => eb.ref('excluded.value'), ts: (eb) => eb.ref('excluded.ts') }),
      )
      .execute();
  }
}

/** Folds and writes a batch of ops. Call inside a transaction. */
export async function applyOps(trx: Kysely<Database>, caps: DialectCapabilities, ops: WriteOp[]): Promise<void> {
  await writeFolded(trx, caps, foldOps(ops));
}
