import type { FastifyInstance } from 'fastify';
import { invalid } from '../../errors.ts';
import { DOWNLINK_PRIORITIES, type TtsSettings } from '../../integrations/tts/settings.ts';
import type { Services } from '../../services.ts';
import { currentUser } from './auth.ts';
import { dbId } from './schemas.ts';

const I = { tags: ['Integrations'] };
const idParam = { type: 'object', properties: { id: dbId } };

const settingsProps = {
  name: { type: 'string', minLength: 1, maxLength: 100 },
  host: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.-]+$' },
  port: { type: 'integer', minimum: 1, maximum: 65535 },
  tls: { type: 'boolean' },
  username: {
    type: 'string',
    minLength: 1,
    maxLength: 100,
    pattern: '^[a-z0-9](?:[-]?[a-z0-9]){2,}(@[a-z0-9](?:[-]?[a-z0-9])*)?$',
  },
  apiKey: { type: 'string', minLength: 1, maxLength: 1000 },
  fPort: { type: 'integer', minimum: 1, maximum: 223 },
  priority: { type: 'string', enum: [...DOWNLINK_PRIORITIES] },
  confirmed: { type: 'boolean' },
  downlinkShape: { type: 'string', enum: ['blynk', 'named'] },
  coalesce: { type: 'boolean' },
  flatten: { type: 'boolean' },
  mapping: {
    type: 'object',
    maxProperties: 256,
    additionalProperties: { type: 'string', minLength: 1, maxLength: 100 },
  },
  autoCreate: { type: 'boolean' },
} as const;

/** The Things Stack application cards: /api/v1/integrations/tts. The API key is never returned. */
export function registerTtsRoutes(app: FastifyInstance, s: Services): void {
  app.post(
    '/api/v1/integrations/tts',
    {
      schema: {
        ...I,
        summary: 'Connect a template to a The Things Stack application (connects at once)',
        body: {
          type: 'object',
          required: ['templateId', 'host', 'username', 'apiKey'],
          additionalProperties: false,
          properties: { templateId: { type: 'string', maxLength: 40 }, ...settingsProps },
        },
      },
    },
    async (req, reply) => {
      const u = currentUser(req);
      const b = req.body as Partial<TtsSettings> & { templateId: string; apiKey: string; name?: string };
      const model = await s.registry.template(b.templateId);
      if (!model || model.template.orgId !== u.orgId) throw invalid(`templateId: no template ${b.templateId}`);
      const tls = b.tls ?? true;
      const created = await s.tts.create(
        u.orgId,
        b.templateId,
        {
          host: b.host!,
          port: b.port,
          tls,
          username: b.username!,
          apiKey: b.apiKey,
          name: b.name,
          fPort: b.fPort ?? 1,
          priority: b.priority ?? 'NORMAL',
          confirmed: b.confirmed ?? false,
          downlinkShape: b.downlinkShape ?? 'blynk',
          coalesce: b.coalesce ?? false,
          flatten: b.flatten ?? true,
          mapping: b.mapping ?? {},
          autoCreate: b.autoCreate ?? true,
        },
        s.clock(),
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/integrations/tts',
    { schema: { ...I, summary: 'List The Things Stack applications' } },
    async (req) => ({
      items: await s.tts.list(currentUser(req).orgId),
    }),
  );

  app.get(
    '/api/v1/integrations/tts/:id',
    { schema: { ...I, summary: 'One application card with its live status', params: idParam } },
    async (req) => s.tts.get(currentUser(req).orgId, (req.params as { id: number }).id),
  );

  app.patch(
    '/api/v1/integrations/tts/:id',
    {
      schema: {
        ...I,
        summary: 'Change settings (reconnects when the address or credentials change)',
        params: idParam,
        body: { type: 'object', additionalProperties: false, properties: settingsProps },
      },
    },
    async (req) =>
      s.tts.update(
        currentUser(req).orgId,
        (req.params as { id: number }).id,
        req.body as Partial<TtsSettings> & { apiKey?: string; name?: string },
        s.clock(),
      ),
  );

  app.delete(
    '/api/v1/integrations/tts/:id',
    { schema: { ...I, summary: 'Disconnect and delete (devices stay)', params: idParam } },
    async (req, reply) => {
      await s.tts.remove(currentUser(req).orgId, (req.params as { id: number }).id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/integrations/tts/:id/connect',
    { schema: { ...I, summary: 'Retry the connection now', params: idParam } },
    async (req) => s.tts.connectNow(currentUser(req).orgId, (req.params as { id: number }).id),
  );

  app.get(
    '/api/v1/integrations/tts/:id/unmatched',
    {
      schema: {
        ...I,
        summary: 'Decoded-payload keys that fit no datastream (why nothing updates)',
        params: idParam,
      },
    },
    async (req) => ({ items: await s.tts.unmatched(currentUser(req).orgId, (req.params as { id: number }).id) }),
  );
}
