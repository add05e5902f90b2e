import type { Datastream, DatastreamType } from './datastream.ts';
import type { TemplateModel } from './model.ts';
import { parsePin } from './pins.ts';

/**
 * Web dashboard widgets (specs/blynk.md §10): which datastream types each widget may bind.
 * The console renders them; the API only checks that a dashboard makes sense.
 */
const NUMERIC: readonly DatastreamType[] = ['integer', 'double'];
const ANY: readonly DatastreamType[] = ['integer', 'double', 'string', 'enum', 'location'];

export const WIDGET_TYPES = {
  switch: NUMERIC,
  /** The mobile apps' push/switch button; same values as a switch. */
  button: NUMERIC,
  slider: NUMERIC,
  number_input: NUMERIC,
  image_button: ['integer'],
  web_page_image_button: ['integer'],
  segmented_switch: ['enum', 'integer'],
  menu: ['integer', 'enum'],
  text_input: ['string'],
  terminal: ['string'],
  led: NUMERIC,
  label: ANY,
  gauge: NUMERIC,
  radial_gauge: NUMERIC,
  gradient_ramp: NUMERIC,
  alarm_sound: ['integer'],
  chart: NUMERIC,
  custom_chart: ANY,
  heatmap_chart: ['integer', 'double', 'enum'],
  bitmask_table: ['integer'],
  image_gallery: ['integer'],
  map: ['location'],
  video: ['string'],
} as const satisfies Record<string, readonly DatastreamType[]>;

export type WidgetType = keyof typeof WIDGET_TYPES;
export const WIDGET_TYPE_NAMES = Object.keys(WIDGET_TYPES) as WidgetType[];

/** The dashboard grid is this many columns wide; rows grow downwards. */
export const GRID_COLUMNS = 12;
export const MAX_GRID_ROWS = 1000;
export const MAX_TABS = 4;
export const MAX_WIDGETS_PER_TAB = 100;
export const MAX_SETTINGS_CHARS = 4096;
export const CHART_KINDS = ['line', 'area', 'column', 'stepline'] as const;

export interface Widget {
  id: string;
  type: WidgetType;
  title: string;
  /** Bound datastream pin ("V14"), or null for a widget not bound yet. */
  datastream: string | null;
  x: number;
  y: number;
  w: number;
  h: number;
  settings: Record<string, unknown>;
}

export interface DashboardTab {
  id: string;
  name: string;
  widgets: Widget[];
}

export interface Dashboard {
  tabs: DashboardTab[];
}

export type DashboardCheck = { ok: true; dashboard: Dashboard } | { ok: false; message: string };

export function emptyDashboard(): Dashboard {
  return { tabs: [{ id: 'dashboard', name: 'Dashboard', widgets: [] }] };
}

/** Finds a datastream by pin ("V1", "v1") or name. */
function datastreamOf(model: TemplateModel, key: string): Datastream | undefined {
  const pin = parsePin(key);
  return (pin ? model.byPin.get(pin) : undefined) ?? model.byName.get(key);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ID_RE = /^[A-Za-z0-9_-]{1,40}$/;

class Bad extends Error {}

/** Type checks of the settings the console understands; other keys are kept as they are. */
function checkSettings(where: string, type: WidgetType, s: Record<string, unknown>, ds: Datastream | undefined): void {
  const num = (k: string) => {
    if (s[k] !== undefined && (typeof s[k] !== 'number' || !Number.isFinite(s[k]))) {
      throw new Bad(`${where}.settings.${k} must be a number`);
    }
  };
  const str = (k: string, max = 100) => {
    if (s[k] !== undefined && (typeof s[k] !== 'string' || (s[k] as string).length > max)) {
      throw new Bad(`${where}.settings.${k} must be a string of at most ${max} characters`);
    }
  };
  for (const k of ['min', 'max', 'step']) num(k);
  for (const k of ['color', 'label', 'units']) str(k);
  if (typeof s.min === 'number' && typeof s.max === 'number' && s.min > s.max) {
    throw new Bad(`${where}.settings.min must not be greater than max`);
  }
  if (type === 'switch' || type === 'button' || type === 'image_button') {
    num('onValue');
    num('offValue');
    str('onLabel');
    str('offLabel');
    if (ds?.type === 'integer') {
      for (const k of ['onValue', 'offValue']) {
        if (s[k] !== undefined && !Number.isInteger(s[k])) {
          throw new Bad(`${where}.settings.${k} must be an integer for an integer datastream`);
        }
      }
    }
    if (s.onValue !== undefined && s.onValue === s.offValue) {
      throw new Bad(`${where}.settings.onValue and offValue must differ`);
    }
  }
  if (type === 'chart' && s.kind !== undefined && !(CHART_KINDS as readonly unknown[]).includes(s.kind)) {
    throw new Bad(`${where}.settings.kind must be one of ${CHART_KINDS.join(', ')}`);
  }
  if (type === 'segmented_switch' && s.options !== undefined) {
    if (!Array.isArray(s.options) || s.options.length > 10) {
      throw new Bad(`${where}.settings.options must be a list of at most 10 options`);
    }
  }
}

function checkWidget(
  where: string,
  raw: unknown,
  model: TemplateModel,
  ids: Set<string>,
): { widget: Widget; ds: Datastream | undefined } {
  if (!isObject(raw)) throw new Bad(`${where} must be an object`);
  const type = raw.type;
  if (typeof type !== 'string' || !Object.hasOwn(WIDGET_TYPES, type)) {
    throw new Bad(`${where}.type must be one of ${WIDGET_TYPE_NAMES.join(', ')}`);
  }
  const wt = type as WidgetType;
  if (typeof raw.id !== 'string' || !ID_RE.test(raw.id)) {
    throw new Bad(`${where}.id must be 1-40 letters, digits, "_" or "-"`);
  }
  if (ids.has(raw.id)) throw new Bad(`${where}.id "${raw.id}" is used twice`);
  ids.add(raw.id);

  let ds: Datastream | undefined;
  if (raw.datastream !== undefined && raw.datastream !== null) {
    if (typeof raw.datastream !== 'string') throw new Bad(`${where}.datastream must be a pin like "V1" or a name`);
    ds = datastreamOf(model, raw.datastream);
    if (!ds) throw new Bad(`${where}.datastream: no datastream ${raw.datastream} in the template`);
    const allowed: readonly DatastreamType[] = WIDGET_TYPES[wt];
    if (!allowed.includes(ds.type)) {
      throw new Bad(
        `${where}: a ${wt} widget cannot show ${ds.type} datastream ${ds.pin} (it takes ${allowed.join(' or ')})`,
      );
    }
    if (wt === 'custom_chart' && !ds.saveRaw) {
      throw new Bad(`${where}: a custom_chart needs datastream ${ds.pin} to save raw data`);
    }
  }

  const title = raw.title ?? ds?.name ?? '';
  if (typeof title !== 'string' || title.length > 100) {
    throw new Bad(`${where}.title must be a string of at most 100 characters`);
  }
  const grid: Record<'x' | 'y' | 'w' | 'h', number> = { x: 0, y: 0, w: 1, h: 1 };
  const limits = { x: [0, GRID_COLUMNS - 1], y: [0, MAX_GRID_ROWS - 1], w: [1, GRID_COLUMNS], h: [1, 100] };
  for (const k of ['x', 'y', 'w', 'h'] as const) {
    const v = raw[k];
    const [lo, hi] = limits[k] as [number, number];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      throw new Bad(`${where}.${k} must be an integer from ${lo} to ${hi}`);
    }
    grid[k] = v;
  }
  if (grid.x + grid.w > GRID_COLUMNS) {
    throw new Bad(`${where} does not fit the ${GRID_COLUMNS}-column grid (x + w > ${GRID_COLUMNS})`);
  }
  const settings = raw.settings ?? {};
  if (!isObject(settings)) throw new Bad(`${where}.settings must be an object`);
  if (JSON.stringify(settings).length > MAX_SETTINGS_CHARS) {
    throw new Bad(`${where}.settings must stay under ${MAX_SETTINGS_CHARS} characters of JSON`);
  }
  checkSettings(where, wt, settings, ds);
  for (const k of Object.keys(raw)) {
    if (!['id', 'type', 'title', 'datastream', 'x', 'y', 'w', 'h', 'settings'].includes(k)) {
      throw new Bad(`${where}.${k} is not allowed`);
    }
  }
  return {
    widget: { id: raw.id, type: wt, title, datastream: ds?.pin ?? null, ...grid, settings },
    ds,
  };
}

const overlap = (a: Widget, b: Widget) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * Checks a dashboard against a template and returns it normalised: pins canonical, titles
 * defaulted to the datastream name, settings kept. Widgets of one tab must not overlap.
 */
export function checkDashboard(raw: unknown, model: TemplateModel): DashboardCheck {
  try {
    if (!isObject(raw)) throw new Bad('the dashboard must be an object with tabs');
    for (const k of Object.keys(raw)) if (k !== 'tabs') throw new Bad(`${k} is not allowed`);
    if (!Array.isArray(raw.tabs) || raw.tabs.length < 1 || raw.tabs.length > MAX_TABS) {
      throw new Bad(`tabs must be a list of 1 to ${MAX_TABS} tabs`);
    }
    const widgetIds = new Set<string>();
    const tabIds = new Set<string>();
    const tabs: DashboardTab[] = [];
    raw.tabs.forEach((t: unknown, i: number) => {
      const where = `tabs[${i}]`;
      if (!isObject(t)) throw new Bad(`${where} must be an object`);
      for (const k of Object.keys(t)) {
        if (!['id', 'name', 'widgets'].includes(k)) throw new Bad(`${where}.${k} is not allowed`);
      }
      const name = t.name ?? (i === 0 ? 'Dashboard' : undefined);
      if (typeof name !== 'string' || name.trim() === '' || name.length > 40) {
        throw new Bad(`${where}.name must be a string of 1 to 40 characters`);
      }
      const id = t.id ?? (i === 0 ? 'dashboard' : `tab${i + 1}`);
      if (typeof id !== 'string' || !ID_RE.test(id))
        throw new Bad(`${where}.id must be 1-40 letters, digits, "_" or "-"`);
      if (tabIds.has(id)) throw new Bad(`${where}.id "${id}" is used twice`);
      tabIds.add(id);
      const list = t.widgets ?? [];
      if (!Array.isArray(list) || list.length > MAX_WIDGETS_PER_TAB) {
        throw new Bad(`${where}.widgets must be a list of at most ${MAX_WIDGETS_PER_TAB} widgets`);
      }
      const widgets: Widget[] = [];
      list.forEach((w: unknown, j: number) => {
        const wWhere = `${where}.widgets[${j}]`;
        const { widget } = checkWidget(wWhere, w, model, widgetIds);
        const hit = widgets.find((o) => overlap(o, widget));
        if (hit) throw new Bad(`${wWhere} ("${widget.id}") overlaps widget "${hit.id}"`);
        widgets.push(widget);
      });
      tabs.push({ id, name: name.trim(), widgets });
    });
    return { ok: true, dashboard: { tabs } };
  } catch (err) {
    if (err instanceof Bad) return { ok: false, message: err.message };
    throw err;
  }
}
