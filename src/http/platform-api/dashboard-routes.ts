import type { FastifyInstance } from 'fastify';
import type { TemplateModel } from '../../domain/model.ts';
import { checkDashboard, type Dashboard, emptyDashboard, WIDGET_TYPES } from '../../domain/widgets.ts';
import { invalid, notFound } from '../../errors.ts';
import type { Services } from '../../services.ts';
import { currentUser } from './auth.ts';

const T = { tags: ['Templates'] };
const idParam = { type: 'object', properties: { id: { type: 'string', maxLength: 40 } } };

/** A dashboard as the API returns it. */
export function dashboardJson(templateId: string, d: Dashboard, updatedAt: number | null) {
  return { templateId, tabs: d.tabs, updatedAt };
}

/** The stored dashboard of a template (an empty "Dashboard" tab when none was saved). */
export async function loadDashboard(s: Services, templateId: string) {
  const stored = await s.templates.getDashboard(templateId);
  return stored
    ? dashboardJson(templateId, stored.doc as Dashboard, stored.updatedAt)
    : dashboardJson(templateId, emptyDashboard(), null);
}

/** Checks a dashboard against a template and stores it; 400 naming the bad widget otherwise. */
export async function saveDashboard(s: Services, model: TemplateModel, raw: unknown) {
  const checked = checkDashboard(raw, model);
  if (!checked.ok) throw invalid(`dashboard: ${checked.message}`);
  const now = s.clock();
  await s.templates.putDashboard(model.template.id, checked.dashboard, now);
  return dashboardJson(model.template.id, checked.dashboard, now);
}

/** Web dashboards of templates (specs/blynk.md §10): GET and PUT the whole document. */
export function registerDashboardRoutes(app: FastifyInstance, s: Services): void {
  const ownModel = async (orgId: number, id: string): Promise<TemplateModel> => {
    const m = await s.registry.template(id);
    if (!m || m.template.orgId !== orgId) throw notFound('Template');
    return m;
  };

  app.get(
    '/api/v1/templates/:id/dashboard',
    { schema: { ...T, summary: "A template's web dashboard", params: idParam } },
    async (req) => {
      const { id } = req.params as { id: string };
      await ownModel(currentUser(req).orgId, id);
      return loadDashboard(s, id);
    },
  );

  app.put(
    '/api/v1/templates/:id/dashboard',
    {
      schema: {
        ...T,
        summary: "Replace a template's web dashboard",
        description:
          'Tabs of widgets {id, type, title, datastream, x, y, w, h, settings} on a 12-column grid. ' +
          `Widget types: ${Object.keys(WIDGET_TYPES).join(', ')}; each binds only the datastream types it supports.`,
        params: idParam,
        body: { type: 'object', required: ['tabs'], properties: { tabs: { type: 'array' } } },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const model = await ownModel(currentUser(req).orgId, id);
      return saveDashboard(s, model, req.body);
    },
  );
}
