import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { BusEvent } from '../bus/events.ts';
import { PlatformError } from '../errors.ts';
import type { Services } from '../services.ts';
import { currentUser } from './platform-api/auth.ts';

const MAX_BUFFERED = 1024 * 1024;

/** What a WebSocket client is sent for a bus event, or undefined when it concerns no one. */
function messageFor(e: BusEvent): Record<string, unknown> | undefined {
  switch (e.type) {
    case 'value':
      return { type: 'value', deviceId: e.deviceId, pin: e.pin, value: e.value, ts: e.ts, source: e.source };
    case 'status':
      return { type: 'status', deviceId: e.deviceId, online: e.online, ts: e.ts };
    case 'timeline':
      return { type: 'timeline', deviceId: e.deviceId, item: e.item };
    case 'integration':
      return {
        type: 'integration',
        integrationId: e.integrationId,
        integrationType: e.integrationType,
        templateId: e.templateId,
        status: e.status,
        lastError: e.lastError,
      };
    case 'property':
      return { type: 'property', deviceId: e.deviceId, pin: e.pin, property: e.property, value: e.value, ts: e.ts };
    default:
      return undefined;
  }
}

/**
 * Live updates at /api/v1/ws. A client sends {"type":"subscribe","deviceId":N} (or no
 * deviceId for every device of its organization) and receives value, status, timeline and
 * property messages for those devices.
 */
export function registerWebSocket(app: FastifyInstance, s: Services): void {
  app.route({
    method: 'GET',
    url: '/api/v1/ws',
    schema: { hide: true },
    // A plain HTTP GET (no upgrade) gets an error in the platform envelope, not an empty 404.
    handler: async () => {
      throw new PlatformError('VALIDATION_FAILED', { detail: '/api/v1/ws only accepts WebSocket upgrades' });
    },
    wsHandler: (socket: WebSocket, req) => {
      const user = currentUser(req);
      const devices = new Set<number>();
      let everything = false;
      // One frame per message, as the protocol says, but the frames of one turn of the event
      // loop leave in one write: a burst of values costs one syscall per client, not one each.
      const tcp = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      let corked = false;
      const send = (msg: unknown) => {
        if (socket.readyState !== socket.OPEN || socket.bufferedAmount >= MAX_BUFFERED) return;
        if (tcp && !corked) {
          corked = true;
          tcp.cork();
          setImmediate(() => {
            corked = false;
            tcp.uncork();
          });
        }
        socket.send(JSON.stringify(msg));
      };
      const unsubscribe = s.bus.subscribe((e) => {
        if (e.type === 'invalidate' || e.orgId !== user.orgId) return;
        // Integration status goes to every client of the organization; device news to subscribers.
        if (e.type !== 'integration' && !everything && !devices.has(e.deviceId)) return;
        const msg = messageFor(e);
        if (msg) send(msg);
      });
      socket.on('close', unsubscribe);
      socket.on('message', (data) => {
        void (async () => {
          let msg: { type?: unknown; deviceId?: unknown };
          try {
            msg = JSON.parse(String(data)) as typeof msg;
          } catch {
            return send({ type: 'error', message: 'messages must be JSON' });
          }
          if (msg === null || typeof msg !== 'object')
            return send({ type: 'error', message: 'messages must be JSON objects' });
          if (msg.type === 'ping') return send({ type: 'pong' });
          if (msg.type !== 'subscribe' && msg.type !== 'unsubscribe') {
            return send({ type: 'error', message: 'type must be subscribe, unsubscribe or ping' });
          }
          if (msg.deviceId === undefined || msg.deviceId === null) {
            everything = msg.type === 'subscribe';
            if (!everything) devices.clear();
            return send({ type: `${msg.type}d` });
          }
          const id = Number(msg.deviceId);
          const state = Number.isInteger(id) ? await s.registry.device(id) : undefined;
          if (!state || state.device.orgId !== user.orgId) {
            return send({ type: 'error', message: `no device ${String(msg.deviceId)}` });
          }
          if (msg.type === 'subscribe') devices.add(id);
          else devices.delete(id);
          send({ type: `${msg.type}d`, deviceId: id, online: state.device.online });
        })().catch((err) => req.log.error({ err }, 'websocket message failed'));
      });
    },
  });
}
