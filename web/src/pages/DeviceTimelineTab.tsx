import { useCallback, useEffect, useState } from 'react';
import { api } from '../api.ts';
import { Empty, ErrorBox, Loading } from '../components/Status.tsx';
import type { TimelineItem } from '../types.ts';
import type { LiveTimelineItem } from './DevicePage.tsx';
import { fullTime, relativeTime, useNow } from './device-common.tsx';

const LIMIT = 100;

const FILTERS: Array<{ value: string; label: string }> = [
  { value: '', label: 'All types' },
  { value: 'online,offline', label: 'Online / offline' },
  { value: 'event', label: 'Events' },
  { value: 'integration_error', label: 'Integration errors' },
  { value: 'downlink,downlink_status', label: 'Downlinks' },
  { value: 'join,location_solved', label: 'Joins & locations' },
  { value: 'particle_function', label: 'Particle functions' },
  { value: 'webhook_disabled', label: 'Webhooks' },
];

type Item = LiveTimelineItem['item'];

interface Shown {
  icon: string;
  tone: 'ok' | 'muted' | 'info' | 'warn' | 'danger' | 'accent';
  title: string;
  detail?: string;
}

const str = (v: unknown): string =>
  v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);

/** What a timeline entry looks like: an icon, a colour, a title and one line of detail. */
function describe(it: Item): Shown {
  const via = it.integration ? ` (${str(it.integration) === 'tts' ? 'The Things Stack' : str(it.integration)})` : '';
  switch (it.type) {
    case 'online':
      return { icon: '●', tone: 'ok', title: 'Online' };
    case 'offline':
      return { icon: '○', tone: 'muted', title: 'Offline' };
    case 'event': {
      const t = str(it.eventType);
      const tone = t === 'critical' ? 'danger' : t === 'warning' ? 'warn' : t === 'content' ? 'accent' : 'info';
      return {
        icon: t === 'critical' ? '‼' : t === 'warning' ? '!' : '★',
        tone,
        title: `${str(it.name) || str(it.code) || 'Event'}${t ? ` · ${t}` : ''}`,
        detail: [it.code && it.name ? `code ${str(it.code)}` : '', str(it.description)].filter(Boolean).join(' — '),
      };
    }
    case 'integration_error':
      return {
        icon: '⚠',
        tone: 'danger',
        title: `Integration error${via}`,
        detail: [str(it.kind), str(it.message ?? it.error ?? it.detail)].filter(Boolean).join(': ') || undefined,
      };
    case 'downlink':
      return {
        icon: '↓',
        tone: it.status === 'not_sent' ? 'danger' : 'accent',
        title: `Downlink ${str(it.pin)}${it.name ? ` (${str(it.name)})` : ''} = ${str(it.value)}${via}`,
        detail: [str(it.status), str(it.mode), str(it.error)].filter(Boolean).join(' · ') || undefined,
      };
    case 'downlink_status':
      return {
        icon: it.status === 'failed' ? '✗' : '✓',
        tone: it.status === 'failed' ? 'danger' : 'muted',
        title: `Downlink ${str(it.status) || 'status'}${it.pin ? ` on ${str(it.pin)}` : ''}${via}`,
        detail: str(it.error) || undefined,
      };
    case 'join':
      return { icon: '⇥', tone: 'info', title: `Joined the network${via}` };
    case 'location_solved':
      return {
        icon: '⌖',
        tone: 'accent',
        title: `Location solved${via}`,
        detail: [
          it.latitude !== undefined ? `lat ${str(it.latitude)}, lon ${str(it.longitude)}` : '',
          it.service ? `by ${str(it.service)}` : '',
        ]
          .filter(Boolean)
          .join(' '),
      };
    case 'webhook_disabled':
      return {
        icon: '⛔',
        tone: 'danger',
        title: `Webhook ${it.name ? `“${str(it.name)}” ` : ''}disabled`,
        detail: str(it.reason) || str(it.error) || undefined,
      };
    case 'particle_function': {
      const ok = it.status === 'ok';
      return {
        icon: 'ƒ',
        tone: ok ? 'accent' : 'danger',
        title: `Particle function ${str(it.function)}(${str(it.arg)})${it.pin ? ` from ${str(it.pin)}` : ''}`,
        detail:
          [
            str(it.status),
            it.return_value !== undefined ? `returned ${str(it.return_value)}` : '',
            str(it.error),
            it.replay ? 'replayed' : '',
          ]
            .filter(Boolean)
            .join(' · ') || undefined,
      };
    }
    default: {
      const { id: _id, ts: _ts, type: _type, ...rest } = it;
      const extra = Object.keys(rest).length > 0 ? JSON.stringify(rest) : undefined;
      return { icon: '•', tone: 'muted', title: it.type, detail: extra };
    }
  }
}

/** The device timeline, newest first, with live additions and a type filter. */
export function TimelineTab({
  deviceId,
  live,
  liveSeq,
}: {
  deviceId: number;
  live: LiveTimelineItem[];
  liveSeq: React.RefObject<number>;
}) {
  const [filter, setFilter] = useState('');
  const [items, setItems] = useState<TimelineItem[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [more, setMore] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [since, setSince] = useState(0);
  const now = useNow();

  const load = useCallback(() => {
    let cancelled = false;
    setItems(null);
    setError(null);
    setSince(liveSeq.current);
    const q = new URLSearchParams({ limit: String(LIMIT) });
    if (filter) q.set('type', filter);
    api<{ items: TimelineItem[] }>('GET', `/api/v1/devices/${deviceId}/timeline?${q}`)
      .then((r) => {
        if (cancelled) return;
        setItems(r.items);
        setMore(r.items.length >= LIMIT);
      })
      .catch((e) => {
        if (!cancelled) setError(e);
      });
    return () => {
      cancelled = true;
    };
  }, [deviceId, filter, liveSeq]);
  useEffect(load, [load]);

  const loadOlder = async () => {
    const last = items?.[items.length - 1];
    if (!last) return;
    setLoadingMore(true);
    try {
      const q = new URLSearchParams({ limit: String(LIMIT), to: String(last.ts) });
      if (filter) q.set('type', filter);
      const r = await api<{ items: TimelineItem[] }>('GET', `/api/v1/devices/${deviceId}/timeline?${q}`);
      const seen = new Set((items ?? []).map((i) => i.id));
      const older = r.items.filter((i) => !seen.has(i.id));
      setMore(r.items.length >= LIMIT && older.length > 0);
      setItems((prev) => [...(prev ?? []), ...older.filter((i) => !prev?.some((p) => p.id === i.id))]);
    } catch (e) {
      setError(e);
    } finally {
      setLoadingMore(false);
    }
  };

  const types = filter ? new Set(filter.split(',')) : null;
  const fresh = live.filter((l) => l.seq > since && (!types || types.has(l.item.type)));
  const rows: Array<{ key: string; item: Item; live?: boolean }> = [
    ...fresh.map((l) => ({ key: `live-${l.seq}`, item: l.item, live: true })),
    ...(items ?? []).map((i) => ({ key: `id-${i.id}`, item: i })),
  ];

  return (
    <div className="dv-timeline">
      <div className="dv-toolbar">
        <select
          aria-label="Filter by type"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          data-testid="timeline-filter"
        >
          {FILTERS.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => load()} disabled={items === null && !error}>
          Refresh
        </button>
      </div>
      {error && !items ? (
        <ErrorBox error={error} onRetry={() => load()} />
      ) : items === null ? (
        <Loading label="Loading timeline…" />
      ) : rows.length === 0 ? (
        <Empty>
          {filter
            ? 'Nothing of this type on the timeline.'
            : 'Nothing on the timeline yet. Connections, disconnections, events and integration notes show up here.'}
        </Empty>
      ) : (
        <>
          <ol className="dv-tl-list" data-testid="timeline">
            {rows.map(({ key, item, live: isLive }) => {
              const s = describe(item);
              return (
                <li key={key} className="dv-tl-item" data-type={item.type} data-testid="timeline-item">
                  <span className={`dv-tl-icon dv-tone-${s.tone}`} aria-hidden="true">
                    {s.icon}
                  </span>
                  <div className="dv-tl-body">
                    <div className="dv-tl-title">{s.title}</div>
                    {s.detail ? <div className="dv-tl-detail">{s.detail}</div> : null}
                  </div>
                  <time
                    className="dv-tl-time muted"
                    dateTime={new Date(item.ts).toISOString()}
                    title={fullTime(item.ts)}
                  >
                    {relativeTime(item.ts, now)}
                    {isLive ? <span className="dv-live"> new</span> : null}
                  </time>
                </li>
              );
            })}
          </ol>
          {error ? <ErrorBox error={error} /> : null}
          {more ? (
            <div className="dv-more">
              <button type="button" onClick={loadOlder} disabled={loadingMore}>
                {loadingMore ? 'Loading…' : 'Load older'}
              </button>
            </div>
          ) : null}
        </>
      )}
    </div>
  );
}
