import { useState } from 'react';
import { api } from '../../api.ts';
import { Empty, ErrorBox } from '../../components/Status.tsx';
import { useAction } from '../../components/useAction.ts';
import type { Template } from '../../types.ts';
import { ConfirmButton, fmtTime, Switch } from './ui.tsx';

const tplPath = (t: Template) => `/api/v1/templates/${encodeURIComponent(t.id)}`;

/** Info: name, description, and deleting the template. */
export function InfoTab({
  template,
  onSaved,
  onDeleted,
}: {
  template: Template;
  onSaved: (t: Template) => void;
  onDeleted: () => void;
}) {
  const [name, setName] = useState(template.name);
  const [description, setDescription] = useState(template.description);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const dirty = name !== template.name || description !== template.description;

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const t = await api<Template>('PATCH', tplPath(template), { name: name.trim(), description });
      onSaved(t);
      setName(t.name);
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="tpl-section">
      <form className="card tpl-section" onSubmit={save}>
        <label>
          Name
          <input
            data-testid="info-name"
            required
            maxLength={100}
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              setSaved(false);
            }}
          />
        </label>
        <label>
          Description
          <textarea
            data-testid="info-description"
            maxLength={200}
            rows={3}
            value={description}
            onChange={(e) => {
              setDescription(e.target.value);
              setSaved(false);
            }}
          />
          <span className="tpl-help">{description.length}/200</span>
        </label>
        <p className="muted" style={{ margin: 0, fontSize: '0.85rem' }}>
          Template ID <code>{template.id}</code> — the firmware's <code>BLYNK_TEMPLATE_ID</code>. Created{' '}
          {fmtTime(template.createdAt)}, updated {fmtTime(template.updatedAt)}.
        </p>
        {error ? <ErrorBox error={error} /> : null}
        <div className="tpl-actions">
          <button type="submit" className="primary" data-testid="info-save" disabled={busy || !dirty || !name.trim()}>
            {busy ? 'Saving…' : 'Save'}
          </button>
          {saved && !dirty ? <span className="tpl-saved">Saved</span> : null}
        </div>
      </form>
      <div className="card tpl-danger-zone tpl-section">
        <h2 style={{ margin: 0 }}>Delete template</h2>
        <p className="tpl-help">
          Deletes the template with all its devices, their data, its dashboard and its integrations. This cannot be
          undone.
        </p>
        <div>
          <ConfirmButton
            label="Delete template"
            confirmLabel="Yes, delete it and its devices"
            testId="delete-template"
            onConfirm={async () => {
              setError(null);
              try {
                await api('DELETE', tplPath(template));
                onDeleted();
              } catch (err) {
                setError(err);
              }
            }}
          />
        </div>
      </div>
    </div>
  );
}

const META_TYPES = [
  { value: 'text', label: 'Text' },
  { value: 'number', label: 'Number' },
  { value: 'switch', label: 'Switch (yes/no)' },
  { value: 'email', label: 'E-mail' },
  { value: 'coordinates', label: 'Coordinates (lon,lat)' },
  { value: 'list', label: 'List (comma-separated choices)' },
];

function metaDefault(type: string, raw: string): unknown {
  const s = raw.trim();
  if (s === '') return undefined;
  switch (type) {
    case 'number':
      return Number(s);
    case 'switch':
      return s === 'true';
    case 'coordinates':
      return s.split(',').map((p) => Number(p.trim()));
    case 'list':
      return s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

const showValue = (v: unknown): string =>
  v === null || v === undefined ? '—' : Array.isArray(v) ? v.join(', ') : String(v);

/** Metadata: the metafields every device of the template carries. */
export function MetadataTab({ template, reload }: { template: Template; reload: () => Promise<void> }) {
  const [form, setForm] = useState({ name: '', type: 'text', required: false, defaultValue: '' });
  const { busy, error, setError, run } = useAction();

  const add = (e: React.FormEvent) => {
    e.preventDefault();
    if (!form.name.trim()) return;
    void run(async () => {
      const dv = metaDefault(form.type, form.defaultValue);
      await api('POST', `${tplPath(template)}/metafields`, {
        name: form.name.trim(),
        type: form.type,
        required: form.required,
        ...(dv !== undefined ? { defaultValue: dv } : {}),
      });
      setForm({ name: '', type: form.type, required: false, defaultValue: '' });
      await reload();
    });
  };

  const remove = async (id: number) => {
    setError(null);
    try {
      await api('DELETE', `${tplPath(template)}/metafields/${id}`);
      await reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div className="tpl-section wide">
      <p className="tpl-help">
        Metadata are per-device fields (serial number, location, owner…). Integrations add their own, e.g.
        "TheThingsNetwork Device".
      </p>
      {template.metafields.length === 0 ? (
        <Empty>No metadata fields yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table data-testid="metafields-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Required</th>
                <th>Default</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {template.metafields.map((m) => (
                <tr key={m.id} data-testid={`meta-row-${m.id}`}>
                  <td className="ellipsis" style={{ maxWidth: '18rem' }} title={m.name}>
                    {m.name}
                  </td>
                  <td>{META_TYPES.find((t) => t.value === m.type)?.label ?? m.type}</td>
                  <td>{m.required ? 'Yes' : 'No'}</td>
                  <td className="ellipsis" style={{ maxWidth: '14rem' }}>
                    {showValue(m.defaultValue)}
                  </td>
                  <td style={{ textAlign: 'right' }}>
                    <ConfirmButton label="Delete" testId={`meta-delete-${m.id}`} onConfirm={() => remove(m.id)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form className="card tpl-grid" onSubmit={add} aria-label="Add metadata field">
        <label>
          Name
          <input
            data-testid="meta-name"
            required
            maxLength={100}
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
          />
        </label>
        <label>
          Type
          <select
            data-testid="meta-type"
            value={form.type}
            onChange={(e) => setForm({ ...form, type: e.target.value, defaultValue: '' })}
          >
            {META_TYPES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
        <label htmlFor="meta-default">
          Default value
          {form.type === 'switch' ? (
            <select
              id="meta-default"
              data-testid="meta-default"
              value={form.defaultValue}
              onChange={(e) => setForm({ ...form, defaultValue: e.target.value })}
            >
              <option value="">None</option>
              <option value="true">Yes</option>
              <option value="false">No</option>
            </select>
          ) : (
            <input
              id="meta-default"
              data-testid="meta-default"
              type={form.type === 'number' ? 'number' : 'text'}
              step="any"
              placeholder={form.type === 'coordinates' ? 'lon,lat' : form.type === 'list' ? 'a, b, c' : 'optional'}
              value={form.defaultValue}
              onChange={(e) => setForm({ ...form, defaultValue: e.target.value })}
            />
          )}
        </label>
        <div style={{ display: 'flex', alignItems: 'flex-end', gap: '0.75rem', flexWrap: 'wrap' }}>
          <Switch
            checked={form.required}
            onChange={(v) => setForm({ ...form, required: v })}
            label="Required"
            testId="meta-required"
          />
          <button type="submit" className="primary" data-testid="meta-add" disabled={busy || !form.name.trim()}>
            Add field
          </button>
        </div>
        {error ? (
          <div className="span2">
            <ErrorBox error={error} />
          </div>
        ) : null}
      </form>
    </div>
  );
}

const EVENT_TYPES = ['info', 'warning', 'critical', 'content'];

/** Events: the codes devices may log (logEvent). */
export function EventsTab({ template, reload }: { template: Template; reload: () => Promise<void> }) {
  const [form, setForm] = useState({ code: '', name: '', type: 'info', description: '' });
  const { busy, error, setError, run } = useAction();
  const add = (e: React.FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api('POST', `${tplPath(template)}/events`, {
        code: form.code.trim(),
        name: form.name.trim() || form.code.trim(),
        type: form.type,
        ...(form.description.trim() ? { description: form.description.trim() } : {}),
      });
      setForm({ code: '', name: '', type: form.type, description: '' });
      await reload();
    });
  };
  const remove = async (id: number) => {
    setError(null);
    try {
      await api('DELETE', `${tplPath(template)}/events/${id}`);
      await reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div className="tpl-section wide">
      <p className="tpl-help">
        Events a device can log with <code>Blynk.logEvent("code")</code>; they appear on the device timeline.
      </p>
      {template.events.length === 0 ? (
        <Empty>No events yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table data-testid="events-table">
            <thead>
              <tr>
                <th>Code</th>
                <th>Name</th>
                <th>Type</th>
                <th className="hide-sm">Description</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {template.events.map((ev) => (
                <tr key={ev.id} data-testid={`event-row-${ev.code}`}>
                  <td>
                    <code>{ev.code}</code>
                  </td>
                  <td>{ev.name}</td>
                  <td>{ev.type}</td>
                  <td className="hide-sm ellipsis" style={{ maxWidth: '20rem' }}>
                    {ev.description || '—'}
                  </td>
                  <td style={{ textAlign: 'right' }}>
                    <ConfirmButton label="Delete" testId={`event-delete-${ev.code}`} onConfirm={() => remove(ev.id)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form className="card tpl-grid" onSubmit={add} aria-label="Add event">
        <label>
          Code
          <input
            data-testid="event-code"
            required
            maxLength={50}
            pattern="[A-Za-z0-9_ ]+"
            placeholder="e.g. high_temp"
            value={form.code}
            onChange={(e) => setForm({ ...form, code: e.target.value })}
          />
        </label>
        <label>
          Name
          <input
            data-testid="event-name"
            maxLength={50}
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
          />
        </label>
        <label>
          Type
          <select value={form.type} onChange={(e) => setForm({ ...form, type: e.target.value })}>
            {EVENT_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Description
          <input
            maxLength={250}
            value={form.description}
            onChange={(e) => setForm({ ...form, description: e.target.value })}
          />
        </label>
        <div>
          <button type="submit" className="primary" data-testid="event-add" disabled={busy || !form.code.trim()}>
            Add event
          </button>
        </div>
        {error ? (
          <div className="span2">
            <ErrorBox error={error} />
          </div>
        ) : null}
      </form>
    </div>
  );
}

const UNITS = [
  { value: 1, label: 'seconds' },
  { value: 60, label: 'minutes' },
  { value: 3600, label: 'hours' },
];
const MAX_WAIT = 90 * 86_400;

function splitWait(seconds: number): { amount: string; unit: number } {
  for (const u of [3600, 60]) if (seconds % u === 0 && seconds >= u) return { amount: String(seconds / u), unit: u };
  return { amount: String(seconds), unit: 1 };
}

/** Connection lifecycle: online on any data, offline after a wait. */
export function LifecycleTab({
  template,
  onSaved,
}: {
  template: Template;
  onSaved: (l: Template['lifecycle']) => void;
}) {
  const [logAnyData, setLogAnyData] = useState(template.lifecycle.logAnyData);
  const initial = splitWait(template.lifecycle.offlineAfterSeconds);
  const [amount, setAmount] = useState(initial.amount);
  const [unit, setUnit] = useState(initial.unit);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const seconds = Math.round(Number(amount) * unit);
  const valid = amount.trim() !== '' && Number.isFinite(seconds) && seconds >= 1 && seconds <= MAX_WAIT;
  const dirty = logAnyData !== template.lifecycle.logAnyData || seconds !== template.lifecycle.offlineAfterSeconds;

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!valid) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const l = await api<Template['lifecycle']>('PUT', `${tplPath(template)}/lifecycle`, {
        logAnyData,
        offlineAfterSeconds: seconds,
      });
      onSaved(l);
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card tpl-section" onSubmit={save}>
      <Switch
        checked={logAnyData}
        onChange={(v) => {
          setLogAnyData(v);
          setSaved(false);
        }}
        testId="lifecycle-any-data"
        label="Log when device reports any data"
      />
      <p className="tpl-help">
        Marks the device Online whenever it sends data over HTTP or an integration (Particle, The Things Stack), not
        only when it connects. Turn this on for devices that never hold a connection open — otherwise they always look
        Offline.
      </p>
      <label>
        Go Offline after
        <span className="row">
          <input
            data-testid="lifecycle-wait"
            type="number"
            min={1}
            step="any"
            style={{ width: '8rem' }}
            value={amount}
            onChange={(e) => {
              setAmount(e.target.value);
              setSaved(false);
            }}
          />
          <select
            data-testid="lifecycle-unit"
            aria-label="Unit"
            value={unit}
            onChange={(e) => {
              setUnit(Number(e.target.value));
              setSaved(false);
            }}
          >
            {UNITS.map((u) => (
              <option key={u.value} value={u.value}>
                {u.label}
              </option>
            ))}
          </select>
        </span>
        <span className={valid ? 'tpl-help' : 'field-error'}>
          {valid
            ? `${seconds} s after the last data (or the disconnect). Default 1 minute.`
            : 'Between 1 second and 90 days.'}
        </span>
      </label>
      {error ? <ErrorBox error={error} /> : null}
      <div className="tpl-actions">
        <button type="submit" className="primary" data-testid="lifecycle-save" disabled={busy || !valid || !dirty}>
          {busy ? 'Saving…' : 'Save'}
        </button>
        {saved && !dirty ? <span className="tpl-saved">Saved</span> : null}
      </div>
    </form>
  );
}
