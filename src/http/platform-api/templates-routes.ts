import type { FastifyInstance } from 'fastify';
import { DATASTREAM_TYPES, type Datastream, type EnumOption } from '../../domain/datastream.ts';
import { EVENT_TYPES, METAFIELD_TYPES, type TemplateModel } from '../../domain/model.ts';
import { parsePin } from '../../domain/pins.ts';
import { parseDefault } from '../../domain/value-parser.ts';
import { conflict, invalid, notFound } from '../../errors.ts';
import { newTemplateId } from '../../security/tokens.ts';
import type { Services } from '../../services.ts';
import { currentUser } from './auth.ts';
import { finiteNumber, int32, smallId } from './schemas.ts';

const T = { tags: ['Templates'] };
const idParam = { type: 'object', properties: { id: { type: 'string', maxLength: 40 } } };
const dsParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 40 }, dsId: smallId },
};
const subParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 40 }, subId: smallId },
};

const datastreamProps = {
  name: { type: 'string', minLength: 1, maxLength: 100 },
  pin: { type: 'string', maxLength: 8 },
  type: { type: 'string', enum: [...DATASTREAM_TYPES] },
  min: { ...finiteNumber, type: ['number', 'null'] },
  max: { ...finiteNumber, type: ['number', 'null'] },
  decimals: { type: ['string', 'null'], maxLength: 10 },
  units: { type: ['string', 'null'], maxLength: 40 },
  defaultValue: {},
  saveRaw: { type: 'boolean' },
  syncOnConnect: { type: 'boolean' },
  options: {
    type: ['array', 'null'],
    maxItems: 256,
    items: {
      type: 'object',
      required: ['value', 'label'],
      additionalProperties: false,
      properties: {
        value: int32,
        label: { type: 'string', minLength: 1, maxLength: 100 },
        color: { type: 'string', maxLength: 20 },
      },
    },
  },
  fallback: { ...int32, type: ['integer', 'null'] },
  color: { type: ['string', 'null'], maxLength: 20 },
} as const;

export function templateJson(m: TemplateModel) {
  const t = m.template;
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    lifecycle: { logAnyData: t.logAnyData, offlineAfterSeconds: t.offlineAfterSeconds },
    datastreams: m.datastreams.map(datastreamJson),
    metafields: m.metafields.map(({ templateId: _t, ...rest }) => rest),
    events: m.events.map(({ templateId: _t, ...rest }) => rest),
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

export function datastreamJson(d: Datastream) {
  const { templateId: _t, ...rest } = d;
  return rest;
}

/** Checks a datastream definition as a whole (the bits JSON Schema cannot say). */
function checkDatastream(d: Datastream, model: TemplateModel, selfId?: number): void {
  if (!/^[\p{L}\p{N} _.-]+$/u.test(d.name)) throw invalid('name may hold letters, digits, spaces, "_", "." and "-"');
  for (const other of model.datastreams) {
    if (other.id === selfId) continue;
    if (other.pin === d.pin) throw conflict(`pin ${d.pin} is already used by datastream "${other.name}"`);
    if (other.name === d.name) throw conflict(`a datastream named "${d.name}" already exists`);
    if (d.type === 'location' && other.type === 'location')
      throw conflict('a template has at most one location datastream');
  }
  if (d.min !== null && d.max !== null && d.min > d.max) throw invalid('min must not be greater than max');
  if (d.type === 'enum') {
    if (!d.options || d.options.length === 0) throw invalid('options: an enum datastream needs at least one option');
    const values = new Set(d.options.map((o) => o.value));
    if (values.size !== d.options.length) throw invalid('options: values must be unique');
    if (d.fallback !== null && !values.has(d.fallback)) throw invalid('fallback must be one of the option values');
  } else if (d.options !== null || d.fallback !== null) {
    throw invalid('options and fallback apply to enum datastreams only');
  }
  if (d.decimals !== null && d.type !== 'double') throw invalid('decimals applies to double datastreams only');
  if (d.decimals !== null && !/^#(\.(#{1,5}|0{1,5}))?$/.test(d.decimals)) {
    throw invalid('decimals must look like "#", "#.##" or "#.00"');
  }
  if ((d.type === 'string' || d.type === 'location') && (d.min !== null || d.max !== null)) {
    throw invalid('min and max apply to numeric datastreams only');
  }
}

function applyDefault(d: Datastream, raw: unknown): Datastream {
  if (raw === undefined || raw === null) return { ...d, defaultValue: null };
  const v = parseDefault(d, raw as never);
  if (v === undefined) throw invalid(`defaultValue does not fit a ${d.type} datastream`);
  return { ...d, defaultValue: v };
}

export function registerTemplateRoutes(app: FastifyInstance, s: Services): void {
  /** A template of the caller's organization, or 404. */
  const ownModel = async (orgId: number, id: string): Promise<TemplateModel> => {
    const m = await s.registry.template(id);
    if (!m || m.template.orgId !== orgId) throw notFound('Template');
    return m;
  };
  const changed = (id: string) => {
    s.registry.invalidateTemplate(id);
    s.bus.broadcast({ type: 'invalidate', entity: 'template', id });
  };

  app.post(
    '/api/v1/templates',
    {
      schema: {
        ...T,
        summary: 'Create a template',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            description: { type: 'string', maxLength: 200 },
          },
        },
      },
    },
    async (req, reply) => {
      const u = currentUser(req);
      const body = req.body as { name: string; description?: string };
      const now = s.clock();
      const id = newTemplateId();
      await s.templates.create({
        id,
        orgId: u.orgId,
        name: body.name.trim(),
        description: body.description ?? '',
        logAnyData: false,
        offlineAfterSeconds: 60,
        createdAt: now,
        updatedAt: now,
      });
      return reply.code(201).send(templateJson((await s.registry.template(id))!));
    },
  );

  app.get('/api/v1/templates', { schema: { ...T, summary: 'List templates' } }, async (req) => {
    const list = await s.templates.list(currentUser(req).orgId);
    const items = [];
    for (const t of list) {
      const m = await s.registry.template(t.id);
      if (m) items.push(templateJson(m));
    }
    return { items };
  });

  app.get('/api/v1/templates/:id', { schema: { ...T, summary: 'Get a template', params: idParam } }, async (req) => {
    const { id } = req.params as { id: string };
    return templateJson(await ownModel(currentUser(req).orgId, id));
  });

  app.patch(
    '/api/v1/templates/:id',
    {
      schema: {
        ...T,
        summary: 'Rename or describe a template',
        params: idParam,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            description: { type: 'string', maxLength: 200 },
          },
        },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      await ownModel(currentUser(req).orgId, id);
      await s.templates.update(id, req.body as { name?: string; description?: string }, s.clock());
      changed(id);
      return templateJson((await s.registry.template(id))!);
    },
  );

  app.delete(
    '/api/v1/templates/:id',
    { schema: { ...T, summary: 'Delete a template and its devices', params: idParam } },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      await ownModel(currentUser(req).orgId, id);
      const { items } = await s.devices.list({
        orgId: currentUser(req).orgId,
        templateId: id,
        limit: 1_000_000,
        offset: 0,
      });
      await s.writer.flush();
      await s.tts.dropTemplate(id);
      await s.particle.dropTemplate(id);
      await s.templates.delete(id);
      for (const d of items) {
        s.lifecycle.forget(d.id);
        s.registry.invalidateDevice(d.id);
        s.bus.broadcast({ type: 'invalidate', entity: 'device', id: String(d.id) });
      }
      changed(id);
      return reply.code(204).send();
    },
  );

  // Datastreams
  app.post(
    '/api/v1/templates/:id/datastreams',
    {
      schema: {
        ...T,
        summary: 'Add a datastream',
        params: idParam,
        body: {
          type: 'object',
          required: ['name', 'pin', 'type'],
          additionalProperties: false,
          properties: datastreamProps,
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const model = await ownModel(currentUser(req).orgId, id);
      const b = req.body as Record<string, unknown>;
      const pin = parsePin(String(b.pin));
      if (!pin) throw invalid('pin must be V0..V255');
      let d: Datastream = {
        id: 0,
        templateId: id,
        name: String(b.name).trim(),
        pin,
        type: b.type as Datastream['type'],
        min: (b.min as number | null | undefined) ?? null,
        max: (b.max as number | null | undefined) ?? null,
        decimals: (b.decimals as string | null | undefined) ?? null,
        units: (b.units as string | null | undefined) ?? null,
        defaultValue: null,
        saveRaw: (b.saveRaw as boolean | undefined) ?? false,
        syncOnConnect: (b.syncOnConnect as boolean | undefined) ?? false,
        options: (b.options as EnumOption[] | null | undefined) ?? null,
        fallback: (b.fallback as number | null | undefined) ?? null,
        color: (b.color as string | null | undefined) ?? null,
      };
      if (d.type === 'integer' || d.type === 'enum') {
        for (const k of ['min', 'max'] as const) {
          const v = d[k];
          if (v !== null && !Number.isInteger(v)) throw invalid(`${k} must be an integer for a ${d.type} datastream`);
        }
      }
      checkDatastream(d, model);
      d = applyDefault(d, b.defaultValue);
      const { id: _ignored, ...rest } = d;
      const created = await s.templates.addDatastream(rest, s.clock());
      changed(id);
      return reply.code(201).send(datastreamJson(created));
    },
  );

  app.get(
    '/api/v1/templates/:id/datastreams',
    { schema: { ...T, summary: 'List datastreams', params: idParam } },
    async (req) => {
      const { id } = req.params as { id: string };
      return { items: (await ownModel(currentUser(req).orgId, id)).datastreams.map(datastreamJson) };
    },
  );

  app.patch(
    '/api/v1/templates/:id/datastreams/:dsId',
    {
      schema: {
        ...T,
        summary: 'Change a datastream (its type is fixed once created)',
        params: dsParams,
        body: { type: 'object', additionalProperties: false, properties: datastreamProps },
      },
    },
    async (req) => {
      const { id, dsId } = req.params as { id: string; dsId: number };
      const model = await ownModel(currentUser(req).orgId, id);
      const cur = model.byId.get(dsId);
      if (!cur) throw notFound('Datastream');
      const b = req.body as Record<string, unknown>;
      if (b.type !== undefined && b.type !== cur.type)
        throw invalid('type cannot change after a datastream is created');
      let pin = cur.pin;
      if (b.pin !== undefined) {
        const p = parsePin(String(b.pin));
        if (!p) throw invalid('pin must be V0..V255');
        pin = p;
      }
      const pick = <K extends keyof Datastream>(k: K): Datastream[K] =>
        b[k] !== undefined ? (b[k] as Datastream[K]) : cur[k];
      let d: Datastream = {
        ...cur,
        name: b.name !== undefined ? String(b.name).trim() : cur.name,
        pin,
        min: pick('min'),
        max: pick('max'),
        decimals: pick('decimals'),
        units: pick('units'),
        saveRaw: pick('saveRaw'),
        syncOnConnect: pick('syncOnConnect'),
        options: pick('options'),
        fallback: pick('fallback'),
        color: pick('color'),
      };
      checkDatastream(d, model, cur.id);
      d = b.defaultValue !== undefined ? applyDefault(d, b.defaultValue) : d;
      await s.templates.updateDatastream(d, s.clock());
      changed(id);
      return datastreamJson(d);
    },
  );

  app.delete(
    '/api/v1/templates/:id/datastreams/:dsId',
    { schema: { ...T, summary: 'Delete a datastream', params: dsParams } },
    async (req, reply) => {
      const { id, dsId } = req.params as { id: string; dsId: number };
      const model = await ownModel(currentUser(req).orgId, id);
      if (!model.byId.has(dsId)) throw notFound('Datastream');
      await s.templates.deleteDatastream(id, dsId);
      changed(id);
      return reply.code(204).send();
    },
  );

  // Metafields
  app.post(
    '/api/v1/templates/:id/metafields',
    {
      schema: {
        ...T,
        summary: 'Add a metafield',
        params: idParam,
        body: {
          type: 'object',
          required: ['name', 'type'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            type: { type: 'string', enum: [...METAFIELD_TYPES] },
            required: { type: 'boolean' },
            defaultValue: {},
          },
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const model = await ownModel(currentUser(req).orgId, id);
      const b = req.body as {
        name: string;
        type: (typeof METAFIELD_TYPES)[number];
        required?: boolean;
        defaultValue?: unknown;
      };
      if (model.metafields.some((m) => m.name === b.name))
        throw conflict(`a metafield named "${b.name}" already exists`);
      const created = await s.templates.addMetafield({
        templateId: id,
        name: b.name,
        type: b.type,
        required: b.required ?? false,
        defaultValue: b.defaultValue ?? null,
      });
      changed(id);
      const { templateId: _t, ...rest } = created;
      return reply.code(201).send(rest);
    },
  );

  app.get(
    '/api/v1/templates/:id/metafields',
    { schema: { ...T, summary: 'List metafields', params: idParam } },
    async (req) => {
      const { id } = req.params as { id: string };
      return { items: (await ownModel(currentUser(req).orgId, id)).metafields.map(({ templateId: _t, ...r }) => r) };
    },
  );

  app.delete(
    '/api/v1/templates/:id/metafields/:subId',
    { schema: { ...T, summary: 'Delete a metafield', params: subParams } },
    async (req, reply) => {
      const { id, subId } = req.params as { id: string; subId: number };
      const model = await ownModel(currentUser(req).orgId, id);
      if (!model.metafields.some((m) => m.id === subId)) throw notFound('Metafield');
      await s.templates.deleteMetafield(id, subId);
      changed(id);
      return reply.code(204).send();
    },
  );

  // Events (what devices log with logEvent)
  app.post(
    '/api/v1/templates/:id/events',
    {
      schema: {
        ...T,
        summary: 'Add an event definition',
        params: idParam,
        body: {
          type: 'object',
          required: ['code', 'name'],
          additionalProperties: false,
          properties: {
            code: { type: 'string', minLength: 1, maxLength: 50, pattern: '^[A-Za-z0-9_ ]+$' },
            name: { type: 'string', minLength: 1, maxLength: 50 },
            type: { type: 'string', enum: [...EVENT_TYPES] },
            description: { type: 'string', maxLength: 250 },
          },
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const model = await ownModel(currentUser(req).orgId, id);
      const b = req.body as { code: string; name: string; type?: (typeof EVENT_TYPES)[number]; description?: string };
      if (model.events.some((e) => e.code === b.code)) throw conflict(`an event with code "${b.code}" already exists`);
      const created = await s.templates.addEvent({
        templateId: id,
        code: b.code,
        name: b.name,
        type: b.type ?? 'info',
        description: b.description ?? '',
      });
      changed(id);
      const { templateId: _t, ...rest } = created;
      return reply.code(201).send(rest);
    },
  );

  app.get(
    '/api/v1/templates/:id/events',
    { schema: { ...T, summary: 'List event definitions', params: idParam } },
    async (req) => {
      const { id } = req.params as { id: string };
      return { items: (await ownModel(currentUser(req).orgId, id)).events.map(({ templateId: _t, ...r }) => r) };
    },
  );

  app.delete(
    '/api/v1/templates/:id/events/:subId',
    { schema: { ...T, summary: 'Delete an event definition', params: subParams } },
    async (req, reply) => {
      const { id, subId } = req.params as { id: string; subId: number };
      const model = await ownModel(currentUser(req).orgId, id);
      if (!model.events.some((e) => e.id === subId)) throw notFound('Event');
      await s.templates.deleteEvent(id, subId);
      changed(id);
      return reply.code(204).send();
    },
  );

  app.put(
    '/api/v1/templates/:id/lifecycle',
    {
      schema: {
        ...T,
        summary: 'Connection lifecycle: online on any data, offline after a wait',
        params: idParam,
        body: {
          type: 'object',
          required: ['logAnyData', 'offlineAfterSeconds'],
          additionalProperties: false,
          properties: {
            logAnyData: { type: 'boolean' },
            offlineAfterSeconds: { type: 'integer', minimum: 1, maximum: 90 * 86_400 },
          },
        },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      await ownModel(currentUser(req).orgId, id);
      const b = req.body as { logAnyData: boolean; offlineAfterSeconds: number };
      await s.templates.update(id, b, s.clock());
      changed(id);
      return { logAnyData: b.logAnyData, offlineAfterSeconds: b.offlineAfterSeconds };
    },
  );
}
