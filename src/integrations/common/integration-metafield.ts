import type { EventBus } from '../../bus/events.ts';
import type { TemplateModel } from '../../domain/model.ts';
import type { Registry } from '../../ingest/registry.ts';
import type { TemplatesRepo } from '../../store/templates-repo.ts';

export interface MetafieldDeps {
  registry: Registry;
  templates: TemplatesRepo;
  bus: EventBus;
}

/**
 * The metafield an integration routes devices by ("TheThingsNetwork Device", "Particle Device
 * ID"): created on the template when missing, safely when two paths race to create it.
 */
export async function ensureMetafield(d: MetafieldDeps, templateId: string, name: string): Promise<number> {
  const model = await d.registry.template(templateId);
  if (!model) throw new Error('template is gone');
  const existing = model.metafields.find((m) => m.name === name);
  if (existing) return existing.id;
  try {
    const created = await d.templates.addMetafield({
      templateId,
      name,
      type: 'text',
      required: false,
      defaultValue: null,
    });
    return created.id;
  } catch (err) {
    const again = await d.templates.loadModel(templateId);
    const found = again?.metafields.find((m) => m.name === name);
    if (!found) throw err;
    return found.id;
  } finally {
    d.registry.invalidateTemplate(templateId);
    d.bus.broadcast({ type: 'invalidate', entity: 'template', id: templateId });
  }
}

export interface IntegrationContext {
  model: TemplateModel;
  metafieldId: number;
}

/** The template and the id of its routing metafield; undefined when the template is gone. */
export async function integrationContext(
  d: MetafieldDeps,
  templateId: string,
  metafieldName: string,
): Promise<IntegrationContext | undefined> {
  let model = await d.registry.template(templateId);
  if (!model) return undefined;
  let mf = model.metafields.find((m) => m.name === metafieldName);
  if (!mf) {
    await ensureMetafield(d, templateId, metafieldName);
    model = await d.registry.template(templateId);
    mf = model?.metafields.find((m) => m.name === metafieldName);
    if (!model || !mf) return undefined;
  }
  return { model, metafieldId: mf.id };
}
