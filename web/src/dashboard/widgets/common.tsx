import { type ReactNode, useEffect, useState } from 'react';
import { errorText } from '../../api.ts';
import type { Datastream, EnumOption, StoredValue, Widget } from '../../types.ts';

/** What every widget receives. `deviceId` is null in the builder's preview (no device, no data). */
export interface WidgetProps {
  widget: Widget;
  datastream: Datastream | undefined;
  value: StoredValue | undefined;
  ts: number | undefined;
  deviceId: number | null;
  onWrite: (pin: string, value: StoredValue) => Promise<void>;
}

export type Settings = Record<string, unknown>;

export const settingsOf = (w: Widget): Settings => w.settings ?? {};
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A numeric reading of a stored value (strings that look like numbers count). */
export function numeric(v: StoredValue | undefined): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** min/max of a widget: its settings first, then the datastream, then the fallback. */
export function rangeOf(
  w: Widget,
  ds: Datastream | undefined,
  fallback: [number, number] = [0, 100],
): [number, number] {
  const s = settingsOf(w);
  const min = num(s.min) ?? ds?.min ?? fallback[0];
  let max = num(s.max) ?? ds?.max ?? fallback[1];
  if (max <= min) max = min + 1;
  return [min, max];
}

/** Widget color: settings.color, then the datastream's color, then the accent. */
export const colorOf = (w: Widget, ds: Datastream | undefined, fallback = '#1f6feb'): string =>
  str(settingsOf(w).color) ?? ds?.color ?? fallback;

/** On/off values of switch-like widgets (default 1/0). */
export function onOff(w: Widget): { on: number; off: number } {
  const s = settingsOf(w);
  return { on: num(s.onValue) ?? 1, off: num(s.offValue) ?? 0 };
}

/** Number formatting from a datastream's decimals pattern ("#", "#.#", "#.##", "#.00"). */
export function formatNumber(n: number, ds: Datastream | undefined): string {
  const pattern = ds?.decimals ?? null;
  let minFrac = 0;
  let maxFrac = ds?.type === 'integer' ? 0 : 4;
  if (pattern !== null) {
    const frac = pattern.split('.')[1] ?? '';
    maxFrac = Math.min(frac.length, 10);
    minFrac = Math.min((frac.match(/0/g) ?? []).length, maxFrac);
  }
  return n.toLocaleString(undefined, {
    minimumFractionDigits: minFrac,
    maximumFractionDigits: maxFrac,
    useGrouping: false,
  });
}

export const enumOption = (ds: Datastream | undefined, v: StoredValue | undefined): EnumOption | undefined =>
  ds?.options?.find((o) => o.value === numeric(v));

/** A value as text, with units (enum: the option label; location: "lat, lon"). */
export function formatValue(v: StoredValue | undefined, ds: Datastream | undefined, units?: string): string {
  if (v === undefined || v === null) return '—';
  if (Array.isArray(v)) return `${v[1].toFixed(5)}, ${v[0].toFixed(5)}`;
  if (ds?.type === 'enum') return enumOption(ds, v)?.label ?? String(v);
  if (ds?.type === 'string' || typeof v === 'string') {
    if (ds?.type !== 'integer' && ds?.type !== 'double') return String(v);
  }
  const n = numeric(v);
  if (n === undefined) return String(v);
  const u = units ?? ds?.units ?? '';
  return `${formatNumber(n, ds)}${u ? ` ${u}` : ''}`;
}

/** Location [lon, lat] from a stored value (also "lon,lat" strings). */
export function location(v: StoredValue | undefined): [number, number] | undefined {
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) return v;
  if (typeof v === 'string') {
    const parts = v.split(',').map((p) => Number(p.trim()));
    if (parts.length === 2 && parts.every(Number.isFinite)) return [parts[0]!, parts[1]!];
  }
  return undefined;
}

export const valueAttr = (v: StoredValue | undefined): string =>
  v === undefined || v === null ? '' : Array.isArray(v) ? v.join(',') : String(v);

/**
 * A control's shown value: the last value written here until the device's value changes,
 * plus the write itself with its error.
 */
export function useControl(props: WidgetProps) {
  const { value, ts, widget, onWrite, deviceId } = props;
  const [local, setLocal] = useState<StoredValue | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new value or timestamp from the device wins
  useEffect(() => setLocal(undefined), [value, ts]);
  const pin = widget.datastream;
  const disabled = !pin || deviceId === null;
  const write = async (v: StoredValue) => {
    if (!pin) return;
    setLocal(v);
    setError(null);
    if (deviceId === null) return;
    setBusy(true);
    try {
      await onWrite(pin, v);
    } catch (e) {
      setLocal(undefined);
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return { shown: local !== undefined ? local : value, write, error, busy, disabled };
}

interface FrameProps {
  props: WidgetProps;
  className?: string;
  error?: string | null;
  children: ReactNode;
}

/** The widget card: title (truncated), body that never overflows, a write error line. */
export function Frame({ props, className, error, children }: FrameProps) {
  const { widget, datastream } = props;
  const pin = widget.datastream ?? 'none';
  const title = widget.title || datastream?.name || '';
  return (
    <div
      className={`wd wt-${widget.type}${className ? ` ${className}` : ''}`}
      data-testid={`widget-${widget.type}-${pin}`}
      data-value={valueAttr(props.value)}
    >
      <div className="wd-title" title={title}>
        {title || <span className="muted">Untitled</span>}
      </div>
      <div className="wd-body">{children}</div>
      {error ? (
        <div className="wd-error" title={error}>
          {error}
        </div>
      ) : null}
      {!widget.datastream ? <div className="wd-hint">No datastream</div> : null}
    </div>
  );
}

/**
 * Choices of segmented switches and menus: settings.options ([{value, label}]), else the enum
 * options, else integers min..max when there are at most 10 of them.
 */
export function choicesOf(w: Widget, ds: Datastream | undefined): EnumOption[] {
  const raw = settingsOf(w).options;
  if (Array.isArray(raw) && raw.length > 0) {
    const out: EnumOption[] = [];
    for (const o of raw) {
      if (o && typeof o === 'object' && typeof (o as EnumOption).value === 'number') {
        const e = o as EnumOption;
        const fromEnum = ds?.options?.find((x) => x.value === e.value);
        out.push({
          value: e.value,
          label: typeof e.label === 'string' && e.label ? e.label : (fromEnum?.label ?? String(e.value)),
          ...(e.color || fromEnum?.color ? { color: e.color ?? fromEnum?.color } : {}),
        });
      }
    }
    if (out.length > 0) return out;
  }
  if (ds?.options?.length) return ds.options;
  const [min, max] = rangeOf(w, ds, [0, 1]);
  if (Number.isInteger(min) && Number.isInteger(max) && max - min < 10) {
    return Array.from({ length: max - min + 1 }, (_, i) => ({ value: min + i, label: String(min + i) }));
  }
  return [
    { value: min, label: String(min) },
    { value: max, label: String(max) },
  ];
}
