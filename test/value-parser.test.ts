import { describe, expect, it } from 'vitest';
import type { Datastream } from '../src/domain/datastream.ts';
import { parsePin } from '../src/domain/pins.ts';
import { parseValue } from '../src/domain/value-parser.ts';
import { backends } from './helpers/harness.ts';

function ds(over: Partial<Datastream>): Datastream {
  return {
    id: 1,
    templateId: 'TMPLtest0001',
    name: 'ds',
    pin: 'V1',
    type: 'integer',
    min: null,
    max: null,
    decimals: null,
    units: null,
    defaultValue: null,
    saveRaw: false,
    syncOnConnect: false,
    options: null,
    fallback: null,
    color: null,
    ...over,
  };
}

const ok = (d: Datastream, raw: unknown) => {
  const r = parseValue(d, raw as never);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(raw)} to be accepted, got ${r.reason}`);
  return r;
};
const reason = (d: Datastream, raw: unknown) => {
  const r = parseValue(d, raw as never);
  return r.ok ? 'accepted' : r.reason;
};

// Pure unit tests: the backend does not matter, but every file runs per backend.
describe.each(backends())('parseValue / parsePin ($name)', () => {
  describe('integer', () => {
    const d = ds({ type: 'integer' });
    it('accepts integer text and numbers', () => {
      expect(ok(d, '12').value).toBe(12);
      expect(ok(d, ' -7 ').value).toBe(-7);
      expect(ok(d, 42).value).toBe(42);
      expect(ok(d, ['5']).value).toBe(5);
      expect(ok(d, '2147483647').value).toBe(2147483647);
      expect(ok(d, '-2147483648').value).toBe(-2147483648);
    });
    it('rejects decimals, junk and values outside int32', () => {
      for (const raw of [
        '1.5',
        1.5,
        '123.45',
        'abc',
        '',
        '1e3',
        '0x10',
        '2147483648',
        '-2147483649',
        2 ** 31,
        NaN,
        null,
        undefined,
        {},
        ['1', '2'],
      ]) {
        expect(reason(d, raw), `raw ${String(raw)}`).toBe('type');
      }
    });
    it('clamps to min/max after the type check and says so', () => {
      const c = ds({ type: 'integer', min: 0, max: 100 });
      expect(ok(c, '150')).toMatchObject({ value: 100, clamped: true });
      expect(ok(c, '-3')).toMatchObject({ value: 0, clamped: true });
      expect(ok(c, '50')).toMatchObject({ value: 50, clamped: false });
      expect(reason(c, '150.5')).toBe('type');
    });
    it('stores booleans as 1/0', () => {
      expect(ok(d, true).value).toBe(1);
      expect(ok(d, false).value).toBe(0);
    });
  });

  describe('double', () => {
    const d = ds({ type: 'double' });
    it('accepts any finite number, including exponent forms', () => {
      expect(ok(d, '1e3').value).toBe(1000);
      expect(ok(d, '21.5').value).toBe(21.5);
      expect(ok(d, '-.5').value).toBe(-0.5);
      expect(ok(d, 3.25).value).toBe(3.25);
      expect(ok(d, true).value).toBe(1);
      expect(ok(d, false).value).toBe(0);
    });
    it('rejects non-numbers, Infinity and NaN', () => {
      for (const raw of [
        'abc',
        'Infinity',
        '-Infinity',
        'NaN',
        '1e999',
        Infinity,
        NaN,
        '',
        '1,5',
        '1.2.3',
        null,
        [1, 2],
      ]) {
        expect(reason(d, raw), `raw ${String(raw)}`).toBe('type');
      }
    });
    it('clamps', () => {
      const c = ds({ type: 'double', min: -1.5, max: 1.5 });
      expect(ok(c, '2')).toMatchObject({ value: 1.5, clamped: true });
      expect(ok(c, '-9e9')).toMatchObject({ value: -1.5, clamped: true });
      expect(ok(c, '0.25')).toMatchObject({ value: 0.25, clamped: false });
    });
  });

  describe('enum', () => {
    const options = [
      { value: 0, label: 'off' },
      { value: 1, label: 'on' },
      { value: 5, label: 'auto' },
    ];
    it('accepts configured options', () => {
      const d = ds({ type: 'enum', options, fallback: 0 });
      expect(ok(d, '5')).toMatchObject({ value: 5, fellBack: false });
      expect(ok(d, 1)).toMatchObject({ value: 1, fellBack: false });
    });
    it('replaces unknown values with the fallback', () => {
      const d = ds({ type: 'enum', options, fallback: 1 });
      expect(ok(d, '7')).toMatchObject({ value: 1, fellBack: true });
      expect(ok(d, '-2')).toMatchObject({ value: 1, fellBack: true });
    });
    it('rejects unknown values when there is no fallback, and non-integers always', () => {
      const d = ds({ type: 'enum', options, fallback: null });
      expect(reason(d, '7')).toBe('type');
      expect(reason(ds({ type: 'enum', options, fallback: 0 }), '1.5')).toBe('type');
      expect(reason(ds({ type: 'enum', options, fallback: 0 }), 'on')).toBe('type');
    });
  });

  describe('string', () => {
    const d = ds({ type: 'string' });
    it('accepts text up to 1024 bytes, counting UTF-8 bytes', () => {
      expect(ok(d, 'a'.repeat(1024)).value).toBe('a'.repeat(1024));
      expect(reason(d, 'a'.repeat(1025))).toBe('too_long');
      // "é" is 2 bytes: 512 of them are 1024 bytes (ok), 513 are 1026 bytes (too long).
      expect(ok(d, 'é'.repeat(512)).value).toBe('é'.repeat(512));
      expect(reason(d, 'é'.repeat(513))).toBe('too_long');
      // 4-byte emoji: 256 = 1024 bytes, but only 512 UTF-16 units.
      expect(ok(d, '😀'.repeat(256)).value).toBe('😀'.repeat(256));
      expect(reason(d, `${'😀'.repeat(256)}x`)).toBe('too_long');
    });
    it('joins repeated values with NUL', () => {
      expect(ok(d, ['a', 'b', 'c']).value).toBe('a\0b\0c');
      expect(ok(d, ['only']).value).toBe('only');
    });
    it('turns numbers into text and rejects objects', () => {
      expect(ok(d, 12).value).toBe('12');
      expect(ok(d, '').value).toBe('');
      expect(reason(d, { a: 1 })).toBe('type');
      expect(reason(d, null)).toBe('type');
      expect(reason(d, [{ a: 1 }])).toBe('type');
    });
  });

  describe('location', () => {
    const d = ds({ type: 'location' });
    it('accepts "lon,lat", [lon,lat], ["lon","lat"] and {lat,lon}, longitude first', () => {
      expect(ok(d, '-73.8731,40.8414').value).toEqual([-73.8731, 40.8414]);
      expect(ok(d, ['-73.8731,40.8414']).value).toEqual([-73.8731, 40.8414]);
      expect(ok(d, [12.5, 48.1]).value).toEqual([12.5, 48.1]);
      expect(ok(d, ['12.5', '48.1']).value).toEqual([12.5, 48.1]);
      expect(ok(d, { lat: 48.1, lon: 12.5 }).value).toEqual([12.5, 48.1]);
      expect(ok(d, '180,-90').value).toEqual([180, -90]);
    });
    it('rejects out-of-range coordinates and malformed input', () => {
      for (const raw of [
        '181,0',
        '0,91',
        '-180.5,0',
        '0,-90.1',
        [200, 0],
        { lat: 95, lon: 0 },
        '1',
        '1,2,3',
        'a,b',
        [1],
        [1, 2, 3],
        { lat: 1 },
        5,
        null,
      ]) {
        expect(reason(d, raw), `raw ${JSON.stringify(raw)}`).toBe('type');
      }
    });
  });

  describe('parsePin', () => {
    it('accepts V0..V255 in either case and canonicalises to upper-case V', () => {
      expect(parsePin('v0')).toBe('V0');
      expect(parsePin('V0')).toBe('V0');
      expect(parsePin('V255')).toBe('V255');
      expect(parsePin('v17')).toBe('V17');
    });
    it('rejects out-of-range, zero-padded and malformed pins', () => {
      for (const p of ['V256', 'V01', 'V007', 'V', '', '1', 'D1', 'V-1', 'V1.0', ' V1', 'V1 ', 'VV1', 'V1000']) {
        expect(parsePin(p), p).toBeUndefined();
      }
    });
  });
});
