import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small Particle Cloud on 127.0.0.1 speaking the real wire format (specs/particle.md §2.1,
 * §2.4, §2.5): the account and product Server-Sent Events streams, cloud function calls,
 * device lookup, Bearer tokens with Particle's 401 body. Tests push events into the open
 * streams, take devices offline, and drop or refuse streams.
 */
export interface FakeDevice {
  id: string;
  name: string;
  online: boolean;
  productId: string | null;
  /** Function name → handler returning the function's return value. */
  functions: Map<string, (arg: string) => number>;
}

export interface FunctionCall {
  coreid: string;
  fn: string;
  arg: string | undefined;
  contentType: string | undefined;
  productId: string | null;
  authorization: string | undefined;
}

interface OpenStream {
  res: http.ServerResponse;
  productId: string | null;
}

export interface FakeParticle {
  url: string;
  port: number;
  token: string;
  devices: Map<string, FakeDevice>;
  calls: FunctionCall[];
  /** Every GET of an event stream, accepted or not. */
  streamOpens: Array<{ path: string; status: number }>;
  openStreams(): number;
  addDevice(d: Partial<FakeDevice> & { id: string }): FakeDevice;
  /** Publishes an event as the device `coreid` into the matching open streams. */
  publish(name: string, data: string, coreid: string, publishedAt?: Date): void;
  /** Publishes `spark/status` and sets the device's state. */
  setOnline(coreid: string, online: boolean): void;
  /** Writes raw bytes to every open stream (wire-format tests). */
  writeRaw(text: string): void;
  /** Ends every open stream (the cloud restarted). */
  dropStreams(): void;
  /** While set, stream opens answer this status (e.g. 503) instead of a stream. */
  refuseStreams(status: number | null): void;
  waitForStreams(n?: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

const INVALID_TOKEN = { error: 'invalid_token', error_description: 'The access token provided is invalid.' };

export function newCoreId(): string {
  let s = '';
  for (let i = 0; i < 24; i++) s += '0123456789abcdef'[Math.floor(Math.random() * 16)];
  return s;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeParticle(opts: { token?: string; keepAliveMs?: number } = {}): Promise<FakeParticle> {
  const token = opts.token ?? `pt_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const devices = new Map<string, FakeDevice>();
  const calls: FunctionCall[] = [];
  const streamOpens: FakeParticle['streamOpens'] = [];
  const streams = new Set<OpenStream>();
  let refuse: number | null = null;

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };

  const authorized = (req: http.IncomingMessage, url: URL, form?: URLSearchParams, body?: any) => {
    const h = req.headers.authorization;
    const given =
      (h?.startsWith('Bearer ') ? h.slice(7) : undefined) ??
      url.searchParams.get('access_token') ??
      form?.get('access_token') ??
      body?.access_token;
    return given === token;
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      // Event streams: /v1/devices/events[/prefix], /v1/products/:p/events[/prefix]
      const account = parts[0] === 'v1' && parts[1] === 'devices' && parts[2] === 'events';
      const product = parts[0] === 'v1' && parts[1] === 'products' && parts[3] === 'events';
      if (req.method === 'GET' && (account || product)) {
        if (!authorized(req, url)) {
          streamOpens.push({ path: url.pathname, status: 401 });
          json(res, 401, INVALID_TOKEN);
          return;
        }
        if (refuse !== null) {
          streamOpens.push({ path: url.pathname, status: refuse });
          json(res, refuse, { ok: false, error: 'Service unavailable' });
          return;
        }
        streamOpens.push({ path: url.pathname, status: 200 });
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
        });
        res.write(':ok\n\n');
        const s: OpenStream = { res, productId: product ? parts[2]! : null };
        streams.add(s);
        const keepAlive = opts.keepAliveMs ? setInterval(() => res.write('\n'), opts.keepAliveMs) : null;
        res.on('close', () => {
          streams.delete(s);
          if (keepAlive) clearInterval(keepAlive);
        });
        return;
      }
      const raw = await readBody(req);
      const type = req.headers['content-type'] ?? '';
      let form: URLSearchParams | undefined;
      let body: any;
      if (type.includes('application/json')) {
        try {
          body = JSON.parse(raw);
        } catch {
          json(res, 400, { ok: false, error: 'Invalid JSON' });
          return;
        }
      } else if (raw) form = new URLSearchParams(raw);
      if (!authorized(req, url, form, body)) {
        json(res, 401, INVALID_TOKEN);
        return;
      }
      // /v1/devices/:id[/:fn] or /v1/products/:p/devices/:id[/:fn]
      let rest: string[] | undefined;
      let productId: string | null = null;
      if (parts[0] === 'v1' && parts[1] === 'devices') rest = parts.slice(2);
      else if (parts[0] === 'v1' && parts[1] === 'products' && parts[3] === 'devices') {
        productId = parts[2]!;
        rest = parts.slice(4);
      }
      const dev = rest?.[0] !== undefined ? devices.get(rest[0]) : undefined;
      if (!rest || rest.length === 0 || !dev || (productId !== null && dev.productId !== productId)) {
        json(res, 404, { ok: false, error: 'Permission Denied' });
        return;
      }
      if (req.method === 'GET' && rest.length === 1) {
        json(res, 200, {
          id: dev.id,
          name: dev.name,
          online: dev.online,
          connected: dev.online,
          product_id: dev.productId ?? 6,
          platform_id: 32,
          functions: [...dev.functions.keys()],
          variables: {},
          last_heard: new Date().toISOString(),
        });
        return;
      }
      if (req.method === 'POST' && rest.length === 2) {
        const fn = rest[1]!;
        const arg: string | undefined = body
          ? (body.arg ?? body.args)
          : (form?.get('arg') ?? form?.get('args') ?? undefined);
        calls.push({
          coreid: dev.id,
          fn,
          arg: arg === undefined ? undefined : String(arg),
          contentType: type || undefined,
          productId,
          authorization: req.headers.authorization,
        });
        if (!dev.online) {
          json(res, 400, { ok: false, error: 'Timed out.' });
          return;
        }
        const handler = dev.functions.get(fn);
        if (!handler) {
          json(res, 404, { ok: false, error: `Function ${fn} not found` });
          return;
        }
        const rv = handler(arg === undefined ? '' : String(arg));
        const format = url.searchParams.get('format') ?? form?.get('format') ?? body?.format;
        if (format === 'raw') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(String(rv));
          return;
        }
        json(res, 200, { id: dev.id, name: dev.name, connected: true, return_value: rv });
        return;
      }
      json(res, 404, { ok: false, error: 'Not found' });
    })().catch((err) => {
      res.destroy(err as Error);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const write = (text: string, productId: string | null | 'all') => {
    for (const s of streams) {
      if (productId === 'all' || s.productId === null || s.productId === productId) s.res.write(text);
    }
  };

  const fake: FakeParticle = {
    url: `http://127.0.0.1:${port}`,
    port,
    token,
    devices,
    calls,
    streamOpens,
    openStreams: () => streams.size,
    addDevice(d) {
      const dev: FakeDevice = {
        name: d.name ?? `device_${d.id.slice(0, 6)}`,
        online: d.online ?? true,
        productId: d.productId ?? null,
        functions: d.functions ?? new Map(),
        id: d.id,
      };
      devices.set(dev.id, dev);
      return dev;
    },
    publish(name, data, coreid, publishedAt = new Date()) {
      const dev = devices.get(coreid);
      const productId = dev?.productId ?? null;
      const envelope: Record<string, unknown> = {
        data,
        ttl: 60,
        published_at: publishedAt.toISOString(),
        coreid,
      };
      for (const s of streams) {
        if (s.productId !== null && s.productId !== productId) continue;
        const body =
          s.productId !== null
            ? { ...envelope, userid: 'fake-user', version: 3, public: false, productID: Number(productId) || productId }
            : envelope;
        s.res.write(`event: ${name}\ndata: ${JSON.stringify(body)}\n\n`);
      }
    },
    setOnline(coreid, online) {
      const dev = devices.get(coreid);
      if (dev) dev.online = online;
      fake.publish('spark/status', online ? 'online' : 'offline', coreid);
    },
    writeRaw(text) {
      write(text, 'all');
    },
    dropStreams() {
      for (const s of streams) s.res.destroy();
      streams.clear();
    },
    refuseStreams(status) {
      refuse = status;
    },
    async waitForStreams(n = 1, ms = 5000) {
      const deadline = Date.now() + ms;
      while (streams.size < n) {
        if (Date.now() > deadline) throw new Error(`fewer than ${n} Particle streams open within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      fake.dropStreams();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
