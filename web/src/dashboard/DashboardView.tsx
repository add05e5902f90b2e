import type { Dashboard, Datastream, StoredValue } from '../types.ts';

/**
 * The contract between the device page and the widgets: a template's dashboard bound to one
 * device. `values` are keyed by pin ("V1"); `onWrite` sends a control widget's value through
 * PUT /api/v1/devices/:id/values. (Placeholder rendering; the widget set replaces it.)
 */
export interface DashboardViewProps {
  dashboard: Dashboard;
  datastreams: Datastream[];
  values: Record<string, { value: StoredValue; ts: number } | undefined>;
  deviceId: number;
  onWrite: (pin: string, value: StoredValue) => Promise<void>;
}

export function DashboardView({ dashboard, values }: DashboardViewProps) {
  const widgets = dashboard.tabs.flatMap((t) => t.widgets);
  return (
    <div className="widgets-fallback">
      {widgets.map((w) => (
        <div key={w.id} className="card">
          <div className="muted">{w.title ?? w.datastream}</div>
          <div>{w.datastream ? String(values[w.datastream]?.value ?? '—') : '—'}</div>
        </div>
      ))}
    </div>
  );
}
