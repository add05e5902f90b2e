import { useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../api.ts';
import { ErrorBox } from '../components/Status.tsx';
import type { Device, Template } from '../types.ts';
import {
  CopyButton,
  firmwareDefines,
  getUrl,
  type MetaForm,
  MetaInputs,
  metaFormFrom,
  metaPayload,
  missingRequired,
  Snippet,
  updateUrl,
} from './device-common.tsx';
import './devices.css';

/**
 * "New device": pick a template, name the device, fill the template's metadata; then the auth
 * token and copy-paste snippets (curl update/get, Blynk firmware defines).
 */
export function NewDeviceDialog({
  templates,
  initialTemplateId,
  onClose,
  onCreated,
}: {
  templates: Template[];
  initialTemplateId?: string;
  onClose: () => void;
  onCreated: (d: Device) => void;
}) {
  const titleId = useId();
  const [templateId, setTemplateId] = useState(
    initialTemplateId && templates.some((t) => t.id === initialTemplateId)
      ? initialTemplateId
      : (templates[0]?.id ?? ''),
  );
  const template = templates.find((t) => t.id === templateId);
  const [name, setName] = useState('');
  const [meta, setMeta] = useState<MetaForm>(() => metaFormFrom(template?.metafields ?? [], undefined));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<Device | null>(null);
  const nameRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);

  useEffect(() => {
    nameRef.current?.focus();
  }, []);

  const pickTemplate = (id: string) => {
    setTemplateId(id);
    setMeta(metaFormFrom(templates.find((t) => t.id === id)?.metafields ?? [], undefined));
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!template) return;
    const missing = missingRequired(template.metafields, meta);
    if (missing.length > 0) {
      setError(new Error(`Fill in ${missing.map((m) => `"${m}"`).join(', ')}.`));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { templateId, name: name.trim() };
      const md = metaPayload(template.metafields, meta);
      if (Object.keys(md).length > 0) body.metadata = md;
      const d = await api<Device>('POST', '/api/v1/devices', body);
      setCreated(d);
      onCreated(d);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const again = () => {
    setCreated(null);
    setName('');
    setMeta(metaFormFrom(template?.metafields ?? [], undefined));
    setTimeout(() => nameRef.current?.focus(), 0);
  };

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a click on the backdrop closes; Escape and ✕ do too
    <div
      className="dv-overlay"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget && !created) onClose();
      }}
    >
      <div className="dv-dialog card" role="dialog" aria-modal="true" aria-labelledby={titleId}>
        <div className="spread">
          <h2 id={titleId} className="dv-dialog-title">
            {created ? 'Device created' : 'New device'}
          </h2>
          <button type="button" className="link" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </div>
        {created && template ? (
          <CreatedView device={created} template={template} onAgain={again} onClose={onClose} />
        ) : (
          <form className="dv-form" onSubmit={submit}>
            <label>
              Template
              <select
                value={templateId}
                onChange={(e) => pickTemplate(e.target.value)}
                data-testid="device-template-select"
                required
              >
                {templates.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Name
              <input
                ref={nameRef}
                value={name}
                onChange={(e) => setName(e.target.value)}
                maxLength={60}
                required
                placeholder="e.g. Living room"
                data-testid="device-name-input"
              />
            </label>
            {template && template.metafields.length > 0 ? (
              <fieldset className="dv-fieldset">
                <legend>Metadata</legend>
                <MetaInputs fields={template.metafields} form={meta} onChange={setMeta} disabled={busy} />
              </fieldset>
            ) : null}
            {template && template.datastreams.length === 0 ? (
              <p className="muted dv-small">
                This template has no datastreams yet: the device can connect, but has nothing to send.
              </p>
            ) : null}
            {error ? <ErrorBox error={error} /> : null}
            <div className="dv-actions">
              <button type="button" onClick={onClose}>
                Cancel
              </button>
              <button
                type="submit"
                className="primary"
                disabled={busy || !template || name.trim() === ''}
                data-testid="create-device"
              >
                {busy ? 'Creating…' : 'Create device'}
              </button>
            </div>
          </form>
        )}
      </div>
    </div>
  );
}

function CreatedView({
  device,
  template,
  onAgain,
  onClose,
}: {
  device: Device;
  template: Template;
  onAgain: () => void;
  onClose: () => void;
}) {
  const first = template.datastreams[0];
  const pin = first?.pin ?? 'V1';
  return (
    <div className="dv-created">
      <p className="dv-small">
        <strong className="dv-break">{device.name}</strong> is ready. Put this auth token in the device's firmware or
        use it with the device HTTPS API.
      </p>
      <div className="dv-token-box">
        <span className="muted dv-small">Auth token</span>
        <code data-testid="device-token" className="dv-token">
          {device.token}
        </code>
        <CopyButton text={device.token} label="Copy token" testId="copy-token" />
      </div>
      <Snippet
        title={`Send a value to ${pin}`}
        text={`curl "${updateUrl(device.token, first, pin)}"`}
        testId="snippet-update"
      />
      <Snippet title={`Read ${pin} back`} text={`curl "${getUrl(device.token, pin)}"`} testId="snippet-get" />
      <Snippet
        title="Blynk library firmware (put before #include)"
        text={firmwareDefines(template, device.token)}
        testId="snippet-firmware"
        nowrap
      />
      <div className="dv-actions">
        <button type="button" onClick={onAgain}>
          Create another
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
        <Link className="dv-button primary" to={`/devices/${device.id}`} data-testid="open-device">
          Open device →
        </Link>
      </div>
    </div>
  );
}
