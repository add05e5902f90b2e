import type { Datastream } from '../../domain/datastream.ts';
import type { TemplateModel } from '../../domain/model.ts';
import { parsePin } from '../../domain/pins.ts';
import type { RawInput } from '../../ingest/pipeline.ts';
import type { TtsSettings } from './settings.ts';

/** What one TTS `up` message means for a template. Pure: no I/O. */
export interface MappedUplink {
  ttsDeviceId: string;
  devEui: string | undefined;
  /** Measurement time: uplink_message.received_at (Network Server reception). */
  ts: number;
  values: RawInput[];
  /** Decoded keys (or dotted paths) that fit no datastream. */
  unmatched: Array<{ key: string; value: unknown }>;
  firmwareVersion: string | undefined;
  /** frm_payload came without decoded_payload: the TTS payload formatter is missing or failed. */
  formatterMissing: boolean;
  simulated: boolean;
}

export const FIRMWARE_KEY = 'Blynk Firmware Version';
export const RSSI_DATASTREAM = 'RSSI';
export const SNR_DATASTREAM = 'SNR';

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** RFC 3339 with up to nanoseconds → Unix ms (JavaScript parses at most milliseconds). */
export function parseRfc3339(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const trimmed = text.replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(trimmed);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A scalar or a [lon, lat]-like pair of numbers: something a datastream can take as is. */
function isLeaf(v: Json): boolean {
  if (v === null || typeof v !== 'object') return true;
  return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' || typeof x === 'string');
}

/**
 * Flattens nested decoder output: objects join with ".", arrays with "[i]"; a
 * `{value, unit}` wrapper also answers to its own key. Top-level keys come first so that an
 * exact top-level key wins over a flattened path that spells the same.
 */
export function flattenPayload(data: Record<string, Json>, flatten: boolean): Array<[string, Json]> {
  const out: Array<[string, Json]> = [];
  const nested: Array<[string, Json]> = [];
  for (const [k, v] of Object.entries(data)) {
    if (isLeaf(v)) out.push([k, v]);
    else if (flatten) nested.push([k, v]);
    else out.push([k, v]);
  }
  const walk = (prefix: string, v: Json, depth: number) => {
    if (depth > 8) return;
    if (isLeaf(v)) {
      out.push([prefix, v]);
      return;
    }
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) walk(`${prefix}[${i}]`, item, depth + 1);
      return;
    }
    const obj = v as Record<string, Json>;
    if ('value' in obj && isLeaf(obj.value)) out.push([prefix, obj.value]);
    for (const [k, child] of Object.entries(obj)) walk(`${prefix}.${k}`, child, depth + 1);
  };
  for (const [k, v] of nested) walk(k, v, 1);
  return out;
}

const LAT_LON_PAIRS: Array<[string, string]> = [
  ['lat', 'lon'],
  ['lat', 'lng'],
  ['lat', 'long'],
  ['latitude', 'longitude'],
  ['Latitude', 'Longitude'],
  ['latitudeDeg', 'longitudeDeg'],
  ['gps_lat', 'gps_lng'],
];

const num = (v: Json): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};

/** The Application Server's own location rules (lat/lon key pairs, gps_N objects), applied to any level. */
export function inferLocation(data: Record<string, Json>, depth = 0): [number, number] | undefined {
  for (const [latKey, lonKey] of LAT_LON_PAIRS) {
    const lat = num(data[latKey]);
    const lon = num(data[lonKey]);
    if (lat !== undefined && lon !== undefined && !(lat === 0 && lon === 0)) return [lon, lat];
  }
  for (const [k, v] of Object.entries(data)) {
    if (/^gps_\d+$/.test(k) && isObject(v)) {
      const lat = num(v.latitude);
      const lon = num(v.longitude);
      if (lat !== undefined && lon !== undefined && !(lat === 0 && lon === 0)) return [lon, lat];
    }
  }
  if (depth < 4) {
    for (const v of Object.values(data)) {
      if (isObject(v)) {
        const found = inferLocation(v, depth + 1);
        if (found) return found;
      }
    }
  }
  return undefined;
}

/** The gateway that heard the uplink best: highest SNR (absent = 0), then highest RSSI. */
export function bestSignal(rx: Json): { rssi: number | undefined; snr: number } | undefined {
  if (!Array.isArray(rx)) return undefined;
  let best: { rssi: number | undefined; snr: number } | undefined;
  for (const entry of rx) {
    if (!isObject(entry)) continue;
    const rssi = num(entry.rssi) ?? num(entry.channel_rssi);
    if (rssi === undefined) continue;
    const snr = num(entry.snr) ?? 0;
    if (!best || snr > best.snr || (snr === best.snr && (best.rssi === undefined || rssi > best.rssi))) {
      best = { rssi, snr };
    }
  }
  return best;
}

function resolveDatastream(model: TemplateModel, key: string): Datastream | undefined {
  const byName = model.byName.get(key);
  if (byName) return byName;
  const pin = parsePin(key);
  return pin ? model.byPin.get(pin) : undefined;
}

/** Reads a TTS `up` message; undefined when it is not one (wrong shape). */
export function mapUplink(
  model: TemplateModel,
  settings: Pick<TtsSettings, 'flatten' | 'mapping'>,
  body: Json,
  now: number,
): MappedUplink | undefined {
  if (!isObject(body) || !isObject(body.end_device_ids) || !isObject(body.uplink_message)) return undefined;
  const ttsDeviceId = body.end_device_ids.device_id;
  if (typeof ttsDeviceId !== 'string' || ttsDeviceId === '') return undefined;
  const up = body.uplink_message;
  let ts = parseRfc3339(up.received_at) ?? parseRfc3339(body.received_at) ?? now;
  if (ts > now + 60_000) ts = now;

  const out: MappedUplink = {
    ttsDeviceId,
    devEui: typeof body.end_device_ids.dev_eui === 'string' ? body.end_device_ids.dev_eui : undefined,
    ts,
    values: [],
    unmatched: [],
    firmwareVersion: undefined,
    formatterMissing: false,
    simulated: body.simulated === true,
  };
  const assigned = new Set<number>();
  const assign = (ds: Datastream, raw: Json) => {
    if (assigned.has(ds.id)) return;
    assigned.add(ds.id);
    out.values.push({ datastream: ds, raw: raw as never, ts });
  };

  const decoded = up.decoded_payload;
  const fPort = num(up.f_port) ?? 0;
  if (!isObject(decoded)) {
    out.formatterMissing = typeof up.frm_payload === 'string' && up.frm_payload !== '' && fPort > 0;
  } else {
    // 1. Explicit mapping, per integration: key or dotted path → pin or name.
    const entries = flattenPayload(decoded, settings.flatten);
    // First occurrence wins: an exact top-level key comes before a flattened path spelled the same.
    const byKey = new Map<string, Json>();
    for (const [k, v] of entries) if (!byKey.has(k)) byKey.set(k, v);
    for (const [key, target] of Object.entries(settings.mapping)) {
      const ds = resolveDatastream(model, target);
      if (ds && byKey.has(key) && byKey.get(key) !== null) assign(ds, byKey.get(key));
    }
    const mappedKeys = new Set(Object.keys(settings.mapping));
    // Keys whose whole object went to a datastream ({value, unit} wrappers): their sub-paths are not "unmatched".
    const consumed: string[] = Object.keys(settings.mapping).filter((k) => byKey.has(k) && byKey.get(k) !== null);
    // 2. Keys and paths by datastream name, then by pin.
    for (const [key, value] of entries) {
      if (key === FIRMWARE_KEY) {
        if (typeof value === 'string' || typeof value === 'number') out.firmwareVersion = String(value);
        continue;
      }
      if (value === null || value === undefined) continue;
      if (mappedKeys.has(key)) continue;
      const ds = resolveDatastream(model, key);
      if (ds) {
        assign(ds, value);
        consumed.push(key);
      } else out.unmatched.push({ key, value });
    }
    out.unmatched = out.unmatched.filter((u) => !consumed.some((k) => u.key.startsWith(`${k}.`)));
    // 3. A location datastream left empty takes lat/lon pairs or gps_N objects.
    const loc = model.datastreams.find((d) => d.type === 'location');
    if (loc && !assigned.has(loc.id)) {
      const inferred = inferLocation(decoded);
      if (inferred) {
        assign(loc, inferred);
        out.unmatched = out.unmatched.filter(
          (u) =>
            !/(^|\.)(lat|lon|lng|long|latitude|longitude|Latitude|Longitude|latitudeDeg|longitudeDeg|gps_lat|gps_lng)$/.test(
              u.key,
            ) && !/(^|\.)gps_\d+\./.test(u.key),
        );
      }
    }
  }
  // 4. System datastreams: RSSI and SNR of the best gateway.
  const signal = bestSignal(up.rx_metadata);
  if (signal) {
    const rssiDs = model.byName.get(RSSI_DATASTREAM);
    const snrDs = model.byName.get(SNR_DATASTREAM);
    const toType = (ds: Datastream, n: number) => (ds.type === 'integer' ? Math.round(n) : n);
    if (rssiDs && signal.rssi !== undefined) assign(rssiDs, toType(rssiDs, signal.rssi));
    if (snrDs) assign(snrDs, toType(snrDs, signal.snr));
  }
  return out;
}
