import type { FastifyInstance } from 'fastify';
import type { ValueSource } from '../../bus/events.ts';
import type { Datastream } from '../../domain/datastream.ts';
import { metadataByName, metadataFromNames } from '../../domain/metadata.ts';
import type { DeviceState, TemplateModel } from '../../domain/model.ts';
import { parsePin } from '../../domain/pins.ts';
import { invalid, notFound } from '../../errors.ts';
import type { RawInput } from '../../ingest/pipeline.ts';
import { hashToken, newDeviceToken } from '../../security/tokens.ts';
import type { Services } from '../../services.ts';
import { currentUser } from './auth.ts';
import { dbId, offset, timestampMs } from './schemas.ts';

const D = { tags: ['Devices'] };
const idParam = { type: 'object', properties: { id: dbId } };

function devicePublic(state: DeviceState, model: TemplateModel, withValues: boolean) {
  const d = state.device;
  const out: Record<string, unknown> = {
    id: d.id,
    name: d.name,
    templateId: d.templateId,
    token: d.token,
    online: d.online,
    lastSeenAt: d.lastSeenAt,
    firmwareVersion: d.firmwareVersion,
    metadata: metadataByName(model, d.metadata),
    createdAt: d.createdAt,
  };
  if (withValues) {
    const values: Record<string, { value: unknown; ts: number }> = {};
    for (const ds of model.datastreams) {
      const v = state.latest.get(ds.pin);
      if (v) values[ds.pin] = { value: v.value, ts: v.ts };
    }
    out.values = values;
  }
  return out;
}

/** Finds a datastream by pin ("V1", "v1") or by name. */
export function datastreamByKey(model: TemplateModel, key: string): Datastream | undefined {
  const pin = parsePin(key);
  return (pin ? model.byPin.get(pin) : undefined) ?? model.byName.get(key);
}

export function registerDeviceRoutes(app: FastifyInstance, s: Services): void {
  const own = async (orgId: number, id: number): Promise<{ state: DeviceState; model: TemplateModel }> => {
    const state = await s.registry.device(id);
    if (!state || state.device.orgId !== orgId) throw notFound('Device');
    const model = await s.registry.template(state.device.templateId);
    if (!model) throw notFound('Device');
    return { state, model };
  };

  app.post(
    '/api/v1/devices',
    {
      schema: {
        ...D,
        summary: 'Create a device; its auth token is returned',
        body: {
          type: 'object',
          required: ['templateId', 'name'],
          additionalProperties: false,
          properties: {
            templateId: { type: 'string', minLength: 1, maxLength: 40 },
            name: { type: 'string', minLength: 1, maxLength: 60 },
            metadata: { type: 'object' },
          },
        },
      },
    },
    async (req, reply) => {
      const u = currentUser(req);
      const b = req.body as { templateId: string; name: string; metadata?: Record<string, unknown> };
      const model = await s.registry.template(b.templateId);
      if (!model || model.template.orgId !== u.orgId) throw invalid(`templateId: no template ${b.templateId}`);
      const md = metadataFromNames(model, b.metadata ?? {});
      if (!md.ok) throw invalid(md.message);
      for (const m of model.metafields) {
        if (m.required && !md.values.has(m.id) && (m.defaultValue === null || m.defaultValue === undefined)) {
          throw invalid(`metadata: "${m.name}" is required`);
        }
      }
      const token = newDeviceToken();
      const device = await s.devices.create({
        orgId: u.orgId,
        templateId: model.template.id,
        name: b.name.trim(),
        token,
        tokenHash: hashToken(token),
        metadata: md.values,
        now: s.clock(),
      });
      const state = (await s.registry.device(device.id))!;
      return reply.code(201).send(devicePublic(state, model, false));
    },
  );

  app.get(
    '/api/v1/devices',
    {
      schema: {
        ...D,
        summary: 'List devices',
        querystring: {
          type: 'object',
          properties: {
            templateId: { type: 'string', maxLength: 40 },
            search: { type: 'string', maxLength: 100 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset,
          },
        },
      },
    },
    async (req) => {
      const u = currentUser(req);
      const q = req.query as { templateId?: string; search?: string; limit: number; offset: number };
      const { items, total } = await s.devices.list({ orgId: u.orgId, ...q });
      const out = [];
      for (const d of items) {
        const state = await s.registry.device(d.id);
        const model = await s.registry.template(d.templateId);
        if (state && model) out.push(devicePublic(state, model, false));
      }
      return { items: out, total };
    },
  );

  app.get(
    '/api/v1/devices/:id',
    { schema: { ...D, summary: 'A device with its latest values', params: idParam } },
    async (req) => {
      const { state, model } = await own(currentUser(req).orgId, (req.params as { id: number }).id);
      return devicePublic(state, model, true);
    },
  );

  app.patch(
    '/api/v1/devices/:id',
    {
      schema: {
        ...D,
        summary: 'Rename a device or change its metadata',
        params: idParam,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 60 }, metadata: { type: 'object' } },
        },
      },
    },
    async (req) => {
      const { state, model } = await own(currentUser(req).orgId, (req.params as { id: number }).id);
      const b = req.body as { name?: string; metadata?: Record<string, unknown> };
      const md = metadataFromNames(model, b.metadata ?? {});
      if (!md.ok) throw invalid(md.message);
      await s.devices.update(
        state.device.id,
        { ...(b.name ? { name: b.name.trim() } : {}), metadata: md.values },
        s.clock(),
      );
      if (b.name) state.device.name = b.name.trim();
      for (const [k, v] of md.values) state.device.metadata.set(k, v);
      if (md.values.size > 0) s.tts.forgetDevice(state.device.id);
      s.bus.broadcast({ type: 'invalidate', entity: 'device', id: String(state.device.id) });
      return devicePublic(state, model, true);
    },
  );

  app.delete(
    '/api/v1/devices/:id',
    { schema: { ...D, summary: 'Delete a device and its data', params: idParam } },
    async (req, reply) => {
      const { state } = await own(currentUser(req).orgId, (req.params as { id: number }).id);
      await s.writer.flush();
      await s.devices.delete(state.device.id);
      s.lifecycle.forget(state.device.id);
      s.tts.forgetDevice(state.device.id);
      s.registry.invalidateDevice(state.device.id);
      s.bus.broadcast({ type: 'invalidate', entity: 'device', id: String(state.device.id) });
      return reply.code(204).send();
    },
  );

  app.put(
    '/api/v1/devices/:id/values',
    {
      schema: {
        ...D,
        summary: 'Write values as a user would from a dashboard (keys: pins or datastream names)',
        params: idParam,
        body: { type: 'object', minProperties: 1, maxProperties: 256 },
      },
    },
    async (req) => {
      const { state, model } = await own(currentUser(req).orgId, (req.params as { id: number }).id);
      const body = req.body as Record<string, unknown>;
      const inputs: RawInput[] = [];
      for (const [key, raw] of Object.entries(body)) {
        const ds = datastreamByKey(model, key);
        if (!ds) throw invalid(`${key}: no datastream with that pin or name`);
        inputs.push({ datastream: ds, raw: raw as never });
      }
      const prepared = s.ingest.prepare(inputs);
      const bad = prepared.rejected[0];
      if (bad) {
        const why =
          bad.reason === 'too_long'
            ? 'is longer than 1024 bytes'
            : `does not fit the ${bad.datastream.type} datastream`;
        throw invalid(`${bad.datastream.pin} (${bad.datastream.name}): value ${why}`);
      }
      const source: ValueSource = 'web';
      await s.ingest.commit(state, model, prepared.accepted, source);
      const values: Record<string, unknown> = {};
      for (const v of prepared.accepted) values[v.datastream.pin] = v.value;
      return { values };
    },
  );

  app.get(
    '/api/v1/devices/:id/history',
    {
      schema: {
        ...D,
        summary: 'History of one datastream: [[ts, value], ...] oldest first',
        params: idParam,
        querystring: {
          type: 'object',
          required: ['pin'],
          properties: {
            pin: { type: 'string', maxLength: 100 },
            from: timestampMs,
            to: timestampMs,
            limit: { type: 'integer', minimum: 1, maximum: 100_000, default: 1000 },
          },
        },
      },
    },
    async (req) => {
      const { state, model } = await own(currentUser(req).orgId, (req.params as { id: number }).id);
      const q = req.query as { pin: string; from?: number; to?: number; limit: number };
      const ds = datastreamByKey(model, q.pin);
      if (!ds) throw invalid(`pin: no datastream ${q.pin}`);
      const to = q.to ?? s.clock();
      const from = q.from ?? to - 86_400_000;
      if (from > to) throw invalid('from must not be after to');
      const points = await s.history.points(state.device.id, ds.pin, from, to, q.limit);
      return { pin: ds.pin, points: points.map((p) => [p.ts, p.value]) };
    },
  );

  app.get(
    '/api/v1/devices/:id/timeline',
    {
      schema: {
        ...D,
        summary: 'Device timeline, newest first: online/offline, events, integration notes',
        params: idParam,
        querystring: {
          type: 'object',
          properties: {
            from: timestampMs,
            to: timestampMs,
            type: { type: 'string', maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
      },
    },
    async (req) => {
      const { state } = await own(currentUser(req).orgId, (req.params as { id: number }).id);
      const q = req.query as { from?: number; to?: number; type?: string; limit: number };
      const types = q.type ? q.type.split(',').filter(Boolean) : undefined;
      const items = await s.history.timeline(state.device.id, { ...q, ...(types ? { types } : {}) });
      return { items };
    },
  );
}
