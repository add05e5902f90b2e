import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Encrypts secrets at rest (device tokens, integration API keys, access tokens) with
 * AES-256-GCM. The key comes from PINWHEEL_SECRET_KEY or is generated once into
 * <dataDir>/secret.key (mode 0600). Several instances sharing PostgreSQL must share the key.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromHex(hex: string): SecretBox {
    return new SecretBox(Buffer.from(hex, 'hex'));
  }

  static loadOrCreate(dataDir: string, hex: string | undefined): SecretBox {
    if (hex) return SecretBox.fromHex(hex);
    const file = path.join(dataDir, 'secret.key');
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      const existing = fs.readFileSync(file, 'utf8').trim();
      if (/^[0-9a-f]{64}$/i.test(existing)) return SecretBox.fromHex(existing);
      throw new Error(`${file} does not hold 64 hex characters`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const created = crypto.randomBytes(32).toString('hex');
    fs.writeFileSync(file, `${created}\n`, { mode: 0o600, flag: 'wx' });
    return SecretBox.fromHex(created);
  }

  /** "v1.<iv>.<tag>.<ciphertext>", all base64url. */
  seal(plain: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return ['v1', iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.');
  }

  open(sealed: string): string {
    const [v, iv, tag, ct] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('not a sealed secret');
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }
}
