import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, seedDevice, startApp, type TestApp } from './helpers/harness.ts';

describe.each(backends())('end to end on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it('accepts a value from the device API and returns it through both APIs', async () => {
    const { deviceId, token } = await seedDevice(t, [{ name: 'temp', pin: 'V1', type: 'double' }]);
    const up = await t.get(`/external/api/update?token=${token}&V1=21.5`);
    expect(up.status).toBe(200);
    expect((await t.get(`/external/api/get?token=${token}&v1`)).text).toBe('21.5');
    const dev = await t.api('GET', `/api/v1/devices/${deviceId}`);
    expect(dev.body.values.V1.value).toBe(21.5);
  });
});
