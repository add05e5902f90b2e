import type { Datastream } from '../../domain/datastream.ts';
import type { TemplateModel } from '../../domain/model.ts';
import { parsePin } from '../../domain/pins.ts';
import type { RawInput } from '../../ingest/pipeline.ts';
import { FIRMWARE_KEY, flattenPayload, inferLocation, parseRfc3339 } from '../tts/uplink-mapper.ts';

/** One event of Particle's SSE stream: the JSON of its `data:` line. */
export interface ParticleEvent {
  name: string;
  /** The device's event data (always a string on the wire). */
  data: string;
  publishedAt: number;
  coreid: string;
}

/** Keys of the event data that are never values: `t` carries a Blynk token in Blynk's blueprint firmware. */
export const IGNORED_KEYS = new Set(['t']);

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Reads the JSON of one `data:` line (`{"data","ttl","published_at","coreid"}`); undefined when
 * it is not one. `published_at` is the sample time; a time far in the future becomes `now`.
 */
export function parseEnvelope(name: string, line: string, now: number): ParticleEvent | undefined {
  let body: Json;
  try {
    body = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(body) || typeof body.coreid !== 'string' || body.coreid === '') return undefined;
  let ts = parseRfc3339(body.published_at) ?? now;
  if (ts > now + 60_000) ts = now;
  const data = body.data === null || body.data === undefined ? '' : String(body.data);
  return { name, data, publishedAt: ts, coreid: body.coreid };
}

function resolveDatastream(model: TemplateModel, key: string): Datastream | undefined {
  const byName = model.byName.get(key);
  if (byName) return byName;
  const pin = parsePin(key);
  return pin ? model.byPin.get(pin) : undefined;
}

export interface MappedEvent {
  /** `json`: the data was a JSON object; `plain`: a bare value set the datastream named like the event; `none`: nothing to map. */
  kind: 'json' | 'plain' | 'none';
  values: RawInput[];
  unmatched: Array<{ key: string; value: unknown }>;
  firmwareVersion: string | undefined;
}

/**
 * What one Particle event means for a template. Pure. JSON object data: each key (or dotted
 * path of nested objects) sets the datastream with that name, or that pin (`v14`, `V14`); a
 * location datastream takes lat/lon pairs. Other data (`21.5`, `on`) sets the datastream
 * named like the event, or with the event's pin, when there is one; otherwise it is ignored.
 */
export function mapEvent(model: TemplateModel, e: ParticleEvent): MappedEvent {
  const out: MappedEvent = { kind: 'none', values: [], unmatched: [], firmwareVersion: undefined };
  const ts = e.publishedAt;
  let parsed: Json;
  try {
    parsed = JSON.parse(e.data);
  } catch {
    parsed = undefined;
  }
  if (!isObject(parsed)) {
    const ds = resolveDatastream(model, e.name);
    const trimmed = e.data.trim();
    if (ds && trimmed !== '') {
      out.kind = 'plain';
      out.values.push({ datastream: ds, raw: trimmed, ts });
    }
    return out;
  }
  out.kind = 'json';
  const assigned = new Set<number>();
  const consumed: string[] = [];
  for (const [key, value] of flattenPayload(parsed, true)) {
    const top = key.split(/[.[]/, 1)[0]!;
    if (IGNORED_KEYS.has(top)) continue;
    if (key === FIRMWARE_KEY) {
      if (typeof value === 'string' || typeof value === 'number') out.firmwareVersion = String(value);
      continue;
    }
    if (value === null || value === undefined) continue;
    const ds = resolveDatastream(model, key);
    if (ds) {
      consumed.push(key);
      if (assigned.has(ds.id)) continue;
      assigned.add(ds.id);
      out.values.push({ datastream: ds, raw: value as never, ts });
    } else out.unmatched.push({ key, value });
  }
  out.unmatched = out.unmatched.filter((u) => !consumed.some((k) => u.key.startsWith(`${k}.`)));
  const loc = model.datastreams.find((d) => d.type === 'location');
  if (loc && !assigned.has(loc.id)) {
    const inferred = inferLocation(parsed);
    if (inferred) {
      out.values.push({ datastream: loc, raw: inferred, ts });
      out.unmatched = out.unmatched.filter(
        (u) =>
          !/(^|\.)(lat|lon|lng|long|latitude|longitude|Latitude|Longitude|latitudeDeg|longitudeDeg|gps_lat|gps_lng)$/.test(
            u.key,
          ) && !/(^|\.)gps_\d+\./.test(u.key),
      );
    }
  }
  return out;
}

/** A stored value as a function argument: numbers as written, a location as `lon,lat`. */
export function functionArg(value: unknown): string {
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** The function a write of `ds` calls: mapped by pin (any case) or by name. */
export function functionFor(functions: Record<string, string>, ds: Datastream): string | undefined {
  for (const [key, fn] of Object.entries(functions)) {
    if (key === ds.name || parsePin(key) === ds.pin) return fn;
  }
  return undefined;
}
