import type { Metafield, TemplateModel } from './model.ts';

/** Finds a metafield by numeric id or exact (case-sensitive) name. */
export function findMetafield(model: TemplateModel, idOrName: string): Metafield | undefined {
  if (/^\d+$/.test(idOrName)) {
    const byId = model.metafields.find((m) => m.id === Number(idOrName));
    if (byId) return byId;
  }
  return model.metafields.find((m) => m.name === idOrName);
}

/** Checks a metafield value against its type; returns the value to store or undefined. */
export function coerceMetaValue(m: Metafield, raw: unknown): unknown {
  switch (m.type) {
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
      return Number.isFinite(n) ? n : undefined;
    }
    case 'switch':
      if (raw === true || raw === 'true' || raw === 1 || raw === '1') return true;
      if (raw === false || raw === 'false' || raw === 0 || raw === '0') return false;
      return undefined;
    case 'email':
      return typeof raw === 'string' && /^[^\s@]+@[^\s@]+$/.test(raw) && raw.length <= 255 ? raw : undefined;
    case 'coordinates': {
      if (Array.isArray(raw) && raw.length === 2 && raw.every((x) => typeof x === 'number' && Number.isFinite(x)))
        return raw;
      if (typeof raw === 'string') {
        const parts = raw.split(',').map((p) => Number(p.trim()));
        if (parts.length === 2 && parts.every(Number.isFinite)) return parts;
      }
      return undefined;
    }
    case 'list':
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw;
      return typeof raw === 'string' ? raw : undefined;
    default:
      if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
      return typeof raw === 'string' && raw.length <= 255 ? raw : undefined;
  }
}

/** Resolves `{name: value}` input against a template's metafields. */
export function metadataFromNames(
  model: TemplateModel,
  input: Record<string, unknown>,
): { ok: true; values: Map<number, unknown> } | { ok: false; message: string } {
  const values = new Map<number, unknown>();
  for (const [name, raw] of Object.entries(input)) {
    const m = model.metafields.find((f) => f.name === name);
    if (!m) return { ok: false, message: `metadata: the template has no metafield "${name}"` };
    const v = coerceMetaValue(m, raw);
    if (v === undefined) return { ok: false, message: `metadata: "${name}" expects a ${m.type} value` };
    values.set(m.id, v);
  }
  return { ok: true, values };
}

/** Device metadata keyed by metafield name, defaults filled in. */
export function metadataByName(model: TemplateModel, values: Map<number, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of model.metafields) {
    const v = values.has(m.id) ? values.get(m.id) : m.defaultValue;
    out[m.name] = v ?? null;
  }
  return out;
}
