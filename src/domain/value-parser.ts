import { type Datastream, INT32_MAX, INT32_MIN, MAX_STRING_BYTES, type StoredValue } from './datastream.ts';

/**
 * What a channel hands the parser: query-string text (possibly repeated), or JSON values
 * from the platform API and integrations.
 */
export type RawValue = string | number | boolean | null | undefined | readonly unknown[] | object;

export type ParseResult =
  | { ok: true; value: StoredValue; clamped: boolean; fellBack: boolean }
  | { ok: false; reason: 'type' | 'too_long' | 'empty' };

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER_RE = /^[+-]?\d+$/;

function toNumber(raw: unknown, integerOnly: boolean): number | undefined {
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return undefined;
    if (integerOnly && !Number.isInteger(raw)) return undefined;
    return raw;
  }
  if (typeof raw === 'string') {
    const t = raw.trim();
    if (integerOnly ? !INTEGER_RE.test(t) : !NUMBER_RE.test(t)) return undefined;
    const n = Number(t);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A single scalar out of a possibly repeated query value. */
function single(raw: RawValue): unknown {
  if (Array.isArray(raw)) return raw.length === 1 ? raw[0] : undefined;
  return raw;
}

function clamp(ds: Datastream, n: number): { value: number; clamped: boolean } {
  let v = n;
  if (ds.min !== null && v < ds.min) v = ds.min;
  if (ds.max !== null && v > ds.max) v = ds.max;
  return { value: v, clamped: v !== n };
}

function parseLocation(raw: RawValue): [number, number] | undefined {
  let parts: unknown[] | undefined;
  if (Array.isArray(raw)) {
    parts = raw.length === 1 && typeof raw[0] === 'string' ? raw[0].split(',') : [...raw];
  } else if (typeof raw === 'string') {
    parts = raw.split(',');
  } else if (raw !== null && typeof raw === 'object') {
    const o = raw as Record<string, unknown>;
    const lon = o.lon ?? o.lng ?? o.longitude;
    const lat = o.lat ?? o.latitude;
    if (lon !== undefined && lat !== undefined) parts = [lon, lat];
  }
  if (parts?.length !== 2) return undefined;
  const lon = toNumber(parts[0], false);
  const lat = toNumber(parts[1], false);
  if (lon === undefined || lat === undefined) return undefined;
  if (lon < -180 || lon > 180 || lat < -90 || lat > 90) return undefined;
  return [lon, lat];
}

/**
 * Parses one raw value against its datastream exactly as Blynk does (specs/blynk.md §1.3):
 * integers reject decimals and leave the 32-bit range, numbers are clamped to min/max after
 * the type check, enums fall back for unknown values, strings are at most 1024 bytes
 * (repeated values are joined with NUL, Blynk's multi-value string), locations are lon,lat.
 */
export function parseValue(ds: Datastream, raw: RawValue): ParseResult {
  switch (ds.type) {
    case 'integer': {
      const n = toNumber(single(raw), true);
      if (n === undefined || n < INT32_MIN || n > INT32_MAX) return { ok: false, reason: 'type' };
      const c = clamp(ds, n);
      return { ok: true, value: c.value, clamped: c.clamped, fellBack: false };
    }
    case 'double': {
      const n = toNumber(single(raw), false);
      if (n === undefined) return { ok: false, reason: 'type' };
      const c = clamp(ds, n);
      return { ok: true, value: c.value, clamped: c.clamped, fellBack: false };
    }
    case 'enum': {
      const n = toNumber(single(raw), true);
      if (n === undefined || n < INT32_MIN || n > INT32_MAX) return { ok: false, reason: 'type' };
      const options = ds.options ?? [];
      if (options.length > 0 && !options.some((o) => o.value === n)) {
        if (ds.fallback === null) return { ok: false, reason: 'type' };
        return { ok: true, value: ds.fallback, clamped: false, fellBack: true };
      }
      return { ok: true, value: n, clamped: false, fellBack: false };
    }
    case 'string': {
      let text: string;
      if (Array.isArray(raw)) {
        if (!raw.every((p) => typeof p === 'string' || typeof p === 'number')) {
          return { ok: false, reason: 'type' };
        }
        text = raw.map(String).join('\0');
      } else if (typeof raw === 'string') {
        text = raw;
      } else if (typeof raw === 'number' || typeof raw === 'boolean') {
        text = String(raw);
      } else {
        return { ok: false, reason: 'type' };
      }
      if (Buffer.byteLength(text, 'utf8') > MAX_STRING_BYTES) return { ok: false, reason: 'too_long' };
      return { ok: true, value: text, clamped: false, fellBack: false };
    }
    case 'location': {
      const loc = parseLocation(raw);
      if (!loc) return { ok: false, reason: 'type' };
      return { ok: true, value: loc, clamped: false, fellBack: false };
    }
  }
}

/** Validates a datastream's own default value the same way device values are. */
export function parseDefault(ds: Datastream, raw: RawValue): StoredValue | undefined {
  const r = parseValue({ ...ds, min: null, max: null }, raw);
  return r.ok ? r.value : undefined;
}
