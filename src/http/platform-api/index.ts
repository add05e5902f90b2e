import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { registerWebSocket } from '../ws.ts';
import { requireUser } from './auth.ts';
import { registerAuthRoutes } from './auth-routes.ts';
import { registerBlueprintRoutes } from './blueprints-routes.ts';
import { registerDashboardRoutes } from './dashboard-routes.ts';
import { registerDeviceRoutes } from './devices-routes.ts';
import { registerParticleRoutes } from './particle-routes.ts';
import { registerTemplateRoutes } from './templates-routes.ts';
import { registerTtsRoutes } from './tts-routes.ts';
import { registerWebhookRoutes } from './webhooks-routes.ts';

/** Pinwheel's own API under /api/v1 (specs/platform-api.md). */
export async function registerPlatformApi(app: FastifyInstance, s: Services): Promise<void> {
  await app.register(async (authed) => {
    authed.addHook('preHandler', requireUser(s));
    registerAuthRoutes(app, s, authed);
    registerTemplateRoutes(authed, s);
    registerDeviceRoutes(authed, s);
    registerTtsRoutes(authed, s);
    registerWebhookRoutes(authed, s);
    registerParticleRoutes(authed, s);
    registerDashboardRoutes(authed, s);
    registerBlueprintRoutes(authed, s);
    registerWebSocket(authed, s);
  });
}
