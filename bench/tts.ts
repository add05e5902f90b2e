/**
 * TTS section of `npm run bench`: uplinks/s that Pinwheel ingests from a local MQTT broker
 * (its The Things Stack integration) against the receive rate of a raw MQTT.js subscriber on
 * the same broker, plus the latency uplink → WebSocket "value" message.
 *
 * - The broker is aedes in a child process (bench/broker.ts) on 127.0.0.1; it accepts any
 *   login, so the integration's app@tenant + API key pass.
 * - Pinwheel runs as a child process with SQLite (same settings as the HTTP section), one
 *   template (temperature double V1, humidity integer V2, RSSI integer V3, SNR double V4),
 *   one TTS application card pointing at the broker, and BENCH_TTS_DEVICES devices that are
 *   auto-created by one uplink each before measuring.
 * - Uplinks are §3.4-shaped JSON (decoded_payload, rx_metadata, settings...), QoS 0, round-
 *   robin over the devices; received_at = publish time (ms), temperature = sequence + 0.5, so
 *   every receiver can tell which uplink arrived and how late.
 * - Load is closed-loop: the publisher keeps at most BENCH_TTS_WINDOW uplinks unanswered (not
 *   yet seen by the receiver), so the rate is what the receiver sustains, not what the broker
 *   can buffer. If nothing arrives for a second the outstanding ones are counted as lost
 *   (QoS 0) and the window moves on.
 * - Phases: (1) baseline: a raw MQTT.js subscriber to v3/+/devices/+/up, before Pinwheel's
 *   integration exists; (2) Pinwheel: the same load, counted as WebSocket value messages for
 *   V1 (one per uplink) on a socket subscribed to every device; (3) latency at a fixed rate of
 *   half the rate measured in (2), open loop, for BENCH_TTS_LATENCY_SECONDS.
 *
 * Environment (all optional):
 *   BENCH_TTS_UPLINKS=50000 BENCH_TTS_WARMUP=2000 BENCH_TTS_DEVICES=50 BENCH_TTS_WINDOW=200
 *   BENCH_TTS_MAX_SECONDS=30 (per phase) BENCH_TTS_LATENCY_SECONDS=5
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';

export interface TtsBenchContext {
  root: string;
  host: string;
  /** A fresh directory for Pinwheel's data (removed by the caller). */
  dataDir: string;
  admin: { email: string; password: string };
  log(msg: string): void;
  freePort(): Promise<number>;
  startPinwheel(port: number, dataDir: string): ChildProcess;
  waitHealthy(base: string, child: ChildProcess): Promise<void>;
  api<T>(base: string, method: string, url: string, body?: unknown, token?: string): Promise<T>;
  stopChild(child: ChildProcess, graceMs?: number): Promise<void>;
  track(child: ChildProcess): ChildProcess;
  pipeOutput(child: ChildProcess, name: string, onLine?: (line: string) => void): void;
  procCpuSeconds(pid: number | undefined): number | undefined;
}

function intEnv(name: string, def: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${raw}`);
  return n;
}

export const TTS_UPLINKS = intEnv('BENCH_TTS_UPLINKS', 50_000);
export const TTS_WARMUP = intEnv('BENCH_TTS_WARMUP', 2_000, 0);
export const TTS_DEVICES = intEnv('BENCH_TTS_DEVICES', 50);
export const TTS_WINDOW = intEnv('BENCH_TTS_WINDOW', 200);
export const TTS_MAX_SECONDS = intEnv('BENCH_TTS_MAX_SECONDS', 30);
export const TTS_LATENCY_SECONDS = intEnv('BENCH_TTS_LATENCY_SECONDS', 5, 0);
/** Upper bound of the TTS section's wall time, for the caller's watchdog. */
export const TTS_BUDGET_SECONDS = 5 * TTS_MAX_SECONDS + TTS_LATENCY_SECONDS + 120;

const TARGET_RATIO = 0.6;
const UID = 'bench-app@bench';
const API_KEY = 'NNSXS.BENCH.ANYTHING';
const BATCH = 25;
/** No receive for this long while uplinks are outstanding: count them as lost. */
const STALL_MS = 1000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const tick = () => new Promise<void>((r) => setImmediate(r));

const ttsDeviceId = (i: number) => `bench-dev-${String(i).padStart(4, '0')}`;
const devEui = (i: number) => `70B3D5BE0C${i.toString(16).toUpperCase().padStart(6, '0')}`;

/** A §3.4-shaped uplink; received_at = now (ms precision), temperature = seq + 0.5. */
function uplinkJson(device: number, seq: number, now: number): string {
  const iso = new Date(now).toISOString();
  return JSON.stringify({
    end_device_ids: {
      device_id: ttsDeviceId(device),
      application_ids: { application_id: 'bench-app' },
      dev_eui: devEui(device),
      join_eui: 'EC656E0000000001',
      dev_addr: '27FE87F6',
    },
    correlation_ids: [`gs:uplink:BENCH${seq}`, `as:up:BENCH${seq}`],
    received_at: iso,
    uplink_message: {
      session_key_id: 'aAixKtmNZUKQXd4GqpHDsw==',
      f_port: 2,
      f_cnt: seq + 1,
      frm_payload: 'sQAAEAHlANcB',
      decoded_payload: {
        temperature: seq + 0.5,
        humidity: 40 + (seq % 50),
        batteryVoltage: 3.4,
        pressEvent: 1,
      },
      rx_metadata: [
        {
          gateway_ids: { gateway_id: 'ttig-52ec', eui: '58A0CBFFFE8052EC' },
          time: iso,
          timestamp: 1276394164,
          rssi: -31 - (seq % 60),
          channel_rssi: -31 - (seq % 60),
          snr: 9.5 - (seq % 20),
          uplink_token: 'ChcKFQoJdHRpZy01MmVjEghYoMv//oBS7BC09dDgBBoMCOW0/r8GEO6mnPcCIKCelfiSJQ==',
          received_at: iso,
        },
        {
          gateway_ids: { gateway_id: 'packetbroker' },
          rssi: -112,
          channel_rssi: -112,
          snr: -4.25,
          received_at: iso,
        },
      ],
      settings: {
        data_rate: { lora: { bandwidth: 125000, spreading_factor: 7, coding_rate: '4/5' } },
        frequency: '867700000',
        timestamp: 1276394164,
        time: iso,
      },
      received_at: iso,
      consumed_airtime: '0.061696s',
      version_ids: {
        brand_id: 'mclimate',
        model_id: 'mc-button',
        hardware_version: '1.2',
        firmware_version: '1.2',
        band_id: 'EU_863_870',
      },
      network_ids: { net_id: '000013', ns_id: 'EC656E000010181D', tenant_id: 'bench', cluster_id: 'eu1' },
    },
  });
}

/** What one measured phase saw: which uplinks arrived, when, and how late. */
class Phase {
  readonly seen: Uint8Array;
  received = 0;
  duplicates = 0;
  latencies: number[] = [];
  lastAt = 0;
  private waiter: (() => void) | null = null;

  constructor(
    readonly startSeq: number,
    readonly count: number,
  ) {
    this.seen = new Uint8Array(count);
  }

  /** A receiver saw uplink `seq`, stamped `ts` (its received_at, Unix ms). */
  hit(seq: number, ts: number): void {
    const i = seq - this.startSeq;
    if (!(i >= 0 && i < this.count)) return;
    if (this.seen[i]) {
      this.duplicates += 1;
      return;
    }
    this.seen[i] = 1;
    this.received += 1;
    const now = Date.now();
    this.lastAt = now;
    this.latencies.push(now - ts);
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Resolves true on the next receive, false after `ms` without one. */
  progress(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = null;
        resolve(false);
      }, ms);
      this.waiter = () => {
        clearTimeout(t);
        resolve(true);
      };
    });
  }
}

interface PhaseResult {
  name: string;
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
  cpu: Record<string, number | undefined>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export async function runTtsBench(ctx: TtsBenchContext): Promise<string[]> {
  const failures: string[] = [];
  const { host, log } = ctx;
  const clients: Array<MqttClient | WebSocket> = [];
  let broker: ChildProcess | undefined;
  let pw: ChildProcess | undefined;

  let active: Phase | null = null;
  let seq = 0;
  const onRawUplink = (payload: Buffer) => {
    if (!active) return;
    const body = JSON.parse(payload.toString('utf8')) as {
      received_at: string;
      uplink_message: { decoded_payload: { temperature: number } };
    };
    active.hit(body.uplink_message.decoded_payload.temperature - 0.5, Date.parse(body.received_at));
  };

  const cpuOf = (pids: Record<string, number | undefined>) => {
    const out: Record<string, number | undefined> = {};
    for (const [k, pid] of Object.entries(pids)) out[k] = ctx.procCpuSeconds(pid);
    const self = process.cpuUsage();
    out.bench = (self.user + self.system) / 1e6;
    return out;
  };

  /**
   * Publishes `count` uplinks and waits for them to arrive. Closed loop (window) unless
   * `rate` is given, then open loop at that rate.
   */
  const drive = async (
    name: string,
    pub: MqttClient,
    count: number,
    pids: Record<string, number | undefined>,
    opts: { rate?: number; maxMs?: number } = {},
  ): Promise<PhaseResult> => {
    const phase = new Phase(seq, count);
    active = phase;
    const cpu0 = cpuOf(pids);
    const t0 = Date.now();
    const deadline = t0 + (opts.maxMs ?? TTS_MAX_SECONDS * 1000);
    let sent = 0;
    let assumedLost = 0;
    const publishOne = () => {
      const s = seq++;
      pub.publish(`v3/${UID}/devices/${ttsDeviceId(s % TTS_DEVICES)}/up`, uplinkJson(s % TTS_DEVICES, s, Date.now()), {
        qos: 0,
      });
      sent += 1;
    };
    if (opts.rate) {
      // Open loop: every 10 ms, catch up with the schedule.
      while (sent < count && Date.now() < deadline) {
        const due = Math.min(count, Math.floor(((Date.now() - t0) / 1000) * opts.rate));
        while (sent < due) publishOne();
        await sleep(10);
      }
    } else {
      while (sent < count && Date.now() < deadline) {
        const room = TTS_WINDOW - (sent - phase.received - assumedLost);
        if (room <= 0) {
          if (!(await phase.progress(STALL_MS))) assumedLost = sent - phase.received;
          continue;
        }
        const n = Math.min(room, BATCH, count - sent);
        for (let i = 0; i < n; i++) publishOne();
        await tick();
      }
    }
    // Drain: wait until everything arrived or nothing has for a while.
    while (phase.received < sent && (await phase.progress(2 * STALL_MS))) {}
    active = null;
    const cpu1 = cpuOf(pids);
    const end = phase.lastAt || Date.now();
    const seconds = (end - t0) / 1000;
    const sorted = Float64Array.from(phase.latencies).sort();
    const lat = Array.from(sorted);
    const wall = (Date.now() - t0) / 1000;
    const cpu: Record<string, number | undefined> = {};
    for (const k of Object.keys(cpu1)) {
      const a = cpu0[k];
      const b = cpu1[k];
      cpu[k] = a !== undefined && b !== undefined ? (b - a) / wall : undefined;
    }
    seq = phase.startSeq + count; // a phase cut short by its deadline leaves a gap, not overlap
    return {
      name,
      sent,
      received: phase.received,
      lost: sent - phase.received,
      duplicates: phase.duplicates,
      seconds,
      rate: seconds > 0 ? phase.received / seconds : 0,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: lat.length ? lat[lat.length - 1]! : Number.NaN,
      cpu,
    };
  };

  const connectMqtt = async (port: number, id: string): Promise<MqttClient> => {
    const c = mqtt.connect(`mqtt://${host}:${port}`, {
      clientId: `bench-${id}-${process.pid}`,
      username: UID,
      password: API_KEY,
      protocolVersion: 4,
      reconnectPeriod: 0,
      clean: true,
    });
    clients.push(c);
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    return c;
  };

  try {
    // Broker
    const brokerChild = ctx.track(
      spawn(process.execPath, ['--import', 'tsx', 'bench/broker.ts', '0'], {
        cwd: ctx.root,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    broker = brokerChild;
    const brokerPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('broker did not print its port')), 15_000);
      brokerChild.once('exit', (code) => reject(new Error(`broker exited with code ${code}`)));
      ctx.pipeOutput(brokerChild, 'broker', (line) => {
        const n = Number(line.trim());
        if (Number.isInteger(n) && n > 0) {
          clearTimeout(timer);
          resolve(n);
        }
      });
    });

    // Pinwheel, idle until its integration is created after the baseline.
    const pwPort = await ctx.freePort();
    const base = `http://${host}:${pwPort}`;
    pw = ctx.startPinwheel(pwPort, ctx.dataDir);
    await ctx.waitHealthy(base, pw);
    log(`tts: broker on ${host}:${brokerPort}, pinwheel on ${base}`);

    const pub = await connectMqtt(brokerPort, 'pub');

    // 1. Baseline: raw MQTT.js subscriber.
    const raw = await connectMqtt(brokerPort, 'raw');
    await new Promise<void>((resolve, reject) =>
      raw.subscribe('v3/+/devices/+/up', { qos: 0 }, (err) => (err ? reject(err) : resolve())),
    );
    raw.on('message', (_topic, payload) => onRawUplink(payload));
    const pids = { broker: broker.pid, pinwheel: pw.pid };
    if (TTS_WARMUP > 0) {
      log(`tts: raw warm-up ${TTS_WARMUP} uplinks`);
      await drive('raw warm-up', pub, TTS_WARMUP, pids);
    }
    log(`tts: raw MQTT.js subscriber, ${TTS_UPLINKS} uplinks (window ${TTS_WINDOW})`);
    const rawResult = await drive('raw MQTT.js subscriber', pub, TTS_UPLINKS, pids);
    await raw.endAsync(true);

    // 2. Pinwheel: template, application card, devices, WebSocket.
    const { token } = await ctx.api<{ token: string }>(base, 'POST', '/api/v1/auth/login', ctx.admin);
    const template = await ctx.api<{ id: string }>(base, 'POST', '/api/v1/templates', { name: 'Bench TTS' }, token);
    for (const d of [
      { name: 'temperature', pin: 'V1', type: 'double' },
      { name: 'humidity', pin: 'V2', type: 'integer' },
      { name: 'RSSI', pin: 'V3', type: 'integer', min: -140, max: 0 },
      { name: 'SNR', pin: 'V4', type: 'double', min: -25, max: 20 },
    ]) {
      await ctx.api(base, 'POST', `/api/v1/templates/${template.id}/datastreams`, d, token);
    }
    const integration = await ctx.api<{ id: number }>(
      base,
      'POST',
      '/api/v1/integrations/tts',
      { templateId: template.id, host, port: brokerPort, tls: false, username: UID, apiKey: API_KEY },
      token,
    );
    const card = () =>
      ctx.api<{ status: string; lastError: string | null; stats: { uplinks: number; malformed: number } }>(
        base,
        'GET',
        `/api/v1/integrations/tts/${integration.id}`,
        undefined,
        token,
      );
    const until = async (what: string, ok: () => Promise<boolean>, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await ok())) {
        if (Date.now() > deadline) throw new Error(`tts: timed out waiting for ${what}`);
        await sleep(100);
      }
    };
    await until('the integration to connect', async () => (await card()).status === 'connected');
    log('tts: integration connected; creating devices by their first uplink');
    for (let i = 0; i < TTS_DEVICES; i++) {
      pub.publish(`v3/${UID}/devices/${ttsDeviceId(i)}/up`, uplinkJson(i, -1 - i, Date.now()), { qos: 0 });
    }
    await until(`${TTS_DEVICES} devices`, async () => {
      const r = await ctx.api<{ total: number }>(
        base,
        'GET',
        `/api/v1/devices?templateId=${template.id}&limit=1`,
        undefined,
        token,
      );
      return r.total >= TTS_DEVICES;
    });

    const ws = new WebSocket(`ws://${host}:${pwPort}/api/v1/ws?token=${encodeURIComponent(token)}`);
    clients.push(ws);
    let wsMessages = 0;
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe' })));
      ws.on('message', (data) => {
        wsMessages += 1;
        const msg = JSON.parse(String(data)) as { type: string; pin?: string; value?: unknown; ts?: number };
        if (msg.type === 'subscribed') resolve();
        else if (msg.type === 'value' && msg.pin === 'V1' && active && typeof msg.value === 'number') {
          active.hit(msg.value - 0.5, msg.ts!);
        }
      });
    });

    const before = await card();
    if (TTS_WARMUP > 0) {
      log(`tts: pinwheel warm-up ${TTS_WARMUP} uplinks`);
      await drive('pinwheel warm-up', pub, TTS_WARMUP, pids);
    }
    log(`tts: pinwheel → WebSocket, ${TTS_UPLINKS} uplinks (window ${TTS_WINDOW})`);
    const wsBefore = wsMessages;
    const pwResult = await drive('pinwheel → WebSocket', pub, TTS_UPLINKS, pids);
    const wsDuring = wsMessages - wsBefore;

    // 3. Latency at a fixed, sustainable rate.
    let fixed: PhaseResult | undefined;
    if (TTS_LATENCY_SECONDS > 0 && pwResult.rate > 0) {
      const rate = Math.max(1, Math.floor(pwResult.rate / 2));
      log(`tts: pinwheel at a fixed ${rate} uplinks/s for ${TTS_LATENCY_SECONDS} s`);
      fixed = await drive(`pinwheel @ ${rate}/s (open loop)`, pub, rate * TTS_LATENCY_SECONDS, pids, {
        rate,
        maxMs: (TTS_LATENCY_SECONDS + 5) * 1000,
      });
    }
    await sleep(300);
    const after = await card();

    // Report
    const rows = [rawResult, pwResult, ...(fixed ? [fixed] : [])];
    const header = [
      'target',
      'uplinks/s',
      'sent',
      'received',
      'lost',
      'p50 ms',
      'p99 ms',
      'max ms',
      'broker CPU',
      'pinwheel CPU',
      'bench CPU',
    ];
    const pct = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v * 100).toFixed(0)}%`);
    const body = rows.map((r) => [
      r.name,
      r.rate.toFixed(0),
      String(r.sent),
      String(r.received),
      String(r.lost),
      r.p50.toFixed(1),
      r.p99.toFixed(1),
      r.max.toFixed(1),
      pct(r.cpu.broker),
      pct(r.cpu.pinwheel),
      pct(r.cpu.bench),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    console.log('');
    console.log(
      `The Things Stack uplink ingest: aedes broker (child process) on ${host}, QoS 0, ${TTS_DEVICES} devices, ` +
        `${TTS_UPLINKS} uplinks per phase after ${TTS_WARMUP} warm-up, closed loop with at most ${TTS_WINDOW} outstanding`,
    );
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const b of body) console.log(line(b));
    console.log('');
    const ratio = rawResult.rate > 0 ? pwResult.rate / rawResult.rate : 0;
    console.log(
      `ratio pinwheel/raw (uplinks/s): ${ratio.toFixed(2)}  (target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'MET' : 'NOT MET'})`,
    );
    console.log(
      `p99 uplink → WebSocket latency: ${pwResult.p99.toFixed(1)} ms under closed-loop load (window ${TTS_WINDOW})` +
        (fixed
          ? `, ${fixed.p99.toFixed(1)} ms at a fixed ${fixed.name.split(' ')[2]} (p50 ${fixed.p50.toFixed(1)} ms)`
          : ''),
    );
    const accepted = after.stats.uplinks - before.stats.uplinks;
    const pwSent = TTS_WARMUP + pwResult.sent + (fixed?.sent ?? 0);
    console.log(
      `pinwheel integration counted ${accepted} uplinks of ${pwSent} published (warm-up + measured + fixed rate), ` +
        `${after.stats.malformed - before.stats.malformed} malformed; lost (QoS 0): raw ${rawResult.lost}, ` +
        `pinwheel ${pwResult.lost}${fixed ? ` + ${fixed.lost}` : ''}; duplicates: ${pwResult.duplicates}; ` +
        `WebSocket messages during the measured phase: ${wsDuring} (${(wsDuring / Math.max(1, pwResult.received)).toFixed(1)} per uplink)`,
    );
    if (after.status !== 'connected') failures.push(`tts: integration ended ${after.status}: ${after.lastError}`);
    if (pwResult.received === 0) failures.push('tts: no uplink reached the WebSocket');
    if (rawResult.received === 0) failures.push('tts: the raw subscriber received nothing');
  } finally {
    for (const c of clients) {
      if (c instanceof WebSocket) c.terminate();
      else c.end(true);
    }
    if (pw) await ctx.stopChild(pw, 15_000);
    if (broker) await ctx.stopChild(broker, 3000);
  }
  return failures;
}
