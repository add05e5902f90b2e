import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WIDGET_TYPES } from '../src/domain/widgets.ts';
import { backends, seedDevice, startApp, type TestApp } from './helpers/harness.ts';

const DATASTREAMS = [
  { name: 'Temperature', pin: 'V1', type: 'double', saveRaw: true },
  { name: 'Count', pin: 'V2', type: 'integer' },
  { name: 'Note', pin: 'V3', type: 'string' },
  {
    name: 'Mode',
    pin: 'V4',
    type: 'enum',
    options: [
      { value: 0, label: 'Off' },
      { value: 1, label: 'On' },
    ],
  },
  { name: 'Where', pin: 'V5', type: 'location' },
];

const widget = (over: Record<string, unknown>) => ({
  id: 'w1',
  type: 'label',
  datastream: 'V1',
  x: 0,
  y: 0,
  w: 2,
  h: 2,
  ...over,
});
const one = (w: Record<string, unknown>) => ({ tabs: [{ name: 'Dashboard', widgets: [widget(w)] }] });

describe.each(backends())('template dashboards on $name', (backend) => {
  let t: TestApp;
  let templateId: string;
  beforeAll(async () => {
    t = await startApp(backend);
    templateId = (await seedDevice(t, DATASTREAMS)).templateId;
  });
  afterAll(async () => {
    await t.close();
  });

  const put = (body: unknown, id = templateId) => t.api('PUT', `/api/v1/templates/${id}/dashboard`, body);
  const expect400 = async (body: unknown, message: RegExp) => {
    const r = await put(body);
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.code).toBe('INVALID_VALUE');
    expect(r.body.error.message).toMatch(message);
  };

  it('starts with an empty "Dashboard" tab', async () => {
    const r = await t.api('GET', `/api/v1/templates/${templateId}/dashboard`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      templateId,
      tabs: [{ id: 'dashboard', name: 'Dashboard', widgets: [] }],
      updatedAt: null,
    });
  });

  it('stores a dashboard of every core widget and gives it back normalised', async () => {
    const dash = {
      tabs: [
        {
          name: 'Dashboard',
          widgets: [
            {
              id: 'sw',
              type: 'switch',
              datastream: 'v2',
              x: 0,
              y: 0,
              w: 2,
              h: 2,
              settings: { onValue: 1, offValue: 0 },
            },
            { id: 'btn', type: 'button', datastream: 'V2', x: 2, y: 0, w: 2, h: 2 },
            {
              id: 'sl',
              type: 'slider',
              datastream: 'Temperature',
              x: 4,
              y: 0,
              w: 4,
              h: 1,
              settings: { min: 0, max: 40, step: 0.5 },
            },
            { id: 'ni', type: 'number_input', datastream: 'V1', x: 8, y: 0, w: 4, h: 1 },
            { id: 'ti', type: 'text_input', datastream: 'V3', x: 0, y: 2, w: 4, h: 1 },
            { id: 'seg', type: 'segmented_switch', datastream: 'V4', x: 4, y: 2, w: 4, h: 1 },
            { id: 'lab', type: 'label', datastream: 'V5', x: 8, y: 2, w: 4, h: 1, title: 'Position' },
            { id: 'led', type: 'led', datastream: 'V2', x: 0, y: 3, w: 1, h: 1 },
            { id: 'g', type: 'gauge', datastream: 'V1', x: 1, y: 3, w: 3, h: 3 },
            { id: 'ch', type: 'chart', datastream: 'V1', x: 4, y: 3, w: 8, h: 3, settings: { kind: 'area' } },
            { id: 'map', type: 'map', datastream: 'V5', x: 0, y: 6, w: 6, h: 4 },
            { id: 'term', type: 'terminal', datastream: 'V3', x: 6, y: 6, w: 6, h: 4 },
            { id: 'ib', type: 'image_button', datastream: 'V2', x: 0, y: 10, w: 2, h: 2 },
            { id: 'cc', type: 'custom_chart', datastream: 'V1', x: 2, y: 10, w: 4, h: 2 },
            { id: 'free', type: 'label', x: 6, y: 10, w: 2, h: 1 },
          ],
        },
        {
          id: 'more',
          name: 'More',
          widgets: [{ id: 'ch2', type: 'chart', datastream: 'V2', x: 0, y: 0, w: 12, h: 4 }],
        },
      ],
    };
    const r = await put(dash);
    expect(r.status, r.text).toBe(200);
    expect(r.body.templateId).toBe(templateId);
    expect(typeof r.body.updatedAt).toBe('number');
    const [main, more] = r.body.tabs;
    expect(main.id).toBe('dashboard');
    expect(more).toMatchObject({ id: 'more', name: 'More' });
    const sw = main.widgets[0];
    expect(sw).toEqual({
      id: 'sw',
      type: 'switch',
      title: 'Count',
      datastream: 'V2',
      x: 0,
      y: 0,
      w: 2,
      h: 2,
      settings: { onValue: 1, offValue: 0 },
    });
    expect(main.widgets.find((w: any) => w.id === 'sl').datastream).toBe('V1');
    expect(main.widgets.find((w: any) => w.id === 'lab').title).toBe('Position');
    expect(main.widgets.find((w: any) => w.id === 'free')).toMatchObject({ datastream: null, title: '' });
    const back = await t.api('GET', `/api/v1/templates/${templateId}/dashboard`);
    expect(back.body).toEqual(r.body);
  });

  it('knows the widget types of blynk.md §10', () => {
    for (const w of [
      'switch',
      'button',
      'slider',
      'number_input',
      'text_input',
      'segmented_switch',
      'label',
      'led',
      'gauge',
      'chart',
      'map',
      'terminal',
      'image_button',
    ]) {
      expect(Object.hasOwn(WIDGET_TYPES, w), w).toBe(true);
    }
  });

  it('refuses a widget bound to a datastream type it cannot show', async () => {
    await expect400(one({ type: 'chart', datastream: 'V3' }), /chart widget cannot show string datastream V3/);
    await expect400(one({ type: 'switch', datastream: 'V3' }), /switch widget cannot show string/);
    await expect400(one({ type: 'gauge', datastream: 'V5' }), /gauge widget cannot show location/);
    await expect400(one({ type: 'map', datastream: 'V1' }), /map widget cannot show double/);
    await expect400(one({ type: 'text_input', datastream: 'V2' }), /text_input widget cannot show integer/);
    await expect400(one({ type: 'terminal', datastream: 'V1' }), /terminal widget cannot show double/);
    await expect400(one({ type: 'image_button', datastream: 'V1' }), /image_button widget cannot show double/);
    await expect400(one({ type: 'segmented_switch', datastream: 'V1' }), /segmented_switch widget cannot show double/);
    await expect400(one({ type: 'led', datastream: 'V4' }), /led widget cannot show enum/);
    await expect400(one({ type: 'custom_chart', datastream: 'V2' }), /needs datastream V2 to save raw data/);
  });

  it('refuses unknown widget types, unknown datastreams and bad layout', async () => {
    await expect400(one({ type: 'joystick' }), /tabs\[0\]\.widgets\[0\]\.type must be one of/);
    await expect400(one({ datastream: 'V99' }), /no datastream V99/);
    await expect400(one({ datastream: 'Nope' }), /no datastream Nope/);
    await expect400(one({ x: 11, w: 2 }), /does not fit the 12-column grid/);
    await expect400(one({ w: 0 }), /w must be an integer from 1 to 12/);
    await expect400(one({ y: -1 }), /y must be an integer/);
    await expect400(one({ x: 1.5 }), /x must be an integer/);
    await expect400(one({ id: 'a b' }), /id must be/);
    await expect400(one({ extra: true }), /extra is not allowed/);
    await expect400(one({ settings: [] }), /settings must be an object/);
    await expect400(
      one({ type: 'switch', datastream: 'V2', settings: { onValue: 0.5 } }),
      /onValue must be an integer/,
    );
    await expect400(one({ type: 'switch', datastream: 'V2', settings: { onValue: 1, offValue: 1 } }), /must differ/);
    await expect400(one({ type: 'chart', settings: { kind: 'pie' } }), /kind must be one of/);
    await expect400(one({ settings: { min: 5, max: 1 } }), /min must not be greater than max/);
    await expect400(one({ settings: { note: 'x'.repeat(5000) } }), /settings must stay under 4096/);
    await expect400(
      {
        tabs: [
          {
            name: 'D',
            widgets: [widget({ id: 'a' }), widget({ id: 'b', x: 1, y: 1 })],
          },
        ],
      },
      /widgets\[1\] \("b"\) overlaps widget "a"/,
    );
    await expect400(
      { tabs: [{ name: 'D', widgets: [widget({ id: 'a' }), widget({ id: 'a', x: 4 })] }] },
      /"a" is used twice/,
    );
    await expect400({ tabs: [] }, /tabs must be a list of 1 to 4 tabs/);
    await expect400({ tabs: [1, 2, 3, 4, 5].map((i) => ({ name: `T${i}`, widgets: [] })) }, /1 to 4 tabs/);
    await expect400({ tabs: [{ name: '', widgets: [] }] }, /name must be/);
    await expect400(
      {
        tabs: [
          { id: 'x', name: 'A' },
          { id: 'x', name: 'B' },
        ],
      },
      /"x" is used twice/,
    );
    const missing = await put({});
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('a refused dashboard leaves the stored one as it was', async () => {
    const before = await t.api('GET', `/api/v1/templates/${templateId}/dashboard`);
    await put(one({ type: 'chart', datastream: 'V3' }));
    const after = await t.api('GET', `/api/v1/templates/${templateId}/dashboard`);
    expect(after.body).toEqual(before.body);
  });

  it('widgets on different tabs may share grid cells', async () => {
    const r = await put({
      tabs: [
        { name: 'A', widgets: [widget({ id: 'a' })] },
        { name: 'B', widgets: [widget({ id: 'b' })] },
      ],
    });
    expect(r.status, r.text).toBe(200);
  });

  it('answers 404 for an unknown template and 401 without a token', async () => {
    expect((await t.api('GET', '/api/v1/templates/TMPLnope1234/dashboard')).status).toBe(404);
    expect((await put({ tabs: [{ name: 'D', widgets: [] }] }, 'TMPLnope1234')).status).toBe(404);
    expect((await t.api('GET', `/api/v1/templates/${templateId}/dashboard`, undefined, null)).status).toBe(401);
  });

  it('goes away with its template', async () => {
    const other = await seedDevice(t, DATASTREAMS, { templateName: 'Doomed' });
    expect((await put(one({}), other.templateId)).status).toBe(200);
    expect((await t.api('DELETE', `/api/v1/templates/${other.templateId}`)).status).toBe(204);
    expect(await t.s.templates.getDashboard(other.templateId)).toBeUndefined();
  });
});
