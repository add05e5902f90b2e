import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_DIR } from '../../src/http/console.ts';
import { startFakeTts } from '../helpers/fake-tts.ts';
import { startApp, type TestApp } from '../helpers/harness.ts';
import { hasChromium, launch, shot } from './browser.ts';

const built = fs.existsSync(path.join(CONSOLE_DIR, 'index.html'));

/** Polls a page-side read until it matches, failing with the last value seen. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`not met within ${ms} ms; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}

describe.skipIf(!hasChromium || !built)('the console in a real browser (Debian chromium)', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    t = await startApp({ name: 'sqlite' }, { noAdmin: true });
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('sets up, builds a template and dashboard, and shows a device live, both ways', async () => {
    // First run: setup creates the admin.
    await page.goto(`${t.url}/`);
    await page.getByLabel('Organization').fill('Acme Greenhouses');
    await page.getByLabel('Email').fill('admin@example.com');
    await page.getByLabel(/^Password/).fill('password123');
    await shot(page, '01-setup');
    await page.getByRole('button', { name: 'Create admin' }).click();
    await page.locator('header nav').getByRole('link', { name: 'Templates' }).waitFor();

    // Log out and back in through the login form.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Email').fill('admin@example.com');
    await page.getByLabel('Password').fill('password123');
    await shot(page, '02-login');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('header nav').getByRole('link', { name: 'Templates' }).click();

    // A template with two datastreams.
    await page.getByTestId('new-template').click();
    await page.getByTestId('template-name-input').fill('Greenhouse');
    await page.getByTestId('create-template').click();
    await page.getByTestId('add-datastream').click();
    await page.getByTestId('ds-name').fill('Temperature');
    await page.getByTestId('ds-pin').selectOption('V1');
    await page.getByTestId('ds-type').selectOption('double');
    await page.getByTestId('save-datastream').click();
    await page.getByTestId('ds-row-V1').waitFor();
    await page.getByTestId('add-datastream').click();
    await page.getByTestId('ds-name').fill('Heater');
    await page.getByTestId('ds-pin').selectOption('V2');
    await page.getByTestId('ds-type').selectOption('integer');
    await page.getByTestId('ds-min').fill('0');
    await page.getByTestId('ds-max').fill('1');
    await page.getByTestId('save-datastream').click();
    await page.getByTestId('ds-row-V2').waitFor();
    await shot(page, '03-datastreams');

    // Its web dashboard: a Label and a Chart of V1, a Switch on V2.
    await page.getByTestId('tab-dashboard').click();
    await page.getByTestId('palette-label').click();
    await page.getByTestId('palette-chart').click();
    await page.getByTestId('palette-switch').click();
    await page.getByTestId('widget-settings').getByLabel('Datastream').selectOption('V2');
    await page.getByTestId('save-dashboard').click();
    await until(
      () => page.getByTestId('dashboard-status').textContent(),
      (text) => text?.startsWith('Saved') === true,
    );
    await shot(page, '04-dashboard-builder');

    // A device from the template.
    await page.locator('header nav').getByRole('link', { name: 'Devices' }).click();
    await page.getByTestId('new-device').click();
    await page.getByTestId('device-template-select').selectOption({ label: 'Greenhouse' });
    await page.getByTestId('device-name-input').fill('Greenhouse north');
    await page.getByTestId('create-device').click();
    const token = (await page.getByTestId('device-token').first().textContent())?.trim() ?? '';
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    await shot(page, '05-new-device');
    await page.getByTestId('open-device').click();
    const deviceId = Number(/\/devices\/(\d+)/.exec(page.url())?.[1]);
    expect(deviceId).toBeGreaterThan(0);
    await page.getByTestId('widget-label-V1').waitFor();

    // A value sent with the device HTTP API shows up without a reload.
    const up = await fetch(`${t.url}/external/api/update?token=${token}&V1=23.5`);
    expect(up.status).toBe(200);
    await until(
      () => page.getByTestId('widget-label-V1').getAttribute('data-value'),
      (v) => v === '23.5',
    );
    expect(await page.getByTestId('widget-label-V1').textContent()).toContain('23.5');

    // Clicking the Switch stores the value server-side.
    await page.getByTestId('widget-switch-V2').getByRole('switch').click();
    const login = await t.api(
      'POST',
      '/api/v1/auth/login',
      { email: 'admin@example.com', password: 'password123' },
      null,
    );
    const stored = await until(
      () => t.api('GET', `/api/v1/devices/${deviceId}`, undefined, login.body.token),
      (r) => r.body.values?.V2?.value === 1,
    );
    expect(stored.body.values.V2.value).toBe(1);
    await until(
      () => page.getByTestId('widget-switch-V2').getAttribute('data-value'),
      (v) => v === '1',
    );
    await shot(page, '06-device-dashboard');

    // The timeline and the device list, then the phone-sized dashboard.
    await page.locator('header nav').getByRole('link', { name: 'Devices' }).click();
    await page.getByTestId(`device-row-${deviceId}`).waitFor();
    await shot(page, '07-devices');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${t.url}/devices/${deviceId}`);
    await page.getByTestId('widget-label-V1').waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(1);
    await shot(page, '08-device-phone');

    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('shows an error, not a stack trace, for a device that does not exist', async () => {
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.goto(`${t.url}/devices/999999`);
    const body = await until(
      () => page.locator('main').innerText(),
      (text) => /not exist|not found/i.test(text),
    );
    expect(body).not.toMatch(/at .+\.(ts|js):\d+/);
  }, 30_000);

  it('keeps its layout with long names, many widgets and no data, on a desktop and a phone', async () => {
    const login = await t.api(
      'POST',
      '/api/v1/auth/login',
      { email: 'admin@example.com', password: 'password123' },
      null,
    );
    const token = login.body.token as string;
    const api = (method: string, p: string, body?: unknown) => t.api(method, p, body, token);
    const long = 'A very long name that goes on and on without any sensible place to break it'.repeat(2);
    const tpl = await api('POST', '/api/v1/templates', { name: long.slice(0, 100) });
    const types = ['double', 'integer', 'string', 'location', 'double', 'integer'] as const;
    for (const [i, type] of types.entries()) {
      const r = await api('POST', `/api/v1/templates/${tpl.body.id}/datastreams`, {
        name: `${long.slice(0, 60)} ${i}`,
        pin: `V${i + 1}`,
        type,
        ...(type === 'integer' ? { min: 0, max: 1 } : {}),
      });
      expect(r.status, r.text).toBe(201);
    }
    const kinds: Array<[string, string]> = [
      ['label', 'V1'],
      ['gauge', 'V1'],
      ['chart', 'V1'],
      ['switch', 'V2'],
      ['led', 'V2'],
      ['slider', 'V1'],
      ['text_input', 'V3'],
      ['terminal', 'V3'],
      ['map', 'V4'],
      ['number_input', 'V5'],
      ['label', 'V6'],
      ['button', 'V6'],
    ];
    const widgets = kinds.map(([type, pin], i) => ({
      id: `w${i}`,
      type,
      title: `${long.slice(0, 95)} ${i}`,
      datastream: pin,
      x: (i % 4) * 3,
      y: Math.floor(i / 4) * 4,
      w: 3,
      h: 4,
    }));
    const put = await api('PUT', `/api/v1/templates/${tpl.body.id}/dashboard`, {
      tabs: [{ name: 'Dashboard', widgets }],
    });
    expect(put.status, put.text).toBe(200);
    const dev = await api('POST', '/api/v1/devices', { templateId: tpl.body.id, name: long.slice(0, 60) });
    expect(dev.status, dev.text).toBe(201);

    for (const [width, height, name] of [
      [1280, 860, '09-many-widgets'],
      [390, 844, '10-many-widgets-phone'],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const path of [`/devices/${dev.body.id}`, '/devices', `/templates/${tpl.body.id}/dashboard`, '/templates']) {
        await page.goto(`${t.url}${path}`);
        await page.locator('main').waitFor();
        await page.waitForLoadState('networkidle');
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
        // The dashboard builder is a desktop tool; everything else must fit the phone too.
        if (width >= 1280 || !path.endsWith('/dashboard'))
          expect(overflow, `${path} at ${width}px`).toBeLessThanOrEqual(1);
        const text = await page.locator('main').innerText();
        expect(text, path).not.toMatch(/at .+\.(ts|js|tsx):\d+/);
        if (path === `/devices/${dev.body.id}`) await shot(page, name);
      }
    }
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('maps an unmatched The Things Stack key to a datastream from the integration card', async () => {
    const tts = await startFakeTts();
    try {
      await page.setViewportSize({ width: 1280, height: 900 });
      const login = await t.api(
        'POST',
        '/api/v1/auth/login',
        { email: 'admin@example.com', password: 'password123' },
        null,
      );
      const token = login.body.token as string;
      const api = (method: string, p: string, body?: unknown) => t.api(method, p, body, token);
      const tpl = await api('POST', '/api/v1/templates', { name: 'Air sensors' });
      await api('POST', `/api/v1/templates/${tpl.body.id}/datastreams`, {
        name: 'Temperature',
        pin: 'V1',
        type: 'double',
      });
      const card = await api('POST', '/api/v1/integrations/tts', {
        templateId: tpl.body.id,
        host: '127.0.0.1',
        port: tts.port,
        tls: false,
        username: tts.uid,
        apiKey: tts.apiKey,
      });
      expect(card.status, card.text).toBe(201);
      await tts.waitForSubscriber();
      const uplink = (temperature: number) => ({
        end_device_ids: { device_id: 'air-1' },
        uplink_message: { f_port: 1, decoded_payload: { air: { temperature } }, received_at: new Date().toISOString() },
      });
      await tts.publish('air-1', 'up', uplink(19.5));

      // The card shows the nested key as unmatched; one click maps it.
      await page.goto(`${t.url}/templates/${tpl.body.id}/integrations`);
      await until(
        () => page.getByTestId('tts-status').textContent(),
        (text) => /connected/i.test(text ?? '') && !/not/i.test(text ?? ''),
      );
      await page.getByTestId('unmatched').locator('summary').click();
      await page.getByTestId('map-air.temperature').click();
      await page.getByTestId('mapping-target-0').selectOption('V1');
      await page.getByTestId('mapping-save').click();
      await until(
        async () => (await api('GET', `/api/v1/integrations/tts/${card.body.id}`)).body.mapping,
        (m) => m?.['air.temperature'] === 'V1',
      );
      await shot(page, '11-tts-mapping');

      await tts.publish('air-1', 'up', uplink(21.25));
      const devices = await api('GET', `/api/v1/devices?templateId=${tpl.body.id}`);
      const id = devices.body.items[0].id as number;
      await until(
        async () => (await api('GET', `/api/v1/devices/${id}`)).body.values?.V1?.value,
        (v) => v === 21.25,
      );
    } finally {
      await tts.close();
    }
  }, 60_000);
});
