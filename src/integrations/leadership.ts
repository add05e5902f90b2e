import crypto from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * Which instance runs the integrations' long-lived connections. With one instance it is
 * always this one; with several sharing Redis, one holds a lease that it renews, and another
 * takes over when the lease runs out. Without this every instance would hold its own MQTT
 * session and every uplink would be ingested once per instance.
 */
export interface Leadership {
  readonly leading: boolean;
  /** Called with true when this instance becomes the leader, false when it stops being one. */
  onChange(listener: (leading: boolean) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class SoloLeadership implements Leadership {
  leading = false;
  private listeners: Array<(leading: boolean) => void> = [];
  onChange(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }
  async start(): Promise<void> {
    this.leading = true;
    for (const l of this.listeners) l(true);
  }
  async stop(): Promise<void> {
    this.leading = false;
  }
}

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** What the lease needs of a Redis client. */
interface LeaseRedis {
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<string | null>;
  eval(script: string, keys: number, ...args: Array<string | number>): Promise<unknown>;
  quit(): Promise<unknown>;
  on(event: 'error', cb: (err: Error) => void): unknown;
}

export class RedisLeadership implements Leadership {
  leading = false;
  private readonly id = crypto.randomUUID();
  private listeners: Array<(leading: boolean) => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private lastRenewed = 0;

  constructor(
    private readonly redis: LeaseRedis,
    private readonly key: string,
    private readonly leaseMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly clock: () => number = Date.now,
  ) {
    redis.on('error', onError);
  }

  static connect(url: string, key: string, leaseMs: number, onError: (err: unknown) => void): RedisLeadership {
    return new RedisLeadership(new Redis(url, { maxRetriesPerRequest: 2 }), key, leaseMs, onError);
  }

  onChange(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }

  private set(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    for (const l of this.listeners) l(leading);
  }

  /** One round: take the lease if free, renew it if ours, step down if it could not be renewed in time. */
  async tick(): Promise<void> {
    try {
      if (this.leading) {
        const renewed = await this.redis.eval(RENEW, 1, this.key, this.id, this.leaseMs);
        if (renewed === 1) this.lastRenewed = this.clock();
        else this.set(false);
      } else {
        const ok = await this.redis.set(this.key, this.id, 'PX', this.leaseMs, 'NX');
        if (ok === 'OK') {
          this.lastRenewed = this.clock();
          this.set(true);
        }
      }
    } catch (err) {
      this.onError(err);
    }
    // Cannot reach Redis: give up before the lease could pass to someone else.
    if (this.leading && this.clock() - this.lastRenewed > this.leaseMs * 0.8) this.set(false);
  }

  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.leading) {
      this.set(false);
      await this.redis.eval(RELEASE, 1, this.key, this.id).catch(this.onError);
    }
    await this.redis.quit().catch(() => {});
  }
}
