import { useEffect, useState } from 'react';
import { CHART_KINDS } from '../../../src/domain/widgets.ts';
import type { Datastream, EnumOption, Widget } from '../types.ts';
import { CHART_RANGES } from './widgets/Chart.tsx';
import { acceptedTypes, widgetKind } from './widgets/registry.ts';

type Settings = Record<string, unknown>;

/** A number field that allows blank (= not set) and half-typed input like "-". */
function NumberField({
  label,
  value,
  onChange,
  placeholder,
}: {
  label: string;
  value: unknown;
  onChange: (v: number | undefined) => void;
  placeholder?: string;
}) {
  const shown = typeof value === 'number' ? String(value) : '';
  const [text, setText] = useState(shown);
  useEffect(() => setText(shown), [shown]);
  return (
    <label>
      {label}
      <input
        inputMode="decimal"
        value={text}
        placeholder={placeholder}
        onChange={(e) => {
          setText(e.target.value);
          const t = e.target.value.trim();
          if (t === '') onChange(undefined);
          else if (Number.isFinite(Number(t))) onChange(Number(t));
        }}
        onBlur={() => setText(shown)}
      />
    </label>
  );
}

function TextField({
  label,
  value,
  onChange,
  placeholder,
  max = 100,
}: {
  label: string;
  value: unknown;
  onChange: (v: string | undefined) => void;
  placeholder?: string;
  max?: number;
}) {
  return (
    <label>
      {label}
      <input
        value={typeof value === 'string' ? value : ''}
        maxLength={max}
        placeholder={placeholder}
        onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
      />
    </label>
  );
}

function Check({ label, checked, onChange }: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <label className="inline">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      {label}
    </label>
  );
}

function OptionsEditor({
  value,
  onChange,
  datastream,
  max,
}: {
  value: unknown;
  onChange: (v: EnumOption[] | undefined) => void;
  datastream: Datastream | undefined;
  max: number;
}) {
  const list: EnumOption[] = Array.isArray(value) ? (value as EnumOption[]) : [];
  const set = (next: EnumOption[]) => onChange(next.length > 0 ? next : undefined);
  return (
    <div className="db-options">
      <span style={{ fontSize: '0.9rem' }}>Options</span>
      {list.length === 0 ? (
        <span className="muted wd-small">
          {datastream?.options?.length
            ? `Using the datastream's ${datastream.options.length} options.`
            : 'Using the values from min to max.'}
        </span>
      ) : null}
      {list.map((o, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are edited in place
        <div className="row" key={i}>
          <input
            className="val"
            inputMode="numeric"
            aria-label="Option value"
            value={String(o.value)}
            onChange={(e) => {
              const n = Number(e.target.value);
              if (Number.isFinite(n)) set(list.map((x, j) => (j === i ? { ...x, value: n } : x)));
            }}
          />
          <input
            aria-label="Option label"
            maxLength={40}
            value={o.label}
            onChange={(e) => set(list.map((x, j) => (j === i ? { ...x, label: e.target.value } : x)))}
          />
          <button type="button" aria-label="Remove option" onClick={() => set(list.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <div className="row">
        <button
          type="button"
          disabled={list.length >= max}
          onClick={() => {
            const base = list.length === 0 && datastream?.options?.length ? datastream.options : list;
            const next = base.length > 0 ? Math.max(...base.map((o) => o.value)) + 1 : 0;
            set([...base.map((o) => ({ value: o.value, label: o.label })), { value: next, label: `Option ${next}` }]);
          }}
        >
          Add option
        </button>
        {list.length > 0 ? (
          <button type="button" className="link" onClick={() => onChange(undefined)}>
            Reset
          </button>
        ) : null}
      </div>
    </div>
  );
}

export interface SettingsPanelProps {
  widget: Widget;
  datastreams: Datastream[];
  onChange: (patch: Partial<Widget>) => void;
  onDuplicate: () => void;
  onDelete: () => void;
}

/** The selected widget's configuration: title, datastream (compatible types only), look and values. */
export function SettingsPanel({ widget, datastreams, onChange, onDuplicate, onDelete }: SettingsPanelProps) {
  const kind = widgetKind(widget.type);
  const accepts = acceptedTypes(widget.type);
  const usable = datastreams.filter((d) => accepts.includes(d.type));
  const ds = datastreams.find((d) => d.pin === widget.datastream);
  const s: Settings = widget.settings ?? {};
  const set = (key: string, v: unknown) => {
    const next: Settings = { ...s };
    if (v === undefined) delete next[key];
    else next[key] = v;
    onChange({ settings: next });
  };
  const t = widget.type;
  const onOffTypes = t === 'switch' || t === 'button' || t === 'image_button';
  const rangeTypes = ['slider', 'number_input', 'label', 'gauge', 'radial_gauge', 'led', 'chart'].includes(t);
  return (
    <div className="db-panel card" data-testid="widget-settings">
      <div className="spread">
        <h3>{kind.name}</h3>
        <span className="muted wd-small">
          {widget.w}×{widget.h} at {widget.x},{widget.y}
        </span>
      </div>
      <label>
        Title
        <input
          value={widget.title ?? ''}
          maxLength={100}
          placeholder={ds?.name ?? 'Untitled'}
          onChange={(e) => onChange({ title: e.target.value })}
        />
      </label>
      <label>
        Datastream
        <select
          value={widget.datastream ?? ''}
          onChange={(e) => {
            const pin = e.target.value || null;
            const next = datastreams.find((d) => d.pin === pin);
            const titleWasDefault = !widget.title || widget.title === ds?.name || widget.title === kind.name;
            onChange({ datastream: pin, ...(titleWasDefault ? { title: next?.name ?? kind.name } : {}) });
          }}
        >
          <option value="">— none —</option>
          {usable.map((d) => (
            <option key={d.pin} value={d.pin}>
              {d.name} ({d.pin}, {d.type})
            </option>
          ))}
        </select>
        {usable.length === 0 ? (
          <span className="muted wd-small">The template has no {accepts.join(' or ')} datastream for this widget.</span>
        ) : null}
      </label>
      <div className="row">
        <label className="inline">
          Color
          <input
            type="color"
            value={typeof s.color === 'string' && /^#[0-9a-f]{6}$/i.test(s.color) ? s.color : (ds?.color ?? '#1f6feb')}
            onChange={(e) => set('color', e.target.value)}
          />
        </label>
        {typeof s.color === 'string' ? (
          <button type="button" className="link" onClick={() => set('color', undefined)}>
            Use datastream color
          </button>
        ) : null}
      </div>

      {onOffTypes ? (
        <>
          {t === 'button' ? (
            <label>
              Mode
              <select
                value={typeof s.mode === 'string' ? s.mode : 'push'}
                onChange={(e) => set('mode', e.target.value)}
              >
                <option value="push">Push (on while pressed)</option>
                <option value="switch">Switch (toggle)</option>
                <option value="single">Single value on each press</option>
              </select>
            </label>
          ) : null}
          <div className="row">
            <NumberField label="On value" value={s.onValue} placeholder="1" onChange={(v) => set('onValue', v)} />
            <NumberField label="Off value" value={s.offValue} placeholder="0" onChange={(v) => set('offValue', v)} />
          </div>
          <div className="row">
            <TextField label="On label" value={s.onLabel} placeholder="ON" onChange={(v) => set('onLabel', v)} />
            <TextField label="Off label" value={s.offLabel} placeholder="OFF" onChange={(v) => set('offLabel', v)} />
          </div>
          {t === 'image_button' ? (
            <>
              <TextField label="On image URL" max={1000} value={s.onImageUrl} onChange={(v) => set('onImageUrl', v)} />
              <TextField
                label="Off image URL"
                max={1000}
                value={s.offImageUrl}
                onChange={(v) => set('offImageUrl', v)}
              />
            </>
          ) : null}
        </>
      ) : null}

      {rangeTypes ? (
        <div className="row">
          <NumberField
            label={t === 'chart' ? 'Y axis min' : 'Min'}
            value={s.min}
            placeholder={ds?.min !== null && ds?.min !== undefined ? String(ds.min) : t === 'chart' ? 'auto' : '0'}
            onChange={(v) => set('min', v)}
          />
          <NumberField
            label={t === 'chart' ? 'Y axis max' : 'Max'}
            value={s.max}
            placeholder={ds?.max !== null && ds?.max !== undefined ? String(ds.max) : t === 'chart' ? 'auto' : '100'}
            onChange={(v) => set('max', v)}
          />
        </div>
      ) : null}
      {t === 'slider' || t === 'number_input' ? (
        <NumberField label="Step" value={s.step} placeholder="1" onChange={(v) => set('step', v)} />
      ) : null}
      {t === 'slider' ? (
        <Check
          label="Send only on release"
          checked={s.sendOnRelease !== false}
          onChange={(v) => set('sendOnRelease', v ? undefined : false)}
        />
      ) : null}
      {t === 'number_input' ? (
        <Check label="Loop from max to min" checked={s.loop === true} onChange={(v) => set('loop', v || undefined)} />
      ) : null}
      {t === 'label' ? (
        <>
          <Check
            label="Level bar (min..max)"
            checked={s.levelBar === true}
            onChange={(v) => set('levelBar', v || undefined)}
          />
          <label>
            Alignment
            <select
              value={typeof s.align === 'string' ? s.align : 'center'}
              onChange={(e) => set('align', e.target.value)}
            >
              <option value="left">Left</option>
              <option value="center">Center</option>
              <option value="right">Right</option>
            </select>
          </label>
        </>
      ) : null}
      {t === 'label' || t === 'gauge' || t === 'radial_gauge' ? (
        <TextField label="Units" value={s.units} placeholder={ds?.units ?? ''} onChange={(v) => set('units', v)} />
      ) : null}
      {t === 'led' ? (
        <Check
          label="Brightness follows the value (min..max)"
          checked={s.brightness === true}
          onChange={(v) => set('brightness', v || undefined)}
        />
      ) : null}
      {t === 'chart' ? (
        <div className="row">
          <label>
            Kind
            <select value={typeof s.kind === 'string' ? s.kind : 'line'} onChange={(e) => set('kind', e.target.value)}>
              {CHART_KINDS.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </label>
          <label>
            Default range
            <select value={typeof s.range === 'string' ? s.range : '1d'} onChange={(e) => set('range', e.target.value)}>
              {Object.keys(CHART_RANGES).map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
        </div>
      ) : null}
      {t === 'segmented_switch' || t === 'menu' ? (
        <OptionsEditor
          value={s.options}
          datastream={ds}
          max={t === 'segmented_switch' ? 10 : 50}
          onChange={(v) => set('options', v)}
        />
      ) : null}
      {t === 'map' ? (
        <NumberField label="Zoom" value={s.zoom} placeholder="13" onChange={(v) => set('zoom', v)} />
      ) : null}
      {t === 'terminal' ? (
        <>
          <Check
            label="Echo what I send"
            checked={s.echo !== false}
            onChange={(v) => set('echo', v ? undefined : false)}
          />
          <Check
            label="Scroll to new lines"
            checked={s.autoscroll !== false}
            onChange={(v) => set('autoscroll', v ? undefined : false)}
          />
        </>
      ) : null}
      <div className="row">
        <button type="button" onClick={onDuplicate}>
          Duplicate
        </button>
        <button type="button" className="danger" onClick={onDelete}>
          Delete widget
        </button>
      </div>
    </div>
  );
}
