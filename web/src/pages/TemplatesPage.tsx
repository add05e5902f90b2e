import { useCallback, useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { api } from '../api.ts';
import { Empty, ErrorBox, Loading } from '../components/Status.tsx';
import type { Template } from '../types.ts';
import { fmtTime } from './template/ui.tsx';
import './templates.css';

/** /templates: every template of the organization, and a form to create one. */
export function TemplatesPage() {
  const [items, setItems] = useState<Template[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);

  const load = useCallback(async () => {
    setError(null);
    try {
      const r = await api<{ items: Template[] }>('GET', '/api/v1/templates');
      setItems([...r.items].sort((a, b) => a.name.localeCompare(b.name)));
    } catch (e) {
      setError(e);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section>
      <div className="spread">
        <h1>Templates</h1>
        {!creating && (
          <button type="button" className="primary" data-testid="new-template" onClick={() => setCreating(true)}>
            New template
          </button>
        )}
      </div>
      {creating && <CreateTemplate onCancel={() => setCreating(false)} />}
      {error ? (
        <ErrorBox error={error} onRetry={load} />
      ) : items === null ? (
        <Loading label="Loading templates…" />
      ) : items.length === 0 ? (
        <Empty>
          <p>No templates yet.</p>
          <p>A template describes a kind of device: its datastreams, metadata, dashboard and integrations.</p>
          {!creating && (
            <button type="button" className="primary" onClick={() => setCreating(true)}>
              Create your first template
            </button>
          )}
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="tpl-list" data-testid="templates-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Template ID</th>
                <th className="num">Datastreams</th>
                <th className="hide-sm">Updated</th>
              </tr>
            </thead>
            <tbody>
              {items.map((t) => (
                <tr key={t.id} data-testid={`template-row-${t.id}`}>
                  <td className="tpl-name">
                    <Link to={`/templates/${t.id}`} title={t.name}>
                      {t.name}
                    </Link>
                    {t.description ? (
                      <span className="muted ellipsis tpl-desc" title={t.description}>
                        {t.description}
                      </span>
                    ) : null}
                  </td>
                  <td>
                    <code>{t.id}</code>
                  </td>
                  <td className="num">{t.datastreams.length}</td>
                  <td className="hide-sm muted">{fmtTime(t.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function CreateTemplate({ onCancel }: { onCancel: () => void }) {
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const t = await api<Template>('POST', '/api/v1/templates', {
        name: name.trim(),
        ...(description.trim() ? { description: description.trim() } : {}),
      });
      navigate(`/templates/${t.id}/datastreams`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <form className="card tpl-create" onSubmit={submit} aria-label="New template">
      <label>
        Name
        <input
          data-testid="template-name-input"
          required
          maxLength={100}
          // biome-ignore lint/a11y/noAutofocus: the form opens on purpose to type a name
          autoFocus
          value={name}
          placeholder="e.g. Greenhouse sensor"
          onChange={(e) => setName(e.target.value)}
        />
      </label>
      <label>
        Description <span className="muted">(optional)</span>
        <input
          data-testid="template-description-input"
          maxLength={200}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </label>
      <div className="tpl-actions">
        <button type="submit" className="primary" data-testid="create-template" disabled={busy || !name.trim()}>
          {busy ? 'Creating…' : 'Create'}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
      {error ? (
        <div style={{ flexBasis: '100%' }}>
          <ErrorBox error={error} />
        </div>
      ) : null}
    </form>
  );
}
