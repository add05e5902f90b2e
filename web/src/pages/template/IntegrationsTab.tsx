import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api.ts';
import { ErrorBox, Loading } from '../../components/Status.tsx';
import { useAction } from '../../components/useAction.ts';
import { type LiveMessage, useLive } from '../../live.ts';
import type { Template, TtsIntegration } from '../../types.ts';
import { TtsMappingEditor } from './TtsMappingEditor.tsx';
import { ConfirmButton, fmtTime, Switch } from './ui.tsx';

type Status = 'not_connected' | 'connected' | 'broken';
const STATUS_LABEL: Record<string, string> = {
  not_connected: 'Not Connected',
  connected: 'Connected',
  broken: 'Broken',
};

interface Unmatched {
  key: string;
  count: number;
  lastValue: unknown;
  lastSeenAt: number;
  ttsDeviceId?: string;
  coreid?: string;
  event?: string;
}

interface TtsFull extends TtsIntegration {
  fPort: number;
  priority: string;
  confirmed: boolean;
  downlinkShape: 'blynk' | 'named';
  coalesce: boolean;
  flatten: boolean;
  autoCreate: boolean;
  mapping: Record<string, string>;
  stats: { uplinks: number; malformed: number; downlinks: number } | null;
  updatedAt: number;
}

interface Particle {
  id: number;
  templateId: string;
  name: string;
  productId: string | null;
  functions: Record<string, string>;
  perMinute: number | null;
  autoCreate: boolean;
  status: Status;
  lastError: string | null;
  stats: Record<string, number> | null;
}

export function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <span className={`badge ${status}`} data-testid={testId} role="status">
      {STATUS_LABEL[status] ?? status}
    </span>
  );
}

/** Integrations of one template: The Things Stack application card and Particle. */
export function IntegrationsTab({ template }: { template: Template }) {
  const [tts, setTts] = useState<TtsFull | null | undefined>(undefined);
  const [particle, setParticle] = useState<Particle | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      const [t, p] = await Promise.all([
        api<{ items: TtsFull[] }>('GET', '/api/v1/integrations/tts'),
        api<{ items: Particle[] }>('GET', '/api/v1/integrations/particle'),
      ]);
      setTts(t.items.find((i) => i.templateId === template.id) ?? null);
      setParticle(p.items.find((i) => i.templateId === template.id) ?? null);
    } catch (e) {
      setError(e);
    }
  }, [template.id]);

  useEffect(() => {
    void load();
  }, [load]);

  useLive(undefined, (m: LiveMessage) => {
    if (m.type !== 'integration') return;
    const msg = m as { integrationId: number; integrationType: string; status: Status; lastError: string | null };
    if (msg.integrationType === 'tts') {
      setTts((cur) =>
        cur && cur.id === msg.integrationId ? { ...cur, status: msg.status, lastError: msg.lastError } : cur,
      );
    } else if (msg.integrationType === 'particle') {
      setParticle((cur) =>
        cur && cur.id === msg.integrationId ? { ...cur, status: msg.status, lastError: msg.lastError } : cur,
      );
    }
  });

  if (error) return <ErrorBox error={error} onRetry={load} />;
  if (tts === undefined || particle === undefined) return <Loading label="Loading integrations…" />;
  return (
    <div className="integrations">
      <TtsCard template={template} integration={tts} onChange={setTts} />
      <ParticleCard template={template} integration={particle} onChange={setParticle} />
    </div>
  );
}

// ---- The Things Stack ---------------------------------------------------------------------

interface TtsForm {
  host: string;
  port: string;
  tls: boolean;
  username: string;
  apiKey: string;
  fPort: string;
  priority: string;
  confirmed: boolean;
  downlinkShape: 'blynk' | 'named';
  coalesce: boolean;
  flatten: boolean;
  autoCreate: boolean;
}

const PRIORITIES = ['LOWEST', 'LOW', 'BELOW_NORMAL', 'NORMAL', 'ABOVE_NORMAL', 'HIGH', 'HIGHEST'];

const ttsFormOf = (i: TtsFull | null): TtsForm => ({
  host: i?.host ?? '',
  port: i ? String(i.port) : '',
  tls: i?.tls ?? true,
  username: i?.username ?? '',
  apiKey: '',
  fPort: String(i?.fPort ?? 1),
  priority: i?.priority ?? 'NORMAL',
  confirmed: i?.confirmed ?? false,
  downlinkShape: i?.downlinkShape ?? 'blynk',
  coalesce: i?.coalesce ?? false,
  flatten: i?.flatten ?? true,
  autoCreate: i?.autoCreate ?? true,
});

function TtsCard({
  template,
  integration,
  onChange,
}: {
  template: Template;
  integration: TtsFull | null;
  onChange: (i: TtsFull | null) => void;
}) {
  const [editing, setEditing] = useState(false);
  const { busy, error, run: act } = useAction();
  const [suggest, setSuggest] = useState<string | null>(null);

  if (!integration || editing) {
    return (
      <div className="card integration-card" data-testid="tts-card">
        <div className="spread">
          <h2>The Things Stack</h2>
          {integration ? <StatusBadge status={integration.status} testId="tts-status" /> : null}
        </div>
        <TtsFormView
          template={template}
          integration={integration}
          onCancel={integration ? () => setEditing(false) : undefined}
          onSaved={(i) => {
            onChange(i);
            setEditing(false);
          }}
        />
      </div>
    );
  }

  const i = integration;
  return (
    <div className="card integration-card" data-testid="tts-card">
      <div className="spread">
        <h2>The Things Stack</h2>
        <StatusBadge status={i.status} testId="tts-status" />
      </div>
      {i.lastError && i.status !== 'connected' ? (
        <div className="last-error" data-testid="tts-last-error">
          {i.lastError}
        </div>
      ) : null}
      <dl>
        <dt>Host</dt>
        <dd>
          {i.host}:{i.port} {i.tls ? <span className="pill">TLS</span> : <span className="pill">Insecure</span>}
        </dd>
        <dt>Username</dt>
        <dd>{i.username}</dd>
        <dt>API key</dt>
        <dd className="muted">stored, never shown</dd>
        <dt>Downlinks</dt>
        <dd>
          fPort {i.fPort}, {i.priority}
          {i.confirmed ? ', confirmed' : ''}, {i.downlinkShape === 'named' ? 'named values' : 'Blynk shape'}
          {i.coalesce ? ', coalesced' : ''}
        </dd>
        <dt>Devices</dt>
        <dd>{i.autoCreate ? 'created on first uplink' : 'only existing devices'}</dd>
        {i.stats ? (
          <>
            <dt>Traffic</dt>
            <dd>
              {i.stats.uplinks} uplinks, {i.stats.downlinks} downlinks
              {i.stats.malformed ? `, ${i.stats.malformed} malformed` : ''}
            </dd>
          </>
        ) : null}
        <dt>Updated</dt>
        <dd>{fmtTime(i.updatedAt)}</dd>
      </dl>
      {error ? <ErrorBox error={error} /> : null}
      <div className="tpl-actions">
        <button
          type="button"
          data-testid="tts-reconnect"
          disabled={busy}
          onClick={() =>
            act(async () => onChange(await api<TtsFull>('POST', `/api/v1/integrations/tts/${i.id}/connect`)))
          }
        >
          {busy ? 'Connecting…' : 'Reconnect now'}
        </button>
        <button type="button" data-testid="tts-edit" onClick={() => setEditing(true)}>
          Edit
        </button>
        <ConfirmButton
          label="Delete"
          question="Disconnect and delete? Devices stay."
          testId="tts-delete"
          onConfirm={() =>
            act(async () => {
              await api('DELETE', `/api/v1/integrations/tts/${i.id}`);
              onChange(null);
            })
          }
        />
      </div>
      <TtsMappingEditor
        integrationId={i.id}
        mapping={(i.mapping as Record<string, string> | undefined) ?? {}}
        datastreams={template.datastreams}
        suggest={suggest}
        onSaved={(mapping) => onChange({ ...i, mapping })}
      />
      <UnmatchedTable
        path={`/api/v1/integrations/tts/${i.id}/unmatched`}
        deviceKey="ttsDeviceId"
        onMap={(key) => setSuggest(key)}
      />
    </div>
  );
}

function TtsFormView({
  template,
  integration,
  onCancel,
  onSaved,
}: {
  template: Template;
  integration: TtsFull | null;
  onCancel?: (() => void) | undefined;
  onSaved: (i: TtsFull) => void;
}) {
  const [f, setF] = useState<TtsForm>(() => ttsFormOf(integration));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const set = <K extends keyof TtsForm>(k: K, v: TtsForm[K]) => setF((cur) => ({ ...cur, [k]: v }));
  const creating = integration === null;

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = {
      host: f.host
        .trim()
        .replace(/^(mqtts?|https?):\/\//, '')
        .replace(/[:/].*$/, ''),
      tls: f.tls,
      username: f.username.trim(),
      fPort: Number(f.fPort) || 1,
      priority: f.priority,
      confirmed: f.confirmed,
      downlinkShape: f.downlinkShape,
      coalesce: f.coalesce,
      flatten: f.flatten,
      autoCreate: f.autoCreate,
    };
    if (f.port.trim()) body.port = Number(f.port);
    if (f.apiKey) body.apiKey = f.apiKey;
    try {
      const saved = creating
        ? await api<TtsFull>('POST', '/api/v1/integrations/tts', { templateId: template.id, ...body })
        : await api<TtsFull>('PATCH', `/api/v1/integrations/tts/${integration.id}`, body);
      onSaved(saved);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <form className="tpl-section" onSubmit={submit} aria-label="The Things Stack application">
      {creating ? (
        <p className="tpl-help">
          In The Things Stack console open your application → Integrations → MQTT: copy the server host and username,
          then generate an API key and paste it here.
        </p>
      ) : null}
      <div className="tpl-grid">
        <label className="span2">
          Host
          <input
            data-testid="tts-host"
            required
            placeholder="eu1.cloud.thethings.network"
            value={f.host}
            onChange={(e) => set('host', e.target.value)}
          />
        </label>
        <label>
          Port <span className="muted">(optional)</span>
          <input
            data-testid="tts-port"
            type="number"
            min={1}
            max={65535}
            placeholder={f.tls ? '8883' : '1883'}
            value={f.port}
            onChange={(e) => set('port', e.target.value)}
          />
        </label>
        <div style={{ display: 'flex', alignItems: 'flex-end', paddingBottom: '0.4rem' }}>
          <Switch
            checked={f.tls}
            onChange={(v) => set('tls', v)}
            testId="tts-tls"
            label={f.tls ? 'TLS' : <strong style={{ color: 'var(--warn)' }}>Insecure</strong>}
          />
        </div>
        <label className="span2">
          Username
          <input
            data-testid="tts-username"
            required
            placeholder="my-app@ttn"
            autoComplete="off"
            value={f.username}
            onChange={(e) => set('username', e.target.value)}
          />
        </label>
        <label className="span2">
          API key
          <input
            data-testid="tts-api-key"
            type="password"
            required={creating}
            autoComplete="new-password"
            placeholder={creating ? 'NNSXS.…' : 'Leave empty to keep the stored key'}
            value={f.apiKey}
            onChange={(e) => set('apiKey', e.target.value)}
          />
        </label>
      </div>
      <details>
        <summary>Downlink and device options</summary>
        <div className="tpl-grid" style={{ marginTop: '0.6rem' }}>
          <label>
            fPort
            <input
              data-testid="tts-fport"
              type="number"
              min={1}
              max={223}
              value={f.fPort}
              onChange={(e) => set('fPort', e.target.value)}
            />
          </label>
          <label>
            Priority
            <select data-testid="tts-priority" value={f.priority} onChange={(e) => set('priority', e.target.value)}>
              {PRIORITIES.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </label>
          <label>
            Downlink shape
            <select
              data-testid="tts-shape"
              value={f.downlinkShape}
              onChange={(e) => set('downlinkShape', e.target.value as 'blynk' | 'named')}
            >
              <option value="blynk">Blynk: {'{name, pin, ts, value}'}</option>
              <option value="named">Named: {'{"<datastream>": value}'}</option>
            </select>
          </label>
          <div className="span2" style={{ display: 'flex', flexDirection: 'column', gap: '0.4rem' }}>
            <Switch checked={f.confirmed} onChange={(v) => set('confirmed', v)} label="Confirmed downlinks" />
            <Switch
              checked={f.coalesce}
              onChange={(v) => set('coalesce', v)}
              label="Coalesce: send only the latest value of each datastream"
            />
            <Switch
              checked={f.flatten}
              onChange={(v) => set('flatten', v)}
              label="Map nested decoder output (dotted paths)"
            />
            <Switch
              checked={f.autoCreate}
              onChange={(v) => set('autoCreate', v)}
              label="Create a device on its first uplink"
            />
          </div>
        </div>
      </details>
      {error ? <ErrorBox error={error} /> : null}
      <div className="tpl-actions">
        <button
          type="submit"
          className="primary"
          data-testid="tts-connect"
          disabled={busy || !f.host.trim() || !f.username.trim() || (creating && !f.apiKey)}
        >
          {busy ? 'Connecting…' : creating ? 'Connect' : 'Save'}
        </button>
        {onCancel ? (
          <button type="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

function UnmatchedTable({
  path,
  deviceKey,
  onMap,
}: {
  path: string;
  deviceKey: 'ttsDeviceId' | 'coreid';
  /** Offers "Map" per key (The Things Stack's explicit mapping). */
  onMap?: (key: string) => void;
}) {
  const [items, setItems] = useState<Unmatched[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    setError(null);
    try {
      setItems((await api<{ items: Unmatched[] }>('GET', path)).items);
    } catch (e) {
      setError(e);
    }
  }, [path]);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <details data-testid="unmatched">
      <summary>
        Keys that fit no datastream {items && items.length > 0 ? <span className="pill">{items.length}</span> : null}
      </summary>
      <div className="tpl-section" style={{ marginTop: '0.5rem', maxWidth: 'none' }}>
        {error ? <ErrorBox error={error} onRetry={load} /> : null}
        {items === null ? null : items.length === 0 ? (
          <p className="tpl-help">None so far: every decoded key found a datastream (or nothing has arrived yet).</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Key</th>
                  <th>Last value</th>
                  <th>Seen</th>
                  <th>Device</th>
                  {onMap ? <th /> : null}
                </tr>
              </thead>
              <tbody>
                {items.map((u) => (
                  <tr key={u.key}>
                    <td>
                      <code>{u.key}</code>
                    </td>
                    <td className="ellipsis" style={{ maxWidth: '8rem' }}>
                      {JSON.stringify(u.lastValue)}
                    </td>
                    <td title={fmtTime(u.lastSeenAt)}>{u.count}×</td>
                    <td className="ellipsis" style={{ maxWidth: '8rem' }}>
                      {String(u[deviceKey] ?? '')}
                    </td>
                    {onMap ? (
                      <td>
                        <button
                          type="button"
                          className="link"
                          data-testid={`map-${u.key}`}
                          onClick={() => onMap(u.key)}
                        >
                          Map…
                        </button>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <p className="tpl-help">
          Name a datastream after the key (or its pin), or map it explicitly.{' '}
          <button type="button" className="link" onClick={load}>
            Refresh
          </button>
        </p>
      </div>
    </details>
  );
}

// ---- Particle -----------------------------------------------------------------------------

function ParticleCard({
  template,
  integration,
  onChange,
}: {
  template: Template;
  integration: Particle | null;
  onChange: (i: Particle | null) => void;
}) {
  const [token, setToken] = useState('');
  const [productId, setProductId] = useState(integration?.productId ?? '');
  const { busy, error, run: act } = useAction();
  const [editing, setEditing] = useState(false);

  if (!integration || editing) {
    const creating = !integration;
    return (
      <div className="card integration-card" data-testid="particle-card">
        <div className="spread">
          <h2>Particle</h2>
          {integration ? <StatusBadge status={integration.status} testId="particle-status" /> : null}
        </div>
        <form
          className="tpl-section"
          aria-label="Particle"
          onSubmit={(e) => {
            e.preventDefault();
            void act(async () => {
              const body: Record<string, unknown> = {};
              if (productId.trim()) body.productId = productId.trim();
              else if (integration?.productId) body.productId = null;
              if (token) body.accessToken = token;
              const saved = creating
                ? await api<Particle>('POST', '/api/v1/integrations/particle', { templateId: template.id, ...body })
                : await api<Particle>('PATCH', `/api/v1/integrations/particle/${integration.id}`, body);
              setToken('');
              setEditing(false);
              onChange(saved);
            });
          }}
        >
          {creating ? (
            <p className="tpl-help">
              Devices publish events (e.g. <code>Particle.publish("V0", "21.5")</code>); writes from dashboards call
              cloud functions.
            </p>
          ) : null}
          <label>
            Access token
            <input
              data-testid="particle-token"
              type="password"
              autoComplete="new-password"
              required={creating}
              placeholder={creating ? 'particle token create' : 'Leave empty to keep the stored token'}
              value={token}
              onChange={(e) => setToken(e.target.value)}
            />
          </label>
          <label>
            Product ID <span className="muted">(optional: empty = the token's own devices)</span>
            <input
              data-testid="particle-product"
              maxLength={100}
              value={productId}
              onChange={(e) => setProductId(e.target.value)}
            />
          </label>
          {error ? <ErrorBox error={error} /> : null}
          <div className="tpl-actions">
            <button
              type="submit"
              className="primary"
              data-testid="particle-connect"
              disabled={busy || (creating && !token)}
            >
              {busy ? 'Connecting…' : creating ? 'Connect' : 'Save'}
            </button>
            {!creating ? (
              <button type="button" onClick={() => setEditing(false)} disabled={busy}>
                Cancel
              </button>
            ) : null}
          </div>
        </form>
      </div>
    );
  }

  const i = integration;
  return (
    <div className="card integration-card" data-testid="particle-card">
      <div className="spread">
        <h2>Particle</h2>
        <StatusBadge status={i.status} testId="particle-status" />
      </div>
      {i.lastError && i.status !== 'connected' ? <div className="last-error">{i.lastError}</div> : null}
      <dl>
        <dt>Product</dt>
        <dd>{i.productId ?? <span className="muted">the token's own devices</span>}</dd>
        <dt>Access token</dt>
        <dd className="muted">stored, never shown</dd>
        {i.stats ? (
          <>
            <dt>Traffic</dt>
            <dd>
              {i.stats.events ?? 0} events, {i.stats.calls ?? 0} function calls
              {i.stats.callErrors ? `, ${i.stats.callErrors} failed` : ''}
            </dd>
          </>
        ) : null}
      </dl>
      {error ? <ErrorBox error={error} /> : null}
      <div className="tpl-actions">
        <button
          type="button"
          data-testid="particle-reconnect"
          disabled={busy}
          onClick={() =>
            act(async () => onChange(await api<Particle>('POST', `/api/v1/integrations/particle/${i.id}/connect`)))
          }
        >
          Reconnect now
        </button>
        <button
          type="button"
          onClick={() => {
            setProductId(i.productId ?? '');
            setEditing(true);
          }}
        >
          Edit
        </button>
        <ConfirmButton
          label="Delete"
          question="Disconnect and delete? Devices stay."
          testId="particle-delete"
          onConfirm={() =>
            act(async () => {
              await api('DELETE', `/api/v1/integrations/particle/${i.id}`);
              onChange(null);
            })
          }
        />
      </div>
      <FunctionsEditor template={template} integration={i} onChange={onChange} />
      <UnmatchedTable path={`/api/v1/integrations/particle/${i.id}/unmatched`} deviceKey="coreid" />
    </div>
  );
}

function FunctionsEditor({
  template,
  integration,
  onChange,
}: {
  template: Template;
  integration: Particle;
  onChange: (i: Particle) => void;
}) {
  const toRows = (m: Record<string, string>) => Object.entries(m).map(([ds, fn]) => ({ ds, fn }));
  const [rows, setRows] = useState(() => toRows(integration.functions));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const save = async () => {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const map: Record<string, string> = {};
      for (const r of rows) if (r.ds && r.fn.trim()) map[r.ds] = r.fn.trim();
      const updated = await api<Particle>('PUT', `/api/v1/integrations/particle/${integration.id}/functions`, map);
      onChange(updated);
      setRows(toRows(updated.functions));
      setSaved(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <details data-testid="particle-functions">
      <summary>
        Cloud functions{' '}
        {Object.keys(integration.functions).length ? (
          <span className="pill">{Object.keys(integration.functions).length}</span>
        ) : null}
      </summary>
      <div className="tpl-section" style={{ marginTop: '0.5rem', maxWidth: 'none' }}>
        <p className="tpl-help">A write to the datastream (from a dashboard or the API) calls this function.</p>
        {rows.map((r, idx) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their position
          <div className="fn-row" key={idx}>
            <select
              aria-label="Datastream"
              value={r.ds}
              onChange={(e) => setRows(rows.map((x, j) => (j === idx ? { ...x, ds: e.target.value } : x)))}
            >
              <option value="">Datastream…</option>
              {template.datastreams.map((d) => (
                <option key={d.id} value={d.pin}>
                  {d.pin} · {d.name}
                </option>
              ))}
              {r.ds && !template.datastreams.some((d) => d.pin === r.ds) ? <option value={r.ds}>{r.ds}</option> : null}
            </select>
            <input
              aria-label="Function"
              placeholder="function name"
              maxLength={64}
              value={r.fn}
              onChange={(e) => setRows(rows.map((x, j) => (j === idx ? { ...x, fn: e.target.value } : x)))}
            />
            <button
              type="button"
              className="danger"
              aria-label="Remove"
              onClick={() => setRows(rows.filter((_, j) => j !== idx))}
            >
              ✕
            </button>
          </div>
        ))}
        {error ? <ErrorBox error={error} /> : null}
        <div className="tpl-actions">
          <button type="button" onClick={() => setRows([...rows, { ds: '', fn: '' }])}>
            Add function
          </button>
          <button
            type="button"
            className="primary"
            data-testid="particle-functions-save"
            disabled={busy}
            onClick={save}
          >
            Save functions
          </button>
          {saved ? <span className="tpl-saved">Saved</span> : null}
        </div>
      </div>
    </details>
  );
}
