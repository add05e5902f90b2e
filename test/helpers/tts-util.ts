import { expect } from 'vitest';
import WebSocket from 'ws';
import type { TestApp } from './harness.ts';
import type { TtsSide } from './tts-side.ts';

/** Polls `fn` until `ok` holds; throws with the last value after `ms`. */
export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000, step = 25): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms; last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, step));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A template with datastreams and no device. */
export async function makeTemplate(t: TestApp, datastreams: Array<Record<string, unknown>>): Promise<string> {
  const tpl = await t.api('POST', '/api/v1/templates', { name: `TTS ${Math.random().toString(36).slice(2, 8)}` });
  expect(tpl.status, tpl.text).toBe(201);
  for (const ds of datastreams) {
    const r = await t.api('POST', `/api/v1/templates/${tpl.body.id}/datastreams`, ds);
    expect(r.status, r.text).toBe(201);
  }
  return tpl.body.id as string;
}

export const integration = async (t: TestApp, id: number) => {
  const r = await t.api('GET', `/api/v1/integrations/tts/${id}`);
  expect(r.status, r.text).toBe(200);
  return r.body;
};

export const waitStatus = (t: TestApp, id: number, status: string, ms = 5000) =>
  until(
    () => integration(t, id),
    (b) => b.status === status,
    ms,
  );

/** Creates the application card for `side` on `templateId` and waits until it is connected. */
export async function connectTts(
  t: TestApp,
  side: TtsSide,
  templateId: string,
  extra: Record<string, unknown> = {},
): Promise<number> {
  const r = await t.api('POST', '/api/v1/integrations/tts', {
    templateId,
    host: side.host,
    port: side.port,
    tls: false,
    username: side.uid,
    apiKey: side.apiKey,
    ...extra,
  });
  expect(r.status, r.text).toBe(201);
  await waitStatus(t, r.body.id, 'connected');
  return r.body.id as number;
}

export const devicesOf = async (t: TestApp, templateId: string): Promise<any[]> =>
  (await t.api('GET', `/api/v1/devices?templateId=${templateId}`)).body.items;

/** Waits for the device a TTS device id was mapped to (auto-created or found). */
export async function deviceFor(t: TestApp, templateId: string, ttsId: string, ms = 5000): Promise<any> {
  const list = await until(
    () => devicesOf(t, templateId),
    (items) => items.some((d) => d.metadata['TheThingsNetwork Device'] === ttsId),
    ms,
  );
  return list.find((d) => d.metadata['TheThingsNetwork Device'] === ttsId);
}

export const device = async (t: TestApp, id: number) => (await t.api('GET', `/api/v1/devices/${id}`)).body;

export const timeline = async (t: TestApp, id: number, type: string): Promise<any[]> =>
  (await t.api('GET', `/api/v1/devices/${id}/timeline?from=0&type=${type}`)).body.items;

let lastTs = 0;
/** A minimal TTS `up` body. `receivedAt` defaults to a fresh, strictly increasing time. */
export function uplink(
  deviceId: string,
  decoded: Record<string, unknown> | undefined,
  opts: { rx?: unknown[]; receivedAt?: number; fPort?: number; frmPayload?: string } = {},
): { body: Record<string, unknown>; ts: number } {
  const ts = opts.receivedAt ?? Math.max(lastTs + 1, Date.now() - 1000);
  if (opts.receivedAt === undefined) lastTs = ts;
  const iso = new Date(ts).toISOString().replace('Z', '123456Z');
  return {
    ts,
    body: {
      end_device_ids: {
        device_id: deviceId,
        application_ids: { application_id: 'app' },
        dev_eui: '70B3D52DD600035A',
      },
      correlation_ids: ['as:up:01TEST'],
      received_at: iso,
      uplink_message: {
        f_port: opts.fPort ?? 1,
        f_cnt: 3,
        frm_payload: opts.frmPayload ?? 'AQID',
        ...(decoded !== undefined ? { decoded_payload: decoded } : {}),
        rx_metadata: opts.rx ?? [{ gateway_ids: { gateway_id: 'gw-1' }, rssi: -70, channel_rssi: -70, snr: 8 }],
        received_at: iso,
      },
    },
  };
}

type Msg = Record<string, any>;

/** A WebSocket client that records every message. */
export class WsClient {
  readonly messages: Msg[] = [];
  private waiters: Array<() => void> = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as Msg);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }
  async waitFor(pred: (m: Msg) => boolean, ms = 5000, from = 0): Promise<Msg> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.slice(from).find(pred);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${ms} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  close(): void {
    this.ws.close();
  }
}

export function openWs(t: TestApp): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/api/v1/ws?token=${encodeURIComponent(t.adminToken)}`);
    const c = new WsClient(ws);
    ws.once('open', () => resolve(c));
    ws.once('error', reject);
  });
}
