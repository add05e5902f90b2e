import crypto from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { IntegrationStatus } from '../../store/integrations-repo.ts';
import { type BackoffOptions, reconnectDelay } from './backoff.ts';
import type { TtsSettings } from './settings.ts';
import { subscriptions } from './topics.ts';

export interface ConnectionEvents {
  onStatus(status: IntegrationStatus, lastError: string | null): void;
  onMessage(topic: string, payload: Buffer): void;
}

/** Turns an MQTT error into words a user can act on. */
export function describeError(err: Error & { code?: unknown }): { message: string; auth: boolean } {
  const code = err.code;
  if (code === 5 || code === 4 || /not authori[sz]ed|bad user ?name or password/i.test(err.message)) {
    return {
      message: 'The Things Stack refused the login: check the username (app-id@tenant) and the API key',
      auth: true,
    };
  }
  if (code === 3 || /server unavailable/i.test(err.message)) {
    return { message: 'The Things Stack is unavailable or rate-limiting this application', auth: false };
  }
  if (code === 'ECONNREFUSED') return { message: `Connection refused (${err.message})`, auth: false };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { message: `Unknown host (${err.message})`, auth: false };
  return { message: err.message || 'Connection failed', auth: false };
}

/**
 * One MQTT session with a The Things Stack application. Status: not_connected until the
 * first attempt ends, connected, or broken with the reason; while broken it reconnects by
 * itself with exponential back-off and jitter (longer after a refused login).
 */
export class TtsConnection {
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private stopped = false;
  private lastErr: { message: string; auth: boolean } | null = null;
  status: IntegrationStatus = 'not_connected';
  lastError: string | null = null;
  /** Connection attempts made (tests and diagnostics). */
  attempts = 0;

  constructor(
    private readonly id: number,
    private readonly settings: TtsSettings,
    private readonly apiKey: string,
    private readonly events: ConnectionEvents,
    private readonly backoff: BackoffOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  /** Retry at once (the "Connect" button). */
  reconnectNow(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    this.close();
    this.open();
  }

  private open(): void {
    const s = this.settings;
    const url = `${s.tls ? 'mqtts' : 'mqtt'}://${s.host}:${s.port}`;
    const options: IClientOptions = {
      username: s.username,
      password: this.apiKey,
      clientId: `pinwheel-${this.id}-${crypto.randomBytes(4).toString('hex')}`,
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      connectTimeout: 15_000,
      reconnectPeriod: 0, // reconnects are ours: back-off with jitter
      resubscribe: false,
    };
    this.attempts += 1;
    this.lastErr = null;
    const client = mqtt.connect(url, options);
    this.client = client;
    client.on('connect', () => {
      if (client !== this.client) return;
      client.subscribe(subscriptions(s.username), { qos: 0 }, (err, granted) => {
        if (client !== this.client) return;
        const refused = granted?.find((g) => g.qos === 128);
        if (err || refused) {
          this.lastErr = {
            message: `Subscription refused${refused ? ` for ${refused.topic}` : ''}: the API key needs "Read application traffic"`,
            auth: true,
          };
          client.end(true);
          return;
        }
        this.attempt = 0;
        this.setStatus('connected', null);
      });
    });
    client.on('message', (topic, payload) => {
      if (client === this.client) this.events.onMessage(topic, payload);
    });
    client.on('error', (err) => {
      if (client === this.client) this.lastErr = describeError(err as Error & { code?: unknown });
    });
    client.on('close', () => {
      if (client !== this.client || this.stopped) return;
      const why = this.lastErr ?? { message: 'Connection to The Things Stack was lost', auth: false };
      this.client = null;
      client.removeAllListeners();
      client.on('error', () => {});
      client.end(true);
      this.setStatus('broken', why.message);
      this.schedule(why.auth);
    });
  }

  private schedule(auth: boolean): void {
    if (this.stopped || this.timer) return;
    const delay = reconnectDelay(this.attempt, auth, this.backoff);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.open();
    }, delay);
    this.timer.unref();
  }

  private setStatus(status: IntegrationStatus, lastError: string | null): void {
    if (status === this.status && lastError === this.lastError) return;
    this.status = status;
    this.lastError = lastError;
    this.events.onStatus(status, lastError);
  }

  /** Publishes at QoS 0 (what TTS delivers anyway); false when not connected. */
  publish(topic: string, body: unknown): boolean {
    const c = this.client;
    if (!c || this.status !== 'connected' || !c.connected) return false;
    c.publish(topic, JSON.stringify(body), { qos: 0 });
    return true;
  }

  private close(): void {
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners();
      c.on('error', () => {});
      c.end(true);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.close();
  }
}
