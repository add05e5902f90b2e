import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import type { WebhookInput } from '../../webhooks/webhook-service.ts';
import { WEBHOOK_AUTH_TYPES, WEBHOOK_CONTENT_TYPES, WEBHOOK_METHODS } from '../../webhooks/webhooks-repo.ts';
import { currentUser } from './auth.ts';
import { dbId } from './schemas.ts';

const W = { tags: ['Webhooks'] };
const idParam = { type: 'object', properties: { id: dbId } };

const stringMap = {
  type: 'object',
  maxProperties: 50,
  additionalProperties: { type: 'string', maxLength: 1024 },
} as const;

const props = {
  name: { type: 'string', minLength: 1, maxLength: 80, pattern: "^[\\p{L}\\p{N} _.'-]+$" },
  trigger: {
    type: 'object',
    required: ['type', 'templateId', 'datastream'],
    additionalProperties: false,
    properties: {
      type: { type: 'string', enum: ['datastream_update'] },
      templateId: { type: 'string', minLength: 1, maxLength: 40 },
      deviceId: { anyOf: [dbId, { type: 'null' }] },
      datastream: { type: 'string', minLength: 1, maxLength: 100 },
    },
  },
  url: { type: 'string', minLength: 1, maxLength: 1024 },
  method: { type: 'string', enum: [...WEBHOOK_METHODS] },
  contentType: { type: 'string', enum: [...WEBHOOK_CONTENT_TYPES] },
  body: {
    anyOf: [{ type: 'string', maxLength: 5120 }, { type: 'object', maxProperties: 100 }, { type: 'null' }],
  },
  headers: stringMap,
  query: stringMap,
  auth: {
    type: 'object',
    required: ['type'],
    additionalProperties: false,
    properties: {
      type: { type: 'string', enum: [...WEBHOOK_AUTH_TYPES] },
      username: { type: 'string', minLength: 1, maxLength: 200 },
      password: { type: 'string', maxLength: 1000 },
      token: { type: 'string', minLength: 1, maxLength: 4000 },
    },
  },
  perMinute: { type: 'integer', minimum: 1, maximum: 6000 },
  disableAfter: { type: 'integer', minimum: 0, maximum: 1_000_000 },
  enabled: { type: 'boolean' },
} as const;

/** Outgoing webhooks: /api/v1/webhooks (specs/platform-api.md). Secrets are never returned. */
export function registerWebhookRoutes(app: FastifyInstance, s: Services): void {
  app.post(
    '/api/v1/webhooks',
    {
      schema: {
        ...W,
        summary: 'Create a webhook fired by datastream updates of one device or of a template',
        body: {
          type: 'object',
          required: ['name', 'trigger', 'url'],
          additionalProperties: false,
          properties: props,
        },
      },
    },
    async (req, reply) => {
      const created = await s.webhooks.create(currentUser(req).orgId, req.body as WebhookInput);
      return reply.code(201).send(created);
    },
  );

  app.get('/api/v1/webhooks', { schema: { ...W, summary: 'List webhooks' } }, async (req) => ({
    items: await s.webhooks.list(currentUser(req).orgId),
  }));

  app.get(
    '/api/v1/webhooks/:id',
    { schema: { ...W, summary: 'One webhook with its state', params: idParam } },
    async (req) => s.webhooks.get(currentUser(req).orgId, (req.params as { id: number }).id),
  );

  app.patch(
    '/api/v1/webhooks/:id',
    {
      schema: {
        ...W,
        summary: 'Change a webhook; enabling it again clears its failure count',
        params: idParam,
        body: { type: 'object', additionalProperties: false, properties: props },
      },
    },
    async (req) =>
      s.webhooks.update(currentUser(req).orgId, (req.params as { id: number }).id, req.body as WebhookInput),
  );

  app.delete(
    '/api/v1/webhooks/:id',
    { schema: { ...W, summary: 'Delete a webhook, its pending deliveries and its log', params: idParam } },
    async (req, reply) => {
      await s.webhooks.remove(currentUser(req).orgId, (req.params as { id: number }).id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/webhooks/:id/test',
    {
      schema: {
        ...W,
        summary: 'Send one request now with sample values; returns the HTTP status (not logged)',
        params: idParam,
      },
    },
    async (req) => s.webhooks.test(currentUser(req).orgId, (req.params as { id: number }).id),
  );

  app.get(
    '/api/v1/webhooks/:id/log',
    {
      schema: {
        ...W,
        summary: 'Delivery attempts, newest first',
        params: idParam,
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            before: dbId,
          },
        },
      },
    },
    async (req) => {
      const q = req.query as { limit: number; before?: number };
      return {
        items: await s.webhooks.log(currentUser(req).orgId, (req.params as { id: number }).id, q.limit, q.before),
      };
    },
  );
}
