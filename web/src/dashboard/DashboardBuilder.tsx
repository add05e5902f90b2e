import { type CSSProperties, useCallback, useEffect, useMemo, useState } from 'react';
import GridLayout, { type Layout, noCompactor, useContainerWidth } from 'react-grid-layout';
import 'react-grid-layout/css/styles.css';
import 'react-resizable/css/styles.css';
import { api, errorText } from '../api.ts';
import type { Dashboard, DashboardTab, Datastream, Widget } from '../types.ts';
import './dashboard.css';
import { GAP, GRID_COLUMNS, MAX_TABS, MAX_WIDGETS_PER_TAB, ROW_HEIGHT } from './grid.ts';
import { SettingsPanel } from './SettingsPanel.tsx';
import { WidgetHost } from './WidgetHost.tsx';
import { acceptedTypes, PALETTE, widgetKind } from './widgets/registry.ts';

/**
 * The template's web dashboard editor (the "Web dashboard" tab). Loads and saves
 * GET/PUT /api/v1/templates/:id/dashboard itself.
 */
export interface DashboardBuilderProps {
  templateId: string;
  datastreams: Datastream[];
}

interface Tab {
  id: string;
  name: string;
  widgets: Widget[];
}

const newId = (prefix: string) => `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

const overlaps = (a: Pick<Widget, 'x' | 'y' | 'w' | 'h'>, b: Pick<Widget, 'x' | 'y' | 'w' | 'h'>) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** The first free spot (top to bottom, left to right) for a w×h widget. */
function freeSpot(widgets: Widget[], w: number, h: number): { x: number; y: number } {
  for (let y = 0; y < 1000; y++) {
    for (let x = 0; x + w <= GRID_COLUMNS; x++) {
      if (!widgets.some((o) => overlaps(o, { x, y, w, h }))) return { x, y };
    }
  }
  return { x: 0, y: widgets.reduce((m, o) => Math.max(m, o.y + o.h), 0) };
}

/** The document the API takes: tabs of widgets, nothing else. */
const toBody = (tabs: Tab[]) => ({
  tabs: tabs.map((t) => ({
    id: t.id,
    name: t.name,
    widgets: t.widgets.map((w) => ({
      id: w.id,
      type: w.type,
      title: w.title ?? '',
      datastream: w.datastream,
      x: w.x,
      y: w.y,
      w: w.w,
      h: w.h,
      settings: w.settings ?? {},
    })),
  })),
});

const fromDashboard = (d: Dashboard): Tab[] =>
  d.tabs.map((t: DashboardTab, i) => ({
    id: t.id ?? (i === 0 ? 'dashboard' : `tab${i + 1}`),
    name: t.name,
    widgets: t.widgets.map((w) => ({ ...w, title: w.title ?? '', settings: w.settings ?? {} })),
  }));

/** Server messages name widgets by position ("tabs[0].widgets[2]"); say which widget instead. */
function readableError(message: string, tabs: Tab[]): { text: string; widgetId?: string; tab?: number } {
  const m = /tabs\[(\d+)\](?:\.widgets\[(\d+)\])?/.exec(message);
  if (!m) return { text: message.replace(/^dashboard: /, '') };
  const ti = Number(m[1]);
  const tab = tabs[ti];
  const w = m[2] !== undefined ? tab?.widgets[Number(m[2])] : undefined;
  const where = w
    ? `${widgetKind(w.type).name} "${w.title || w.datastream || w.id}" on tab "${tab?.name}"`
    : `Tab "${tab?.name ?? ti + 1}"`;
  const rest = message
    .replace(/^dashboard: /, '')
    .replace(m[0], '')
    .replace(/^[.:]\s*/, '')
    .replace(/^\s*\(".*?"\)\s*/, '');
  return { text: `${where}: ${rest}`, ...(w ? { widgetId: w.id } : {}), tab: ti };
}

interface CanvasProps {
  tab: Tab;
  selected: string | null;
  byPin: Map<string, Datastream>;
  onSelect: (id: string | null) => void;
  onRemove: (id: string) => void;
  onLayoutChange: (layout: Layout) => void;
}

/** The grid being edited: widgets drawn as previews (no data), dragged and resized in place. */
function BuilderCanvas({ tab, selected, byPin, onSelect, onRemove, onLayoutChange }: CanvasProps) {
  const { width, containerRef, mounted } = useContainerWidth();
  const layout: Layout = tab.widgets.map((w) => ({ i: w.id, x: w.x, y: w.y, w: w.w, h: w.h, minW: 1, minH: 1 }));
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a click on the empty canvas clears the selection
    <div
      className="db-canvas"
      ref={containerRef}
      style={{ '--row': `${ROW_HEIGHT}px` } as CSSProperties}
      onMouseDown={(e) => {
        if (e.target === e.currentTarget || (e.target as HTMLElement).classList.contains('react-grid-layout')) {
          onSelect(null);
        }
      }}
    >
      {tab.widgets.length === 0 ? (
        <div className="empty">Add widgets from the palette above, then drag and resize them here.</div>
      ) : null}
      {mounted ? (
        <GridLayout
          width={width}
          layout={layout}
          gridConfig={{
            cols: GRID_COLUMNS,
            rowHeight: ROW_HEIGHT,
            margin: [GAP, GAP],
            containerPadding: [GAP, GAP],
          }}
          dragConfig={{ enabled: true, cancel: '.db-remove' }}
          resizeConfig={{ enabled: true, handles: ['se'] }}
          compactor={noCompactor}
          onLayoutChange={onLayoutChange}
          style={{ minHeight: 320 }}
        >
          {tab.widgets.map((w) => (
            <div key={w.id} className={`db-item${w.id === selected ? ' selected' : ''}`} data-testid={`widget-${w.id}`}>
              <WidgetHost
                widget={w}
                datastream={w.datastream ? byPin.get(w.datastream) : undefined}
                value={undefined}
                ts={undefined}
                deviceId={null}
                onWrite={async () => {}}
              />
              <button
                type="button"
                className="db-shield"
                aria-label={`Select ${widgetKind(w.type).name} ${w.title}`}
                onPointerDown={() => onSelect(w.id)}
                onFocus={() => onSelect(w.id)}
                onKeyDown={(e) => {
                  if (e.key === 'Delete') onRemove(w.id);
                }}
              />
              <button
                type="button"
                className="db-remove"
                aria-label="Delete widget"
                title="Delete widget"
                onMouseDown={(e) => e.stopPropagation()}
                onClick={() => onRemove(w.id)}
              >
                ×
              </button>
            </div>
          ))}
        </GridLayout>
      ) : null}
    </div>
  );
}

export function DashboardBuilder({ templateId, datastreams }: DashboardBuilderProps) {
  const [tabs, setTabs] = useState<Tab[] | null>(null);
  const [saved, setSaved] = useState('');
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [savedAt, setSavedAt] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const [selected, setSelected] = useState<string | null>(null);

  const load = useCallback(async () => {
    setLoadError(null);
    try {
      const d = await api<Dashboard>('GET', `/api/v1/templates/${encodeURIComponent(templateId)}/dashboard`);
      const t = fromDashboard(d);
      setTabs(t);
      setSaved(JSON.stringify(toBody(t)));
      setSavedAt(d.updatedAt);
    } catch (e) {
      setLoadError(errorText(e));
    }
  }, [templateId]);
  useEffect(() => {
    void load();
  }, [load]);

  const dirty = tabs !== null && JSON.stringify(toBody(tabs)) !== saved;
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const tabIndex = tabs ? Math.min(active, tabs.length - 1) : 0;
  const tab = tabs?.[tabIndex];
  const widget = tab?.widgets.find((w) => w.id === selected);
  const byPin = useMemo(() => new Map(datastreams.map((d) => [d.pin, d])), [datastreams]);

  const updateTab = (fn: (t: Tab) => Tab) =>
    setTabs((cur) => (cur ? cur.map((t, i) => (i === tabIndex ? fn(t) : t)) : cur));
  const updateWidget = (id: string, patch: Partial<Widget>) =>
    updateTab((t) => ({ ...t, widgets: t.widgets.map((w) => (w.id === id ? { ...w, ...patch } : w)) }));

  const add = (type: string) => {
    if (!tab) return;
    const kind = widgetKind(type);
    const accepts = acceptedTypes(type);
    const ds = datastreams.find((d) => accepts.includes(d.type));
    const pos = freeSpot(tab.widgets, kind.w, kind.h);
    const w: Widget = {
      id: newId('w'),
      type,
      title: ds?.name ?? kind.name,
      datastream: ds?.pin ?? null,
      ...pos,
      w: kind.w,
      h: kind.h,
      settings: type === 'chart' ? { kind: 'line', range: '1d' } : {},
    };
    updateTab((t) => ({ ...t, widgets: [...t.widgets, w] }));
    setSelected(w.id);
  };

  const duplicate = (id: string) => {
    const src = tab?.widgets.find((w) => w.id === id);
    if (!src || !tab) return;
    const pos = freeSpot(tab.widgets, src.w, src.h);
    const copy: Widget = { ...src, id: newId('w'), ...pos, settings: structuredClone(src.settings ?? {}) };
    updateTab((t) => ({ ...t, widgets: [...t.widgets, copy] }));
    setSelected(copy.id);
  };

  const remove = (id: string) => {
    updateTab((t) => ({ ...t, widgets: t.widgets.filter((w) => w.id !== id) }));
    if (selected === id) setSelected(null);
  };

  const onLayoutChange = (layout: Layout) => {
    const pos = new Map(layout.map((l) => [l.i, l]));
    setTabs((cur) => {
      if (!cur) return cur;
      const t = cur[tabIndex];
      if (!t) return cur;
      let changed = false;
      const widgets = t.widgets.map((w) => {
        const l = pos.get(w.id);
        if (!l || (l.x === w.x && l.y === w.y && l.w === w.w && l.h === w.h)) return w;
        changed = true;
        return { ...w, x: l.x, y: l.y, w: l.w, h: l.h };
      });
      return changed ? cur.map((x, i) => (i === tabIndex ? { ...x, widgets } : x)) : cur;
    });
  };

  const addTab = () => {
    if (!tabs || tabs.length >= MAX_TABS) return;
    const name = `Tab ${tabs.length + 1}`;
    setTabs([...tabs, { id: newId('tab'), name, widgets: [] }]);
    setActive(tabs.length);
    setSelected(null);
  };
  const renameTab = (name: string) => updateTab((t) => ({ ...t, name }));
  const deleteTab = () => {
    if (!tabs || tabIndex === 0 || !tab) return;
    if (tab.widgets.length > 0 && !window.confirm(`Delete tab "${tab.name}" and its ${tab.widgets.length} widgets?`)) {
      return;
    }
    setTabs(tabs.filter((_, i) => i !== tabIndex));
    setActive(tabIndex - 1);
    setSelected(null);
  };

  const save = async () => {
    if (!tabs) return;
    const empty = tabs.findIndex((t) => t.name.trim() === '');
    if (empty >= 0) {
      setActive(empty);
      setSelected(null);
      setSaveError(`Tab ${empty + 1} needs a name.`);
      return;
    }
    setSaving(true);
    setSaveError(null);
    try {
      const d = await api<Dashboard>(
        'PUT',
        `/api/v1/templates/${encodeURIComponent(templateId)}/dashboard`,
        toBody(tabs),
      );
      const t = fromDashboard(d);
      setTabs(t);
      setSaved(JSON.stringify(toBody(t)));
      setSavedAt(d.updatedAt);
    } catch (e) {
      const r = readableError(errorText(e), tabs);
      setSaveError(r.text);
      if (r.tab !== undefined) setActive(r.tab);
      if (r.widgetId) setSelected(r.widgetId);
    } finally {
      setSaving(false);
    }
  };

  if (loadError) {
    return (
      <div className="error-box" role="alert">
        <span>Could not load the dashboard: {loadError}</span>
        <button type="button" onClick={() => void load()}>
          Retry
        </button>
      </div>
    );
  }
  if (!tabs || !tab) return <p className="muted">Loading the dashboard…</p>;

  const full = tab.widgets.length >= MAX_WIDGETS_PER_TAB;

  return (
    <div className="db" data-testid="dashboard-builder">
      <div className="db-toolbar">
        <div className="db-palette" role="toolbar" aria-label="Add a widget">
          {PALETTE.map((type) => (
            <button
              key={type}
              type="button"
              data-testid={`palette-${type}`}
              disabled={full}
              title={`Add a ${widgetKind(type).name} (${acceptedTypes(type).join(', ')})`}
              onClick={() => add(type)}
            >
              {widgetKind(type).name}
            </button>
          ))}
        </div>
        <div className="row">
          <span className={`db-status${dirty ? ' dirty' : ''}`} data-testid="dashboard-status">
            {dirty ? 'Unsaved changes' : savedAt ? `Saved ${new Date(savedAt).toLocaleString()}` : 'Not saved yet'}
          </span>
          {dirty ? (
            <button type="button" className="link" onClick={() => void load()} disabled={saving}>
              Discard
            </button>
          ) : null}
          <button
            type="button"
            className="primary"
            data-testid="save-dashboard"
            disabled={saving || !dirty}
            onClick={() => void save()}
          >
            {saving ? 'Saving…' : 'Save'}
          </button>
        </div>
      </div>
      {saveError ? (
        <div className="error-box" role="alert" data-testid="dashboard-error">
          <span>{saveError}</span>
          <button type="button" className="link" onClick={() => setSaveError(null)}>
            Dismiss
          </button>
        </div>
      ) : null}
      <div className="db-tabs" role="tablist">
        {tabs.map((t, i) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={i === tabIndex}
            className={i === tabIndex ? 'active' : undefined}
            onClick={() => {
              setActive(i);
              setSelected(null);
            }}
          >
            {t.name || <em className="muted">unnamed</em>}
          </button>
        ))}
        {tabs.length < MAX_TABS ? (
          <button type="button" className="db-add-tab" data-testid="add-tab" onClick={addTab}>
            + Tab
          </button>
        ) : null}
      </div>
      <div className="db-main">
        <BuilderCanvas
          tab={tab}
          selected={selected}
          byPin={byPin}
          onSelect={setSelected}
          onRemove={remove}
          onLayoutChange={onLayoutChange}
        />
        {widget ? (
          <SettingsPanel
            key={widget.id}
            widget={widget}
            datastreams={datastreams}
            onChange={(patch) => updateWidget(widget.id, patch)}
            onDuplicate={() => duplicate(widget.id)}
            onDelete={() => remove(widget.id)}
          />
        ) : (
          <div className="db-panel card" data-testid="tab-settings">
            <h3>Tab</h3>
            <label>
              Name
              <input
                value={tab.name}
                maxLength={40}
                data-testid="tab-name"
                onChange={(e) => renameTab(e.target.value)}
              />
            </label>
            <p className="muted wd-small" style={{ margin: 0 }}>
              {tab.widgets.length} widget{tab.widgets.length === 1 ? '' : 's'} · up to {MAX_TABS} tabs. Select a widget
              to configure it.
            </p>
            {tabIndex > 0 ? (
              <button type="button" className="danger" onClick={deleteTab}>
                Delete tab
              </button>
            ) : (
              <span className="muted wd-small">The first tab cannot be deleted.</span>
            )}
          </div>
        )}
      </div>
    </div>
  );
}
