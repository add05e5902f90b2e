import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('config', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('0.0.0.0');
    expect(c.dataDir.endsWith('data')).toBe(true);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.admin).toBeUndefined();
    expect(c.sqliteSynchronous).toBe('FULL');
    expect(c.loginMaxFailures).toBe(5);
    expect(c.loginBlockSeconds).toBe(600);
  });

  it('fails at boot naming every bad variable', () => {
    expect(() => loadConfig({ PINWHEEL_PORT: 'eighty', DATABASE_URL: 'mysql://x' })).toThrow(ConfigError);
    try {
      loadConfig({ PINWHEEL_PORT: 'eighty', DATABASE_URL: 'mysql://x' });
    } catch (err) {
      expect((err as Error).message).toContain('PINWHEEL_PORT');
      expect((err as Error).message).toContain('DATABASE_URL');
    }
  });

  it('needs the admin email and password together', () => {
    expect(() => loadConfig({ PINWHEEL_ADMIN_EMAIL: 'a@b.co' })).toThrow(/set together/);
    const c = loadConfig({ PINWHEEL_ADMIN_EMAIL: 'a@b.co', PINWHEEL_ADMIN_PASSWORD: 'longenough' });
    expect(c.admin).toEqual({ email: 'a@b.co', password: 'longenough', organization: 'My organization' });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', REDIS_URL: '' }).databaseUrl).toBeUndefined();
  });
});
