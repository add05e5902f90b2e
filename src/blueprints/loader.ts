import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATASTREAM_TYPES, type Datastream, type EnumOption, type StoredValue } from '../domain/datastream.ts';
import { indexTemplate, METAFIELD_TYPES, type MetafieldType, type Template } from '../domain/model.ts';
import { parsePin } from '../domain/pins.ts';
import { parseDefault } from '../domain/value-parser.ts';
import { checkDashboard, type Dashboard } from '../domain/widgets.ts';
import { PLACEHOLDERS, placeholdersIn } from './render.ts';

/**
 * Blueprints are folders under blueprints/: blueprint.json plus text files (firmware,
 * webhook JSON, tutorial) with {{pinwheel.*}} placeholders. Adding a folder adds a blueprint.
 */
export const DEFAULT_BLUEPRINTS_DIR = fileURLToPath(new URL('../../blueprints/', import.meta.url));

export interface BlueprintDatastream {
  name: string;
  pin: string;
  type: Datastream['type'];
  min: number | null;
  max: number | null;
  decimals: string | null;
  units: string | null;
  defaultValue: StoredValue | null;
  saveRaw: boolean;
  syncOnConnect: boolean;
  options: EnumOption[] | null;
  fallback: number | null;
  color: string | null;
}

export interface BlueprintMetafield {
  name: string;
  type: MetafieldType;
  required: boolean;
  defaultValue: unknown;
}

export interface Blueprint {
  slug: string;
  dir: string;
  name: string;
  description: string;
  template: { name: string; description: string };
  datastreams: BlueprintDatastream[];
  metafields: BlueprintMetafield[];
  lifecycle: { logAnyData: boolean; offlineAfterSeconds: number };
  dashboard: Dashboard;
  /** Name of the device created with the template (the request may override it). */
  deviceName: string | undefined;
  /** Output key in the apply response → file name in the folder. */
  files: Record<string, string>;
}

export class BlueprintError extends Error {
  override name = 'BlueprintError';
}

const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Keys of the apply response that files may not take. */
const RESERVED_KEYS = new Set(['template', 'devices', 'dashboard', 'slug', 'name', 'description']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optNum = (v: unknown, what: string): number | null => {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BlueprintError(`${what} must be a number`);
  return v;
};
const optStr = (v: unknown, what: string): string | null => {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new BlueprintError(`${what} must be a string`);
  return v;
};
const str = (v: unknown, what: string, max = 200): string => {
  if (typeof v !== 'string' || v.length > max) throw new BlueprintError(`${what} must be a string (≤${max})`);
  return v;
};

function parseDatastream(raw: unknown, i: number, templateId: string): Datastream {
  const w = `datastreams[${i}]`;
  if (!isObject(raw)) throw new BlueprintError(`${w} must be an object`);
  // An explicit id documents the dataStreamId the datastream gets; they are assigned 1, 2, ...
  if (raw.id !== undefined && raw.id !== i + 1)
    throw new BlueprintError(`${w}.id must be ${i + 1} (ids follow the order)`);
  const pin = parsePin(String(raw.pin ?? ''));
  if (!pin) throw new BlueprintError(`${w}.pin must be V0..V255`);
  const type = raw.type as Datastream['type'];
  if (!DATASTREAM_TYPES.includes(type))
    throw new BlueprintError(`${w}.type must be one of ${DATASTREAM_TYPES.join(', ')}`);
  const d: Datastream = {
    id: i + 1,
    templateId,
    name: str(raw.name, `${w}.name`, 100),
    pin,
    type,
    min: optNum(raw.min, `${w}.min`),
    max: optNum(raw.max, `${w}.max`),
    decimals: optStr(raw.decimals, `${w}.decimals`),
    units: optStr(raw.units, `${w}.units`),
    defaultValue: null,
    saveRaw: raw.saveRaw === true,
    syncOnConnect: raw.syncOnConnect === true,
    options: Array.isArray(raw.options) ? (raw.options as EnumOption[]) : null,
    fallback: optNum(raw.fallback, `${w}.fallback`),
    color: optStr(raw.color, `${w}.color`),
  };
  if (d.min !== null && d.max !== null && d.min > d.max) throw new BlueprintError(`${w}: min > max`);
  if (d.decimals !== null && (d.type !== 'double' || !/^#(\.(#{1,5}|0{1,5}))?$/.test(d.decimals))) {
    throw new BlueprintError(`${w}.decimals must look like "#.##" and needs a double datastream`);
  }
  if (d.type === 'enum' && (!d.options || d.options.length === 0)) throw new BlueprintError(`${w}: enum needs options`);
  if (raw.defaultValue !== undefined && raw.defaultValue !== null) {
    const v = parseDefault(d, raw.defaultValue as never);
    if (v === undefined) throw new BlueprintError(`${w}.defaultValue does not fit a ${d.type} datastream`);
    d.defaultValue = v;
  }
  return d;
}

/** Parses and checks one blueprint folder; throws BlueprintError naming the problem. */
export async function loadBlueprint(dir: string, slug: string): Promise<Blueprint> {
  const folder = path.join(dir, slug);
  const fail = (msg: string): never => {
    throw new BlueprintError(`blueprint ${slug}: ${msg}`);
  };
  if (!SLUG_RE.test(slug)) fail('folder name must be lower-case letters, digits and "-"');
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(path.join(folder, 'blueprint.json'), 'utf8'));
  } catch (err) {
    return fail(`blueprint.json: ${(err as Error).message}`);
  }
  try {
    if (!isObject(raw)) throw new BlueprintError('blueprint.json must hold an object');
    const tpl = isObject(raw.template) ? raw.template : {};
    const name = str(raw.name, 'name', 100);
    const templateId = 'TMPLblueprint';
    const datastreams = (Array.isArray(raw.datastreams) ? raw.datastreams : []).map((d, i) =>
      parseDatastream(d, i, templateId),
    );
    const pins = new Set(datastreams.map((d) => d.pin));
    const names = new Set(datastreams.map((d) => d.name));
    if (pins.size !== datastreams.length || names.size !== datastreams.length) {
      throw new BlueprintError('datastream pins and names must be unique');
    }
    const metafields = (Array.isArray(raw.metafields) ? raw.metafields : []).map((m: unknown, i: number) => {
      if (!isObject(m) || !METAFIELD_TYPES.includes(m.type as MetafieldType)) {
        throw new BlueprintError(`metafields[${i}] needs a name and a type (${METAFIELD_TYPES.join(', ')})`);
      }
      return {
        name: str(m.name, `metafields[${i}].name`, 100),
        type: m.type as MetafieldType,
        required: m.required === true,
        defaultValue: m.defaultValue ?? null,
      };
    });
    const lc = isObject(raw.lifecycle) ? raw.lifecycle : {};
    const offlineAfterSeconds = lc.offlineAfterSeconds ?? 60;
    if (typeof offlineAfterSeconds !== 'number' || !Number.isInteger(offlineAfterSeconds) || offlineAfterSeconds < 1) {
      throw new BlueprintError('lifecycle.offlineAfterSeconds must be a positive integer');
    }
    const t: Template = {
      id: templateId,
      orgId: 0,
      name,
      description: '',
      logAnyData: false,
      offlineAfterSeconds: 60,
      createdAt: 0,
      updatedAt: 0,
    };
    const checked = checkDashboard(raw.dashboard ?? { tabs: [{ name: 'Dashboard', widgets: [] }] }, {
      ...indexTemplate(t, datastreams, [], []),
    });
    if (!checked.ok) throw new BlueprintError(`dashboard: ${checked.message}`);

    const files: Record<string, string> = {};
    for (const [key, file] of Object.entries(isObject(raw.files) ? raw.files : {})) {
      if (RESERVED_KEYS.has(key) || !/^[A-Za-z][A-Za-z0-9]*$/.test(key)) {
        throw new BlueprintError(`files: "${key}" cannot be an output key`);
      }
      if (typeof file !== 'string' || file.includes('/') || file.includes('\\') || file.startsWith('.')) {
        throw new BlueprintError(`files.${key} must be a file name in the blueprint folder`);
      }
      const text = await fs.readFile(path.join(folder, file), 'utf8').catch(() => {
        throw new BlueprintError(`files.${key}: ${file} is missing`);
      });
      for (const p of placeholdersIn(text)) {
        const include = /^include:(.+)$/.exec(p)?.[1];
        if (include !== undefined) {
          if (!Object.values(raw.files as Record<string, unknown>).includes(include)) {
            throw new BlueprintError(`${file}: {{pinwheel.${p}}} names a file not listed in files`);
          }
        } else if (!PLACEHOLDERS.includes(p as (typeof PLACEHOLDERS)[number])) {
          throw new BlueprintError(`${file}: unknown placeholder {{pinwheel.${p}}}`);
        }
      }
      files[key] = file;
    }
    const device = isObject(raw.device) ? raw.device : {};
    return {
      slug,
      dir: folder,
      name,
      description: str(raw.description ?? '', 'description', 500),
      template: {
        name: str(tpl.name ?? name, 'template.name', 100),
        description: str(tpl.description ?? '', 'template.description', 200),
      },
      datastreams: datastreams.map(({ id: _i, templateId: _t, ...rest }) => rest),
      metafields,
      lifecycle: { logAnyData: lc.logAnyData === true, offlineAfterSeconds },
      dashboard: checked.dashboard,
      deviceName: device.name === undefined ? undefined : str(device.name, 'device.name', 60),
      files,
    };
  } catch (err) {
    if (err instanceof BlueprintError) return fail(err.message);
    throw err;
  }
}

/**
 * Every blueprint folder under dir, by slug; folders without blueprint.json are skipped. A
 * broken blueprint throws, or with onError is reported and left out.
 */
export async function listBlueprints(
  dir: string = DEFAULT_BLUEPRINTS_DIR,
  onError?: (err: BlueprintError) => void,
): Promise<Blueprint[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: Blueprint[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.isDirectory()) continue;
    const exists = await fs
      .access(path.join(dir, e.name, 'blueprint.json'))
      .then(() => true)
      .catch(() => false);
    if (!exists) continue;
    try {
      out.push(await loadBlueprint(dir, e.name));
    } catch (err) {
      if (!onError || !(err instanceof BlueprintError)) throw err;
      onError(err);
    }
  }
  return out;
}

/** One blueprint by slug, or undefined. */
export async function findBlueprint(
  slug: string,
  dir: string = DEFAULT_BLUEPRINTS_DIR,
): Promise<Blueprint | undefined> {
  if (!SLUG_RE.test(slug)) return undefined;
  const exists = await fs
    .access(path.join(dir, slug, 'blueprint.json'))
    .then(() => true)
    .catch(() => false);
  return exists ? loadBlueprint(dir, slug) : undefined;
}
