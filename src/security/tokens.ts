import crypto from 'node:crypto';

/** A device auth token as Blynk makes them: 24 random bytes, base64url, 32 characters. */
export function newDeviceToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}

/** A user session or API token: 32 random bytes, base64url, prefixed for recognisability. */
export function newUserToken(kind: 'session' | 'api'): string {
  return `${kind === 'api' ? 'pwa' : 'pws'}_${crypto.randomBytes(32).toString('base64url')}`;
}

/** Tokens are looked up by their SHA-256; the token itself is never stored in clear. */
export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('base64url');
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Template ids: "TMPL" + 8 random alphanumerics (Blynk's shape). */
export function newTemplateId(): string {
  const bytes = crypto.randomBytes(8);
  let id = 'TMPL';
  for (const b of bytes) id += ALNUM[b % ALNUM.length];
  return id;
}
