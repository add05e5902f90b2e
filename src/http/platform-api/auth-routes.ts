import type { FastifyInstance } from 'fastify';
import { conflict, notFound, PlatformError } from '../../errors.ts';
import { hashPassword, verifyPassword } from '../../security/passwords.ts';
import { hashToken, newUserToken } from '../../security/tokens.ts';
import type { Services } from '../../services.ts';
import { currentUser } from './auth.ts';
import { dbId } from './schemas.ts';

const userSchema = {
  type: 'object',
  properties: { id: { type: 'integer' }, email: { type: 'string' }, role: { type: 'string' } },
};
const credentials = {
  type: 'object',
  required: ['email', 'password'],
  additionalProperties: false,
  properties: {
    email: { type: 'string', minLength: 3, maxLength: 254 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
};

/** Creates the first organization and admin: used by POST /setup and PINWHEEL_ADMIN_*. */
export async function createFirstAdmin(
  s: Services,
  input: { email: string; password: string; organization: string },
): Promise<{ created: boolean }> {
  if ((await s.users.count()) > 0) return { created: false };
  await s.users.createOrgWithAdmin({
    organization: input.organization,
    email: input.email,
    passwordHash: await hashPassword(input.password),
    now: s.clock(),
  });
  return { created: true };
}

async function issueSession(s: Services, userId: number): Promise<string> {
  const token = newUserToken('session');
  const now = s.clock();
  await s.users.addToken({
    userId,
    kind: 'session',
    name: 'login',
    tokenHash: hashToken(token),
    now,
    expiresAt: now + s.config.sessionTtlHours * 3_600_000,
  });
  return token;
}

/** Setup, login, logout and long-lived API tokens. */
export function registerAuthRoutes(app: FastifyInstance, s: Services, authed: FastifyInstance): void {
  app.get(
    '/api/v1/setup',
    { schema: { tags: ['Auth'], summary: 'Is first-run setup still needed?', security: [] } },
    async () => ({ needed: (await s.users.count()) === 0 }),
  );

  app.post(
    '/api/v1/setup',
    {
      schema: {
        tags: ['Auth'],
        summary: 'Create the first organization and admin (only while no user exists)',
        security: [],
        body: {
          type: 'object',
          required: ['email', 'password', 'organization'],
          additionalProperties: false,
          properties: {
            email: { type: 'string', format: 'email', maxLength: 254 },
            password: { type: 'string', minLength: 8, maxLength: 1024 },
            organization: { type: 'string', minLength: 1, maxLength: 80 },
          },
        },
      },
    },
    async (req, reply) => {
      const body = req.body as { email: string; password: string; organization: string };
      const { created } = await createFirstAdmin(s, body);
      if (!created) throw new PlatformError('SETUP_DONE');
      const user = await s.users.findByEmail(body.email);
      const token = await issueSession(s, user!.id);
      return reply.code(201).send({ token, user: { id: user!.id, email: user!.email, role: user!.role } });
    },
  );

  app.post(
    '/api/v1/auth/login',
    {
      schema: {
        tags: ['Auth'],
        summary: 'Log in; returns a session token',
        security: [],
        body: credentials,
        response: { 200: { type: 'object', properties: { token: { type: 'string' }, user: userSchema } } },
      },
    },
    async (req) => {
      const address = req.ip;
      const wait = s.loginThrottle.blockedFor(address);
      if (wait > 0) throw new PlatformError('TOO_MANY_ATTEMPTS', { seconds: Math.ceil(wait / 1000) });
      const { email, password } = req.body as { email: string; password: string };
      const user = await s.users.findByEmail(email);
      const ok = user ? await verifyPassword(password, user.passwordHash) : false;
      if (!user || !ok) {
        s.loginThrottle.fail(address);
        throw new PlatformError('INVALID_CREDENTIALS');
      }
      s.loginThrottle.succeed(address);
      const token = await issueSession(s, user.id);
      return { token, user: { id: user.id, email: user.email, role: user.role } };
    },
  );

  authed.post(
    '/api/v1/auth/logout',
    { schema: { tags: ['Auth'], summary: 'End this session' } },
    async (req, reply) => {
      const h = req.headers.authorization ?? '';
      await s.users.deleteTokenByHash(hashToken(h.replace(/^bearer\s+/i, '').trim()));
      return reply.code(204).send();
    },
  );

  authed.get('/api/v1/auth/me', { schema: { tags: ['Auth'], summary: 'The current user' } }, async (req) => {
    const u = currentUser(req);
    return { id: u.id, email: u.email, role: u.role, orgId: u.orgId, organization: await s.users.orgName(u.orgId) };
  });

  authed.post(
    '/api/v1/api-tokens',
    {
      schema: {
        tags: ['Auth'],
        summary: 'Create a long-lived API token (shown once)',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
        },
      },
    },
    async (req, reply) => {
      const u = currentUser(req);
      const { name } = req.body as { name: string };
      const existing = await s.users.listApiTokens(u.id);
      if (existing.some((t) => t.name === name)) throw conflict(`an API token named "${name}" already exists`);
      const token = newUserToken('api');
      const id = await s.users.addToken({
        userId: u.id,
        kind: 'api',
        name,
        tokenHash: hashToken(token),
        now: s.clock(),
        expiresAt: null,
      });
      return reply.code(201).send({ id, name, token });
    },
  );

  authed.get(
    '/api/v1/api-tokens',
    { schema: { tags: ['Auth'], summary: 'List API tokens (never the secrets)' } },
    async (req) => ({
      items: await s.users.listApiTokens(currentUser(req).id),
    }),
  );

  authed.delete(
    '/api/v1/api-tokens/:id',
    {
      schema: {
        tags: ['Auth'],
        summary: 'Revoke an API token',
        params: { type: 'object', properties: { id: dbId } },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: number };
      const u = currentUser(req);
      // Sessions share the id sequence: only ever revoke a token of kind "api" here.
      const own = await s.users.listApiTokens(u.id);
      if (!own.some((t) => t.id === id) || !(await s.users.deleteToken(u.id, id))) throw notFound('API token');
      return reply.code(204).send();
    },
  );
}
