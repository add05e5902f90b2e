import { expect } from 'vitest';
import type { FakeParticle } from './fake-particle.ts';
import type { TestApp } from './harness.ts';
import { until } from './tts-util.ts';

export const PARTICLE_ENV = (fake: FakeParticle): Record<string, string> => ({
  PINWHEEL_PARTICLE_API_URL: fake.url,
  PINWHEEL_PARTICLE_RECONNECT_MIN_MS: '50',
  PINWHEEL_PARTICLE_RECONNECT_MAX_MS: '300',
  PINWHEEL_INTEGRATION_NOTE_INTERVAL_MS: '600000',
});

export const particleIntegration = async (t: TestApp, id: number) => {
  const r = await t.api('GET', `/api/v1/integrations/particle/${id}`);
  expect(r.status, r.text).toBe(200);
  return r.body;
};

export const waitParticleStatus = (t: TestApp, id: number, status: string, ms = 5000) =>
  until(
    () => particleIntegration(t, id),
    (b) => b.status === status,
    ms,
  );

/** Creates the integration on `templateId` and waits until its stream is open. */
export async function connectParticle(
  t: TestApp,
  fake: FakeParticle,
  templateId: string,
  extra: Record<string, unknown> = {},
): Promise<number> {
  const r = await t.api('POST', '/api/v1/integrations/particle', { templateId, accessToken: fake.token, ...extra });
  expect(r.status, r.text).toBe(201);
  await waitParticleStatus(t, r.body.id, 'connected');
  await fake.waitForStreams(1);
  return r.body.id as number;
}

/** Removes every Particle integration (they would keep reconnecting otherwise). */
export async function removeParticleIntegrations(t: TestApp): Promise<void> {
  for (const i of (await t.api('GET', '/api/v1/integrations/particle')).body.items) {
    await t.api('DELETE', `/api/v1/integrations/particle/${i.id}`);
  }
}

/** Waits for the device a Particle device id was mapped to (auto-created or found). */
export async function particleDevice(t: TestApp, templateId: string, coreid: string, ms = 5000): Promise<any> {
  const list = await until(
    async () => (await t.api('GET', `/api/v1/devices?templateId=${templateId}`)).body.items as any[],
    (items) => items.some((d) => d.metadata['Particle Device ID'] === coreid),
    ms,
  );
  return list.find((d) => d.metadata['Particle Device ID'] === coreid);
}
