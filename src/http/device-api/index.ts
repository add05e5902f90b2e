import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { registerDataExportRoutes } from './data-export-routes.ts';
import { registerDeviceMetaRoutes } from './meta-routes.ts';
import { registerDeviceValueRoutes } from './values-routes.ts';

/** Blynk's Device HTTPS API under /external/api (specs/blynk.md §1). */
export function registerDeviceApi(app: FastifyInstance, s: Services): void {
  registerDeviceValueRoutes(app, s);
  registerDeviceMetaRoutes(app, s);
  registerDataExportRoutes(app, s);
}
