import type { Kysely } from 'kysely';
import type { Role, User } from '../domain/model.ts';
import type { Database } from './schema.ts';

type DB = Kysely<Database>;

export class UsersRepo {
  constructor(private readonly db: DB) {}

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Creates an organization and its first admin in one transaction. */
  async createOrgWithAdmin(input: {
    organization: string;
    email: string;
    passwordHash: string;
    now: number;
  }): Promise<User> {
    return this.db.transaction().execute(async (trx) => {
      const org = await trx
        .insertInto('organizations')
        .values({ name: input.organization, created_at: input.now })
        .returning('id')
        .executeTakeFirstOrThrow();
      const u = await trx
        .insertInto('users')
        .values({
          org_id: org.id,
          email: input.email.toLowerCase(),
          password_hash: input.passwordHash,
          role: 'admin',
          created_at: input.now,
        })
        .returning(['id', 'org_id', 'email', 'role', 'created_at'])
        .executeTakeFirstOrThrow();
      return { id: u.id, orgId: u.org_id, email: u.email, role: u.role as Role, createdAt: u.created_at };
    });
  }

  async findByEmail(email: string): Promise<(User & { passwordHash: string }) | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
    if (!r) return undefined;
    return {
      id: r.id,
      orgId: r.org_id,
      email: r.email,
      role: r.role as Role,
      createdAt: r.created_at,
      passwordHash: r.password_hash,
    };
  }

  async orgName(orgId: number): Promise<string | undefined> {
    const r = await this.db.selectFrom('organizations').select('name').where('id', '=', orgId).executeTakeFirst();
    return r?.name;
  }

  async addToken(t: {
    userId: number;
    kind: 'session' | 'api';
    name: string;
    tokenHash: string;
    now: number;
    expiresAt: number | null;
  }): Promise<number> {
    const r = await this.db
      .insertInto('auth_tokens')
      .values({
        user_id: t.userId,
        kind: t.kind,
        name: t.name,
        token_hash: t.tokenHash,
        created_at: t.now,
        expires_at: t.expiresAt,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }

  async userByTokenHash(hash: string, now: number): Promise<User | undefined> {
    const r = await this.db
      .selectFrom('auth_tokens')
      .innerJoin('users', 'users.id', 'auth_tokens.user_id')
      .select(['users.id', 'users.org_id', 'users.email', 'users.role', 'users.created_at', 'auth_tokens.expires_at'])
      .where('auth_tokens.token_hash', '=', hash)
      .executeTakeFirst();
    if (!r || (r.expires_at !== null && r.expires_at <= now)) return undefined;
    return { id: r.id, orgId: r.org_id, email: r.email, role: r.role as Role, createdAt: r.created_at };
  }

  async listApiTokens(userId: number): Promise<Array<{ id: number; name: string; createdAt: number }>> {
    const rows = await this.db
      .selectFrom('auth_tokens')
      .select(['id', 'name', 'created_at'])
      .where('user_id', '=', userId)
      .where('kind', '=', 'api')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
  }

  async deleteToken(userId: number, id: number): Promise<boolean> {
    const r = await this.db
      .deleteFrom('auth_tokens')
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async deleteTokenByHash(hash: string): Promise<void> {
    await this.db.deleteFrom('auth_tokens').where('token_hash', '=', hash).execute();
  }
}
