import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backends, startApp, type TestApp } from './helpers/harness.ts';
import { type TtsSide, ttsSides } from './helpers/tts-side.ts';
import {
  connectTts,
  device,
  deviceFor,
  devicesOf,
  integration,
  makeTemplate,
  openWs,
  sleep,
  timeline,
  until,
  uplink,
  type WsClient,
} from './helpers/tts-util.ts';

/** specs/tts.md §3.4, verbatim. */
const REAL_UPLINK = {
  end_device_ids: {
    device_id: 'eui-70b3d52dd600035a',
    application_ids: { application_id: 'starter-kit' },
    dev_eui: '70B3D52DD600035A',
    join_eui: 'EC656E0000000001',
    dev_addr: '27FE87F6',
  },
  correlation_ids: ['gs:uplink:01JRZ767CVCHBZW1Y8YG9PZ3TS'],
  received_at: '2025-04-16T11:54:13.995136483Z',
  uplink_message: {
    session_key_id: 'aAixKtmNZUKQXd4GqpHDsw==',
    f_port: 2,
    f_cnt: 14,
    frm_payload: 'sQAAEAHlANcB',
    decoded_payload: {
      batteryVoltage: 3.4,
      pressEvent: 1,
      sensorTemperature: 21.5,
      singlePressEventCounter: 16,
      thermistorProperlyConnected: true,
    },
    rx_metadata: [
      {
        gateway_ids: { gateway_id: 'ttig-52ec', eui: '58A0CBFFFE8052EC' },
        time: '2025-04-16T11:54:13.697237014Z',
        timestamp: 1276394164,
        rssi: -31,
        channel_rssi: -31,
        snr: 9.5,
        uplink_token: 'ChcKFQoJdHRpZy01MmVjEghYoMv//oBS7BC09dDgBBoMCOW0/r8GEO6mnPcCIKCelfiSJQ==',
        received_at: '2025-04-16T11:54:13.758247461Z',
      },
    ],
    settings: {
      data_rate: { lora: { bandwidth: 125000, spreading_factor: 7, coding_rate: '4/5' } },
      frequency: '867700000',
      timestamp: 1276394164,
      time: '2025-04-16T11:54:13.697237014Z',
    },
    received_at: '2025-04-16T11:54:13.787593298Z',
    confirmed: true,
    consumed_airtime: '0.061696s',
    version_ids: {
      brand_id: 'mclimate',
      model_id: 'mc-button',
      hardware_version: '1.2',
      firmware_version: '1.2',
      band_id: 'EU_863_870',
    },
    network_ids: {
      net_id: '000013',
      ns_id: 'EC656E000010181D',
      tenant_id: 'docs-test-account',
      cluster_id: 'eu1',
      cluster_address: 'eu1.cloud.thethings.industries',
      tenant_address: 'docs-test-account.eu1.cloud.thethings.industries',
    },
    last_battery_percentage: { f_cnt: 14, value: 90.118576, received_at: '2025-04-16T11:54:13.787593298Z' },
  },
};
const REAL_TS = Date.parse('2025-04-16T11:54:13.787Z');

const combos = backends().flatMap((backend) => ttsSides().map((side) => ({ backend, side, name: backend.name })));

describe.each(combos)('The Things Stack uplinks and downlinks on $name via $side.name', ({ backend, side: kind }) => {
  let t: TestApp;
  let side: TtsSide | undefined;
  const clients: WsClient[] = [];
  beforeAll(async () => {
    t = await startApp(backend, {
      env: { PINWHEEL_TTS_RECONNECT_MIN_MS: '50', PINWHEEL_TTS_RECONNECT_MAX_MS: '300' },
    });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const i of (await t.api('GET', '/api/v1/integrations/tts')).body.items) {
      await t.api('DELETE', `/api/v1/integrations/tts/${i.id}`);
    }
    await side?.close();
    side = undefined;
  });
  afterAll(async () => {
    await t.close();
  });

  /** A fresh TTS side, a template with `datastreams` and a connected card. */
  async function setup(datastreams: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) {
    const s = await kind.start();
    side = s;
    const templateId = await makeTemplate(t, datastreams);
    const id = await connectTts(t, s, templateId, extra);
    return { templateId, id, side: s };
  }
  const values = async (deviceId: number) => (await device(t, deviceId)).values;
  const waitValue = (deviceId: number, pin: string, value: unknown) =>
    until(
      () => values(deviceId),
      (v) => JSON.stringify(v[pin]?.value) === JSON.stringify(value),
    );

  it('creates the device on the first uplink and finds it by metafield afterwards', async () => {
    const { templateId, id, side } = await setup([{ name: 'temp', pin: 'V1', type: 'double' }]);
    const tpl = await until(
      () => t.api('GET', `/api/v1/templates/${templateId}`),
      (x) => x.body.metafields.length === 1,
    );
    expect(tpl.body.metafields[0]).toMatchObject({ name: 'TheThingsNetwork Device', type: 'text' });
    expect(await devicesOf(t, templateId)).toEqual([]);

    const u1 = uplink('dev-one', { temp: 1.25 });
    await side.publish('dev-one', 'up', u1.body);
    const d = await deviceFor(t, templateId, 'dev-one');
    expect(d).toMatchObject({ name: 'dev-one', templateId, metadata: { 'TheThingsNetwork Device': 'dev-one' } });
    expect(d.token).toEqual(expect.any(String));
    expect((await waitValue(d.id, 'V1', 1.25)).V1).toEqual({ value: 1.25, ts: u1.ts });

    const u2 = uplink('dev-one', { temp: 2.5 });
    await side.publish('dev-one', 'up', u2.body);
    expect((await waitValue(d.id, 'V1', 2.5)).V1).toEqual({ value: 2.5, ts: u2.ts });
    expect(await devicesOf(t, templateId)).toHaveLength(1);

    // A device made by hand and given the TTS id is found, not duplicated.
    const manual = await t.api('POST', '/api/v1/devices', {
      templateId,
      name: 'Hand made',
      metadata: { 'TheThingsNetwork Device': 'dev-manual' },
    });
    expect(manual.status, manual.text).toBe(201);
    await side.publish('dev-manual', 'up', uplink('dev-manual', { temp: 7 }).body);
    await waitValue(manual.body.id, 'V1', 7);

    const u3 = uplink('dev-two', { temp: 3 });
    await side.publish('dev-two', 'up', u3.body);
    const d2 = await deviceFor(t, templateId, 'dev-two');
    expect(d2.name).toBe('dev-two');
    expect(d2.id).not.toBe(d.id);
    expect((await devicesOf(t, templateId)).map((x) => x.name).sort()).toEqual(['Hand made', 'dev-one', 'dev-two']);
    expect((await values(d.id)).V1.value).toBe(2.5);
    expect((await integration(t, id)).stats).toMatchObject({ uplinks: 4, malformed: 0 });

    // Without autoCreate an unknown device is ignored.
    expect((await t.api('PATCH', `/api/v1/integrations/tts/${id}`, { autoCreate: false })).status).toBe(200);
    await side.publish('dev-three', 'up', uplink('dev-three', { temp: 4 }).body);
    await side.publish('dev-two', 'up', uplink('dev-two', { temp: 5 }).body);
    await waitValue(d2.id, 'V1', 5);
    expect(await devicesOf(t, templateId)).toHaveLength(3);
  });

  it('maps the real uplink of specs §3.4: names, true → 1, RSSI/SNR, NS reception time, source tts', async () => {
    const { templateId, id, side } = await setup([
      { name: 'sensorTemperature', pin: 'V1', type: 'double', saveRaw: true },
      { name: 'thermistorProperlyConnected', pin: 'V2', type: 'integer' },
      { name: 'RSSI', pin: 'V3', type: 'integer', min: -140, max: 0 },
      { name: 'SNR', pin: 'V4', type: 'double', min: -25, max: 20 },
    ]);
    const ws = await openWs(t);
    clients.push(ws);
    ws.send({ type: 'subscribe' });
    await ws.waitFor((m) => m.type === 'subscribed');

    await side.publish('eui-70b3d52dd600035a', 'up', REAL_UPLINK);
    const d = await deviceFor(t, templateId, 'eui-70b3d52dd600035a');
    expect(d.name).toBe('eui-70b3d52dd600035a');
    const v = await until(
      () => values(d.id),
      (x) => Object.keys(x).length === 4,
    );
    expect(v).toEqual({
      V1: { value: 21.5, ts: REAL_TS },
      V2: { value: 1, ts: REAL_TS },
      V3: { value: -31, ts: REAL_TS },
      V4: { value: 9.5, ts: REAL_TS },
    });
    // The uplink is older than now: history must be asked from 0. Raw points keep the exact
    // time; without "save raw" the history holds the minute's aggregate.
    const h = await t.api('GET', `/api/v1/devices/${d.id}/history?pin=sensorTemperature&from=0`);
    expect(h.body).toEqual({ pin: 'V1', points: [[REAL_TS, 21.5]] });
    expect((await t.api('GET', `/api/v1/devices/${d.id}/history?pin=V3&from=0`)).body.points).toEqual([
      [REAL_TS - (REAL_TS % 60_000), -31],
    ]);

    const valueMsgs = await until(
      async () => ws.messages.filter((m) => m.type === 'value' && m.deviceId === d.id),
      (m) => m.length === 4,
    );
    expect(valueMsgs.map((m) => [m.pin, m.value, m.ts, m.source]).sort()).toEqual([
      ['V1', 21.5, REAL_TS, 'tts'],
      ['V2', 1, REAL_TS, 'tts'],
      ['V3', -31, REAL_TS, 'tts'],
      ['V4', 9.5, REAL_TS, 'tts'],
    ]);

    // The three keys no datastream takes are reported.
    const un = await t.api('GET', `/api/v1/integrations/tts/${id}/unmatched`);
    expect(un.status).toBe(200);
    expect(un.body.items.map((i: any) => [i.key, i.count, i.lastValue, i.ttsDeviceId]).sort()).toEqual([
      ['batteryVoltage', 1, 3.4, 'eui-70b3d52dd600035a'],
      ['pressEvent', 1, 1, 'eui-70b3d52dd600035a'],
      ['singlePressEventCounter', 1, 16, 'eui-70b3d52dd600035a'],
    ]);
    // Nothing went back down.
    expect(side.downlinks).toEqual([]);
  });

  it('takes RSSI and SNR from the gateway with the best SNR (ties: best RSSI; negative SNR)', async () => {
    const { templateId, side } = await setup([
      { name: 'RSSI', pin: 'V3', type: 'integer', min: -140, max: 0 },
      { name: 'SNR', pin: 'V4', type: 'double', min: -25, max: 20 },
    ]);
    const cases: Array<{ rx: unknown[]; rssi: number; snr: number }> = [
      {
        rx: [
          { gateway_ids: { gateway_id: 'a' }, rssi: -100, snr: -5 },
          { gateway_ids: { gateway_id: 'b' }, rssi: -120, snr: 7.25 },
          { gateway_ids: { gateway_id: 'c' }, rssi: -90 }, // snr absent = 0
          { gateway_ids: { gateway_id: 'd' }, snr: 12 }, // no rssi: skipped
        ],
        rssi: -120,
        snr: 7.25,
      },
      {
        rx: [
          { gateway_ids: { gateway_id: 'a' }, rssi: -110, snr: 3 },
          { gateway_ids: { gateway_id: 'b' }, rssi: -95, snr: 3 },
          { gateway_ids: { gateway_id: 'c' }, rssi: -80, snr: 2.5 },
        ],
        rssi: -95,
        snr: 3,
      },
      {
        rx: [
          { gateway_ids: { gateway_id: 'a' }, rssi: -118, snr: -12.5 },
          { gateway_ids: { gateway_id: 'packetbroker' }, channel_rssi: -121.4, snr: -7.75 },
        ],
        rssi: -121,
        snr: -7.75,
      },
      { rx: [{ gateway_ids: { gateway_id: 'a' }, rssi: -60 }], rssi: -60, snr: 0 },
    ];
    let deviceId = 0;
    for (const c of cases) {
      const u = uplink('dev-rf', {}, { rx: c.rx });
      await side.publish('dev-rf', 'up', u.body);
      if (!deviceId) deviceId = (await deviceFor(t, templateId, 'dev-rf')).id;
      const v = await until(
        () => values(deviceId),
        (x) => x.V3?.ts === u.ts && x.V4?.ts === u.ts,
      );
      expect(v, JSON.stringify(c.rx)).toEqual({ V3: { value: c.rssi, ts: u.ts }, V4: { value: c.snr, ts: u.ts } });
    }
  });

  it('sends one downlink per value not from the device, in the Blynk shape, and never echoes uplinks', async () => {
    const { templateId, id, side } = await setup([
      { name: 'temp', pin: 'V1', type: 'double' },
      { name: 'speed', pin: 'V2', type: 'integer' },
    ]);
    await side.publish('dev-dl', 'up', uplink('dev-dl', { temp: 20.5, speed: 5 }).body);
    const d = await deviceFor(t, templateId, 'dev-dl');
    await waitValue(d.id, 'V2', 5);

    const before = Date.now();
    const w = await t.api('PUT', `/api/v1/devices/${d.id}/values`, { speed: 3 });
    expect(w.status, w.text).toBe(200);
    await until(
      async () => side.downlinks.length,
      (n) => n >= 1,
    );
    // The uplink came first on the same connection: an echo would have arrived before this.
    expect(side.downlinks).toHaveLength(1);
    const dl = side.downlinks[0]!;
    expect(dl.topic).toBe(`v3/${side.uid}/devices/dev-dl/down/push`);
    expect(dl.body).toEqual({
      downlinks: [
        {
          f_port: 1,
          decoded_payload: { name: 'speed', pin: 'v2', ts: expect.any(Number), value: 3 },
          priority: 'NORMAL',
          correlation_ids: [expect.stringMatching(/^pinwheel:dl:[0-9a-f-]{36}$/)],
        },
      ],
    });
    const item = dl.body.downlinks[0];
    expect(Object.keys(item.decoded_payload)).toEqual(['name', 'pin', 'ts', 'value']);
    expect(item.decoded_payload.ts).toBeGreaterThanOrEqual(before);
    expect(item.decoded_payload.ts).toBeLessThanOrEqual(Date.now());
    const tl = await until(
      () => timeline(t, d.id, 'downlink'),
      (x) => x.length === 1,
    );
    expect(tl[0]).toMatchObject({
      type: 'downlink',
      integration: 'tts',
      correlationId: item.correlation_ids[0].slice('pinwheel:dl:'.length),
      pin: 'V2',
      name: 'speed',
      value: 3,
      mode: 'push',
      status: 'published',
    });

    // Another uplink, then a web write: still only the web writes went down.
    // (Its speed is older than the web write, so the latest speed stays 3; temp moves.)
    await side.publish('dev-dl', 'up', uplink('dev-dl', { temp: 21, speed: 6 }).body);
    await waitValue(d.id, 'V1', 21);
    // f_port, priority and confirmed are per card and change without a reconnect.
    const p = await t.api('PATCH', `/api/v1/integrations/tts/${id}`, { fPort: 7, priority: 'HIGH', confirmed: true });
    expect(p.status, p.text).toBe(200);
    expect(p.body).toMatchObject({ fPort: 7, priority: 'HIGH', confirmed: true, status: 'connected' });
    expect((await t.api('PUT', `/api/v1/devices/${d.id}/values`, { V1: 18.5 })).status).toBe(200);
    await until(
      async () => side.downlinks.length,
      (n) => n >= 2,
    );
    await sleep(100);
    expect(side.downlinks).toHaveLength(2);
    expect(side.downlinks[1]!.body.downlinks).toEqual([
      {
        f_port: 7,
        decoded_payload: { name: 'temp', pin: 'v1', ts: expect.any(Number), value: 18.5 },
        priority: 'HIGH',
        confirmed: true,
        correlation_ids: [expect.stringMatching(/^pinwheel:dl:/)],
      },
    ]);
    expect((await integration(t, id)).stats.downlinks).toBe(2);
  });

  it('named downlink shape and coalescing with down/replace', async () => {
    const { templateId, side } = await setup(
      [
        { name: 'temp', pin: 'V1', type: 'double' },
        { name: 'speed', pin: 'V2', type: 'integer' },
      ],
      { downlinkShape: 'named', coalesce: true },
    );
    await side.publish('dev-co', 'up', uplink('dev-co', { temp: 1 }).body);
    const d = await deviceFor(t, templateId, 'dev-co');
    await waitValue(d.id, 'V1', 1);
    for (const body of [{ speed: 1 }, { speed: 2 }, { temp: 3.5 }]) {
      expect((await t.api('PUT', `/api/v1/devices/${d.id}/values`, body)).status).toBe(200);
      const n = side.downlinks.length;
      await until(
        async () => side.downlinks.length,
        (x) => x > n,
      );
    }
    await until(
      async () => side.downlinks.length,
      (n) => n === 3,
    );
    expect(side.downlinks.map((x) => x.topic)).toEqual(Array(3).fill(`v3/${side.uid}/devices/dev-co/down/replace`));
    const payloads = side.downlinks.map((x) => x.body.downlinks.map((dl: any) => dl.decoded_payload));
    expect(payloads).toEqual([[{ speed: 1 }], [{ speed: 2 }], [{ speed: 2 }, { temp: 3.5 }]]);
    expect(side.downlinks[2]!.body.downlinks[0]).toMatchObject({ f_port: 1, priority: 'NORMAL' });
    const tl = await until(
      () => timeline(t, d.id, 'downlink'),
      (x) => x.length === 3,
    );
    expect(tl.map((i) => i.mode)).toEqual(['replace', 'replace', 'replace']);

    // Once TTS reports the pending speed downlink as sent, the next replace no longer carries it.
    const speedCid = side.downlinks[2]!.body.downlinks[0].correlation_ids[0];
    await side.publish('dev-co', 'down/sent', {
      end_device_ids: { device_id: 'dev-co' },
      correlation_ids: [speedCid, 'as:downlink:01X'],
      downlink_sent: { f_port: 1, correlation_ids: [speedCid] },
    });
    await until(
      () => timeline(t, d.id, 'downlink_status'),
      (x) => x.length === 1,
    );
    expect((await t.api('PUT', `/api/v1/devices/${d.id}/values`, { temp: 4 })).status).toBe(200);
    await until(
      async () => side.downlinks.length,
      (n) => n === 4,
    );
    expect(side.downlinks[3]!.body.downlinks.map((dl: any) => dl.decoded_payload)).toEqual([{ temp: 4 }]);
  });

  it('shows down/queued, sent, ack, nack and failed on the timeline by correlation id', async () => {
    const { templateId, side } = await setup([{ name: 'speed', pin: 'V2', type: 'integer' }]);
    await side.publish('dev-st', 'up', uplink('dev-st', { speed: 1 }).body);
    const d = await deviceFor(t, templateId, 'dev-st');
    await waitValue(d.id, 'V2', 1);
    expect((await t.api('PUT', `/api/v1/devices/${d.id}/values`, { V2: 9 })).status).toBe(200);
    await until(
      async () => side.downlinks.length,
      (n) => n === 1,
    );
    const cid: string = side.downlinks[0]!.body.downlinks[0].correlation_ids[0];
    const ours = cid.slice('pinwheel:dl:'.length);
    const env = { end_device_ids: { device_id: 'dev-st' }, received_at: new Date().toISOString() };
    const inner = { f_port: 1, priority: 'NORMAL', correlation_ids: [cid, 'as:downlink:01ABC'] };
    await side.publish('dev-st', 'down/queued', {
      ...env,
      correlation_ids: [cid, 'as:downlink:01ABC'],
      downlink_queued: inner,
    });
    await until(
      () => timeline(t, d.id, 'downlink_status'),
      (x) => x.length === 1,
    );
    // A downlink someone else queued (no id of ours) is not ours to show.
    await side.publish('dev-st', 'down/queued', {
      ...env,
      correlation_ids: ['as:downlink:01OTHER'],
      downlink_queued: { f_port: 1, correlation_ids: ['as:downlink:01OTHER'] },
    });
    for (const status of ['sent', 'ack', 'nack']) {
      await side.publish('dev-st', `down/${status}`, { ...env, correlation_ids: [cid], [`downlink_${status}`]: inner });
      await sleep(30);
    }
    await side.publish('dev-st', 'down/failed', {
      ...env,
      correlation_ids: ['as:downlink:01ABC'],
      downlink_failed: {
        downlink: inner,
        error: {
          namespace: 'pkg/networkserver',
          name: 'application_downlink_too_long',
          message_format: 'application downlink payload is too long',
          code: 3,
        },
      },
    });
    const tl = await until(
      () => timeline(t, d.id, 'downlink_status'),
      (x) => x.length === 5,
    );
    await sleep(100);
    const items = await timeline(t, d.id, 'downlink_status');
    expect(items).toHaveLength(5);
    expect(tl.map((i) => i.status).sort()).toEqual(['ack', 'failed', 'nack', 'queued', 'sent']);
    for (const i of tl) expect(i).toMatchObject({ integration: 'tts', correlationId: ours, pin: 'V2' });
    expect(tl.find((i) => i.status === 'failed')!.error).toBe('application downlink payload is too long');
    expect(tl.filter((i) => i.error !== undefined)).toHaveLength(1);
    // Timeline order on the device: the downlink first, then its statuses.
    const all = (await t.api('GET', `/api/v1/devices/${d.id}/timeline?from=0`)).body.items as any[];
    const types = all.map((i) => i.type).reverse();
    expect(types.indexOf('downlink')).toBeLessThan(types.indexOf('downlink_status'));
  });

  it('malformed messages and values of the wrong type never break the connection', async () => {
    const { templateId, id, side } = await setup([
      { name: 'temp', pin: 'V1', type: 'double' },
      { name: 'count', pin: 'V2', type: 'integer' },
      { name: 'label', pin: 'V3', type: 'string' },
    ]);
    const up = `v3/${side.uid}/devices/dev-bad/up`;
    await side.publishRaw(up, 'not json {');
    await side.publishRaw(up, Buffer.from([0xff, 0xfe, 0x00, 0x01]));
    await side.publishRaw(up, '[1,2,3]');
    await side.publishRaw(up, '{}');
    await side.publishRaw(up, 'null');
    await side.publish('dev-bad', 'up', { end_device_ids: {}, uplink_message: {} });
    await side.publishRaw(`v3/${side.uid}/devices/dev-bad/join`, '{{{');
    await until(
      () => integration(t, id),
      (b) => b.stats.malformed === 7,
    );
    expect(await devicesOf(t, templateId)).toEqual([]);

    // temp and count do not fit; label lands.
    const u1 = uplink('dev-bad', { temp: 'hot', count: 2.5, label: 'fine', extra: { deep: [1, { x: null }] } });
    await side.publish('dev-bad', 'up', u1.body);
    const d = await deviceFor(t, templateId, 'dev-bad');
    await waitValue(d.id, 'V3', 'fine');
    const notes = await until(
      () => timeline(t, d.id, 'integration_error'),
      (x) => x.length === 1,
    );
    expect(notes[0]).toMatchObject({
      type: 'integration_error',
      integration: 'tts',
      integrationId: id,
      kind: 'rejected_values',
      values: [
        { pin: 'V1', name: 'temp', raw: 'hot' },
        { pin: 'V2', name: 'count', raw: 2.5 },
      ],
    });
    expect(notes[0].message).toContain('temp (double)');
    expect(notes[0].message).toContain('count (integer)');
    expect(await values(d.id)).toEqual({ V3: { value: 'fine', ts: u1.ts } });

    // A second bad uplink: its good value lands, the note is rate-limited.
    const u2 = uplink('dev-bad', { temp: [1, 2, 3], count: 'x', label: 'again' });
    await side.publish('dev-bad', 'up', u2.body);
    await waitValue(d.id, 'V3', 'again');
    await side.publish('dev-bad', 'up', uplink('dev-bad', 'just a string' as never).body);
    await side.publishRaw(up, 'garbage again');

    const u3 = uplink('dev-bad', { temp: 22, count: 3 });
    await side.publish('dev-bad', 'up', u3.body);
    const v = await waitValue(d.id, 'V1', 22);
    expect(v).toEqual({
      V1: { value: 22, ts: u3.ts },
      V2: { value: 3, ts: u3.ts },
      V3: { value: 'again', ts: u2.ts },
    });
    const errors = await timeline(t, d.id, 'integration_error');
    expect(errors.filter((e) => e.kind === 'rejected_values')).toHaveLength(1);
    const card = await integration(t, id);
    expect(card).toMatchObject({ status: 'connected', lastError: null });
    expect(card.stats.malformed).toBe(8);
    expect(side.downlinks).toEqual([]);
  });

  it('sets the firmware version and marks the device online on every uplink when the lifecycle logs any data', async () => {
    const { templateId, side } = await setup([{ name: 'temp', pin: 'V1', type: 'double' }]);
    const lc = await t.api('PUT', `/api/v1/templates/${templateId}/lifecycle`, {
      logAnyData: true,
      offlineAfterSeconds: 1,
    });
    expect(lc.status, lc.text).toBe(200);
    await side.publish('dev-fw', 'up', uplink('dev-fw', { 'Blynk Firmware Version': '1.4.2', temp: 1 }).body);
    const d = await deviceFor(t, templateId, 'dev-fw');
    const on = await until(
      () => device(t, d.id),
      (x) => x.online === true && x.firmwareVersion === '1.4.2',
    );
    expect(on.lastSeenAt).toEqual(expect.any(Number));
    // The firmware key is metadata, not a value.
    expect(on.values).toEqual({ V1: expect.objectContaining({ value: 1 }) });
    await until(
      () => device(t, d.id),
      (x) => x.online === false,
      4000,
    );
    // An uplink with nothing that maps still counts as the device speaking.
    await side.publish('dev-fw', 'up', uplink('dev-fw', { 'Blynk Firmware Version': '1.5.0' }).body);
    expect(
      await until(
        () => device(t, d.id),
        (x) => x.online === true && x.firmwareVersion === '1.5.0',
      ),
    ).toMatchObject({ online: true, firmwareVersion: '1.5.0' });
  });

  it('maps nested decoder output, numeric strings, lat/lon, gps_N and explicit mappings; reports the rest', async () => {
    const { templateId, id, side } = await setup(
      [
        { name: 'air_temperature', pin: 'V1', type: 'double' },
        { name: 'first reading', pin: 'V2', type: 'double' },
        { name: 'battery', pin: 'V3', type: 'double' },
        { name: 'pm2.5', pin: 'V4', type: 'integer' },
        { name: 'position', pin: 'V5', type: 'location' },
        { name: 'hum', pin: 'V6', type: 'double' },
        { name: 'idle', pin: 'V7', type: 'integer' },
        { name: 'by pin', pin: 'V8', type: 'integer' },
      ],
      { mapping: { 'sensor.humidity': 'V6', flag: 'idle', 'readings[0].temperature': 'first reading' } },
    );
    const u = uplink('dev-nest', {
      air_temperature: { value: 21.3, unit: '°C' },
      readings: [{ temperature: 19.5 }],
      battery: '3.61',
      'pm2.5': 12,
      gps_1: { latitude: 52.1, longitude: 5.2, altitude: 3 },
      sensor: { humidity: 40.5, status: 'ok' },
      flag: false,
      v8: 4,
      vendor: 'acme',
    });
    await side.publish('dev-nest', 'up', u.body);
    const d = await deviceFor(t, templateId, 'dev-nest');
    const v = await until(
      () => values(d.id),
      (x) => Object.keys(x).length === 8,
    );
    expect(v).toEqual({
      V1: { value: 21.3, ts: u.ts },
      V2: { value: 19.5, ts: u.ts },
      V3: { value: 3.61, ts: u.ts },
      V4: { value: 12, ts: u.ts },
      V5: { value: [5.2, 52.1], ts: u.ts },
      V6: { value: 40.5, ts: u.ts },
      V7: { value: 0, ts: u.ts },
      V8: { value: 4, ts: u.ts },
    });
    const un = await t.api('GET', `/api/v1/integrations/tts/${id}/unmatched`);
    expect(un.body.items.map((i: any) => i.key).sort()).toEqual(['sensor.status', 'vendor']);

    // lat/lon pairs, and [lon, lat] arrays by name; Uppercase V pins.
    const u2 = uplink('dev-nest', { lat: '48.85', lon: 2.35, V8: 5 });
    await side.publish('dev-nest', 'up', u2.body);
    const v2 = await until(
      () => values(d.id),
      (x) => x.V8.value === 5,
    );
    expect(v2.V5).toEqual({ value: [2.35, 48.85], ts: u2.ts });
    const u3 = uplink('dev-nest', { position: [-73.935242, 40.73061], gps_2: { latitude: 1, longitude: 1 } });
    await side.publish('dev-nest', 'up', u3.body);
    expect((await waitValue(d.id, 'V5', [-73.935242, 40.73061])).V5.ts).toBe(u3.ts);

    // flatten off: nested objects are neither flattened nor unwrapped.
    expect((await t.api('PATCH', `/api/v1/integrations/tts/${id}`, { flatten: false, mapping: {} })).status).toBe(200);
    const u4 = uplink('dev-nest', { air_temperature: { value: 30, unit: '°C' }, battery: 3.3 });
    await side.publish('dev-nest', 'up', u4.body);
    await waitValue(d.id, 'V3', 3.3);
    expect((await values(d.id)).V1.value).toBe(21.3);
  });

  it('notes a missing or failed payload formatter on the timeline', async () => {
    const { templateId, id, side } = await setup([{ name: 'RSSI', pin: 'V3', type: 'integer' }]);
    const u = uplink('dev-nf', undefined, { fPort: 2, frmPayload: 'sQAAEAHlANcB' });
    await side.publish('dev-nf', 'up', u.body);
    const d = await deviceFor(t, templateId, 'dev-nf');
    const notes = await until(
      () => timeline(t, d.id, 'integration_error'),
      (x) => x.length === 1,
    );
    expect(notes[0]).toMatchObject({ integration: 'tts', integrationId: id, kind: 'formatter_missing' });
    expect(notes[0].message).toContain('f_port 2');
    expect(notes[0].message).toContain('decoded_payload');
    // Radio data still lands.
    expect((await waitValue(d.id, 'V3', -70)).V3.ts).toBe(u.ts);
    // A MAC-only uplink (no f_port, no payload) is not a formatter problem; an empty decode neither.
    const mac = uplink('dev-nf', undefined, { fPort: 0, frmPayload: '' });
    const macMsg = mac.body.uplink_message as Record<string, unknown>;
    delete macMsg.f_port;
    delete macMsg.frm_payload;
    await side.publish('dev-nf', 'up', mac.body);
    await until(
      () => values(d.id),
      (x) => x.V3.ts === mac.ts,
    );
    expect(await timeline(t, d.id, 'integration_error')).toHaveLength(1);
  });

  it('join and location/solved events update the device', async () => {
    const { templateId, side } = await setup([
      { name: 'temp', pin: 'V1', type: 'double' },
      { name: 'where', pin: 'V5', type: 'location' },
    ]);
    // A join of an unknown device creates nothing (devices are created on data).
    await side.publish('dev-unknown', 'join', {
      end_device_ids: { device_id: 'dev-unknown' },
      received_at: new Date().toISOString(),
      join_accept: { session_key_id: 'AAA=', received_at: new Date().toISOString() },
    });
    await side.publish('dev-geo', 'up', uplink('dev-geo', { temp: 1 }).body);
    const d = await deviceFor(t, templateId, 'dev-geo');
    const joinAt = Date.now() - 500;
    await side.publish('dev-geo', 'join', {
      end_device_ids: { device_id: 'dev-geo' },
      correlation_ids: ['as:up:01J'],
      received_at: new Date(joinAt).toISOString().replace('Z', '000001Z'),
      join_accept: { session_key_id: 'AAA=', received_at: new Date(joinAt).toISOString() },
    });
    const joins = await until(
      () => timeline(t, d.id, 'join'),
      (x) => x.length === 1,
    );
    expect(joins[0]).toMatchObject({ type: 'join', integration: 'tts', ts: joinAt });

    const locAt = Date.now() - 200;
    await side.publish('dev-geo', 'location/solved', {
      end_device_ids: { device_id: 'dev-geo' },
      received_at: new Date(locAt).toISOString(),
      location_solved: {
        service: 'frm-payload',
        location: { latitude: 48.8566, longitude: 2.3522, altitude: 35, source: 'SOURCE_GPS' },
      },
    });
    expect((await waitValue(d.id, 'V5', [2.3522, 48.8566])).V5).toEqual({ value: [2.3522, 48.8566], ts: locAt });
    const solved = await until(
      () => timeline(t, d.id, 'location_solved'),
      (x) => x.length === 1,
    );
    expect(solved[0]).toMatchObject({
      type: 'location_solved',
      integration: 'tts',
      service: 'frm-payload',
      latitude: 48.8566,
      longitude: 2.3522,
      ts: locAt,
    });
    // A solved location without numbers is ignored.
    await side.publish('dev-geo', 'location/solved', {
      end_device_ids: { device_id: 'dev-geo' },
      location_solved: { service: 'x', location: { latitude: 'north' } },
    });
    await sleep(100);
    expect(await timeline(t, d.id, 'location_solved')).toHaveLength(1);
    expect(await devicesOf(t, templateId)).toHaveLength(1);
    // None of this is sent back down.
    expect(side.downlinks).toEqual([]);
  });
});
