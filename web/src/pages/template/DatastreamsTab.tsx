import { useCallback, useMemo, useState } from 'react';
import { api, errorText } from '../../api.ts';
import { Empty, ErrorBox } from '../../components/Status.tsx';
import type { Datastream, DatastreamType, StoredValue, Template } from '../../types.ts';
import { ConfirmButton, fieldFromError, Modal, Switch } from './ui.tsx';

const TYPES: Array<{ value: DatastreamType; label: string; hint: string }> = [
  { value: 'integer', label: 'Integer', hint: 'Whole numbers (−2,147,483,648 … 2,147,483,647)' },
  { value: 'double', label: 'Double', hint: 'Numbers with a fraction' },
  { value: 'string', label: 'String', hint: 'Text' },
  { value: 'enum', label: 'Enumerable', hint: 'Integer values shown as labels (and colors)' },
  { value: 'location', label: 'Location', hint: 'lon,lat; at most one per template' },
];
const TYPE_LABEL: Record<string, string> = Object.fromEntries(TYPES.map((t) => [t.value, t.label]));

const DECIMALS = ['#', '#.#', '#.##', '#.###', '#.####', '#.#####', '#.0', '#.00', '#.000', '#.0000', '#.00000'];
const PRESET_COLORS = ['#23C48E', '#04C0F8', '#ED9D00', '#D3435C', '#5F7CD8', '#FFD700', '#8E44AD', '#607D8B'];
const FIELDS = [
  'name',
  'pin',
  'type',
  'min',
  'max',
  'decimals',
  'units',
  'defaultValue',
  'options',
  'fallback',
  'color',
] as const;

/** 12.34 as a decimals format shows it: "#.##" drops trailing zeros, "#.00" keeps them. */
const decimalsSample = (fmt: string): string => {
  const n = fmt.length > 2 ? fmt.length - 2 : 0;
  const fixed = (12.34).toFixed(n);
  return fmt.includes('0') ? fixed : String(Number(fixed));
};

const pinNumber = (pin: string): number => Number(pin.slice(1));
const ALL_PINS = Array.from({ length: 256 }, (_, i) => `V${i}`);

interface OptionRow {
  key: number;
  value: string;
  label: string;
  color: string;
}

interface DsForm {
  name: string;
  pin: string;
  type: DatastreamType;
  min: string;
  max: string;
  decimals: string;
  units: string;
  defaultValue: string;
  saveRaw: boolean;
  syncOnConnect: boolean;
  options: OptionRow[];
  fallback: string;
  color: string;
}

let rowKey = 0;

const defaultText = (v: StoredValue | null): string =>
  v === null || v === undefined ? '' : Array.isArray(v) ? v.join(',') : String(v);

function formOf(d: Datastream | null, firstFree: string): DsForm {
  if (!d) {
    return {
      name: '',
      pin: firstFree,
      type: 'integer',
      min: '0',
      max: '255',
      decimals: '',
      units: '',
      defaultValue: '',
      saveRaw: false,
      syncOnConnect: false,
      options: [],
      fallback: '',
      color: '',
    };
  }
  return {
    name: d.name,
    pin: d.pin,
    type: d.type,
    min: d.min === null ? '' : String(d.min),
    max: d.max === null ? '' : String(d.max),
    decimals: d.decimals ?? '',
    units: d.units ?? '',
    defaultValue: defaultText(d.defaultValue),
    saveRaw: d.saveRaw,
    syncOnConnect: d.syncOnConnect,
    options: (d.options ?? []).map((o) => ({
      key: ++rowKey,
      value: String(o.value),
      label: o.label,
      color: o.color ?? '',
    })),
    fallback: d.fallback === null ? '' : String(d.fallback),
    color: d.color ?? '',
  };
}

const numOrNull = (s: string, field: string): number | null => {
  if (s.trim() === '') return null;
  const n = Number(s);
  if (!Number.isFinite(n)) throw new FieldError(field, `${field} must be a number`);
  return n;
};

class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The request body for the form (type only when creating). Throws FieldError on what is plainly wrong. */
function bodyOf(f: DsForm, prev: Datastream | null): Record<string, unknown> {
  const creating = prev === null;
  if (!f.name.trim()) throw new FieldError('name', 'name is required');
  const numeric = f.type === 'integer' || f.type === 'double' || f.type === 'enum';
  const body: Record<string, unknown> = {
    name: f.name.trim(),
    pin: f.pin,
    min: numeric ? numOrNull(f.min, 'min') : null,
    max: numeric ? numOrNull(f.max, 'max') : null,
    decimals: f.type === 'double' && f.decimals ? f.decimals : null,
    units: f.units.trim() ? f.units.trim() : null,
    saveRaw: f.saveRaw,
    syncOnConnect: f.syncOnConnect,
    color: f.color || null,
    options: null,
    fallback: null,
  };
  if (creating) body.type = f.type;
  if (f.type === 'enum') {
    if (f.options.length === 0) throw new FieldError('options', 'options: add at least one option');
    body.options = f.options.map((o, i) => {
      const value = Number(o.value);
      if (o.value.trim() === '' || !Number.isInteger(value))
        throw new FieldError('options', `options: row ${i + 1} needs an integer value`);
      if (!o.label.trim()) throw new FieldError('options', `options: row ${i + 1} needs a label`);
      return { value, label: o.label.trim(), ...(o.color ? { color: o.color } : {}) };
    });
    body.fallback = f.fallback === '' ? null : Number(f.fallback);
  }
  const dv = f.defaultValue.trim();
  if (dv === '') body.defaultValue = null;
  else if (numeric) {
    const n = Number(dv);
    if (!Number.isFinite(n)) throw new FieldError('defaultValue', 'defaultValue must be a number');
    body.defaultValue = n;
  } else body.defaultValue = f.type === 'string' ? f.defaultValue : dv;
  // The server's schema turns a null for min, max or fallback into 0 (anyOf number|null with type
  // coercion), so a null is only sent when it clears a value that was set.
  for (const k of ['min', 'max', 'fallback'] as const) {
    if (body[k] === null && (prev === null || prev[k] === null)) delete body[k];
  }
  return body;
}

/** The Datastreams tab: a table of the template's datastreams, an add/edit dialog and delete. */
export function DatastreamsTab({ template, reload }: { template: Template; reload: () => Promise<void> }) {
  const [editing, setEditing] = useState<Datastream | 'new' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const rows = useMemo(
    () => [...template.datastreams].sort((a, b) => pinNumber(a.pin) - pinNumber(b.pin)),
    [template.datastreams],
  );

  const remove = async (d: Datastream) => {
    setError(null);
    try {
      await api('DELETE', `/api/v1/templates/${encodeURIComponent(template.id)}/datastreams/${d.id}`);
      await reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div className="tpl-section wide">
      <div className="spread">
        <p className="tpl-help">
          Datastreams are the channels of data between devices and Pinwheel: a virtual pin (V0–V255) with a type and how
          to show it. {rows.length ? `${rows.length} of 256 pins used.` : ''}
        </p>
        <button
          type="button"
          className="primary"
          data-testid="add-datastream"
          onClick={() => setEditing('new')}
          disabled={rows.length >= 256}
        >
          New datastream
        </button>
      </div>
      {error ? <ErrorBox error={error} /> : null}
      {rows.length === 0 ? (
        <Empty>
          No datastreams yet. Add one for every value the device sends or receives (e.g. a temperature on V0).
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="ds-table" data-testid="datastreams-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Pin</th>
                <th>Type</th>
                <th className="hide-sm">Range</th>
                <th className="hide-sm">Units</th>
                <th className="hide-sm">Default</th>
                <th className="hide-sm">Options</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id} data-testid={`ds-row-${d.pin}`}>
                  <td className="ds-name">
                    <span title={d.name}>
                      {d.color ? <span className="swatch" style={{ background: d.color }} /> : null} {d.name}
                    </span>
                  </td>
                  <td>
                    <code>{d.pin}</code>
                  </td>
                  <td>{TYPE_LABEL[d.type] ?? d.type}</td>
                  <td className="hide-sm">
                    {d.min !== null || d.max !== null ? `${d.min ?? '−∞'} … ${d.max ?? '∞'}` : '—'}
                    {d.decimals ? <span className="muted"> ({d.decimals})</span> : null}
                  </td>
                  <td className="hide-sm">{d.units ?? '—'}</td>
                  <td className="hide-sm">{defaultText(d.defaultValue) || '—'}</td>
                  <td className="hide-sm">
                    <span className="ds-flags">
                      {d.type === 'enum' && d.options ? <span className="pill">{d.options.length} options</span> : null}
                      {d.saveRaw ? <span className="pill">raw</span> : null}
                      {d.syncOnConnect ? <span className="pill">sync</span> : null}
                    </span>
                  </td>
                  <td className="ds-actions">
                    <span className="tpl-actions" style={{ justifyContent: 'flex-end' }}>
                      <button type="button" data-testid={`ds-edit-${d.pin}`} onClick={() => setEditing(d)}>
                        Edit
                      </button>
                      <ConfirmButton
                        label="Delete"
                        question={`Delete ${d.pin}? Its stored values go too.`}
                        testId={`ds-delete-${d.pin}`}
                        onConfirm={() => remove(d)}
                      />
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editing !== null && (
        <DatastreamDialog
          template={template}
          datastream={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={async () => {
            setEditing(null);
            await reload();
          }}
        />
      )}
    </div>
  );
}

function DatastreamDialog({
  template,
  datastream,
  onClose,
  onSaved,
}: {
  template: Template;
  datastream: Datastream | null;
  onClose: () => void;
  onSaved: () => Promise<void>;
}) {
  const used = useMemo(() => {
    const m = new Map<string, string>();
    for (const d of template.datastreams) if (d.id !== datastream?.id) m.set(d.pin, d.name);
    return m;
  }, [template.datastreams, datastream]);
  const firstFree = useMemo(() => ALL_PINS.find((p) => !used.has(p)) ?? 'V0', [used]);
  const hasLocation = template.datastreams.some((d) => d.type === 'location' && d.id !== datastream?.id);
  const [f, setF] = useState<DsForm>(() => formOf(datastream, firstFree));
  const [error, setError] = useState<unknown>(null);
  const [errorField, setErrorField] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const creating = datastream === null;

  const set = <K extends keyof DsForm>(k: K, v: DsForm[K]) => {
    setF((cur) => ({ ...cur, [k]: v }));
    if (errorField === k) {
      setErrorField(undefined);
      setError(null);
    }
  };
  const changeType = (type: DatastreamType) => {
    setF((cur) => {
      const next: DsForm = { ...cur, type };
      if (type === 'string' || type === 'location') {
        next.min = '';
        next.max = '';
      }
      if (type !== 'double') next.decimals = '';
      if (type === 'double' && !cur.decimals) next.decimals = '#.##';
      if (type === 'enum' && cur.options.length === 0) {
        next.options = [
          { key: ++rowKey, value: '0', label: 'Off', color: '#D3435C' },
          { key: ++rowKey, value: '1', label: 'On', color: '#23C48E' },
        ];
        next.min = '';
        next.max = '';
      }
      if ((type === 'integer' || type === 'double') && cur.min === '' && cur.max === '') {
        next.min = '0';
        next.max = type === 'double' ? '100' : '255';
      }
      return next;
    });
  };

  const save = async (e?: React.FormEvent) => {
    e?.preventDefault();
    setError(null);
    setErrorField(undefined);
    let body: Record<string, unknown>;
    try {
      body = bodyOf(f, datastream);
    } catch (err) {
      setError(err);
      setErrorField(err instanceof FieldError ? err.field : undefined);
      return;
    }
    setBusy(true);
    try {
      const base = `/api/v1/templates/${encodeURIComponent(template.id)}/datastreams`;
      if (creating) await api('POST', base, body);
      else await api('PATCH', `${base}/${datastream.id}`, body);
      await onSaved();
    } catch (err) {
      setError(err);
      setErrorField(fieldFromError(err, FIELDS));
      setBusy(false);
    }
  };

  const fieldErr = (k: string) =>
    errorField === k ? (
      <span className="field-error" role="alert" data-testid={`ds-error-${k}`}>
        {errorText(error)}
      </span>
    ) : null;
  const cls = (k: string) => (errorField === k ? 'has-error' : undefined);
  const numeric = f.type === 'integer' || f.type === 'double' || f.type === 'enum';
  const step = f.type === 'double' ? 'any' : '1';

  return (
    <Modal
      title={creating ? 'New datastream' : `Edit ${datastream.pin} · ${datastream.name}`}
      onClose={onClose}
      testId="datastream-dialog"
      footer={
        <>
          {error ? (
            <div className="error-box" role="alert" data-testid="ds-error">
              <span>{errorText(error)}</span>
            </div>
          ) : null}
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button
            type="submit"
            form="datastream-form"
            className="primary"
            data-testid="save-datastream"
            disabled={busy}
          >
            {busy ? 'Saving…' : creating ? 'Create' : 'Save'}
          </button>
        </>
      }
    >
      <form id="datastream-form" onSubmit={save} className="tpl-grid" noValidate>
        <label className="span2">
          Name
          <input
            data-testid="ds-name"
            className={cls('name')}
            required
            maxLength={100}
            // biome-ignore lint/a11y/noAutofocus: first field of a dialog
            autoFocus
            value={f.name}
            placeholder="e.g. Temperature"
            onChange={(e) => set('name', e.target.value)}
          />
          {fieldErr('name')}
        </label>
        <label>
          Pin
          <select
            data-testid="ds-pin"
            className={cls('pin')}
            value={f.pin}
            onChange={(e) => set('pin', e.target.value)}
          >
            {ALL_PINS.map((p) => (
              <option key={p} value={p} disabled={used.has(p)}>
                {used.has(p) ? `${p} — used by ${used.get(p)}` : p}
              </option>
            ))}
          </select>
          {f.pin !== firstFree && creating ? (
            <span className="tpl-help">
              First free pin:{' '}
              <button type="button" className="link" onClick={() => set('pin', firstFree)}>
                {firstFree}
              </button>
            </span>
          ) : (
            <span className="tpl-help">{used.size} used</span>
          )}
          {fieldErr('pin')}
        </label>
        <label>
          Data type
          <select
            data-testid="ds-type"
            className={cls('type')}
            value={f.type}
            disabled={!creating}
            title={creating ? undefined : 'The type cannot change after a datastream is created'}
            onChange={(e) => changeType(e.target.value as DatastreamType)}
          >
            {TYPES.map((t) => (
              <option key={t.value} value={t.value} disabled={t.value === 'location' && hasLocation}>
                {t.label}
                {t.value === 'location' && hasLocation ? ' (already used)' : ''}
              </option>
            ))}
          </select>
          <span className="tpl-help">
            {creating ? TYPES.find((t) => t.value === f.type)?.hint : 'Locked: the type is fixed once created'}
          </span>
          {fieldErr('type')}
        </label>
        {numeric && (
          <>
            <label>
              Min
              <input
                data-testid="ds-min"
                className={cls('min')}
                type="number"
                step={step}
                value={f.min}
                onChange={(e) => set('min', e.target.value)}
              />
              {fieldErr('min')}
            </label>
            <label>
              Max
              <input
                data-testid="ds-max"
                className={cls('max')}
                type="number"
                step={step}
                value={f.max}
                onChange={(e) => set('max', e.target.value)}
              />
              {fieldErr('max')}
            </label>
          </>
        )}
        {f.type === 'double' && (
          <label>
            Decimals
            <select
              data-testid="ds-decimals"
              className={cls('decimals')}
              value={f.decimals}
              onChange={(e) => set('decimals', e.target.value)}
            >
              <option value="">As sent</option>
              {DECIMALS.map((d) => (
                <option key={d} value={d}>
                  {d} (e.g. {decimalsSample(d)})
                </option>
              ))}
            </select>
            {fieldErr('decimals')}
          </label>
        )}
        {f.type !== 'location' && (
          <label>
            Units
            <input
              data-testid="ds-units"
              className={cls('units')}
              maxLength={40}
              value={f.units}
              placeholder="e.g. °C"
              onChange={(e) => set('units', e.target.value)}
            />
            {fieldErr('units')}
          </label>
        )}
        <label htmlFor="ds-default">
          Default value
          {f.type === 'enum' && f.options.length > 0 ? (
            <select
              id="ds-default"
              data-testid="ds-default"
              className={cls('defaultValue')}
              value={f.defaultValue}
              onChange={(e) => set('defaultValue', e.target.value)}
            >
              <option value="">None</option>
              {f.options.map((o) => (
                <option key={o.key} value={o.value}>
                  {o.value} · {o.label}
                </option>
              ))}
            </select>
          ) : (
            <input
              id="ds-default"
              data-testid="ds-default"
              className={cls('defaultValue')}
              value={f.defaultValue}
              placeholder={f.type === 'location' ? 'lon,lat' : 'none'}
              onChange={(e) => set('defaultValue', e.target.value)}
            />
          )}
          {fieldErr('defaultValue')}
        </label>
        <div className="span2">
          <span style={{ fontSize: '0.9rem' }}>Color</span>
          <div className="color-field">
            <input
              type="color"
              aria-label="Color"
              data-testid="ds-color"
              className={f.color ? undefined : 'no-color'}
              value={f.color || '#8c959f'}
              onChange={(e) => set('color', e.target.value.toUpperCase())}
            />
            <span className="color-presets">
              {PRESET_COLORS.map((c) => (
                <button
                  key={c}
                  type="button"
                  aria-label={`Color ${c}`}
                  className={f.color.toUpperCase() === c ? 'selected' : undefined}
                  style={{ background: c }}
                  onClick={() => set('color', c)}
                />
              ))}
            </span>
            {f.color ? (
              <button type="button" className="link" onClick={() => set('color', '')}>
                No color
              </button>
            ) : (
              <span className="muted">none</span>
            )}
          </div>
          {fieldErr('color')}
        </div>
        {f.type === 'enum' && (
          <EnumEditor
            options={f.options}
            fallback={f.fallback}
            onOptions={(o) => set('options', o)}
            onFallback={(v) => set('fallback', v)}
            error={errorField === 'options' || errorField === 'fallback' ? errorText(error) : null}
          />
        )}
        <div className="span2" style={{ display: 'flex', flexDirection: 'column', gap: '0.5rem' }}>
          <Switch
            checked={f.saveRaw}
            onChange={(v) => set('saveRaw', v)}
            testId="ds-save-raw"
            label={
              <>
                Save raw data <span className="muted">— keep every point (otherwise one average per minute)</span>
              </>
            }
          />
          <Switch
            checked={f.syncOnConnect}
            onChange={(v) => set('syncOnConnect', v)}
            testId="ds-sync"
            label={
              <>
                Sync with latest server value <span className="muted">— sent to the device on reconnect</span>
              </>
            }
          />
        </div>
      </form>
    </Modal>
  );
}

function EnumEditor({
  options,
  fallback,
  onOptions,
  onFallback,
  error,
}: {
  options: OptionRow[];
  fallback: string;
  onOptions: (o: OptionRow[]) => void;
  onFallback: (v: string) => void;
  error: string | null;
}) {
  const update = useCallback(
    (key: number, patch: Partial<OptionRow>) => onOptions(options.map((o) => (o.key === key ? { ...o, ...patch } : o))),
    [options, onOptions],
  );
  const nextValue = () => {
    const nums = options.map((o) => Number(o.value)).filter(Number.isInteger);
    return nums.length ? Math.max(...nums) + 1 : 0;
  };
  return (
    <fieldset className="span2 enum-editor" data-testid="enum-editor">
      <legend>Enum options (incoming value → label)</legend>
      {options.length > 0 && (
        <div className="enum-row muted" style={{ fontSize: '0.8rem' }}>
          <span>Value</span>
          <span>Label</span>
          <span>Color</span>
          <span />
        </div>
      )}
      {options.map((o, i) => (
        <div className="enum-row" key={o.key}>
          <input
            type="number"
            step="1"
            aria-label={`Option ${i + 1} value`}
            data-testid={`enum-value-${i}`}
            value={o.value}
            onChange={(e) => update(o.key, { value: e.target.value })}
          />
          <input
            aria-label={`Option ${i + 1} label`}
            data-testid={`enum-label-${i}`}
            maxLength={100}
            value={o.label}
            onChange={(e) => update(o.key, { label: e.target.value })}
          />
          <input
            type="color"
            aria-label={`Option ${i + 1} color`}
            value={o.color || '#8c959f'}
            onChange={(e) => update(o.key, { color: e.target.value.toUpperCase() })}
          />
          <button
            type="button"
            className="danger"
            aria-label={`Remove option ${i + 1}`}
            onClick={() => {
              onOptions(options.filter((x) => x.key !== o.key));
              if (fallback === o.value) onFallback('');
            }}
          >
            ✕
          </button>
        </div>
      ))}
      <div className="tpl-actions">
        <button
          type="button"
          data-testid="enum-add"
          onClick={() => onOptions([...options, { key: ++rowKey, value: String(nextValue()), label: '', color: '' }])}
        >
          Add option
        </button>
        <label className="inline">
          Fallback for unknown values
          <select data-testid="enum-fallback" value={fallback} onChange={(e) => onFallback(e.target.value)}>
            <option value="">None (show the number)</option>
            {options
              .filter((o) => o.value.trim() !== '')
              .map((o) => (
                <option key={o.key} value={o.value}>
                  {o.value} · {o.label || '(no label)'}
                </option>
              ))}
          </select>
        </label>
      </div>
      {error ? <span className="field-error">{error}</span> : null}
    </fieldset>
  );
}
