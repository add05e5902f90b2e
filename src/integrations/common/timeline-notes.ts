import type { EventBus } from '../../bus/events.ts';
import type { DeviceState } from '../../domain/model.ts';
import type { WriteOp } from '../../store/write-ops.ts';

/** Integration notes on a device's timeline, at most one of a kind per device per interval. */
export class NoteLimiter {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly integration: { type: string; id: number },
    private readonly intervalMs: number,
    private readonly clock: () => number,
  ) {}

  note(state: DeviceState, kind: string, data: Record<string, unknown>, ops: WriteOp[]): void {
    const key = `${state.device.id}:${kind}`;
    const now = this.clock();
    const last = this.last.get(key);
    if (last !== undefined && now - last < this.intervalMs) return;
    this.last.set(key, now);
    if (this.last.size > 50_000) this.last.clear();
    const item = { integration: this.integration.type, integrationId: this.integration.id, kind, ...data };
    ops.push({ kind: 'timeline', deviceId: state.device.id, ts: now, type: 'integration_error', data: item });
  }
}

/** Announces the timeline items among `ops` (after they were stored) to live clients. */
export function publishTimeline(bus: EventBus, state: DeviceState, ops: WriteOp[]): void {
  for (const op of ops) {
    if (op.kind !== 'timeline') continue;
    bus.publish({
      type: 'timeline',
      orgId: state.device.orgId,
      deviceId: state.device.id,
      item: { ts: op.ts, type: op.type, ...op.data },
    });
  }
}
