import fs from 'node:fs/promises';
import path from 'node:path';
import type { Device } from '../domain/model.ts';
import { hashToken, newDeviceToken, newTemplateId } from '../security/tokens.ts';
import type { Services } from '../services.ts';
import type { Blueprint } from './loader.ts';
import { type RenderContext, renderFile } from './render.ts';

export interface AppliedBlueprint {
  templateId: string;
  devices: Device[];
  /** Output key → rendered file (JSON files parsed). */
  files: Record<string, unknown>;
}

/** "Particle Device", or "Particle Device 2", "… 3" when the organization already has one. */
export function uniqueName(base: string, taken: Set<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = ` ${n}`;
    const name = `${base.slice(0, 100 - suffix.length)}${suffix}`;
    if (!taken.has(name)) return name;
  }
}

/**
 * Creates the blueprint's template (datastreams get ids 1, 2, … in the blueprint's order),
 * metafields, lifecycle, dashboard and one device, then renders the blueprint's files for
 * that device. A failure half-way removes the template again.
 */
export async function applyBlueprint(
  s: Services,
  bp: Blueprint,
  opts: { orgId: number; deviceName?: string | undefined; serverUrl: string },
): Promise<AppliedBlueprint> {
  // Read the files first: a missing file fails before anything is written.
  const texts = new Map<string, string>();
  for (const file of Object.values(bp.files)) {
    texts.set(file, await fs.readFile(path.join(bp.dir, file), 'utf8'));
  }
  const taken = new Set((await s.templates.list(opts.orgId)).map((t) => t.name));
  const name = uniqueName(bp.template.name, taken);
  const now = s.clock();
  const templateId = newTemplateId();
  await s.templates.create({
    id: templateId,
    orgId: opts.orgId,
    name,
    description: bp.template.description,
    logAnyData: bp.lifecycle.logAnyData,
    offlineAfterSeconds: bp.lifecycle.offlineAfterSeconds,
    createdAt: now,
    updatedAt: now,
  });
  try {
    for (const d of bp.datastreams) await s.templates.addDatastream({ ...d, templateId }, now);
    for (const m of bp.metafields) await s.templates.addMetafield({ ...m, templateId });
    await s.templates.putDashboard(templateId, bp.dashboard, now);
    s.registry.invalidateTemplate(templateId);

    const token = newDeviceToken();
    const device = await s.devices.create({
      orgId: opts.orgId,
      templateId,
      name: (opts.deviceName ?? bp.deviceName ?? name).trim(),
      token,
      tokenHash: hashToken(token),
      metadata: new Map(),
      now,
    });
    const ctx: RenderContext = {
      serverUrl: opts.serverUrl,
      templateId,
      templateName: name,
      deviceId: String(device.id),
      deviceName: device.name,
      deviceToken: token,
      blueprintName: bp.name,
    };
    const files: Record<string, unknown> = {};
    const readOther = (f: string) => texts.get(f) ?? '';
    for (const [key, file] of Object.entries(bp.files)) {
      const out = renderFile(file, texts.get(file)!, ctx, readOther);
      files[key] = file.toLowerCase().endsWith('.json') ? JSON.parse(out) : out;
    }
    return { templateId, devices: [device], files };
  } catch (err) {
    await s.templates.delete(templateId).catch(() => undefined);
    s.registry.invalidateTemplate(templateId);
    throw err;
  }
}
