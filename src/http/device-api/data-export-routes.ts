import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';

/** `data/get`: history export (written in a following step). */
export function registerDataExportRoutes(_app: FastifyInstance, _s: Services): void {}
