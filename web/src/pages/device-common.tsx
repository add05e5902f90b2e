/** Pieces shared by the devices list and the device page. */
import { useEffect, useRef, useState } from 'react';
import type { Datastream, Device, Metafield, StoredValue, Template } from '../types.ts';

/** Value sources that are the device itself speaking (they move "last seen"). */
export const DEVICE_SOURCES = new Set(['http', 'device', 'tts', 'particle', 'import']);

/** The current time, refreshed every `everyMs` so relative times stay true. */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

export function relativeTime(ts: number | null | undefined, now: number): string {
  if (ts === null || ts === undefined) return 'never';
  const s = Math.round((now - ts) / 1000);
  if (s < 0) return 'just now';
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.floor(h / 24);
  if (d < 30) return `${d} d ago`;
  return new Date(ts).toLocaleDateString();
}

export const fullTime = (ts: number | null | undefined): string =>
  ts === null || ts === undefined ? '' : new Date(ts).toLocaleString();

export function OnlineDot({ online, label = false }: { online: boolean; label?: boolean }) {
  return (
    <span className="dv-status">
      <span
        className={`dot${online ? ' online' : ''}`}
        data-testid="device-online"
        data-online={String(online)}
        title={online ? 'Online' : 'Offline'}
        role="img"
        aria-label={online ? 'Online' : 'Offline'}
      />
      {label ? <span className={online ? 'dv-online-text' : 'muted'}>{online ? 'Online' : 'Offline'}</span> : null}
    </span>
  );
}

/** Copies text; falls back to a hidden textarea where the Clipboard API is unavailable (plain http). */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the old way
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

export function CopyButton({
  text,
  label = 'Copy',
  testId,
  className,
}: {
  text: string;
  label?: string;
  testId?: string;
  className?: string;
}) {
  const [state, setState] = useState<'idle' | 'ok' | 'fail'>('idle');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const onClick = async () => {
    const ok = await copyText(text);
    setState(ok ? 'ok' : 'fail');
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setState('idle'), 1600);
  };
  return (
    <button
      type="button"
      className={`dv-copy${className ? ` ${className}` : ''}`}
      onClick={onClick}
      data-testid={testId}
      aria-label={`${label}${state === 'ok' ? ' (copied)' : ''}`}
    >
      {state === 'ok' ? 'Copied' : state === 'fail' ? 'Select & copy' : label}
    </button>
  );
}

/** A labelled block of copyable text (URL, command, code). */
export function Snippet({
  title,
  text,
  testId,
  masked = false,
  nowrap = false,
}: {
  title: string;
  text: string;
  testId?: string;
  masked?: boolean;
  nowrap?: boolean;
}) {
  return (
    <div className="dv-snippet">
      <div className="dv-snippet-head">
        <span className="dv-snippet-title">{title}</span>
        <CopyButton text={text} testId={testId ? `${testId}-copy` : undefined} />
      </div>
      <pre
        data-testid={testId}
        className={[masked ? 'dv-masked' : '', nowrap ? 'dv-nowrap' : ''].join(' ').trim() || undefined}
      >
        {text}
      </pre>
    </div>
  );
}

/** An example value a datastream would accept, as it goes in a device API URL. */
export function sampleValue(ds: Datastream | undefined): string {
  if (!ds) return '1';
  switch (ds.type) {
    case 'string':
      return 'hello';
    case 'location':
      return '-73.87,40.84';
    case 'enum':
      return String(ds.options?.[0]?.value ?? 0);
    default:
      return ds.min !== null && ds.min > 1 ? String(ds.min) : '1';
  }
}

export const deviceApiBase = (): string => `${location.origin}/external/api`;

export function updateUrl(token: string, ds: Datastream | undefined, pin = ds?.pin ?? 'V1'): string {
  return `${deviceApiBase()}/update?token=${encodeURIComponent(token)}&${pin}=${encodeURIComponent(sampleValue(ds))}`;
}

export function getUrl(token: string, pin: string): string {
  return `${deviceApiBase()}/get?token=${encodeURIComponent(token)}&${pin}`;
}

export function firmwareDefines(template: Pick<Template, 'id' | 'name'>, token: string): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    `#define BLYNK_TEMPLATE_ID ${q(template.id)}`,
    `#define BLYNK_TEMPLATE_NAME ${q(template.name)}`,
    `#define BLYNK_AUTH_TOKEN ${q(token)}`,
  ].join('\n');
}

/** Shows a datastream value the way a person reads it. */
export function formatValue(ds: Datastream | undefined, v: StoredValue | undefined | null): string {
  if (v === undefined || v === null) return '—';
  if (Array.isArray(v)) return `${v[0]}, ${v[1]}`;
  if (!ds) return String(v);
  if (ds.type === 'enum' && typeof v === 'number') {
    const o = ds.options?.find((x) => x.value === v);
    if (o) return `${o.label} (${v})`;
  }
  let text = String(v);
  if (ds.type === 'double' && typeof v === 'number' && ds.decimals) {
    const places = ds.decimals.split('.')[1]?.length ?? 0;
    text = v.toFixed(Math.min(places, 10));
  }
  return ds.units && typeof v === 'number' ? `${text} ${ds.units}` : text;
}

/* ----- metadata editing ----- */

export type MetaForm = Record<string, string | boolean>;

/** Form state for a template's metafields from stored metadata (or defaults). */
export function metaFormFrom(fields: Metafield[], metadata: Record<string, unknown> | undefined): MetaForm {
  const out: MetaForm = {};
  for (const f of fields) {
    const v = metadata && f.name in metadata ? metadata[f.name] : f.defaultValue;
    if (f.type === 'switch') out[f.name] = v === true || v === 'true' || v === 1;
    else if (Array.isArray(v)) out[f.name] = v.join(', ');
    else out[f.name] = v === null || v === undefined ? '' : String(v);
  }
  return out;
}

/** Metadata to send: blank optional values are left out (the server keeps its default). */
export function metaPayload(
  fields: Metafield[],
  form: MetaForm,
  original?: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = form[f.name];
    if (f.type === 'switch') {
      out[f.name] = v === true;
      continue;
    }
    const s = typeof v === 'string' ? v.trim() : '';
    if (s === '') {
      // text may be cleared; numbers and coordinates cannot be stored empty
      if ((f.type === 'text' || f.type === 'email') && original && original[f.name]) out[f.name] = '';
      continue;
    }
    if (f.type === 'list' && Array.isArray(original?.[f.name] ?? f.defaultValue)) {
      out[f.name] = s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    } else out[f.name] = s;
  }
  return out;
}

/** Required fields still blank, by name. */
export function missingRequired(fields: Metafield[], form: MetaForm): string[] {
  return fields
    .filter(
      (f) =>
        f.required &&
        f.type !== 'switch' &&
        (f.defaultValue === null || f.defaultValue === undefined) &&
        String(form[f.name] ?? '').trim() === '',
    )
    .map((f) => f.name);
}

export function MetaInputs({
  fields,
  form,
  onChange,
  disabled,
}: {
  fields: Metafield[];
  form: MetaForm;
  onChange: (f: MetaForm) => void;
  disabled?: boolean;
}) {
  if (fields.length === 0) return null;
  return (
    <div className="dv-meta-grid">
      {fields.map((f) => {
        const v = form[f.name];
        const set = (x: string | boolean) => onChange({ ...form, [f.name]: x });
        const testId = `metafield-${f.name}`;
        if (f.type === 'switch') {
          return (
            <label key={f.id} className="inline dv-meta-switch">
              <input
                type="checkbox"
                checked={v === true}
                onChange={(e) => set(e.target.checked)}
                disabled={disabled}
                data-testid={testId}
              />
              <span className="ellipsis">{f.name}</span>
            </label>
          );
        }
        return (
          <label key={f.id}>
            <span className="ellipsis">
              {f.name}
              {f.required ? <span className="dv-required"> *</span> : null}
              {f.type !== 'text' ? <span className="muted dv-meta-type"> {f.type}</span> : null}
            </span>
            <input
              type={f.type === 'number' ? 'number' : f.type === 'email' ? 'email' : 'text'}
              step={f.type === 'number' ? 'any' : undefined}
              value={typeof v === 'string' ? v : ''}
              placeholder={f.type === 'coordinates' ? 'lat, lon' : f.type === 'list' ? 'comma-separated' : undefined}
              maxLength={255}
              onChange={(e) => set(e.target.value)}
              disabled={disabled}
              data-testid={testId}
            />
          </label>
        );
      })}
    </div>
  );
}

/** A template by id, from a list loaded once. */
export function templateName(templates: Template[] | null, id: string): string {
  return templates?.find((t) => t.id === id)?.name ?? id;
}

export type DeviceWithValues = Device & { values: NonNullable<Device['values']> };
