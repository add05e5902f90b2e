import { type CSSProperties, useMemo, useState } from 'react';
import type { Dashboard, Datastream, StoredValue } from '../types.ts';
import { GAP, ROW_HEIGHT } from './grid.ts';
import { WidgetHost } from './WidgetHost.tsx';
import './dashboard.css';

/**
 * The contract between the device page and the widgets: a template's dashboard bound to one
 * device. `values` are keyed by pin ("V1"); `onWrite` sends a control widget's value through
 * PUT /api/v1/devices/:id/values.
 */
export interface DashboardViewProps {
  dashboard: Dashboard;
  datastreams: Datastream[];
  values: Record<string, { value: StoredValue; ts: number } | undefined>;
  deviceId: number;
  onWrite: (pin: string, value: StoredValue) => Promise<void>;
}

/**
 * The device page's dashboard: tabs (a strip when there is more than one) of widgets placed on
 * the template's 12-column grid; on narrow screens the widgets stack in one column.
 */
export function DashboardView({ dashboard, datastreams, values, deviceId, onWrite }: DashboardViewProps) {
  const [tabIndex, setTabIndex] = useState(0);
  const tabs = dashboard.tabs.length > 0 ? dashboard.tabs : [{ name: 'Dashboard', widgets: [] }];
  const current = tabs[Math.min(tabIndex, tabs.length - 1)]!;
  const byPin = useMemo(() => new Map(datastreams.map((d) => [d.pin.toUpperCase(), d])), [datastreams]);
  const widgets = useMemo(() => [...current.widgets].sort((a, b) => a.y - b.y || a.x - b.x), [current]);
  return (
    <div className="dash-view">
      {tabs.length > 1 ? (
        <div className="tabs dash-tabs" role="tablist">
          {tabs.map((t, i) => (
            <button
              key={t.id ?? i}
              type="button"
              role="tab"
              aria-selected={t === current}
              className={t === current ? 'active' : undefined}
              onClick={() => setTabIndex(i)}
            >
              {t.name}
            </button>
          ))}
        </div>
      ) : null}
      {widgets.length === 0 ? (
        <div className="empty">
          This dashboard has no widgets yet. Add them in the template's <strong>Web dashboard</strong> tab.
        </div>
      ) : (
        <div className="dash-grid" style={{ '--row': `${ROW_HEIGHT}px`, '--gap': `${GAP}px` } as CSSProperties}>
          {widgets.map((w) => {
            const pin = w.datastream?.toUpperCase();
            const ds = pin ? byPin.get(pin) : undefined;
            const v = pin ? (values[pin] ?? values[w.datastream!]) : undefined;
            return (
              <div
                key={w.id}
                className="dash-cell"
                style={{ '--x': w.x + 1, '--y': w.y + 1, '--w': w.w, '--h': w.h } as CSSProperties}
              >
                <WidgetHost
                  widget={w}
                  datastream={ds}
                  value={v?.value}
                  ts={v?.ts}
                  deviceId={deviceId}
                  onWrite={onWrite}
                />
              </div>
            );
          })}
        </div>
      )}
    </div>
  );
}
