import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { api } from '../api.ts';
import { Empty, ErrorBox, Loading } from '../components/Status.tsx';
import { useLive } from '../live.ts';
import type { Device, Template } from '../types.ts';
import { DEVICE_SOURCES, fullTime, OnlineDot, relativeTime, templateName, useNow } from './device-common.tsx';
import { NewDeviceDialog } from './NewDeviceDialog.tsx';
import './devices.css';

const PAGE = 50;

/** /devices: every device of the organization, searchable, filterable, live online dots. */
export function DevicesPage() {
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const search = params.get('search') ?? '';
  const templateId = params.get('templateId') ?? '';
  const [searchInput, setSearchInput] = useState(search);
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const [templatesError, setTemplatesError] = useState<unknown>(null);
  const [items, setItems] = useState<Device[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [dialog, setDialog] = useState(false);
  const request = useRef(0);
  const now = useNow();

  const loadTemplates = useCallback(() => {
    setTemplatesError(null);
    api<{ items: Template[] }>('GET', '/api/v1/templates')
      .then((r) => setTemplates(r.items))
      .catch((e) => setTemplatesError(e));
  }, []);
  useEffect(loadTemplates, [loadTemplates]);

  const query = useCallback(
    (offset: number) => {
      const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
      if (search) q.set('search', search);
      if (templateId) q.set('templateId', templateId);
      return api<{ items: Device[]; total: number }>('GET', `/api/v1/devices?${q}`);
    },
    [search, templateId],
  );

  const load = useCallback(
    (quiet?: boolean) => {
      const n = ++request.current;
      setError(null);
      if (!quiet) setItems(null);
      query(0)
        .then((r) => {
          if (n !== request.current) return;
          setItems(r.items);
          setTotal(r.total);
        })
        .catch((e) => {
          if (n === request.current) setError(e);
        });
    },
    [query],
  );
  useEffect(() => load(), [load]);

  const loadMore = async () => {
    if (!items) return;
    const n = request.current;
    setLoadingMore(true);
    try {
      const r = await query(items.length);
      if (n !== request.current) return;
      setItems((prev) => {
        const seen = new Set((prev ?? []).map((d) => d.id));
        return [...(prev ?? []), ...r.items.filter((d) => !seen.has(d.id))];
      });
      setTotal(r.total);
    } catch (e) {
      setError(e);
    } finally {
      setLoadingMore(false);
    }
  };

  // The search box updates the URL (and so the query) after a short pause in typing.
  useEffect(() => setSearchInput(search), [search]);
  useEffect(() => {
    if (searchInput.trim() === search) return;
    const t = setTimeout(() => {
      setParams(
        (p) => {
          const next = new URLSearchParams(p);
          if (searchInput.trim()) next.set('search', searchInput.trim());
          else next.delete('search');
          return next;
        },
        { replace: true },
      );
    }, 300);
    return () => clearTimeout(t);
  }, [searchInput, search, setParams]);

  const setTemplateFilter = (id: string) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (id) next.set('templateId', id);
        else next.delete('templateId');
        return next;
      },
      { replace: true },
    );

  useLive(undefined, (m) => {
    if (m.type === 'status') {
      const s = m as { deviceId: number; online: boolean; ts: number };
      setItems((prev) =>
        prev
          ? prev.map((d) =>
              d.id === s.deviceId ? { ...d, online: s.online, lastSeenAt: s.online ? s.ts : d.lastSeenAt } : d,
            )
          : prev,
      );
    } else if (m.type === 'value') {
      const v = m as { deviceId: number; ts: number; source?: string };
      if (!v.source || !DEVICE_SOURCES.has(v.source)) return;
      setItems((prev) =>
        prev?.some((d) => d.id === v.deviceId && (d.lastSeenAt ?? 0) < v.ts)
          ? prev.map((d) => (d.id === v.deviceId ? { ...d, lastSeenAt: v.ts } : d))
          : prev,
      );
    }
  });

  const filtered = search !== '' || templateId !== '';
  const noTemplates = templates !== null && templates.length === 0;

  return (
    <div className="dv-page">
      <div className="spread dv-head">
        <h1>
          Devices
          {items && total > 0 ? <span className="muted dv-count"> {total}</span> : null}
        </h1>
        <button
          type="button"
          className="primary"
          onClick={() => setDialog(true)}
          disabled={!templates || noTemplates}
          title={noTemplates ? 'Create a template first' : undefined}
          data-testid="new-device"
        >
          + New device
        </button>
      </div>

      <div className="dv-toolbar">
        <input
          type="search"
          placeholder="Search by name…"
          aria-label="Search devices"
          value={searchInput}
          onChange={(e) => setSearchInput(e.target.value)}
          maxLength={100}
          data-testid="device-search"
        />
        <select
          aria-label="Filter by template"
          value={templateId}
          onChange={(e) => setTemplateFilter(e.target.value)}
          data-testid="device-template-filter"
        >
          <option value="">All templates</option>
          {templates?.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
          {templateId && templates && !templates.some((t) => t.id === templateId) ? (
            <option value={templateId}>{templateId}</option>
          ) : null}
        </select>
      </div>

      {templatesError ? <ErrorBox error={templatesError} onRetry={() => loadTemplates()} /> : null}

      {error && !items ? (
        <ErrorBox error={error} onRetry={() => load()} />
      ) : items === null ? (
        <Loading label="Loading devices…" />
      ) : items.length === 0 ? (
        filtered ? (
          <Empty>
            No devices match{search ? ` “${search}”` : ''}
            {templateId ? ` in ${templateName(templates, templateId)}` : ''}.{' '}
            <button type="button" className="link" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
              Clear filters
            </button>
          </Empty>
        ) : noTemplates ? (
          <Empty>
            No devices yet. A device is made from a template: <Link to="/templates">create a template</Link> first, then
            come back here.
          </Empty>
        ) : (
          <Empty>
            No devices yet.{' '}
            <button type="button" className="link" onClick={() => setDialog(true)} disabled={!templates}>
              Create your first device
            </button>{' '}
            to get its auth token.
          </Empty>
        )
      ) : (
        <>
          <div className="table-wrap dv-list-wrap">
            <table className="dv-list">
              <thead>
                <tr>
                  <th className="dv-col-dot">
                    <span className="dv-sr">Status</span>
                  </th>
                  <th>Name</th>
                  <th>Template</th>
                  <th>Last seen</th>
                </tr>
              </thead>
              <tbody>
                {items.map((d) => (
                  <tr
                    key={d.id}
                    data-testid={`device-row-${d.id}`}
                    className="dv-row"
                    onClick={(e) => {
                      if ((e.target as HTMLElement).closest('a')) return;
                      navigate(`/devices/${d.id}`);
                    }}
                  >
                    <td className="dv-col-dot">
                      <OnlineDot online={d.online} />
                    </td>
                    <td className="dv-col-name">
                      <Link to={`/devices/${d.id}`} className="ellipsis dv-name" title={d.name}>
                        {d.name}
                      </Link>
                    </td>
                    <td className="dv-col-template">
                      <span className="ellipsis muted" title={templateName(templates, d.templateId)}>
                        {templateName(templates, d.templateId)}
                      </span>
                    </td>
                    <td className="dv-col-seen" title={fullTime(d.lastSeenAt)}>
                      {relativeTime(d.lastSeenAt, now)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {error ? <ErrorBox error={error} onRetry={loadMore} /> : null}
          <div className="dv-more">
            <span className="muted dv-small">
              Showing {items.length} of {total}
            </span>
            {items.length < total ? (
              <button type="button" onClick={loadMore} disabled={loadingMore} data-testid="load-more">
                {loadingMore ? 'Loading…' : 'Load more'}
              </button>
            ) : null}
          </div>
        </>
      )}

      {dialog && templates ? (
        <NewDeviceDialog
          templates={templates}
          initialTemplateId={templateId || undefined}
          onClose={() => setDialog(false)}
          onCreated={() => load(true)}
        />
      ) : null}
    </div>
  );
}
