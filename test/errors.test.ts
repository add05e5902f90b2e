import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config.ts';
import { deviceErrors, platformErrors } from '../src/errors.ts';

const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('the error catalog and the README agree', () => {
  it('lists every device API error with its exact text and status', () => {
    for (const [code, def] of Object.entries(deviceErrors)) {
      expect(readme, code).toContain(`| \`${code}\` | ${def.status} | ${def.message} |`);
    }
  });

  it('lists every platform API error code with its status', () => {
    for (const [code, def] of Object.entries(platformErrors)) {
      expect(readme, code).toContain(`| \`${code}\` | ${def.status} |`);
    }
  });

  it('has no stale rows for codes that no longer exist', () => {
    const rows = [...readme.matchAll(/^\| `([A-Z_]+)` \| \d{3} \|/gm)].map((m) => m[1]!);
    const known = new Set([...Object.keys(deviceErrors), ...Object.keys(platformErrors)]);
    expect(rows.filter((r) => !known.has(r))).toEqual([]);
  });
});

describe('the configuration and the README agree', () => {
  it('documents every environment variable the config reads', () => {
    for (const name of Object.keys(configSchema.shape)) {
      expect(readme, name).toMatch(new RegExp(`\\| \`${name}\` \\|`));
    }
  });
});
