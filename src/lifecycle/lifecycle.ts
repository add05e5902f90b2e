import type { EventBus, StatusEvent } from '../bus/events.ts';
import type { DeviceState, TemplateModel } from '../domain/model.ts';
import type { Registry } from '../ingest/registry.ts';
import type { BatchWriter } from '../store/batch-writer.ts';
import type { DevicesRepo } from '../store/devices-repo.ts';
import type { WriteOp } from '../store/write-ops.ts';

export interface StatusChange {
  ops: WriteOp[];
  event: StatusEvent;
}

/**
 * Connection lifecycle for devices that talk through stateless channels (HTTP, The Things
 * Stack, Particle). With the template's "log when device reports any data" on, any data
 * marks the device online and it goes offline `offlineAfterSeconds` after its last data.
 * Both changes land on the timeline and the bus (WebSocket).
 */
export class Lifecycle {
  private readonly deadlines = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;

  constructor(
    private readonly registry: Registry,
    private readonly writer: BatchWriter,
    private readonly bus: EventBus,
    private readonly onError: (err: unknown) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Called by the ingest pipeline for device data; returns the online change to store, if any. */
  activity(state: DeviceState, model: TemplateModel, now: number): StatusChange | undefined {
    const t = model.template;
    if (!t.logAnyData) return undefined;
    this.deadlines.set(state.device.id, now + t.offlineAfterSeconds * 1000);
    if (state.device.online) return undefined;
    state.device.online = true;
    return this.change(state, true, now);
  }

  /**
   * A channel that knows the device's connection state (Particle's `spark/status`) sets it:
   * stored, on the timeline and on the bus when it changes. Offline also stops the data timer.
   */
  async setOnline(state: DeviceState, online: boolean, ts = this.clock()): Promise<boolean> {
    if (!online) this.deadlines.delete(state.device.id);
    if (state.device.online === online) return false;
    state.device.online = online;
    const change = this.change(state, online, ts);
    await this.writer.write(change.ops);
    this.bus.publish(change.event);
    return true;
  }

  /** Another instance saw data from this device: keep our timer in step. */
  extend(deviceId: number, until: number): void {
    const cur = this.deadlines.get(deviceId);
    if (cur !== undefined && until > cur) this.deadlines.set(deviceId, until);
  }

  private change(state: DeviceState, online: boolean, ts: number): StatusChange {
    const d = state.device;
    return {
      ops: [
        { kind: 'online', deviceId: d.id, online },
        { kind: 'timeline', deviceId: d.id, ts, type: online ? 'online' : 'offline', data: {} },
      ],
      event: { type: 'status', orgId: d.orgId, templateId: d.templateId, deviceId: d.id, online, ts },
    };
  }

  /** Resumes the timers of devices that were online when the process stopped. */
  async start(devicesRepo: DevicesRepo, sweepMs: number): Promise<void> {
    const now = this.clock();
    for (const d of await devicesRepo.onlineDevices()) {
      const model = await this.registry.template(d.templateId);
      const wait = (model?.template.offlineAfterSeconds ?? 60) * 1000;
      this.deadlines.set(d.id, (d.lastSeenAt ?? now) + wait);
    }
    this.timer = setInterval(() => void this.sweep(), sweepMs);
    this.timer.unref();
    await this.sweep();
  }

  /** Takes offline every device whose wait has run out. */
  async sweep(now = this.clock()): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const [id, deadline] of this.deadlines) {
        if (deadline > now) continue;
        this.deadlines.delete(id);
        const state = await this.registry.device(id);
        if (!state?.device.online) continue;
        state.device.online = false;
        const change = this.change(state, false, now);
        await this.writer.write(change.ops);
        this.bus.publish(change.event);
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.sweeping = false;
    }
  }

  forget(deviceId: number): void {
    this.deadlines.delete(deviceId);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
