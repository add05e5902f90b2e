import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../src/blueprints/apply.ts';
import { BlueprintError, DEFAULT_BLUEPRINTS_DIR, listBlueprints, loadBlueprint } from '../src/blueprints/loader.ts';
import { placeholdersIn, renderFile } from '../src/blueprints/render.ts';
import { backends, startApp, type TestApp } from './helpers/harness.ts';

/** blynk.md §11: the "Particle Device" blueprint's datastreams, exactly. */
const PARTICLE_DATASTREAMS = [
  {
    id: 1,
    name: 'V6_last_publish',
    pin: 'V6',
    type: 'string',
    saveRaw: false,
    min: null,
    max: null,
    decimals: null,
    defaultValue: null,
  },
  {
    id: 2,
    name: 'Integer V14',
    pin: 'V14',
    type: 'integer',
    saveRaw: true,
    min: 0,
    max: 2147483647,
    decimals: null,
    defaultValue: 0,
  },
  {
    id: 3,
    name: 'Double V15',
    pin: 'V15',
    type: 'double',
    saveRaw: true,
    min: 0,
    max: 3.3,
    decimals: '#.##',
    defaultValue: null,
  },
  {
    id: 4,
    name: 'Integer V16',
    pin: 'V16',
    type: 'integer',
    saveRaw: true,
    min: 0,
    max: 1,
    decimals: null,
    defaultValue: 0,
  },
  {
    id: 5,
    name: 'Integer V17',
    pin: 'V17',
    type: 'integer',
    saveRaw: true,
    min: 0,
    max: 1,
    decimals: null,
    defaultValue: 0,
  },
];

describe('blueprint files', () => {
  it('every blueprint in the repository loads and particle-device is among them', async () => {
    const list = await listBlueprints();
    expect(list.map((b) => b.slug)).toContain('particle-device');
  });

  it('a folder added to a blueprints directory is a new blueprint, no code needed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pinwheel-bp-'));
    try {
      fs.cpSync(path.join(DEFAULT_BLUEPRINTS_DIR, 'particle-device'), path.join(dir, 'particle-device'), {
        recursive: true,
      });
      expect((await listBlueprints(dir)).map((b) => b.slug)).toEqual(['particle-device']);
      fs.mkdirSync(path.join(dir, 'greenhouse'));
      fs.writeFileSync(
        path.join(dir, 'greenhouse', 'blueprint.json'),
        JSON.stringify({
          name: 'Greenhouse',
          description: 'Temperature and a vent',
          datastreams: [
            { name: 'Temperature', pin: 'V1', type: 'double' },
            { name: 'Vent', pin: 'V2', type: 'integer', min: 0, max: 1 },
          ],
          dashboard: {
            tabs: [
              {
                name: 'Dashboard',
                widgets: [
                  { id: 't', type: 'gauge', datastream: 'V1', x: 0, y: 0, w: 4, h: 3 },
                  { id: 'v', type: 'switch', datastream: 'Vent', x: 4, y: 0, w: 2, h: 2 },
                ],
              },
            ],
          },
          files: { readme: 'README.md' },
        }),
      );
      fs.writeFileSync(path.join(dir, 'greenhouse', 'README.md'), 'Token: {{pinwheel.deviceToken}}\n');
      fs.mkdirSync(path.join(dir, 'not-a-blueprint'));
      const list = await listBlueprints(dir);
      expect(list.map((b) => [b.slug, b.name])).toEqual([
        ['greenhouse', 'Greenhouse'],
        ['particle-device', 'Particle Device'],
      ]);
      const gh = list[0]!;
      expect(gh.template.name).toBe('Greenhouse');
      expect(gh.dashboard.tabs[0]!.widgets.map((w) => [w.datastream, w.title])).toEqual([
        ['V1', 'Temperature'],
        ['V2', 'Vent'],
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a broken blueprint is refused with a reason (and left out of a list that reports errors)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pinwheel-bp-'));
    try {
      const write = (slug: string, bp: unknown, files: Record<string, string> = {}) => {
        fs.mkdirSync(path.join(dir, slug), { recursive: true });
        fs.writeFileSync(path.join(dir, slug, 'blueprint.json'), JSON.stringify(bp));
        for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, slug, f), text);
      };
      write('chart-on-text', {
        name: 'Bad',
        datastreams: [{ name: 'Note', pin: 'V1', type: 'string' }],
        dashboard: {
          tabs: [{ name: 'D', widgets: [{ id: 'c', type: 'chart', datastream: 'V1', x: 0, y: 0, w: 2, h: 2 }] }],
        },
      });
      write('unknown-placeholder', { name: 'Bad', files: { readme: 'r.md' } }, { 'r.md': '{{pinwheel.password}}' });
      write('missing-file', { name: 'Bad', files: { readme: 'nope.md' } });
      write('Bad_Slug', { name: 'Bad' });
      await expect(loadBlueprint(dir, 'chart-on-text')).rejects.toThrow(/chart widget cannot show string/);
      await expect(loadBlueprint(dir, 'unknown-placeholder')).rejects.toThrow(/unknown placeholder/);
      await expect(loadBlueprint(dir, 'missing-file')).rejects.toThrow(/nope.md is missing/);
      await expect(loadBlueprint(dir, 'Bad_Slug')).rejects.toThrow(BlueprintError);
      const errors: string[] = [];
      expect(await listBlueprints(dir, (e) => errors.push(e.message))).toEqual([]);
      expect(errors).toHaveLength(4);
      await expect(listBlueprints(dir)).rejects.toThrow(BlueprintError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders pinwheel placeholders, escapes them per file type and leaves Particle mustache alone', () => {
    const ctx = {
      serverUrl: 'https://iot.example.com',
      templateId: 'TMPLabc',
      templateName: 'My "quoted" */ name',
      deviceId: '7',
      deviceName: 'Dev',
      deviceToken: 'tok',
      blueprintName: 'BP',
    };
    const json = renderFile('a.json', '{"n":"{{pinwheel.templateName}}","t":"{{t}}"}', ctx, () => '');
    expect(JSON.parse(json)).toEqual({ n: 'My "quoted" */ name', t: '{{t}}' });
    const ino = renderFile('f.ino', '#define N "{{ pinwheel.templateName }}"', ctx, () => '');
    expect(ino).toBe('#define N "My \\"quoted\\" * / name"');
    const md = renderFile(
      't.md',
      'x {{pinwheel.include:a.json}} {{PARTICLE_PUBLISHED_AT}}',
      ctx,
      () => '{"u":"{{pinwheel.serverUrl}}"}\n',
    );
    expect(md).toBe('x {"u":"https://iot.example.com"} {{PARTICLE_PUBLISHED_AT}}');
    expect(placeholdersIn('{{pinwheel.deviceToken}} {{t}} {{pinwheel.include:x.json}}')).toEqual([
      'deviceToken',
      'include:x.json',
    ]);
  });

  it('numbers template names like Blynk does when the name is taken', () => {
    expect(uniqueName('Particle Device', new Set())).toBe('Particle Device');
    expect(uniqueName('Particle Device', new Set(['Particle Device']))).toBe('Particle Device 2');
    expect(uniqueName('Particle Device', new Set(['Particle Device', 'Particle Device 2']))).toBe('Particle Device 3');
  });
});

describe.each(backends())('blueprints API on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists the blueprints', async () => {
    const r = await t.api('GET', '/api/v1/blueprints');
    expect(r.status).toBe(200);
    expect(r.body.items).toContainEqual({
      slug: 'particle-device',
      name: 'Particle Device',
      description: expect.stringContaining('Particle'),
    });
    for (const item of r.body.items) expect(Object.keys(item).sort()).toEqual(['description', 'name', 'slug']);
    expect((await t.api('GET', '/api/v1/blueprints', undefined, null)).status).toBe(401);
  });

  it('shows one blueprint and answers 404 for an unknown one', async () => {
    const r = await t.api('GET', '/api/v1/blueprints/particle-device');
    expect(r.status).toBe(200);
    expect(r.body.datastreams.map((d: { pin: string }) => d.pin)).toEqual(['V6', 'V14', 'V15', 'V16', 'V17']);
    expect((await t.api('GET', '/api/v1/blueprints/nope')).status).toBe(404);
    expect((await t.api('POST', '/api/v1/blueprints/nope/apply', {})).status).toBe(404);
    expect((await t.api('POST', '/api/v1/blueprints/..%2F..%2Fetc/apply', {})).status).toBe(404);
  });

  describe('applying particle-device', () => {
    let applied: { status: number; body: any };
    beforeAll(async () => {
      applied = await t.api('POST', '/api/v1/blueprints/particle-device/apply', { deviceName: 'Boron' });
    });

    it('returns the template, the device, the dashboard, the firmware, the Particle webhook and the tutorial', () => {
      expect(applied.status).toBe(201);
      expect(Object.keys(applied.body).sort()).toEqual(
        ['dashboard', 'devices', 'firmware', 'particleWebhook', 'template', 'tutorial'].sort(),
      );
    });

    it('creates the template "Particle Device" with the five datastreams of blynk.md §11', async () => {
      const tpl = applied.body.template;
      expect(tpl.id).toMatch(/^TMPL[A-Za-z0-9]{8,10}$/);
      expect(tpl.name).toBe('Particle Device');
      expect(tpl.lifecycle.logAnyData).toBe(true);
      const pick = (d: Record<string, unknown>) =>
        Object.fromEntries(Object.keys(PARTICLE_DATASTREAMS[0]!).map((k) => [k, d[k]]));
      expect(tpl.datastreams.map(pick)).toEqual(PARTICLE_DATASTREAMS);
      // The stored template says the same.
      const again = await t.api('GET', `/api/v1/templates/${tpl.id}/datastreams`);
      expect(again.body.items.map(pick)).toEqual(PARTICLE_DATASTREAMS);
      const lc = await t.api('GET', `/api/v1/templates/${tpl.id}`);
      expect(lc.body.lifecycle).toEqual({ logAnyData: true, offlineAfterSeconds: 660 });
    });

    it('creates one device with a token', async () => {
      const [dev] = applied.body.devices;
      expect(applied.body.devices).toHaveLength(1);
      expect(dev).toMatchObject({ name: 'Boron', templateId: applied.body.template.id, online: false });
      expect(dev.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      const stored = await t.api('GET', `/api/v1/devices/${dev.id}`);
      expect(stored.body.token).toBe(dev.token);
    });

    it('binds the web dashboard to the right pins', async () => {
      const { dashboard } = applied.body;
      const widgets = dashboard.tabs[0].widgets as Array<Record<string, any>>;
      const bound = widgets.map((w) => `${w.type}:${w.datastream}`);
      expect(bound).toEqual([
        'label:V14',
        'chart:V14',
        'label:V15',
        'chart:V15',
        'gauge:V15',
        'switch:V16',
        'led:V17',
        'label:V6',
      ]);
      const sw = widgets.find((w) => w.type === 'switch')!;
      expect(sw.title).toBe('Particle LED');
      expect(sw.settings).toMatchObject({ onValue: 1, offValue: 0 });
      expect(widgets.find((w) => w.datastream === 'V6')!.title).toBe('Last Update');
      const stored = await t.api('GET', `/api/v1/templates/${applied.body.template.id}/dashboard`);
      expect(stored.status).toBe(200);
      expect(stored.body.tabs).toEqual(dashboard.tabs);
    });

    it('fills the device token into the firmware, which publishes blynk_https_get and exposes blynk_led', () => {
      const fw: string = applied.body.firmware;
      const token = applied.body.devices[0].token;
      expect(fw).toContain(`#define PINWHEEL_AUTH_TOKEN "${token}"`);
      expect(fw).toContain(`"${applied.body.template.id}"`);
      expect(fw).toContain('Particle.function("blynk_led", blynkLed)');
      expect(fw).toContain('"blynk_https_get"');
      expect(fw).toContain('300000');
      expect(fw).toMatch(
        /\\"t\\":\\"%s\\",\\"v14\\":\\"%lu\\",\\"v15\\":\\"%f\\",\\"v16\\":\\"%d\\",\\"v17\\":\\"%d\\"/,
      );
      expect(fw).toContain('Particle.publish(PUBLISH_EVENT, data, PRIVATE)');
      expect(fw).toMatch(/command == "on" \|\| command == "1"/);
      expect(fw).toMatch(/command == "off" \|\| command == "0"/);
      expect(fw).toContain('return -1;');
      expect(fw).not.toContain('{{pinwheel.');
    });

    it('returns the Particle webhook JSON pointing at this server', () => {
      expect(applied.body.particleWebhook).toEqual({
        name: 'pinwheel_particle',
        event: 'blynk_https_get',
        url: `${t.url}/external/api/batch/update`,
        requestType: 'GET',
        noDefaults: true,
        rejectUnauthorized: true,
        query: {
          token: '{{t}}',
          V6: '{{PARTICLE_PUBLISHED_AT}}',
          V14: '{{v14}}',
          V15: '{{v15}}',
          V16: '{{v16}}',
          V17: '{{v17}}',
        },
      });
    });

    it('returns a tutorial that names the token, the template and both webhooks', () => {
      const md: string = applied.body.tutorial;
      expect(md).toContain(applied.body.devices[0].token);
      expect(md).toContain(applied.body.template.id);
      expect(md).toContain(`${t.url}/external/api/batch/update`);
      expect(md).toContain('"event": "blynk_https_get"');
      expect(md).toContain('https://api.particle.io/v1/devices/<PARTICLE_DEVICE_ID>/blynk_led');
      expect(md).toContain('{\\"args\\":\\"{device_pinValue}\\"}');
      expect(md).toContain('"perMinute": 1');
      expect(md).toContain('/api/v1/integrations/particle');
      expect(md).not.toContain('{{pinwheel.');
    });

    it('names a second copy "Particle Device 2", then "Particle Device 3"', async () => {
      const two = await t.api('POST', '/api/v1/blueprints/particle-device/apply', {});
      expect(two.status).toBe(201);
      expect(two.body.template.name).toBe('Particle Device 2');
      expect(two.body.devices[0].name).toBe('Particle Device 2');
      const three = await t.api('POST', '/api/v1/blueprints/particle-device/apply');
      expect(three.status).toBe(201);
      expect(three.body.template.name).toBe('Particle Device 3');
      expect(three.body.template.id).not.toBe(two.body.template.id);
    });

    it('refuses a bad device name', async () => {
      const r = await t.api('POST', '/api/v1/blueprints/particle-device/apply', { deviceName: '' });
      expect(r.status).toBe(400);
      const r2 = await t.api('POST', '/api/v1/blueprints/particle-device/apply', { other: 1 });
      expect(r2.status).toBe(400);
    });
  });

  it('uses PINWHEEL_PUBLIC_URL for the webhook and tutorial when it is set', async () => {
    const t2 = await startApp(backend, { env: { PINWHEEL_PUBLIC_URL: 'https://iot.example.com/' } });
    try {
      const r = await t2.api('POST', '/api/v1/blueprints/particle-device/apply', {});
      expect(r.status).toBe(201);
      expect(r.body.particleWebhook.url).toBe('https://iot.example.com/external/api/batch/update');
      expect(r.body.tutorial).toContain('https://iot.example.com/external/api/batch/update?token=');
    } finally {
      await t2.close();
    }
  });
});
