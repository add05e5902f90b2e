import type { Datastream } from '../types.ts';

/**
 * The template's web dashboard editor (the "Web dashboard" tab). Loads and saves
 * GET/PUT /api/v1/templates/:id/dashboard itself. (Placeholder; the widget set replaces it.)
 */
export interface DashboardBuilderProps {
  templateId: string;
  datastreams: Datastream[];
}

export function DashboardBuilder(_props: DashboardBuilderProps) {
  return <p className="muted">The dashboard builder is coming next.</p>;
}
