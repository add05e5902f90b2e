import { useCallback, useEffect, useState } from 'react';
import { Link, Navigate, NavLink, Route, Routes, useNavigate, useParams } from 'react-router-dom';
import { api } from '../api.ts';
import { ErrorBox, Loading } from '../components/Status.tsx';
import { DashboardBuilder } from '../dashboard/DashboardBuilder.tsx';
import type { Template } from '../types.ts';
import { DatastreamsTab } from './template/DatastreamsTab.tsx';
import { IntegrationsTab } from './template/IntegrationsTab.tsx';
import { EventsTab, InfoTab, LifecycleTab, MetadataTab } from './template/OtherTabs.tsx';
import './templates.css';

const TABS = [
  { path: 'info', label: 'Info' },
  { path: 'datastreams', label: 'Datastreams' },
  { path: 'metadata', label: 'Metadata' },
  { path: 'events', label: 'Events' },
  { path: 'lifecycle', label: 'Connection lifecycle' },
  { path: 'dashboard', label: 'Web dashboard' },
  { path: 'integrations', label: 'Integrations' },
] as const;

/** /templates/:id/<tab>: one template, its settings in URL-addressable tabs. */
export function TemplatePage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const [template, setTemplate] = useState<Template | null>(null);
  const [error, setError] = useState<unknown>(null);

  const reload = useCallback(async () => {
    setError(null);
    try {
      setTemplate(await api<Template>('GET', `/api/v1/templates/${encodeURIComponent(id)}`));
    } catch (e) {
      setError(e);
    }
  }, [id]);

  useEffect(() => {
    setTemplate(null);
    void reload();
  }, [reload]);

  if (error && !template) {
    return (
      <section>
        <Link to="/templates" className="tpl-back">
          ← Templates
        </Link>
        <ErrorBox error={error} onRetry={reload} />
      </section>
    );
  }
  if (!template) return <Loading label="Loading template…" />;
  const base = `/templates/${encodeURIComponent(template.id)}`;

  return (
    <section>
      <Link to="/templates" className="tpl-back">
        ← Templates
      </Link>
      <div className="tpl-header">
        <h1 className="ellipsis" title={template.name} data-testid="template-title">
          {template.name}
        </h1>
        <code data-testid="template-id">{template.id}</code>
      </div>
      <nav className="tabs" aria-label="Template sections">
        {TABS.map((t) => (
          <NavLink key={t.path} to={`${base}/${t.path}`} data-testid={`tab-${t.path}`}>
            {t.label}
          </NavLink>
        ))}
      </nav>
      {error ? <ErrorBox error={error} onRetry={reload} /> : null}
      <Routes>
        <Route index element={<Navigate to={`${base}/info`} replace />} />
        <Route
          path="info"
          element={
            <InfoTab
              template={template}
              onSaved={setTemplate}
              onDeleted={() => navigate('/templates', { replace: true })}
            />
          }
        />
        <Route path="datastreams" element={<DatastreamsTab template={template} reload={reload} />} />
        <Route path="metadata" element={<MetadataTab template={template} reload={reload} />} />
        <Route path="events" element={<EventsTab template={template} reload={reload} />} />
        <Route
          path="lifecycle"
          element={
            <LifecycleTab template={template} onSaved={(lifecycle) => setTemplate({ ...template, lifecycle })} />
          }
        />
        <Route
          path="dashboard"
          element={<DashboardBuilder templateId={template.id} datastreams={template.datastreams} />}
        />
        <Route path="integrations" element={<IntegrationsTab template={template} />} />
        <Route path="*" element={<Navigate to={`${base}/info`} replace />} />
      </Routes>
    </section>
  );
}
