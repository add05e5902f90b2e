import type { FastifyInstance } from 'fastify';
import { coerceMetaValue, findMetafield } from '../../domain/metadata.ts';
import { DeviceApiError } from '../../errors.ts';
import type { Services } from '../../services.ts';
import { deviceFromRequest, first } from './device-request.ts';

const tag = { tags: ['Device API'] };

/** `device/meta` and `device/meta/update`: metafield values of the calling device. */
export function registerDeviceMetaRoutes(app: FastifyInstance, s: Services): void {
  app.get('/external/api/device/meta', { schema: { ...tag, summary: 'Read a metafield' } }, async (req, reply) => {
    const { q, state, model } = await deviceFromRequest(s, req);
    const key = first(q.metaFieldId) ?? first(q.metaFieldName);
    if (key === undefined || key === '') throw new DeviceApiError('WRONG_METAFIELD');
    if (key === 'loc.latlon') {
      const loc = model.datastreams.find((d) => d.type === 'location');
      const v = loc ? state.latest.get(loc.pin)?.value : undefined;
      if (!Array.isArray(v)) throw new DeviceApiError('NO_DATA');
      return reply.type('text/plain; charset=utf-8').send(`${v[1]} ${v[0]}`);
    }
    const m = findMetafield(model, key);
    if (!m) throw new DeviceApiError('METAFIELD_NOT_FOUND');
    const v = state.device.metadata.has(m.id) ? state.device.metadata.get(m.id) : m.defaultValue;
    if (v === undefined || v === null) return reply.type('text/plain; charset=utf-8').send('');
    if (typeof v === 'object') return reply.type('application/json; charset=utf-8').send(JSON.stringify(v));
    return reply.type('text/plain; charset=utf-8').send(String(v));
  });

  app.get(
    '/external/api/device/meta/update',
    { schema: { ...tag, summary: 'Write a metafield' } },
    async (req, reply) => {
      const { q, state, model } = await deviceFromRequest(s, req);
      const key = first(q.metaFieldId) ?? first(q.metaFieldName);
      if (key === undefined || key === '') throw new DeviceApiError('WRONG_METAFIELD');
      const m = findMetafield(model, key);
      if (!m) throw new DeviceApiError('METAFIELD_NOT_FOUND');
      const raw = q.value;
      if (raw === undefined) throw new DeviceApiError('WRONG_VALUE');
      const v = coerceMetaValue(m, raw);
      if (v === undefined) throw new DeviceApiError('WRONG_VALUE');
      await s.devices.update(state.device.id, { metadata: new Map([[m.id, v]]) }, s.clock());
      state.device.metadata.set(m.id, v);
      s.bus.broadcast({ type: 'invalidate', entity: 'device', id: String(state.device.id) });
      return reply.code(200).send();
    },
  );
}
