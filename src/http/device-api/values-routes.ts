import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DeviceApiError } from '../../errors.ts';
import type { RawInput } from '../../ingest/pipeline.ts';
import type { Services } from '../../services.ts';
import type { WriteOp } from '../../store/write-ops.ts';
import {
  addressedDatastream,
  datastreamByPinText,
  deviceFromRequest,
  first,
  RESERVED,
  refuseRejected,
} from './device-request.ts';
import { valueJson, valueText } from './render.ts';

const MAX_EVENT_DESCRIPTION = 300;
const tag = { tags: ['Device API'] };

/**
 * Blynk's Device HTTPS API for values, events and properties (specs/blynk.md §1.2). Every
 * write goes through the ingest pipeline with source "http" and is answered only once it
 * is durable.
 */
export function registerDeviceValueRoutes(app: FastifyInstance, s: Services): void {
  // update and batch/update (GET) accept the same forms: {pin}={value} (several pins allowed,
  // repeated values for locations and multi-value strings), pin+value, dataStreamId+value.
  const update = async (req: FastifyRequest, reply: FastifyReply) => {
    const { q, state, model } = await deviceFromRequest(s, req);
    const inputs: RawInput[] = [];
    const addressed = addressedDatastream(model, q);
    if (addressed) {
      if (q.value === undefined) throw new DeviceApiError('WRONG_VALUE');
      inputs.push({ datastream: addressed, raw: q.value });
    } else {
      for (const [key, raw] of Object.entries(q)) {
        if (RESERVED.has(key)) continue;
        inputs.push({ datastream: datastreamByPinText(model, key), raw });
      }
    }
    if (inputs.length === 0) throw new DeviceApiError('WRONG_PIN');
    const prepared = s.ingest.prepare(inputs);
    refuseRejected(prepared);
    await s.ingest.commit(state, model, prepared.accepted, 'http');
    return reply.code(200).send();
  };
  const updateSchema = { schema: { ...tag, summary: 'Write one or more datastream values' } };
  app.get('/external/api/update', updateSchema, update);
  app.get('/external/api/batch/update', updateSchema, update);

  // Timestamped import of one datastream: body [[tsMillis, value], ...].
  app.post(
    '/external/api/batch/update',
    { schema: { ...tag, summary: 'Import timestamped values of one datastream' } },
    async (req, reply) => {
      const { q, state, model } = await deviceFromRequest(s, req);
      const ct = String(req.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
      if (ct !== 'application/json') throw new DeviceApiError('UNKNOWN_CONTENT_TYPE');
      const ds = addressedDatastream(model, q);
      if (!ds) throw new DeviceApiError('WRONG_PIN');
      const body = req.body;
      if (!Array.isArray(body)) throw new DeviceApiError('INCORRECT_PARAMETERS');
      if (body.length > s.config.batchMaxPoints) {
        throw new DeviceApiError('BATCH_TOO_BIG', { max: s.config.batchMaxPoints });
      }
      const now = s.clock();
      const oldest = now - s.config.importMaxAgeDays * 86_400_000;
      const newest = now + 31 * 86_400_000;
      const inputs: RawInput[] = [];
      for (const point of body as unknown[]) {
        if (!Array.isArray(point) || point.length !== 2) throw new DeviceApiError('INCORRECT_PARAMETERS');
        const [ts, raw] = point as [unknown, unknown];
        if (typeof ts !== 'number' || !Number.isInteger(ts) || ts < oldest || ts > newest) {
          throw new DeviceApiError('INCORRECT_PARAMETERS');
        }
        inputs.push({ datastream: ds, raw: raw as never, ts });
      }
      const prepared = s.ingest.prepare(inputs);
      refuseRejected(prepared);
      await s.ingest.commit(state, model, prepared.accepted, 'import');
      return reply.code(200).send();
    },
  );

  app.get('/external/api/get', { schema: { ...tag, summary: 'Read datastream values' } }, async (req, reply) => {
    const { q, state, model } = await deviceFromRequest(s, req);
    const addressed = addressedDatastream(model, q);
    const wanted: Array<{ key: string; ds: ReturnType<typeof datastreamByPinText> }> = [];
    if (addressed) wanted.push({ key: addressed.pin.toLowerCase(), ds: addressed });
    else {
      for (const key of Object.keys(q)) {
        if (RESERVED.has(key)) continue;
        wanted.push({ key, ds: datastreamByPinText(model, key) });
      }
    }
    if (wanted.length === 0) throw new DeviceApiError('WRONG_PIN');
    const current = (ds: (typeof wanted)[number]['ds']) =>
      state.latest.get(ds.pin)?.value ?? ds.defaultValue ?? undefined;
    if (wanted.length === 1) {
      const v = current(wanted[0]!.ds);
      if (v === undefined) throw new DeviceApiError('NO_DATA');
      return reply.type('text/plain; charset=utf-8').send(valueText(v));
    }
    const parts: string[] = [];
    for (const w of wanted) {
      const v = current(w.ds);
      if (v !== undefined) parts.push(`${JSON.stringify(w.key)}:${valueJson(w.ds, v)}`);
    }
    return reply.type('application/json; charset=utf-8').send(`{${parts.join(',')}}`);
  });

  app.get('/external/api/getAll', { schema: { ...tag, summary: 'Read every stored value' } }, async (req, reply) => {
    const { state, model } = await deviceFromRequest(s, req);
    const parts: string[] = [];
    for (const ds of model.datastreams) {
      const v = state.latest.get(ds.pin);
      if (v) parts.push(`${JSON.stringify(ds.pin.toLowerCase())}:${valueJson(ds, v.value)}`);
    }
    return reply.type('application/json; charset=utf-8').send(`{${parts.join(',')}}`);
  });

  app.get(
    '/external/api/isHardwareConnected',
    { schema: { ...tag, summary: 'Is the device online?' } },
    async (req, reply) => {
      const { state } = await deviceFromRequest(s, req);
      return reply.type('application/json; charset=utf-8').send(state.device.online ? 'true' : 'false');
    },
  );

  const logEvent = async (req: FastifyRequest, reply: FastifyReply) => {
    const { q, state, model } = await deviceFromRequest(s, req);
    const code = first(q.code);
    if (code === undefined || code === '') throw new DeviceApiError('NO_EVENT_CODE');
    const ev = model.events.find((e) => e.code === code);
    if (!ev) throw new DeviceApiError('EVENT_NOT_FOUND');
    const description = first(q.description);
    if (description !== undefined && description.length > MAX_EVENT_DESCRIPTION) {
      throw new DeviceApiError('EVENT_DESCRIPTION_TOO_LONG');
    }
    const ts = s.clock();
    const item = {
      code: ev.code,
      name: ev.name,
      eventType: ev.type,
      description: description ?? ev.description,
    };
    await s.ingest.touch(state, model, 'http', [
      { kind: 'timeline', deviceId: state.device.id, ts, type: 'event', data: item },
    ]);
    s.bus.publish({
      type: 'timeline',
      orgId: state.device.orgId,
      deviceId: state.device.id,
      item: { ts, type: 'event', ...item },
    });
    return reply.code(200).send();
  };
  const logSchema = { schema: { ...tag, summary: 'Log an event on the device timeline' } };
  app.get('/external/api/logEvent', logSchema, logEvent);
  app.get('/external/api/logevent', { schema: { ...logSchema.schema, hide: true } }, logEvent);

  app.get(
    '/external/api/update/property',
    { schema: { ...tag, summary: 'Set a widget property of a datastream' } },
    async (req, reply) => {
      const { q, state, model } = await deviceFromRequest(s, req);
      const pinText = first(q.pin);
      if (pinText === undefined) throw new DeviceApiError('WRONG_PIN');
      const ds = datastreamByPinText(model, pinText);
      const ts = s.clock();
      const ops: WriteOp[] = [];
      for (const [property, value] of Object.entries(q)) {
        if (property === 'token' || property === 'pin') continue;
        if (property.length > 64) throw new DeviceApiError('INCORRECT_PARAMETERS');
        ops.push({ kind: 'property', deviceId: state.device.id, pin: ds.pin, property, value, ts });
      }
      if (ops.length === 0) throw new DeviceApiError('INCORRECT_PARAMETERS');
      await s.ingest.touch(state, model, 'http', ops);
      for (const op of ops) {
        if (op.kind !== 'property') continue;
        s.bus.publish({
          type: 'property',
          orgId: state.device.orgId,
          deviceId: state.device.id,
          pin: op.pin,
          property: op.property,
          value: op.value as string | string[],
          ts,
        });
      }
      return reply.code(200).send();
    },
  );
}
