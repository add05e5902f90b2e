import type { FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../domain/model.ts';
import { PlatformError } from '../../errors.ts';
import { hashToken } from '../../security/tokens.ts';
import type { Services } from '../../services.ts';

declare module 'fastify' {
  interface FastifyRequest {
    user?: User;
  }
}

/** The bearer token of a request: `Authorization: Bearer`, or `?token=` (WebSocket only). */
export function bearerToken(req: FastifyRequest, allowQuery = false): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string' && /^bearer\s+/i.test(h)) return h.replace(/^bearer\s+/i, '').trim();
  if (allowQuery) {
    const t = (req.query as Record<string, unknown>).token;
    if (typeof t === 'string' && t !== '') return t;
  }
  return undefined;
}

export async function userFromToken(s: Services, token: string | undefined): Promise<User | undefined> {
  if (!token) return undefined;
  return s.users.userByTokenHash(hashToken(token), s.clock());
}

/** preHandler for every /api/v1 route but login and setup. */
export function requireUser(s: Services) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const user = await userFromToken(s, bearerToken(req, req.url.startsWith('/api/v1/ws')));
    if (!user) throw new PlatformError('UNAUTHORIZED');
    req.user = user;
  };
}

export function currentUser(req: FastifyRequest): User {
  if (!req.user) throw new PlatformError('UNAUTHORIZED');
  return req.user;
}
