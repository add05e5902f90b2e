import type { Datastream, StoredValue } from '../../domain/datastream.ts';

/** A number as Blynk's getAll prints a Double: always with a fraction ("1.0"). */
function doubleJson(n: number): string {
  const s = JSON.stringify(n);
  return Number.isInteger(n) && !s.includes('e') ? `${s}.0` : s;
}

/** A value as JSON text, typed the way Blynk's getAll types it. */
export function valueJson(ds: Datastream | undefined, v: StoredValue): string {
  if (Array.isArray(v)) return `[${doubleJson(v[0])},${doubleJson(v[1])}]`;
  if (typeof v === 'number') return ds?.type === 'double' ? doubleJson(v) : JSON.stringify(v);
  return JSON.stringify(v);
}

/** A value as the single-pin `get` prints it: raw text. */
export function valueText(v: StoredValue): string {
  if (Array.isArray(v)) return `${v[0]},${v[1]}`;
  return String(v);
}
