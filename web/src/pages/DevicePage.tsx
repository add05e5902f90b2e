import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, Navigate, NavLink, Route, Routes, useNavigate, useParams } from 'react-router-dom';
import { ApiError, api } from '../api.ts';
import { Empty, ErrorBox, Loading } from '../components/Status.tsx';
import { DashboardView } from '../dashboard/DashboardView.tsx';
import { useLive } from '../live.ts';
import type { Dashboard, Device, StoredValue, Template } from '../types.ts';
import { DeveloperTab } from './DeviceDeveloperTab.tsx';
import { TimelineTab } from './DeviceTimelineTab.tsx';
import {
  CopyButton,
  DEVICE_SOURCES,
  type DeviceWithValues,
  firmwareDefines,
  fullTime,
  type MetaForm,
  MetaInputs,
  metaFormFrom,
  metaPayload,
  missingRequired,
  OnlineDot,
  relativeTime,
  Snippet,
  useNow,
} from './device-common.tsx';
import './devices.css';

/** A timeline item that arrived over the WebSocket while the page was open. */
export interface LiveTimelineItem {
  seq: number;
  item: { id?: number; ts: number; type: string; [k: string]: unknown };
}

/** /devices/:id/*: one device's header and its Dashboard, Info, Timeline and Developer tabs. */
export function DevicePage() {
  const { id: idParam } = useParams();
  const id = Number(idParam);
  const valid = Number.isInteger(id) && id > 0;
  const [device, setDevice] = useState<DeviceWithValues | null>(null);
  const [template, setTemplate] = useState<Template | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState<LiveTimelineItem[]>([]);
  const seq = useRef(0);
  const now = useNow();

  const load = useCallback(async () => {
    if (!valid) return;
    setError(null);
    try {
      const d = await api<Device>('GET', `/api/v1/devices/${id}`);
      setDevice({ ...d, values: d.values ?? {} });
      const t = await api<Template>('GET', `/api/v1/templates/${encodeURIComponent(d.templateId)}`);
      setTemplate(t);
    } catch (e) {
      setError(e);
    }
  }, [id, valid]);

  useEffect(() => {
    setDevice(null);
    setTemplate(null);
    setLive([]);
    void load();
  }, [load]);

  const addLive = (item: LiveTimelineItem['item']) => {
    seq.current += 1;
    const s = seq.current;
    setLive((prev) => [{ seq: s, item }, ...prev].slice(0, 500));
  };

  useLive(valid ? id : -1, (m) => {
    if ((m as { deviceId?: unknown }).deviceId !== id) return;
    if (m.type === 'value') {
      const v = m as { pin: string; value: StoredValue; ts: number; source?: string };
      setDevice((d) => {
        if (!d) return d;
        const cur = d.values[v.pin];
        if (cur && cur.ts > v.ts) return d;
        const seen = v.source && DEVICE_SOURCES.has(v.source) && (d.lastSeenAt ?? 0) < v.ts;
        return {
          ...d,
          ...(seen ? { lastSeenAt: v.ts } : {}),
          values: { ...d.values, [v.pin]: { value: v.value, ts: v.ts } },
        };
      });
    } else if (m.type === 'status') {
      const s = m as { online: boolean; ts: number };
      setDevice((d) => (d ? { ...d, online: s.online, lastSeenAt: s.online ? s.ts : d.lastSeenAt } : d));
      addLive({ ts: s.ts, type: s.online ? 'online' : 'offline' });
    } else if (m.type === 'subscribed') {
      const s = m as { online?: unknown };
      if (typeof s.online === 'boolean') {
        const online = s.online;
        setDevice((d) => (d && d.online !== online ? { ...d, online } : d));
      }
    } else if (m.type === 'timeline') {
      const t = m as { item: LiveTimelineItem['item'] };
      if (t.item && typeof t.item.type === 'string') addLive(t.item);
    }
  });

  const setValue = useCallback((pin: string, value: StoredValue, ts: number) => {
    setDevice((d) => (d ? { ...d, values: { ...d.values, [pin]: { value, ts } } } : d));
  }, []);

  if (!valid) return <NotFound />;
  if (error && !device) {
    if (error instanceof ApiError && error.status === 404) return <NotFound />;
    return <ErrorBox error={error} onRetry={() => void load()} />;
  }
  if (!device) return <Loading label="Loading device…" />;

  const base = `/devices/${device.id}`;
  return (
    <div className="dv-page">
      <div className="dv-crumbs">
        <Link to="/devices">← Devices</Link>
      </div>
      <header className="dv-device-head">
        <div className="dv-title-row">
          <OnlineDot online={device.online} />
          <h1 className="ellipsis dv-title" title={device.name} data-testid="device-title">
            {device.name}
          </h1>
        </div>
        <div className="dv-facts">
          <span className={device.online ? 'dv-online-text' : 'muted'}>{device.online ? 'Online' : 'Offline'}</span>
          <span className="dv-fact">
            <span className="muted">Template </span>
            <Link to={`/templates/${device.templateId}`} className="ellipsis" title={template?.name}>
              {template?.name ?? device.templateId}
            </Link>
          </span>
          <span className="dv-fact" title={fullTime(device.lastSeenAt)}>
            <span className="muted">Last seen </span>
            {relativeTime(device.lastSeenAt, now)}
          </span>
        </div>
      </header>
      {error ? <ErrorBox error={error} onRetry={() => void load()} /> : null}

      <nav className="tabs dv-tabs" aria-label="Device sections">
        <NavLink to={base} end data-testid="tab-dashboard">
          Dashboard
        </NavLink>
        <NavLink to={`${base}/info`} data-testid="tab-info">
          Info &amp; metadata
        </NavLink>
        <NavLink to={`${base}/timeline`} data-testid="tab-timeline">
          Timeline
        </NavLink>
        <NavLink to={`${base}/developer`} data-testid="tab-developer">
          Developer tools
        </NavLink>
      </nav>

      {!template ? (
        <Loading label="Loading template…" />
      ) : (
        <Routes>
          <Route index element={<DashboardTab device={device} template={template} setValue={setValue} />} />
          <Route path="dashboard" element={<Navigate to={base} replace />} />
          <Route
            path="info"
            element={
              <InfoTab
                device={device}
                template={template}
                onSaved={(d) => setDevice((cur) => (cur ? { ...cur, ...d, values: d.values ?? cur.values } : cur))}
              />
            }
          />
          <Route path="timeline" element={<TimelineTab deviceId={device.id} live={live} liveSeq={seq} />} />
          <Route path="developer" element={<DeveloperTab device={device} template={template} />} />
          <Route path="*" element={<Navigate to={base} replace />} />
        </Routes>
      )}
    </div>
  );
}

function NotFound() {
  return (
    <Empty>
      This device does not exist, or it was deleted. <Link to="/devices">Back to devices</Link>
    </Empty>
  );
}

/* ----- Dashboard ----- */

function DashboardTab({
  device,
  template,
  setValue,
}: {
  device: DeviceWithValues;
  template: Template;
  setValue: (pin: string, value: StoredValue, ts: number) => void;
}) {
  const [dashboard, setDashboard] = useState<Dashboard | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [writeError, setWriteError] = useState<unknown>(null);

  const load = useCallback(() => {
    setError(null);
    setDashboard(null);
    api<Dashboard>('GET', `/api/v1/templates/${encodeURIComponent(template.id)}/dashboard`)
      .then(setDashboard)
      .catch(setError);
  }, [template.id]);
  useEffect(load, [load]);

  const onWrite = useCallback(
    async (pin: string, value: StoredValue) => {
      setWriteError(null);
      try {
        const r = await api<{ values: Record<string, StoredValue> }>('PUT', `/api/v1/devices/${device.id}/values`, {
          [pin]: value,
        });
        const stored = r?.values?.[pin];
        if (stored !== undefined) setValue(pin, stored, Date.now());
      } catch (e) {
        const ds = template.datastreams.find((d) => d.pin === pin);
        setWriteError(new Error(`Could not set ${ds ? `${ds.name} (${pin})` : pin}: ${(e as Error).message}`));
        throw e;
      }
    },
    [device.id, template.datastreams, setValue],
  );

  if (error) return <ErrorBox error={error} onRetry={load} />;
  if (!dashboard) return <Loading label="Loading dashboard…" />;
  const widgets = dashboard.tabs.reduce((n, t) => n + t.widgets.length, 0);
  if (widgets === 0) {
    return (
      <Empty>
        <p className="dv-empty-title">This template's dashboard has no widgets yet.</p>
        <p>
          Dashboards are designed once per template and shared by all its devices.{' '}
          <Link to={`/templates/${template.id}/dashboard`} data-testid="edit-template-dashboard">
            Add widgets in {template.name}'s Dashboard tab
          </Link>
          {template.datastreams.length === 0 ? ' (add a datastream first, widgets show datastreams).' : '.'}
        </p>
        <p className="dv-small">
          Meanwhile, <Link to={`/devices/${device.id}/developer`}>Developer tools</Link> lists every datastream's
          current value.
        </p>
      </Empty>
    );
  }
  return (
    <div className="dv-dashboard">
      {writeError ? (
        <div className="error-box" role="alert" data-testid="write-error">
          <span>{(writeError as Error).message}</span>
          <button type="button" className="link" onClick={() => setWriteError(null)}>
            Dismiss
          </button>
        </div>
      ) : null}
      <DashboardView
        dashboard={dashboard}
        datastreams={template.datastreams}
        values={device.values}
        deviceId={device.id}
        onWrite={onWrite}
      />
    </div>
  );
}

/* ----- Info & metadata ----- */

function InfoTab({
  device,
  template,
  onSaved,
}: {
  device: DeviceWithValues;
  template: Template;
  onSaved: (d: Device) => void;
}) {
  const navigate = useNavigate();
  const fields = template.metafields;
  const [name, setName] = useState(device.name);
  const [meta, setMeta] = useState<MetaForm>(() => metaFormFrom(fields, device.metadata));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [showToken, setShowToken] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);

  const original = metaFormFrom(fields, device.metadata);
  const dirty = name.trim() !== device.name || fields.some((f) => meta[f.name] !== original[f.name]);

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    const missing = missingRequired(fields, meta);
    if (name.trim() === '') return setError(new Error('The name cannot be empty.'));
    if (missing.length > 0) return setError(new Error(`Fill in ${missing.map((m) => `"${m}"`).join(', ')}.`));
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const body: Record<string, unknown> = { metadata: metaPayload(fields, meta, device.metadata) };
      if (name.trim() !== device.name) body.name = name.trim();
      const d = await api<Device>('PATCH', `/api/v1/devices/${device.id}`, body);
      onSaved(d);
      setName(d.name);
      setMeta(metaFormFrom(fields, d.metadata));
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setDeleting(true);
    setDeleteError(null);
    try {
      await api('DELETE', `/api/v1/devices/${device.id}`);
      navigate('/devices', { replace: true });
    } catch (e) {
      setDeleteError(e);
      setDeleting(false);
    }
  };

  return (
    <div className="dv-info">
      <form className="card dv-section dv-form" onSubmit={save}>
        <h2>Device</h2>
        <label>
          Name
          <input
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              setSaved(false);
            }}
            maxLength={60}
            required
            data-testid="device-name-edit"
          />
        </label>
        {fields.length > 0 ? (
          <fieldset className="dv-fieldset">
            <legend>Metadata</legend>
            <MetaInputs
              fields={fields}
              form={meta}
              onChange={(f) => {
                setMeta(f);
                setSaved(false);
              }}
              disabled={busy}
            />
          </fieldset>
        ) : (
          <p className="muted dv-small">
            The template defines no metadata fields.{' '}
            <Link to={`/templates/${template.id}/metadata`}>Add metafields to {template.name}</Link> to record things
            like location or serial numbers per device.
          </p>
        )}
        {error ? <ErrorBox error={error} /> : null}
        <div className="dv-actions dv-actions-start">
          <button type="submit" className="primary" disabled={busy || !dirty} data-testid="save-device">
            {busy ? 'Saving…' : 'Save'}
          </button>
          {dirty && !busy ? (
            <button
              type="button"
              onClick={() => {
                setName(device.name);
                setMeta(original);
                setError(null);
              }}
            >
              Discard
            </button>
          ) : null}
          {saved && !dirty ? (
            <span className="dv-online-text" role="status">
              Saved
            </span>
          ) : null}
        </div>
      </form>

      <section className="card dv-section">
        <h2>Auth token</h2>
        <p className="muted dv-small">Anyone with this token can send data as this device. Keep it secret.</p>
        <div className="dv-token-box">
          <code data-testid="device-token" className={`dv-token${showToken ? '' : ' dv-masked'}`}>
            {device.token}
          </code>
          <div className="row">
            <button
              type="button"
              className="dv-copy"
              onClick={() => setShowToken((s) => !s)}
              data-testid="toggle-token"
              aria-pressed={showToken}
            >
              {showToken ? 'Hide' : 'Show'}
            </button>
            <CopyButton text={device.token} label="Copy" testId="copy-token" />
          </div>
        </div>
        <Snippet
          title="Blynk library firmware"
          text={firmwareDefines(template, device.token)}
          testId="info-firmware"
          nowrap
          masked={!showToken}
        />
      </section>

      <section className="card dv-section">
        <h2>Details</h2>
        <dl className="dv-dl">
          <dt>Device ID</dt>
          <dd>{device.id}</dd>
          <dt>Template</dt>
          <dd className="dv-break">
            <Link to={`/templates/${template.id}`}>{template.name}</Link> <code className="muted">{template.id}</code>
          </dd>
          <dt>Firmware version</dt>
          <dd>{device.firmwareVersion ?? <span className="muted">not reported</span>}</dd>
          <dt>Created</dt>
          <dd>{fullTime(device.createdAt)}</dd>
          <dt>Last seen</dt>
          <dd>{device.lastSeenAt ? fullTime(device.lastSeenAt) : <span className="muted">never</span>}</dd>
          <dt>Goes offline after</dt>
          <dd>{template.lifecycle.offlineAfterSeconds} s without data</dd>
        </dl>
      </section>

      <section className="card dv-section dv-danger">
        <h2>Delete device</h2>
        <p className="muted dv-small">Deletes the device, its values, history and timeline. This cannot be undone.</p>
        {confirm ? (
          <div className="dv-confirm" role="alertdialog" aria-label="Confirm deletion">
            <span>
              Delete <strong className="dv-break">{device.name}</strong> and all its data?
            </span>
            <div className="row">
              <button
                type="button"
                className="danger-solid"
                onClick={remove}
                disabled={deleting}
                data-testid="confirm-delete"
              >
                {deleting ? 'Deleting…' : 'Yes, delete'}
              </button>
              <button type="button" onClick={() => setConfirm(false)} disabled={deleting}>
                Cancel
              </button>
            </div>
          </div>
        ) : (
          <button
            type="button"
            className="danger dv-self-start"
            onClick={() => setConfirm(true)}
            data-testid="delete-device"
          >
            Delete device…
          </button>
        )}
        {deleteError ? <ErrorBox error={deleteError} /> : null}
      </section>
    </div>
  );
}
