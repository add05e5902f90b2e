import type { FastifyInstance } from 'fastify';
import { invalid } from '../../errors.ts';
import type { ParticleInput, ParticlePatch } from '../../integrations/particle/particle-service.ts';
import type { Services } from '../../services.ts';
import { currentUser } from './auth.ts';
import { dbId } from './schemas.ts';

const I = { tags: ['Integrations'] };
const idParam = { type: 'object', properties: { id: dbId } };

const functionsSchema = {
  type: 'object',
  maxProperties: 256,
  additionalProperties: { type: 'string', minLength: 1, maxLength: 64 },
} as const;

const settingsProps = {
  name: { type: 'string', minLength: 1, maxLength: 100 },
  accessToken: { type: 'string', minLength: 1, maxLength: 1000 },
  productId: {
    anyOf: [
      { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' },
      { type: 'integer', minimum: 1 },
      { type: 'null' },
    ],
  },
  functions: functionsSchema,
  perMinute: { anyOf: [{ type: 'integer', minimum: 1, maximum: 100_000 }, { type: 'null' }] },
  autoCreate: { type: 'boolean' },
} as const;

type Body = {
  name?: string;
  accessToken?: string;
  productId?: string | number | null;
  functions?: Record<string, string>;
  perMinute?: number | null;
  autoCreate?: boolean;
};

const productOf = (p: string | number | null | undefined): string | null | undefined =>
  p === undefined ? undefined : p === null ? null : String(p);

/** Particle integrations: /api/v1/integrations/particle. The access token is never returned. */
export function registerParticleRoutes(app: FastifyInstance, s: Services): void {
  app.post(
    '/api/v1/integrations/particle',
    {
      schema: {
        ...I,
        summary: "Connect a template to a Particle account or product (opens Particle's event stream at once)",
        body: {
          type: 'object',
          required: ['templateId', 'accessToken'],
          additionalProperties: false,
          properties: { templateId: { type: 'string', maxLength: 40 }, ...settingsProps },
        },
      },
    },
    async (req, reply) => {
      const u = currentUser(req);
      const b = req.body as Body & { templateId: string; accessToken: string };
      const model = await s.registry.template(b.templateId);
      if (!model || model.template.orgId !== u.orgId) throw invalid(`templateId: no template ${b.templateId}`);
      const input: ParticleInput = {
        accessToken: b.accessToken,
        name: b.name,
        productId: productOf(b.productId),
        functions: b.functions,
        perMinute: b.perMinute,
        autoCreate: b.autoCreate,
      };
      return reply.code(201).send(await s.particle.create(u.orgId, b.templateId, input, s.clock()));
    },
  );

  app.get(
    '/api/v1/integrations/particle',
    { schema: { ...I, summary: 'List Particle integrations' } },
    async (req) => ({ items: await s.particle.list(currentUser(req).orgId) }),
  );

  app.get(
    '/api/v1/integrations/particle/:id',
    { schema: { ...I, summary: 'One Particle integration with its live status', params: idParam } },
    async (req) => s.particle.get(currentUser(req).orgId, (req.params as { id: number }).id),
  );

  app.patch(
    '/api/v1/integrations/particle/:id',
    {
      schema: {
        ...I,
        summary: 'Change settings (reopens the stream when the token or the product changes)',
        params: idParam,
        body: { type: 'object', additionalProperties: false, properties: settingsProps },
      },
    },
    async (req) => {
      const b = req.body as Body;
      const patch: ParticlePatch = {
        accessToken: b.accessToken,
        name: b.name,
        productId: productOf(b.productId),
        functions: b.functions,
        perMinute: b.perMinute,
        autoCreate: b.autoCreate,
      };
      return s.particle.update(currentUser(req).orgId, (req.params as { id: number }).id, patch, s.clock());
    },
  );

  app.put(
    '/api/v1/integrations/particle/:id/functions',
    {
      schema: {
        ...I,
        summary: 'Datastream (pin or name) → cloud function called on each user-originated write',
        params: idParam,
        body: functionsSchema,
      },
    },
    async (req) =>
      s.particle.setFunctions(
        currentUser(req).orgId,
        (req.params as { id: number }).id,
        req.body as Record<string, string>,
        s.clock(),
      ),
  );

  app.delete(
    '/api/v1/integrations/particle/:id',
    { schema: { ...I, summary: 'Disconnect and delete (devices stay)', params: idParam } },
    async (req, reply) => {
      await s.particle.remove(currentUser(req).orgId, (req.params as { id: number }).id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/integrations/particle/:id/connect',
    { schema: { ...I, summary: 'Reopen the event stream now', params: idParam } },
    async (req) => s.particle.connectNow(currentUser(req).orgId, (req.params as { id: number }).id),
  );

  app.get(
    '/api/v1/integrations/particle/:id/unmatched',
    {
      schema: { ...I, summary: 'Event data keys that fit no datastream (why nothing updates)', params: idParam },
    },
    async (req) => ({
      items: await s.particle.unmatched(currentUser(req).orgId, (req.params as { id: number }).id),
    }),
  );
}
