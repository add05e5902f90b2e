import type { DeviceState, TemplateModel } from '../domain/model.ts';
import { hashToken } from '../security/tokens.ts';
import type { DevicesRepo } from '../store/devices-repo.ts';
import type { TemplatesRepo } from '../store/templates-repo.ts';

/**
 * Serves token → device, device → template and latest values from memory. Entries load on
 * first use and are dropped on change (locally, and on other instances via the bus).
 */
export class Registry {
  private readonly templates = new Map<string, Promise<TemplateModel | undefined>>();
  private readonly devices = new Map<number, Promise<DeviceState | undefined>>();
  private readonly tokens = new Map<string, number>();
  /** Settled entries, for the synchronous fast path of the device API. */
  private readonly loadedTemplates = new Map<string, TemplateModel>();
  private readonly loadedDevices = new Map<number, DeviceState>();

  constructor(
    private readonly templatesRepo: TemplatesRepo,
    private readonly devicesRepo: DevicesRepo,
  ) {}

  template(id: string): Promise<TemplateModel | undefined> {
    let p = this.templates.get(id);
    if (!p) {
      p = this.templatesRepo.loadModel(id);
      this.templates.set(id, p);
      p.then(
        (m) => {
          if (!m && this.templates.get(id) === p) this.templates.delete(id);
          if (m && this.templates.get(id) === p) this.loadedTemplates.set(id, m);
        },
        () => this.templates.delete(id),
      );
    }
    return p;
  }

  device(id: number): Promise<DeviceState | undefined> {
    let p = this.devices.get(id);
    if (!p) {
      p = this.loadDevice(id);
      this.devices.set(id, p);
      p.then(
        (s) => {
          if (!s && this.devices.get(id) === p) this.devices.delete(id);
          if (s && this.devices.get(id) === p) {
            this.tokens.set(s.device.token, id);
            this.loadedDevices.set(id, s);
          }
        },
        () => this.devices.delete(id),
      );
    }
    return p;
  }

  /** A device already in memory, without touching the database. */
  async cachedDevice(id: number): Promise<DeviceState | undefined> {
    const p = this.devices.get(id);
    return p ? p : undefined;
  }

  /** A device and its template when both are already in memory; undefined otherwise. */
  loadedByToken(token: string): { state: DeviceState; model: TemplateModel } | undefined {
    const id = this.tokens.get(token);
    if (id === undefined) return undefined;
    const state = this.loadedDevices.get(id);
    if (!state || state.device.token !== token) return undefined;
    const model = this.loadedTemplates.get(state.device.templateId);
    return model ? { state, model } : undefined;
  }

  async deviceByToken(token: string): Promise<DeviceState | undefined> {
    const id = this.tokens.get(token) ?? (await this.devicesRepo.idByTokenHash(hashToken(token)));
    if (id === undefined) return undefined;
    const s = await this.device(id);
    if (!s || s.device.token !== token) return undefined;
    return s;
  }

  private async loadDevice(id: number): Promise<DeviceState | undefined> {
    const device = await this.devicesRepo.get(id);
    if (!device) return undefined;
    const latest = await this.devicesRepo.latestValues(id);
    return { device, latest };
  }

  invalidateTemplate(id: string): void {
    this.templates.delete(id);
    this.loadedTemplates.delete(id);
  }

  invalidateDevice(id: number): void {
    const p = this.devices.get(id);
    this.devices.delete(id);
    this.loadedDevices.delete(id);
    if (p) {
      void p.then((s) => {
        if (s) this.tokens.delete(s.device.token);
      });
    }
  }
}
