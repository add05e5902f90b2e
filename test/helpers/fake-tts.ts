import net from 'node:net';
import { Aedes } from 'aedes';

/**
 * A local stand-in for The Things Stack's MQTT server (specs/tts.md §2): username
 * `app@tenant` plus an API key, "not authorized" (CONNACK 5) otherwise; subscriptions and
 * publishes only under the application's own `v3/{uid}/` tree; the server side publishes
 * uplinks and events at QoS 0 and records the downlinks clients push.
 */
export interface FakeTts {
  port: number;
  uid: string;
  apiKey: string;
  /** Downlink publishes received: topic and parsed body. */
  downlinks: Array<{ topic: string; body: any }>;
  /** CONNECT attempts seen, accepted or not. */
  connectAttempts: number;
  /** Publishes `body` on v3/{uid}/devices/{deviceId}/{event}. */
  publish(deviceId: string, event: string, body: unknown): Promise<void>;
  /** Publishes raw bytes (malformed messages). */
  publishRaw(topic: string, payload: string | Buffer): Promise<void>;
  /** Resolves when a client has subscribed to uplinks. */
  waitForSubscriber(timeoutMs?: number): Promise<void>;
  /** Stops listening and drops every client (the server "goes away"). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeTts(opts: { uid?: string; apiKey?: string; port?: number } = {}): Promise<FakeTts> {
  const uid = opts.uid ?? 'starter-kit@docs-test-account';
  const apiKey = opts.apiKey ?? 'NNSXS.TESTKEY.SECRET';
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => {
      fake.connectAttempts += 1;
      if (username === uid && password?.toString() === apiKey) return done(null, true);
      const err = Object.assign(new Error('not authorized'), { returnCode: 5 });
      return done(err as never, false);
    },
    authorizeSubscribe: (_client, sub, done) => {
      if (sub.topic.startsWith(`v3/${uid}/`)) return done(null, sub);
      return done(new Error('subscription outside the application'));
    },
    authorizePublish: (client, packet, done) => {
      if (
        client &&
        /^v3\/[^/]+\/devices\/[^/]+\/down\/(push|replace)$/.test(packet.topic) &&
        packet.topic.startsWith(`v3/${uid}/`)
      ) {
        return done(null);
      }
      return done(new Error('publish not allowed'));
    },
  });
  broker.on('publish', (packet, client) => {
    if (!client) return;
    let body: unknown;
    try {
      body = JSON.parse(packet.payload.toString());
    } catch {
      body = packet.payload.toString();
    }
    fake.downlinks.push({ topic: packet.topic, body });
  });
  let subscribed = false;
  const waiters: Array<() => void> = [];
  broker.on('subscribe', (subs) => {
    if (subs.some((s) => s.topic.endsWith('/up'))) {
      subscribed = true;
      for (const w of waiters.splice(0)) w();
    }
  });
  broker.on('clientDisconnect', () => {
    subscribed = false;
  });

  let server = net.createServer(broker.handle);
  const sockets = new Set<net.Socket>();
  const listen = async (port: number) => {
    server = net.createServer(broker.handle);
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  };
  const port = await listen(opts.port ?? 0);

  const publishPacket = (topic: string, payload: Buffer) =>
    new Promise<void>((resolve, reject) =>
      broker.publish({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );

  const fake: FakeTts = {
    port,
    uid,
    apiKey,
    downlinks: [],
    connectAttempts: 0,
    publish: (deviceId, event, body) =>
      publishPacket(`v3/${uid}/devices/${deviceId}/${event}`, Buffer.from(JSON.stringify(body))),
    publishRaw: (topic, payload) => publishPacket(topic, Buffer.isBuffer(payload) ? payload : Buffer.from(payload)),
    waitForSubscriber: (timeoutMs = 5000) =>
      subscribed
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const t = setTimeout(() => reject(new Error('no subscriber')), timeoutMs);
            waiters.push(() => {
              clearTimeout(t);
              resolve();
            });
          }),
    async stop() {
      subscribed = false;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    async restart() {
      await listen(port);
    },
    async close() {
      await fake.stop().catch(() => {});
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
  return fake;
}
