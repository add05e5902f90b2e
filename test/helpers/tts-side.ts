import crypto from 'node:crypto';
import mqtt from 'mqtt';
import { startFakeTts } from './fake-tts.ts';

/**
 * "The Things Stack side" of a test: where uplinks and downlink events come from and where
 * downlinks land. Either the in-process fake (auth like TTS) or a real Mosquitto broker
 * (TEST_MQTT_URL, anonymous) with an MQTT.js client playing the Application Server.
 */
export interface TtsSide {
  readonly kind: 'fake' | 'mosquitto';
  host: string;
  port: number;
  /** `app@tenant`, unique per side so parallel runs on one broker do not cross. */
  uid: string;
  apiKey: string;
  /** down/push and down/replace publishes received: topic and parsed body, in arrival order. */
  downlinks: Array<{ topic: string; body: any }>;
  /** Publishes `body` as JSON on v3/{uid}/devices/{deviceId}/{event}. */
  publish(deviceId: string, event: string, body: unknown): Promise<void>;
  /** Publishes raw bytes on a full topic. */
  publishRaw(topic: string, payload: string | Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface SideKind {
  name: 'fake' | 'mosquitto';
  start(): Promise<TtsSide>;
}

export const uniqueUid = () => `app-${crypto.randomBytes(5).toString('hex')}@tenant`;

const isDownlinkTopic = (topic: string) => /\/down\/(push|replace)$/.test(topic);

function parse(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return payload.toString('utf8');
  }
}

export async function startFakeSide(): Promise<TtsSide> {
  const uid = uniqueUid();
  const fake = await startFakeTts({ uid, apiKey: `NNSXS.${crypto.randomBytes(8).toString('hex').toUpperCase()}` });
  return {
    kind: 'fake',
    host: '127.0.0.1',
    port: fake.port,
    uid,
    apiKey: fake.apiKey,
    downlinks: fake.downlinks,
    publish: (deviceId, event, body) => fake.publish(deviceId, event, body),
    publishRaw: (topic, payload) => fake.publishRaw(topic, payload),
    close: () => fake.close(),
  };
}

export async function startMosquittoSide(url: string): Promise<TtsSide> {
  const uid = uniqueUid();
  const u = new URL(url);
  const client = await mqtt.connectAsync(url, {
    clientId: `tts-side-${crypto.randomBytes(4).toString('hex')}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
  });
  const downlinks: TtsSide['downlinks'] = [];
  client.on('message', (topic, payload) => {
    if (isDownlinkTopic(topic)) downlinks.push({ topic, body: parse(payload) });
  });
  await client.subscribeAsync(`v3/${uid}/devices/+/down/#`, { qos: 0 });
  const publishRaw = async (topic: string, payload: string | Buffer) => {
    // QoS 1 towards the broker: resolved once Mosquitto has the message.
    await client.publishAsync(topic, payload, { qos: 1 });
  };
  return {
    kind: 'mosquitto',
    host: u.hostname,
    port: Number(u.port || 1883),
    uid,
    // Mosquitto runs anonymous: any key is accepted.
    apiKey: `NNSXS.${crypto.randomBytes(8).toString('hex').toUpperCase()}`,
    downlinks,
    publish: (deviceId, event, body) => publishRaw(`v3/${uid}/devices/${deviceId}/${event}`, JSON.stringify(body)),
    publishRaw,
    close: () => client.endAsync(true),
  };
}

/** The fake always; Mosquitto too when TEST_MQTT_URL is set. Use with describe.each. */
export function ttsSides(): SideKind[] {
  const out: SideKind[] = [{ name: 'fake', start: startFakeSide }];
  const url = process.env.TEST_MQTT_URL;
  if (url) out.push({ name: 'mosquitto', start: () => startMosquittoSide(url) });
  return out;
}
