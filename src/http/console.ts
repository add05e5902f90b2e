import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** web/dist, built by `npm install` (prepare) or `npm run build:web`. */
export const CONSOLE_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../web/dist');

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Pinwheel</title>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>Pinwheel is running</h1>
<p>The web console has not been built yet. Run <code>npm run build:web</code> (or <code>npm install</code>, which builds it) and reload.</p>
<p>The APIs work already: <a href="/api/docs">/api/docs</a>.</p></body>`;

/** Serves the console at / and answers console routes (/devices/12...) with its index.html. */
export async function registerConsole(
  app: FastifyInstance,
): Promise<(req: FastifyRequest, reply: FastifyReply) => boolean> {
  const built = fs.existsSync(path.join(CONSOLE_DIR, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root: CONSOLE_DIR,
      prefix: '/',
      index: ['index.html'],
      wildcard: true,
      cacheControl: false,
      setHeaders(res, filePath) {
        // Hashed assets may be cached for good; the shell and the service worker never.
        if (filePath.includes(`${path.sep}assets${path.sep}`))
          res.setHeader('cache-control', 'public, max-age=31536000, immutable');
        else res.setHeader('cache-control', 'no-cache');
      },
    });
  } else {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/html; charset=utf-8').send(NOT_BUILT),
    );
  }
  /** For the not-found handler: answers a console route with the app shell; false when not one. */
  return (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url.split('?')[0] ?? '';
    if (/^\/+(api|external)\//.test(url) || url.startsWith('/healthz')) return false;
    if (!String(req.headers.accept ?? '').includes('text/html')) return false;
    if (!built) {
      void reply.code(200).type('text/html; charset=utf-8').send(NOT_BUILT);
      return true;
    }
    void reply.code(200).header('cache-control', 'no-cache').sendFile('index.html');
    return true;
  };
}
