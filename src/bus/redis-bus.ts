import crypto from 'node:crypto';
import { Redis } from 'ioredis';
import { type BusEvent, type BusListener, type EventBus, type InvalidateEvent, REMOTE } from './events.ts';
import { MemoryBus } from './memory-bus.ts';

/** What this bus needs of a Redis client (narrow, so tests could pass a small fake). */
interface RedisLike {
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string): Promise<unknown>;
  on(event: 'message', cb: (channel: string, message: string) => void): unknown;
  on(event: 'error', cb: (err: Error) => void): unknown;
  quit(): Promise<unknown>;
}

/**
 * Redis pub/sub bus for several instances: events reach local listeners at once and other
 * instances through Redis; an instance ignores its own echo.
 */
export class RedisBus implements EventBus {
  private readonly local: MemoryBus;
  private readonly origin = crypto.randomUUID();

  private constructor(
    private readonly pub: RedisLike,
    private readonly sub: RedisLike,
    private readonly channel: string,
    onError: (err: unknown) => void,
  ) {
    this.local = new MemoryBus(onError);
    this.sub.on('message', (ch, message) => {
      if (ch !== this.channel) return;
      try {
        const { o, e } = JSON.parse(message) as { o: string; e: BusEvent };
        if (o !== this.origin) this.local.publish(Object.assign(e, { [REMOTE]: true as const }));
      } catch (err) {
        onError(err);
      }
    });
    this.pub.on('error', onError);
    this.sub.on('error', onError);
  }

  static async connect(url: string, channel: string, onError: (err: unknown) => void): Promise<RedisBus> {
    const pub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    const sub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    await Promise.all([pub.connect(), sub.connect()]);
    await sub.subscribe(channel);
    return new RedisBus(pub, sub, channel, onError);
  }

  publish(event: BusEvent): void {
    this.local.publish(event);
    this.send(event);
  }

  broadcast(event: InvalidateEvent): void {
    this.send(event);
  }

  private send(event: BusEvent): void {
    this.pub.publish(this.channel, JSON.stringify({ o: this.origin, e: event })).catch(() => {
      // errors surface through the client's 'error' handler
    });
  }

  subscribe(listener: BusListener): () => void {
    return this.local.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.local.close();
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
  }
}
