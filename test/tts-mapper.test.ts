/**
 * Pure functions of the The Things Stack integration (specs/tts.md §3, §5.5-§5.6, §8.2-§8.3):
 * uplink mapping, flattening, location inference, best gateway, timestamps, downlinks,
 * reconnect back-off and topics. No I/O.
 */
import { describe, expect, it } from 'vitest';
import type { Datastream, DatastreamType } from '../src/domain/datastream.ts';
import { indexTemplate, type TemplateModel } from '../src/domain/model.ts';
import { parseValue } from '../src/domain/value-parser.ts';
import { reconnectDelay } from '../src/integrations/tts/backoff.ts';
import { buildDownlink, CORRELATION_PREFIX, ourCorrelationId } from '../src/integrations/tts/downlink-builder.ts';
import { deviceTopic, parseTopic, subscriptions } from '../src/integrations/tts/topics.ts';
import {
  bestSignal,
  flattenPayload,
  inferLocation,
  type MappedUplink,
  mapUplink,
  parseRfc3339,
} from '../src/integrations/tts/uplink-mapper.ts';

let nextId = 1;
function ds(name: string, pin: string, type: DatastreamType = 'double'): Datastream {
  return {
    id: nextId++,
    templateId: 'TMPLtts00001',
    name,
    pin,
    type,
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
  };
}

function model(...datastreams: Datastream[]): TemplateModel {
  return indexTemplate(
    {
      id: 'TMPLtts00001',
      orgId: 1,
      name: 'TTS',
      description: '',
      logAnyData: false,
      offlineAfterSeconds: 600,
      createdAt: 0,
      updatedAt: 0,
    },
    datastreams,
    [],
    [],
  );
}

const NOW = Date.parse('2025-04-16T12:00:00Z');
const FLAT = { flatten: true, mapping: {} };

/** An `up` message around a decoded payload (rx_metadata etc. optional). */
function up(decoded: unknown, extra: Record<string, unknown> = {}, top: Record<string, unknown> = {}): unknown {
  return {
    end_device_ids: { device_id: 'dev-1', application_ids: { application_id: 'app' }, dev_eui: '0011223344556677' },
    received_at: '2025-04-16T11:54:14.000000000Z',
    ...top,
    uplink_message: {
      f_port: 2,
      frm_payload: 'AQID',
      ...(decoded === undefined ? {} : { decoded_payload: decoded }),
      received_at: '2025-04-16T11:54:13.787593298Z',
      ...extra,
    },
  };
}

function map(m: TemplateModel, body: unknown, settings = FLAT, now = NOW): MappedUplink {
  const r = mapUplink(m, settings, body, now);
  if (!r) throw new Error('expected an uplink');
  return r;
}

/** Datastream name → raw value assigned. */
const byName = (r: MappedUplink): Record<string, unknown> =>
  Object.fromEntries(r.values.map((v) => [v.datastream.name, v.raw]));
const unmatchedKeys = (r: MappedUplink) => r.unmatched.map((u) => u.key).sort();

// specs/tts.md §3.4, verbatim.
const EXAMPLE = JSON.parse(`{
  "end_device_ids": {
    "device_id": "eui-70b3d52dd600035a",
    "application_ids": {"application_id": "starter-kit"},
    "dev_eui": "70B3D52DD600035A",
    "join_eui": "EC656E0000000001",
    "dev_addr": "27FE87F6"
  },
  "correlation_ids": ["gs:uplink:01JRZ767CVCHBZW1Y8YG9PZ3TS"],
  "received_at": "2025-04-16T11:54:13.995136483Z",
  "uplink_message": {
    "session_key_id": "aAixKtmNZUKQXd4GqpHDsw==",
    "f_port": 2,
    "f_cnt": 14,
    "frm_payload": "sQAAEAHlANcB",
    "decoded_payload": {
      "batteryVoltage": 3.4,
      "pressEvent": 1,
      "sensorTemperature": 21.5,
      "singlePressEventCounter": 16,
      "thermistorProperlyConnected": true
    },
    "rx_metadata": [{
      "gateway_ids": {"gateway_id": "ttig-52ec", "eui": "58A0CBFFFE8052EC"},
      "time": "2025-04-16T11:54:13.697237014Z",
      "timestamp": 1276394164,
      "rssi": -31,
      "channel_rssi": -31,
      "snr": 9.5,
      "uplink_token": "ChcKFQoJdHRpZy01MmVjEghYoMv//oBS7BC09dDgBBoMCOW0/r8GEO6mnPcCIKCelfiSJQ==",
      "received_at": "2025-04-16T11:54:13.758247461Z"
    }],
    "settings": {
      "data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 7, "coding_rate": "4/5"}},
      "frequency": "867700000",
      "timestamp": 1276394164,
      "time": "2025-04-16T11:54:13.697237014Z"
    },
    "received_at": "2025-04-16T11:54:13.787593298Z",
    "confirmed": true,
    "consumed_airtime": "0.061696s",
    "version_ids": {
      "brand_id": "mclimate", "model_id": "mc-button",
      "hardware_version": "1.2", "firmware_version": "1.2", "band_id": "EU_863_870"
    },
    "network_ids": {
      "net_id": "000013", "ns_id": "EC656E000010181D", "tenant_id": "docs-test-account",
      "cluster_id": "eu1", "cluster_address": "eu1.cloud.thethings.industries",
      "tenant_address": "docs-test-account.eu1.cloud.thethings.industries"
    },
    "last_battery_percentage": {"f_cnt": 14, "value": 90.118576, "received_at": "2025-04-16T11:54:13.787593298Z"}
  }
}`);

describe('mapUplink', () => {
  it('maps the real §3.4 example as Blynk documents it', () => {
    const m = model(
      ds('sensorTemperature', 'V1', 'double'),
      ds('thermistorProperlyConnected', 'V2', 'integer'),
      ds('RSSI', 'V3', 'integer'),
      ds('SNR', 'V4', 'double'),
    );
    const r = map(m, EXAMPLE);
    expect(r.ttsDeviceId).toBe('eui-70b3d52dd600035a');
    expect(r.devEui).toBe('70B3D52DD600035A');
    expect(r.ts).toBe(Date.parse('2025-04-16T11:54:13.787Z'));
    expect(r.formatterMissing).toBe(false);
    expect(r.simulated).toBe(false);
    expect(r.firmwareVersion).toBeUndefined();
    expect(byName(r)).toEqual({ sensorTemperature: 21.5, thermistorProperlyConnected: true, RSSI: -31, SNR: 9.5 });
    expect(r.values.every((v) => v.ts === r.ts)).toBe(true);
    // true arrives as 1 once parsed against the integer datastream.
    const thermistor = r.values.find((v) => v.datastream.name === 'thermistorProperlyConnected')!;
    expect(parseValue(thermistor.datastream, thermistor.raw)).toMatchObject({ ok: true, value: 1 });
    expect(unmatchedKeys(r)).toEqual(['batteryVoltage', 'pressEvent', 'singlePressEventCounter']);
  });

  it('returns undefined for bodies that are not an up message', () => {
    const m = model(ds('t', 'V1'));
    for (const body of [
      null,
      'text',
      42,
      [EXAMPLE],
      {},
      { end_device_ids: {}, uplink_message: {} },
      { end_device_ids: { device_id: '' }, uplink_message: {} },
      { end_device_ids: { device_id: 'd' } },
      { end_device_ids: { device_id: 'd' }, uplink_message: 'x' },
      { end_device_ids: 'd', uplink_message: {} },
    ]) {
      expect(mapUplink(m, FLAT, body, NOW)).toBeUndefined();
    }
  });

  it('prefers a datastream name over a pin of the same key', () => {
    // Datastream named "V2" sits on V5; another datastream is on V2: key "V2" is the name.
    const named = ds('V2', 'V5');
    const onPin = ds('other', 'V2');
    const r = map(model(named, onPin), up({ V2: 7 }));
    expect(r.values).toHaveLength(1);
    expect(r.values[0]!.datastream).toBe(named);
  });

  it('matches pin keys in either case (v1, V1)', () => {
    const a = ds('alpha', 'V1');
    const b = ds('beta', 'V12');
    const r = map(model(a, b), up({ v1: 1.5, V12: 2 }));
    expect(byName(r)).toEqual({ alpha: 1.5, beta: 2 });
    expect(r.unmatched).toEqual([]);
    // Only virtual pins, and no leading zeros.
    const r2 = map(model(a, b), up({ a1: 1, d1: 2, v01: 3 }));
    expect(r2.values).toEqual([]);
    expect(unmatchedKeys(r2)).toEqual(['a1', 'd1', 'v01']);
  });

  it('passes booleans on, which the parser turns into 1/0', () => {
    const on = ds('on', 'V1', 'integer');
    const off = ds('off', 'V2', 'double');
    const r = map(model(on, off), up({ on: true, off: false }));
    expect(byName(r)).toEqual({ on: true, off: false });
    expect(parseValue(on, true)).toMatchObject({ ok: true, value: 1 });
    expect(parseValue(off, false)).toMatchObject({ ok: true, value: 0 });
  });

  it('takes [lon, lat] arrays for a location datastream', () => {
    const loc = ds('position', 'V3', 'location');
    const r = map(model(loc), up({ position: [11.57, 48.14] }));
    expect(byName(r)).toEqual({ position: [11.57, 48.14] });
    expect(parseValue(loc, [11.57, 48.14])).toMatchObject({ ok: true, value: [11.57, 48.14] });
  });

  it('flattens nested objects into dotted paths and arrays into [i]', () => {
    const m = model(
      ds('air.temperature', 'V1'),
      ds('readings[0].temperature', 'V2'),
      ds('values[2]', 'V3'),
      ds('deep.a.b.c', 'V4'),
    );
    const r = map(
      m,
      up({
        air: { temperature: 20.5, humidity: 40 },
        readings: [{ temperature: 1 }, { temperature: 2 }],
        values: [10, 11, 12],
        deep: { a: { b: { c: 'x' } } },
      }),
    );
    expect(byName(r)).toEqual({
      'air.temperature': 20.5,
      'readings[0].temperature': 1,
      'values[2]': 12,
      'deep.a.b.c': 'x',
    });
    expect(unmatchedKeys(r)).toEqual(['air.humidity', 'readings[1].temperature', 'values[0]', 'values[1]']);
  });

  it('does not flatten when flattening is off', () => {
    const m = model(ds('air.temperature', 'V1'), ds('air', 'V2', 'string'));
    const r = map(m, up({ air: { temperature: 20.5 } }), { flatten: false, mapping: {} });
    expect(byName(r)).toEqual({ air: { temperature: 20.5 } });
  });

  it('lets a {value, unit} wrapper answer to its own key', () => {
    const m = model(ds('temperature', 'V1'), ds('humidity.value', 'V2'));
    const r = map(
      m,
      up({ temperature: { value: 21.5, unit: '°C' }, humidity: { value: 40, unit: '%', displayName: 'RH' } }),
    );
    expect(byName(r)).toEqual({ temperature: 21.5, 'humidity.value': 40 });
  });

  it('gives an exact top-level key precedence over a flattened path of the same spelling', () => {
    const m = model(ds('a.b', 'V1'));
    // Either key order: the top-level "a.b" wins.
    expect(byName(map(m, up({ a: { b: 2 }, 'a.b': 1 })))).toEqual({ 'a.b': 1 });
    expect(byName(map(m, up({ 'a.b': 1, a: { b: 2 } })))).toEqual({ 'a.b': 1 });
    // The same through an explicit mapping.
    const m2 = model(ds('target', 'V1'));
    const s = { flatten: true, mapping: { 'a.b': 'V1' } };
    expect(byName(map(m2, up({ a: { b: 2 }, 'a.b': 1 }), s))).toEqual({ target: 1 });
    expect(byName(map(m2, up({ 'a.b': 1, a: { b: 2 } }), s))).toEqual({ target: 1 });
  });

  it('applies explicit mappings (key or dotted path → pin or name) before names and pins', () => {
    const t = ds('temperature', 'V1');
    const h = ds('humidity', 'V2');
    const other = ds('other', 'V7');
    const m = model(t, h, other);
    const r = map(
      m,
      up({ temperature: 99, temp_c: 21.5, sensor: { rh: 40 }, V7: 3 }),
      // The explicit key beats the datastream of the same name; pins in lower case resolve too.
      { flatten: true, mapping: { temp_c: 'temperature', 'sensor.rh': 'v2', V7: 'humidity' } },
    );
    expect(byName(r)).toEqual({ temperature: 21.5, humidity: 40 });
    // "temperature" names a datastream (it lost to the explicit mapping): not reported as unmatched.
    expect(r.unmatched).toEqual([]);
    // A mapped key is not reported as unmatched, even when absent or null.
    const r2 = map(m, up({ temp_c: null }), { flatten: true, mapping: { temp_c: 'temperature' } });
    expect(r2.values).toEqual([]);
    expect(r2.unmatched).toEqual([]);
  });

  it('fills a location datastream from lat/lon-style pairs (§5.6)', () => {
    const loc = ds('Location', 'V9', 'location');
    const m = model(loc);
    const cases: Array<[Record<string, unknown>, [number, number]]> = [
      [{ lat: 48.1, lon: 11.5 }, [11.5, 48.1]],
      [{ lat: 48.1, lng: 11.5 }, [11.5, 48.1]],
      [{ lat: 48.1, long: 11.5 }, [11.5, 48.1]],
      [{ latitude: 48.1, longitude: 11.5, altitude: 500 }, [11.5, 48.1]],
      [{ Latitude: -33.9, Longitude: 151.2 }, [151.2, -33.9]],
      [{ latitudeDeg: 1, longitudeDeg: 2 }, [2, 1]],
      [{ gps_lat: 1, gps_lng: 2 }, [2, 1]],
      // Numeric strings (Dingtek) are accepted.
      [{ latitude: '48.137154', longitude: '11.576124' }, [11.576124, 48.137154]],
      // Nested (DNT gnss, Digital Matter cached).
      [{ gnss: { lat: 10, lon: 20 } }, [20, 10]],
    ];
    for (const [decoded, expected] of cases) {
      const r = map(m, up(decoded));
      expect(byName(r), JSON.stringify(decoded)).toEqual({ Location: expected });
      // The keys that made the location are not reported as unmatched.
      expect(
        r.unmatched.filter((u) => /lat|lon|lng/i.test(u.key)),
        JSON.stringify(decoded),
      ).toEqual([]);
    }
  });

  it('fills a location datastream from a CayenneLPP gps_N object', () => {
    const m = model(ds('where', 'V9', 'location'), ds('temperature_3', 'V1'));
    const r = map(
      m,
      up({ temperature_3: 27.200000762939453, gps_5: { latitude: 52.3731, longitude: 4.8922, altitude: 2 } }),
    );
    expect(byName(r)).toEqual({ temperature_3: 27.200000762939453, where: [4.8922, 52.3731] });
    expect(r.unmatched).toEqual([]);
  });

  it('ignores (0, 0) and non-numeric coordinates', () => {
    const m = model(ds('where', 'V9', 'location'));
    expect(map(m, up({ lat: 0, lon: 0 })).values).toEqual([]);
    expect(map(m, up({ gps_1: { latitude: 0, longitude: 0, altitude: 0 } })).values).toEqual([]);
    expect(map(m, up({ lat: 'north', lon: 'east' })).values).toEqual([]);
    expect(map(m, up({ lat: true, lon: 1 })).values).toEqual([]);
    // (0, 0) in the first pair does not hide a real one further on.
    expect(byName(map(m, up({ lat: 0, lon: 0, latitude: 1, longitude: 2 })))).toEqual({ where: [2, 1] });
  });

  it('does not overwrite a location datastream that was assigned explicitly', () => {
    const m = model(ds('where', 'V9', 'location'));
    const r = map(m, up({ where: [1, 2], lat: 48, lon: 11 }));
    expect(byName(r)).toEqual({ where: [1, 2] });
    const r2 = map(m, up({ pos: [3, 4], lat: 48, lon: 11 }), { flatten: true, mapping: { pos: 'V9' } });
    expect(byName(r2)).toEqual({ where: [3, 4] });
  });

  it('takes "Blynk Firmware Version" as metadata, not as a value', () => {
    const m = model(ds('t', 'V1'));
    const r = map(m, up({ 'Blynk Firmware Version': '1.2.3', t: 1 }));
    expect(r.firmwareVersion).toBe('1.2.3');
    expect(byName(r)).toEqual({ t: 1 });
    expect(r.unmatched).toEqual([]);
    expect(map(m, up({ 'Blynk Firmware Version': 2 })).firmwareVersion).toBe('2');
    expect(map(m, up({ 'Blynk Firmware Version': { major: 1 } })).firmwareVersion).toBeUndefined();
  });

  it('skips null values without reporting them as unmatched', () => {
    const m = model(ds('t', 'V1'), ds('h', 'V2'));
    const r = map(m, up({ t: null, h: 3, nothing: null, nested: { x: null }, w: { value: null, unit: 'C' } }));
    expect(byName(r)).toEqual({ h: 3 });
    expect(unmatchedKeys(r)).toEqual(['w.unit']);
  });

  it('reports unmatched keys with their values', () => {
    const r = map(model(ds('t', 'V1')), up({ t: 1, foo: 'bar', n: 5 }));
    expect(r.unmatched).toEqual([
      { key: 'foo', value: 'bar' },
      { key: 'n', value: 5 },
    ]);
  });

  it('flags a missing formatter only for a payload without decoded_payload on an f_port', () => {
    const m = model(ds('RSSI', 'V1', 'integer'));
    const rx = { rx_metadata: [{ rssi: -80, snr: 5 }] };
    // frm_payload, no decoded_payload, f_port 2 → flagged; RSSI still written.
    const missing = map(m, up(undefined, rx));
    expect(missing.formatterMissing).toBe(true);
    expect(byName(missing)).toEqual({ RSSI: -80 });
    // MAC-only: no f_port (zero omitted) and no frm_payload.
    const macOnly = {
      end_device_ids: { device_id: 'dev-1' },
      uplink_message: { received_at: '2025-04-16T11:54:13Z', ...rx },
    };
    expect(map(m, macOnly).formatterMissing).toBe(false);
    // No f_port even though a payload came along.
    expect(map(m, up(undefined, { f_port: undefined })).formatterMissing).toBe(false);
    // Decoded (even to {}) → not flagged.
    expect(map(m, up({})).formatterMissing).toBe(false);
    // f_port but an empty payload.
    expect(map(m, up(undefined, { frm_payload: undefined })).formatterMissing).toBe(false);
  });

  it('carries the simulated flag', () => {
    const m = model(ds('t', 'V1'));
    expect(map(m, up({ t: 1 }, {}, { simulated: true })).simulated).toBe(true);
    expect(map(m, up({ t: 1 })).simulated).toBe(false);
  });

  it('times values by uplink_message.received_at, then the top-level received_at, then now', () => {
    const m = model(ds('t', 'V1'));
    expect(map(m, up({ t: 1 })).ts).toBe(Date.parse('2025-04-16T11:54:13.787Z'));
    expect(map(m, up({ t: 1 }, { received_at: undefined })).ts).toBe(Date.parse('2025-04-16T11:54:14Z'));
    expect(map(m, up({ t: 1 }, { received_at: 'garbage' }, { received_at: undefined })).ts).toBe(NOW);
  });

  it('clamps timestamps from the future to now (a minute of clock skew is tolerated)', () => {
    const m = model(ds('t', 'V1'));
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(map(m, up({ t: 1 }, { received_at: iso(NOW + 3_600_000) })).ts).toBe(NOW);
    expect(map(m, up({ t: 1 }, { received_at: iso(NOW + 30_000) })).ts).toBe(NOW + 30_000);
  });

  describe('RSSI and SNR', () => {
    const m = model(ds('RSSI', 'V1', 'integer'), ds('SNR', 'V2', 'double'));
    const signal = (rx: unknown) => byName(map(m, up({}, { rx_metadata: rx })));

    it('takes the gateway with the best SNR', () => {
      expect(
        signal([
          { rssi: -50, snr: 2 },
          { rssi: -110, snr: 7.25 },
          { rssi: -60, snr: -3 },
        ]),
      ).toEqual({ RSSI: -110, SNR: 7.25 });
    });

    it('treats an absent SNR as 0 (protobuf zero omission)', () => {
      expect(signal([{ rssi: -70, snr: -5 }, { rssi: -90 }])).toEqual({ RSSI: -90, SNR: 0 });
    });

    it('breaks a tie by the best RSSI', () => {
      expect(
        signal([
          { rssi: -100, snr: 5 },
          { rssi: -80, snr: 5 },
          { rssi: -90, snr: 5 },
        ]),
      ).toEqual({ RSSI: -80, SNR: 5 });
    });

    it('skips entries without rssi, and writes nothing when no entry has one', () => {
      expect(signal([{ snr: 12 }, { rssi: -95, snr: 1 }, 'junk', null])).toEqual({ RSSI: -95, SNR: 1 });
      expect(signal([{ snr: 12 }])).toEqual({});
      expect(signal([])).toEqual({});
      expect(signal('not an array')).toEqual({});
    });

    it('rounds for an integer datastream and keeps decimals for a double one', () => {
      expect(signal([{ rssi: -96.6, snr: -7.75 }])).toEqual({ RSSI: -97, SNR: -7.75 });
      const intSnr = model(ds('SNR', 'V2', 'integer'));
      expect(byName(map(intSnr, up({}, { rx_metadata: [{ rssi: -1, snr: 9.5 }] })))).toEqual({ SNR: 10 });
    });

    it('does not overwrite RSSI or SNR sent in the decoded payload', () => {
      expect(byName(map(m, up({ RSSI: -12 }, { rx_metadata: [{ rssi: -80, snr: 3 }] })))).toEqual({
        RSSI: -12,
        SNR: 3,
      });
    });
  });
});

describe('flattenPayload', () => {
  it('lists top-level leaves first, then flattened paths', () => {
    expect(flattenPayload({ n: { a: 1, b: [1, 2, 3] }, top: 2, loc: [1, 2] }, true)).toEqual([
      ['top', 2],
      ['loc', [1, 2]],
      ['n.a', 1],
      ['n.b[0]', 1],
      ['n.b[1]', 2],
      ['n.b[2]', 3],
    ]);
  });

  it('keeps objects whole when not flattening', () => {
    expect(flattenPayload({ n: { a: 1 }, top: 2 }, false)).toEqual([
      ['n', { a: 1 }],
      ['top', 2],
    ]);
  });

  it('adds the wrapper key for {value, unit}', () => {
    expect(flattenPayload({ t: { value: 21.5, unit: 'C' } }, true)).toEqual([
      ['t', 21.5],
      ['t.value', 21.5],
      ['t.unit', 'C'],
    ]);
    // Inside arrays too.
    expect(flattenPayload({ r: [{ value: 1 }] }, true)).toEqual([
      ['r[0]', 1],
      ['r[0].value', 1],
    ]);
  });

  it('stops at a bounded depth', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const out = flattenPayload(deep, true);
    expect(out).toEqual([]);
  });
});

describe('inferLocation', () => {
  it('returns [lon, lat] for the first matching pair', () => {
    expect(inferLocation({ lat: 1, lon: 2, latitude: 3, longitude: 4 })).toEqual([2, 1]);
    expect(inferLocation({ gps_12: { latitude: 5, longitude: 6, altitude: 7 } })).toEqual([6, 5]);
    expect(inferLocation({ a: { b: { c: { lat: '1.5', lng: '2.5' } } } })).toEqual([2.5, 1.5]);
  });

  it('ignores (0, 0), halves of a pair, non-gps_N objects and empty strings', () => {
    expect(inferLocation({ lat: 0, lon: 0 })).toBeUndefined();
    expect(inferLocation({ lat: 1 })).toBeUndefined();
    expect(inferLocation({ gps: { latitude: 1, longitude: 2 } })).toEqual([2, 1]); // nested pair
    expect(inferLocation({ gps_x: 5 })).toBeUndefined();
    expect(inferLocation({ lat: '', lon: '' })).toBeUndefined();
    expect(inferLocation({ lat: 1, lon: Number.NaN })).toBeUndefined();
    expect(inferLocation({})).toBeUndefined();
  });

  it('accepts a zero on one axis', () => {
    expect(inferLocation({ lat: 51.48, lon: 0 })).toEqual([0, 51.48]);
  });
});

describe('bestSignal', () => {
  it('returns undefined without usable entries', () => {
    expect(bestSignal(undefined)).toBeUndefined();
    expect(bestSignal([])).toBeUndefined();
    expect(bestSignal([{ snr: 3 }])).toBeUndefined();
  });

  it('picks max SNR, absent SNR = 0, tie → max RSSI; channel_rssi stands in for rssi', () => {
    expect(bestSignal([{ rssi: -120, snr: -2 }, { rssi: -121 }])).toEqual({ rssi: -121, snr: 0 });
    expect(bestSignal([{ rssi: -90, snr: 0 }, { rssi: -89 }, { rssi: -91, snr: 0 }])).toEqual({ rssi: -89, snr: 0 });
    expect(bestSignal([{ channel_rssi: -77, snr: 1 }])).toEqual({ rssi: -77, snr: 1 });
  });
});

describe('parseRfc3339', () => {
  it('parses nanosecond timestamps to milliseconds', () => {
    expect(parseRfc3339('2025-04-16T11:54:13.995136483Z')).toBe(Date.UTC(2025, 3, 16, 11, 54, 13, 995));
    expect(parseRfc3339('2025-04-16T11:54:13.000000001Z')).toBe(Date.UTC(2025, 3, 16, 11, 54, 13, 0));
    expect(parseRfc3339('2025-04-16T11:54:13.5Z')).toBe(Date.UTC(2025, 3, 16, 11, 54, 13, 500));
    expect(parseRfc3339('2025-04-16T11:54:13Z')).toBe(Date.UTC(2025, 3, 16, 11, 54, 13));
    expect(parseRfc3339('2025-04-16T13:54:13.123456+02:00')).toBe(Date.UTC(2025, 3, 16, 11, 54, 13, 123));
  });

  it('returns undefined for anything else', () => {
    expect(parseRfc3339(undefined)).toBeUndefined();
    expect(parseRfc3339(1744804453995)).toBeUndefined();
    expect(parseRfc3339('not a time')).toBeUndefined();
    expect(parseRfc3339('')).toBeUndefined();
  });
});

describe('buildDownlink / ourCorrelationId', () => {
  const d = ds('Relay', 'V10', 'integer');
  const base = { fPort: 15, priority: 'NORMAL' as const, confirmed: false };

  it("builds Blynk's {name, pin, ts, value} with a lower-case pin", () => {
    expect(buildDownlink({ ...base, downlinkShape: 'blynk' }, d, 1, 1700000000000, 'abc')).toEqual({
      f_port: 15,
      decoded_payload: { name: 'Relay', pin: 'v10', ts: 1700000000000, value: 1 },
      priority: 'NORMAL',
      correlation_ids: [`${CORRELATION_PREFIX}abc`],
    });
  });

  it('builds the named shape and sets confirmed only when asked', () => {
    const dl = buildDownlink({ ...base, priority: 'HIGH', confirmed: true, downlinkShape: 'named' }, d, [1, 2], 5, 'x');
    expect(dl).toEqual({
      f_port: 15,
      decoded_payload: { Relay: [1, 2] },
      priority: 'HIGH',
      confirmed: true,
      correlation_ids: ['pinwheel:dl:x'],
    });
    expect('confirmed' in buildDownlink({ ...base, downlinkShape: 'named' }, d, 0, 5, 'x')).toBe(false);
  });

  it('finds our correlation id among others', () => {
    expect(ourCorrelationId(['as:downlink:01H', 'pinwheel:dl:1234-5678', 'ns:x'])).toBe('1234-5678');
    expect(ourCorrelationId(['as:downlink:01H'])).toBeUndefined();
    expect(ourCorrelationId('pinwheel:dl:1')).toBeUndefined();
    expect(ourCorrelationId([1, null, {}])).toBeUndefined();
    expect(ourCorrelationId(undefined)).toBeUndefined();
  });
});

describe('reconnectDelay', () => {
  const o = { minMs: 1000, maxMs: 60_000 };
  const lo = { ...o, random: () => 0 };
  const hi = { ...o, random: () => 0.999999 };

  it('grows exponentially and is capped at max', () => {
    const upper = [0, 1, 2, 3, 4, 5, 6, 7, 20, 1000].map((a) => reconnectDelay(a, false, hi));
    expect(upper).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
    for (let a = 1; a < upper.length; a++) expect(upper[a]!).toBeGreaterThanOrEqual(upper[a - 1]!);
  });

  it('jitters within [d/2, d]', () => {
    expect(reconnectDelay(3, false, lo)).toBe(4000);
    expect(reconnectDelay(3, false, { ...o, random: () => 0.5 })).toBe(6000);
    for (let i = 0; i < 200; i++) {
      const attempt = i % 10;
      const d = Math.min(60_000, 1000 * 2 ** attempt);
      const v = reconnectDelay(attempt, false, o);
      expect(v).toBeGreaterThanOrEqual(d / 2);
      expect(v).toBeLessThanOrEqual(d);
    }
  });

  it('starts at max after a refused login and caps at 10 × max', () => {
    expect(reconnectDelay(0, true, hi)).toBe(60_000);
    expect(reconnectDelay(0, true, lo)).toBe(30_000);
    expect(reconnectDelay(1, true, hi)).toBe(120_000);
    expect(reconnectDelay(3, true, hi)).toBe(480_000);
    expect(reconnectDelay(4, true, hi)).toBe(600_000);
    expect(reconnectDelay(50, true, hi)).toBe(600_000);
    expect(reconnectDelay(50, true, lo)).toBe(300_000);
  });
});

describe('topics', () => {
  it('parses v3/{uid}/devices/{device}/{event}', () => {
    expect(parseTopic('v3/starter-kit@docs-test-account/devices/eui-70b3d52dd600035a/up')).toEqual({
      uid: 'starter-kit@docs-test-account',
      deviceId: 'eui-70b3d52dd600035a',
      event: 'up',
    });
    expect(parseTopic('v3/app/devices/d/down/failed')?.event).toBe('down/failed');
    expect(parseTopic('v3/app/devices/d/up/normalized')?.event).toBe('up/normalized');
    expect(parseTopic('v3/app/devices/d/location/solved')?.event).toBe('location/solved');
  });

  it('rejects other layouts', () => {
    for (const t of [
      'v3/app/devices/d',
      'v2/app/devices/d/up',
      'v3/app/gateways/d/up',
      'v3//devices/d/up',
      'v3/app/devices//up',
      '',
    ]) {
      expect(parseTopic(t), t).toBeUndefined();
    }
  });

  it('builds device topics and the subscriptions the integration needs', () => {
    expect(deviceTopic('app@t', 'dev', 'down/push')).toBe('v3/app@t/devices/dev/down/push');
    expect(subscriptions('app@t')).toEqual([
      'v3/app@t/devices/+/up',
      'v3/app@t/devices/+/join',
      'v3/app@t/devices/+/down/#',
      'v3/app@t/devices/+/location/solved',
    ]);
  });
});
