import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from '../src/logger.ts';

describe('logging', () => {
  it('blanks out tokens, passwords and keys wherever they appear', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => lines.push(line) });
    log.info(
      {
        req: { headers: { authorization: 'Bearer pws_SECRET1', cookie: 'sid=SECRET2' }, query: { token: 'SECRET3' } },
        user: { password: 'SECRET4' },
        integration: { apiKey: 'SECRET5', accessToken: 'SECRET6' },
        token: 'SECRET7',
      },
      'hello',
    );
    expect(lines).toHaveLength(1);
    for (let i = 1; i <= 7; i++) expect(lines[0]).not.toContain(`SECRET${i}`);
    expect(lines[0]).toContain('[redacted]');
    expect(lines[0]).toContain('hello');
  });

  it('removes device tokens from URLs before they are logged', () => {
    expect(redactUrl('/external/api/update?token=abc123&V1=1')).toBe('/external/api/update?token=[redacted]&V1=1');
    expect(redactUrl('/external/api/get?V1&token=abc')).toBe('/external/api/get?V1&token=[redacted]');
  });
});
