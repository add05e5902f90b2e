import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small fake of Particle Cloud's function-call endpoint (specs/particle.md §2.1), enough to
 * test a Blynk-style webhook that drives a Particle device: POST /v1/devices/{id}/{function}
 * with `Authorization: Bearer <token>` and the argument as `arg` or `args`, in JSON or a web
 * form. Online devices answer {"id","name","connected":true,"return_value"}; offline ones
 * 400 {"ok":false,"error":"Timed out."} as in Blynk's guide.
 */
export interface FunctionCall {
  deviceId: string;
  fn: string;
  arg: string | undefined;
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
}

export interface FakeParticleFunctions {
  url: string;
  calls: FunctionCall[];
  /** Adds (or updates) a device; `online` false makes calls time out. */
  device(id: string, name: string, online?: boolean): void;
  close(): Promise<void>;
}

/** The firmware contract of the Blynk guide: "on"/"1" → 1, "off"/"0" → 0, else -1. */
function blynkLed(arg: string | undefined): number {
  if (arg === 'on' || arg === '1') return 1;
  if (arg === 'off' || arg === '0') return 0;
  return -1;
}

export async function startFakeParticleFunctions(token: string): Promise<FakeParticleFunctions> {
  const devices = new Map<string, { name: string; online: boolean }>();
  const calls: FunctionCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const send = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      const m = /^\/v1\/devices\/([^/]+)\/([^/?]+)$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) return send(404, { ok: false, error: 'Not found' });
      const contentType = req.headers['content-type'];
      let arg: string | undefined;
      try {
        if (contentType?.startsWith('application/json')) {
          const j = JSON.parse(body) as { arg?: unknown; args?: unknown };
          const v = j.arg ?? j.args;
          arg = v === undefined ? undefined : String(v);
        } else {
          const f = new URLSearchParams(body);
          arg = f.get('arg') ?? f.get('args') ?? undefined;
        }
      } catch {
        return send(400, { ok: false, error: 'Bad request' });
      }
      const [, deviceId, fn] = m as unknown as [string, string, string];
      calls.push({ deviceId, fn, arg, contentType, authorization: req.headers.authorization, body });
      if (req.headers.authorization !== `Bearer ${token}`) {
        return send(401, { error: 'invalid_token', error_description: 'The access token provided is invalid.' });
      }
      const d = devices.get(deviceId);
      if (!d) return send(403, { ok: false, error: 'Permission denied' });
      if (!d.online) return send(400, { ok: false, error: 'Timed out.' });
      if (fn !== 'blynk_led') return send(404, { ok: false, error: 'Function not found' });
      return send(200, { id: deviceId, name: d.name, connected: true, return_value: blynkLed(arg) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    device(id, name, online = true) {
      devices.set(id, { name, online });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
