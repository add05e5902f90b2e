import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import { DeviceApiError, PlatformError } from './errors.ts';
import { registerConsole } from './http/console.ts';
import { registerDeviceApi } from './http/device-api/index.ts';
import { registerPlatformApi } from './http/platform-api/index.ts';
import { parseQuery } from './http/querystring.ts';
import { redactUrl } from './logger.ts';
import type { Services } from './services.ts';
import { StorageError } from './store/batch-writer.ts';

// Duplicate slashes are ignored by the router, so "//external//api/get" is the device API too.
/** Path of the first non-finite number (Infinity, NaN) in a parsed value, or undefined. */
function nonFinitePath(v: unknown, path: string, depth = 0): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : path;
  if (v === null || typeof v !== 'object' || depth > 32) return undefined;
  for (const [k, child] of Object.entries(v)) {
    const found = nonFinitePath(child, path ? `${path}.${k}` : k, depth + 1);
    if (found) return found;
  }
  return undefined;
}

const isDeviceApi = (url: string) => /^\/+external\//.test(url);

/** Maps anything thrown in a route to the right envelope; never leaks a stack to the client. */
function toHttpError(err: FastifyError | Error, url: string): { status: number; body: unknown } {
  if (err instanceof DeviceApiError || err instanceof PlatformError) {
    return { status: err.status, body: err.toBody() };
  }
  const fe = err as FastifyError;
  const device = isDeviceApi(url);
  if (err instanceof StorageError) {
    const e = device ? new DeviceApiError('STORAGE_UNAVAILABLE') : new PlatformError('STORAGE_UNAVAILABLE');
    return { status: e.status, body: e.toBody() };
  }
  const wrap = (code: ConstructorParameters<typeof PlatformError>[0], params?: Record<string, string>) => {
    const e = new PlatformError(code, params);
    return { status: e.status, body: e.toBody() };
  };
  const dev = (code: ConstructorParameters<typeof DeviceApiError>[0]) => {
    const e = new DeviceApiError(code);
    return { status: e.status, body: e.toBody() };
  };
  if (fe.validation) {
    const v = fe.validation[0];
    const where = fe.validationContext ?? 'body';
    const params = (v?.params ?? {}) as { missingProperty?: string; additionalProperty?: string };
    const path = v?.instancePath ? v.instancePath.replace(/^\//, '').replace(/\//g, '.') : '';
    const prefix = where === 'body' ? '' : `${where} `;
    let detail: string;
    if (params.missingProperty) detail = `${prefix}${path ? `${path}.` : ''}${params.missingProperty} is required`;
    else if (params.additionalProperty)
      detail = `${prefix}${path ? `${path}.` : ''}${params.additionalProperty} is not allowed`;
    else detail = `${prefix}${path || where} ${v?.message ?? 'is invalid'}`;
    return device ? dev('INCORRECT_PARAMETERS') : wrap('VALIDATION_FAILED', { detail });
  }
  switch (fe.code) {
    case 'FST_ERR_BAD_URL':
      return device
        ? dev('INCORRECT_PARAMETERS')
        : wrap('VALIDATION_FAILED', { detail: 'the URL is not valid percent-encoded UTF-8' });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return device
        ? dev('INCORRECT_PARAMETERS')
        : wrap('VALIDATION_FAILED', { detail: 'a path parameter is too long' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return device ? dev('UNKNOWN_CONTENT_TYPE') : wrap('UNSUPPORTED_MEDIA_TYPE', { type: 'of the request body' });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return device ? dev('REQUEST_TOO_LARGE') : wrap('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return device ? dev('INCORRECT_PARAMETERS') : wrap('INVALID_JSON');
  }
  if (err instanceof SyntaxError || (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500)) {
    return device ? dev('INCORRECT_PARAMETERS') : wrap('INVALID_JSON');
  }
  return wrap('INTERNAL');
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (headers too large, broken
 * request line): answered in the same envelopes, chosen from the request line if it arrived.
 */
function clientErrorHandler(err: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const line = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.subarray(0, 256).toString('latin1') : '';
  const target = /^[A-Z]+ (\S+)/.exec(line)?.[1] ?? '';
  const detail = status === 431 ? 'the request line or headers are too large' : 'the request could not be parsed';
  const body = JSON.stringify(
    isDeviceApi(target)
      ? new DeviceApiError('INCORRECT_PARAMETERS').toBody()
      : new PlatformError('VALIDATION_FAILED', { detail }).toBody(),
  );
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

export async function buildApp(s: Services): Promise<FastifyInstance> {
  const logRequests = s.config.logLevel === 'debug' || s.config.logLevel === 'trace';
  const app = Fastify({
    loggerInstance: s.log as unknown as FastifyBaseLogger,
    // Device API requests are many and tiny: with request logging off they share the root
    // logger instead of building a child per request (errors are still logged with the URL).
    childLoggerFactory(logger, bindings, opts, rawReq) {
      if (!logRequests && rawReq.url?.startsWith('/external/')) return logger;
      return logger.child(bindings, opts);
    },
    logController: new LogController({
      disableRequestLogging: !logRequests,
    }),
    bodyLimit: s.config.bodyLimitBytes,
    // Fastify's default silently drops unknown fields; refuse them so a typo is a 400 naming it.
    ajv: { customOptions: { removeAdditional: false } },
    routerOptions: {
      ignoreTrailingSlash: true,
      ignoreDuplicateSlashes: true,
      maxParamLength: 200,
      querystringParser: parseQuery,
    },
    trustProxy: false,
    clientErrorHandler,
    // Bad percent-encoding in the path, over-long path parameters: same envelopes as routes.
    frameworkErrors: (err, req, reply) => {
      const { status, body } = toHttpError(err, req.url);
      return (reply as unknown as FastifyReply).code(status).type('application/json; charset=utf-8').send(body);
    },
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { status, body } = toHttpError(err, req.url);
    if (status >= 500) req.log.error({ err, url: redactUrl(req.url) }, 'request failed');
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });

  // Ajv coerces "1e309" to Infinity and then skips the range check; JSON.parse does the same
  // for 1e309 in a body. No column holds it: refuse it by name.
  app.addHook('preHandler', async (req) => {
    if (!req.url.startsWith('/api/')) return;
    for (const [where, value] of [
      ['querystring', req.query],
      ['params', req.params],
      ['body', req.body],
    ] as const) {
      const path = nonFinitePath(value, '');
      if (path !== undefined) {
        throw new PlatformError('VALIDATION_FAILED', {
          detail: `${where === 'body' ? '' : `${where} `}${path || 'value'} must be a finite number`,
        });
      }
    }
  });

  const consoleFallback = await registerConsole(app);
  app.setNotFoundHandler((req, reply) => {
    if (consoleFallback(req, reply)) return;
    if (isDeviceApi(req.url)) return reply.code(404).send(new DeviceApiError('NOT_FOUND').toBody());
    const path = req.url.split('?')[0] ?? '';
    return reply
      .code(404)
      .send(new PlatformError('ROUTE_NOT_FOUND', { method: req.method, url: path.slice(0, 200) }).toBody());
  });

  if (s.config.openapi) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'Pinwheel API',
          version: '1',
          description: 'Pinwheel platform API (/api/v1) and the Blynk-compatible device HTTPS API (/external/api).',
        },
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        },
        security: [{ bearer: [] }],
        tags: [
          { name: 'Auth' },
          { name: 'Templates' },
          { name: 'Devices' },
          { name: 'Integrations' },
          { name: 'Device API', description: 'Blynk-compatible; authenticated by the device token' },
        ],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/api/docs' });
  }
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });

  registerDeviceApi(app, s);
  await registerPlatformApi(app, s);

  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  return app;
}
