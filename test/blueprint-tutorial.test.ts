import { expect, it } from 'vitest';
import { startApp } from './helpers/harness.ts';

it('the blueprint tutorial webhook example is accepted by the webhooks API', async () => {
  const t = await startApp({ name: 'sqlite' });
  try {
    const applied = await t.api('POST', '/api/v1/blueprints/particle-device/apply', {});
    expect(applied.status, applied.text).toBe(201);
    const md: string = applied.body.tutorial;
    const m = /api\/v1\/webhooks"[\s\S]*?-d '(\{[\s\S]*?\})'/.exec(md);
    expect(m).not.toBeNull();
    const body = JSON.parse(m![1]!);
    const r = await t.api('POST', '/api/v1/webhooks', body);
    expect(r.status, r.text).toBe(201);
  } finally {
    await t.close();
  }
});
