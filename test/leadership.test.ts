import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisLeadership, SoloLeadership } from '../src/integrations/leadership.ts';

const redisUrl = process.env.TEST_REDIS_URL;

describe('leadership', () => {
  it('a single instance leads at once', async () => {
    const l = new SoloLeadership();
    const seen: boolean[] = [];
    l.onChange((v) => seen.push(v));
    await l.start();
    expect(l.leading).toBe(true);
    expect(seen).toEqual([true]);
  });
});

describe.skipIf(!redisUrl)('leadership over Redis', () => {
  const stops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const s of stops) await s();
  });

  it('lets exactly one instance lead, and another take over when it goes', async () => {
    const key = `pinwheel:test:leader:${Date.now()}:${Math.random()}`;
    const a = RedisLeadership.connect(redisUrl!, key, 600, () => {});
    const b = RedisLeadership.connect(redisUrl!, key, 600, () => {});
    stops.push(() => b.stop());
    await a.start();
    await b.start();
    expect(a.leading).toBe(true);
    expect(b.leading).toBe(false);
    // Renewals keep A in charge well past one lease.
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.leading).toBe(true);
    expect(b.leading).toBe(false);
    // A leaves (releases the lease): B takes over within a renewal period.
    await a.stop();
    const deadline = Date.now() + 2000;
    while (!b.leading && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(b.leading).toBe(true);
  });

  it('takes over from a leader that stopped renewing without releasing', async () => {
    const key = `pinwheel:test:leader:${Date.now()}:${Math.random()}`;
    // A crashed leader leaves its lease behind, unrenewed.
    const crashed = new Redis(redisUrl!);
    stops.push(async () => void (await crashed.quit()));
    expect(await crashed.set(key, 'crashed-instance', 'PX', 500, 'NX')).toBe('OK');
    const b = RedisLeadership.connect(redisUrl!, key, 500, () => {});
    stops.push(() => b.stop());
    await b.start();
    expect(b.leading).toBe(false);
    const deadline = Date.now() + 2000;
    while (!b.leading && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(b.leading).toBe(true);
    expect(await crashed.get(key)).not.toBe('crashed-instance');
  });
});
