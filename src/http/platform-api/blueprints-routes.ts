import type { FastifyInstance, FastifyRequest } from 'fastify';
import { applyBlueprint } from '../../blueprints/apply.ts';
import { DEFAULT_BLUEPRINTS_DIR, findBlueprint, listBlueprints } from '../../blueprints/loader.ts';
import type { Device } from '../../domain/model.ts';
import { notFound } from '../../errors.ts';
import type { Services } from '../../services.ts';
import { currentUser } from './auth.ts';
import { dashboardJson } from './dashboard-routes.ts';
import { templateJson } from './templates-routes.ts';

const B = { tags: ['Blueprints'] };
const slugParam = { type: 'object', properties: { slug: { type: 'string', maxLength: 63 } } };

/** This server's base URL as devices and Particle's cloud should call it. */
export function publicBaseUrl(s: Services, req: FastifyRequest): string {
  if (s.config.publicUrl) return s.config.publicUrl.replace(/\/+$/, '');
  const host = req.host;
  const safeHost = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host) ? host : 'localhost';
  return `${req.protocol}://${safeHost}`;
}

const deviceJson = (d: Device) => ({
  id: d.id,
  name: d.name,
  templateId: d.templateId,
  token: d.token,
  online: d.online,
  metadata: {},
  createdAt: d.createdAt,
});

/** Blueprints (specs/platform-api.md): ready-made templates read from blueprints/<slug>/. */
export function registerBlueprintRoutes(app: FastifyInstance, s: Services, dir: string = DEFAULT_BLUEPRINTS_DIR): void {
  const onError = (err: Error) => s.log.warn({ err }, 'blueprint skipped');

  app.get('/api/v1/blueprints', { schema: { ...B, summary: 'List blueprints' } }, async () => {
    const list = await listBlueprints(dir, onError);
    return { items: list.map((b) => ({ slug: b.slug, name: b.name, description: b.description })) };
  });

  app.get(
    '/api/v1/blueprints/:slug',
    { schema: { ...B, summary: 'A blueprint: its datastreams, dashboard and files', params: slugParam } },
    async (req) => {
      const bp = await findBlueprint((req.params as { slug: string }).slug, dir);
      if (!bp) throw notFound('Blueprint');
      const { dir: _d, ...rest } = bp;
      return rest;
    },
  );

  app.post(
    '/api/v1/blueprints/:slug/apply',
    {
      schema: {
        ...B,
        summary: 'Create the template, dashboard and a device of a blueprint',
        description:
          'Returns the template, the device with its token, the dashboard and the blueprint files rendered ' +
          'for that device (e.g. firmware, particleWebhook, tutorial).',
        params: slugParam,
        body: {
          anyOf: [
            {
              type: 'object',
              additionalProperties: false,
              properties: { deviceName: { type: 'string', minLength: 1, maxLength: 60, pattern: '\\S' } },
            },
            { type: 'null' },
          ],
        },
      },
    },
    async (req, reply) => {
      const u = currentUser(req);
      const bp = await findBlueprint((req.params as { slug: string }).slug, dir);
      if (!bp) throw notFound('Blueprint');
      const body = (req.body ?? {}) as { deviceName?: string };
      const applied = await applyBlueprint(s, bp, {
        orgId: u.orgId,
        deviceName: body.deviceName,
        serverUrl: publicBaseUrl(s, req),
      });
      s.bus.broadcast({ type: 'invalidate', entity: 'template', id: applied.templateId });
      const model = (await s.registry.template(applied.templateId))!;
      const stored = (await s.templates.getDashboard(applied.templateId))!;
      return reply.code(201).send({
        template: templateJson(model),
        devices: applied.devices.map(deviceJson),
        dashboard: dashboardJson(applied.templateId, bp.dashboard, stored.updatedAt),
        ...applied.files,
      });
    },
  );
}
