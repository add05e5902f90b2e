import type { Logger } from 'pino';
import type { DeviceState } from '../../domain/model.ts';
import type { Registry } from '../../ingest/registry.ts';
import { hashToken, newDeviceToken } from '../../security/tokens.ts';
import type { DevicesRepo } from '../../store/devices-repo.ts';
import type { IntegrationContext } from './integration-metafield.ts';

export interface DirectoryDeps {
  devices: DevicesRepo;
  registry: Registry;
  clock: () => number;
  log: Logger;
}

/**
 * An integration's map from external device ids (TTS device id, Particle coreid) to devices
 * of its template, through the routing metafield. A device missing on first contact is created
 * when allowed; two messages from a new device at once create it once. On an id collision the
 * oldest device wins, consistently.
 */
export class DeviceDirectory {
  private readonly ids = new Map<string, number>();
  private readonly creating = new Map<string, Promise<DeviceState | undefined>>();

  constructor(
    private readonly d: DirectoryDeps,
    private readonly scope: { orgId: number; templateId: string; what: string },
  ) {}

  /** `create`: how to name a new device, or false to only find existing ones. */
  async resolve(
    externalId: string,
    ctx: IntegrationContext,
    create: false | (() => Promise<string>),
  ): Promise<DeviceState | undefined> {
    const cached = this.ids.get(externalId);
    if (cached !== undefined) {
      const state = await this.d.registry.device(cached);
      if (
        state &&
        state.device.templateId === this.scope.templateId &&
        state.device.metadata.get(ctx.metafieldId) === externalId
      ) {
        return state;
      }
      this.ids.delete(externalId);
    }
    const inFlight = this.creating.get(externalId);
    if (inFlight) return inFlight;
    const p = (async () => {
      const [id] = await this.d.devices.findByMetafield(this.scope.templateId, ctx.metafieldId, externalId);
      if (id !== undefined) {
        this.ids.set(externalId, id);
        return this.d.registry.device(id);
      }
      if (!create) return undefined;
      const name = await create();
      const token = newDeviceToken();
      const device = await this.d.devices.create({
        orgId: this.scope.orgId,
        templateId: this.scope.templateId,
        name: name.slice(0, 60),
        token,
        tokenHash: hashToken(token),
        metadata: new Map([[ctx.metafieldId, externalId]]),
        now: this.d.clock(),
      });
      this.ids.set(externalId, device.id);
      this.d.log.info({ externalId, deviceId: device.id }, `device created from its first ${this.scope.what}`);
      return this.d.registry.device(device.id);
    })();
    this.creating.set(externalId, p);
    try {
      return await p;
    } finally {
      this.creating.delete(externalId);
    }
  }

  /** Forgets routes to a device (deleted, or its metafield edited). */
  forget(deviceId: number): void {
    for (const [ext, id] of this.ids) if (id === deviceId) this.ids.delete(ext);
  }
}
