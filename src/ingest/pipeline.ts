import type { BusEvent, EventBus, ValueSource } from '../bus/events.ts';
import { DEVICE_SOURCES } from '../bus/events.ts';
import type { Datastream, StoredValue } from '../domain/datastream.ts';
import type { DeviceState, TemplateModel } from '../domain/model.ts';
import { parseValue, type RawValue } from '../domain/value-parser.ts';
import type { Lifecycle } from '../lifecycle/lifecycle.ts';
import type { BatchWriter } from '../store/batch-writer.ts';
import type { WriteOp } from '../store/write-ops.ts';

/** How often a busy device's last-seen time is written to the database. */
export const SEEN_PERSIST_INTERVAL_MS = 5_000;

export interface RawInput {
  datastream: Datastream;
  raw: RawValue;
  /** Unix ms; absent means "now". */
  ts?: number | undefined;
}

export interface AcceptedValue {
  datastream: Datastream;
  value: StoredValue;
  ts: number;
  clamped: boolean;
  fellBack: boolean;
}

export interface RejectedValue {
  datastream: Datastream;
  raw: RawValue;
  reason: 'type' | 'too_long' | 'empty';
}

export interface Prepared {
  accepted: AcceptedValue[];
  rejected: RejectedValue[];
}

/**
 * The one pipeline every channel calls: parse against the datastream, store (latest value,
 * history), mark device activity, and announce each accepted value once, with its source.
 * `prepare` is pure, so a caller can refuse a whole request before anything is written.
 */
export class IngestPipeline {
  constructor(
    private readonly writer: BatchWriter,
    private readonly bus: EventBus,
    private readonly lifecycle: Lifecycle,
    private readonly clock: () => number = Date.now,
  ) {}

  prepare(inputs: RawInput[], now = this.clock()): Prepared {
    const accepted: AcceptedValue[] = [];
    const rejected: RejectedValue[] = [];
    for (const input of inputs) {
      const r = parseValue(input.datastream, input.raw);
      if (r.ok) {
        accepted.push({
          datastream: input.datastream,
          value: r.value,
          ts: input.ts ?? now,
          clamped: r.clamped,
          fellBack: r.fellBack,
        });
      } else {
        rejected.push({ datastream: input.datastream, raw: input.raw, reason: r.reason });
      }
    }
    return { accepted, rejected };
  }

  /**
   * Stores accepted values and resolves once they are durable; then publishes them.
   * `extraOps` ride in the same transaction (timeline notes, firmware version...).
   */
  async commit(
    state: DeviceState,
    model: TemplateModel,
    values: AcceptedValue[],
    source: ValueSource,
    extraOps: WriteOp[] = [],
  ): Promise<void> {
    const now = this.clock();
    const { device } = state;
    const ops: WriteOp[] = [...extraOps];
    for (const v of values) {
      ops.push({
        kind: 'value',
        deviceId: device.id,
        pin: v.datastream.pin,
        value: v.value,
        ts: v.ts,
        saveRaw: v.datastream.saveRaw,
      });
    }
    const events: BusEvent[] = [];
    if (DEVICE_SOURCES.has(source)) {
      // Memory holds the exact last-seen time; the database gets it at most every few seconds
      // (it only matters after a restart), which saves a write per request under load.
      if (state.seenPersistedAt === undefined || now - state.seenPersistedAt >= SEEN_PERSIST_INTERVAL_MS) {
        ops.push({ kind: 'seen', deviceId: device.id, ts: now });
        state.seenPersistedAt = now;
      }
      if (device.lastSeenAt === null || now > device.lastSeenAt) device.lastSeenAt = now;
      const change = this.lifecycle.activity(state, model, now);
      if (change) {
        ops.push(...change.ops);
        events.push(change.event);
      }
    }
    await this.writer.write(ops);
    // Memory follows the database: a value is visible only once it is durable.
    const previous: Array<StoredValue | undefined> = [];
    for (const v of values) {
      const cur = state.latest.get(v.datastream.pin);
      previous.push(cur?.value);
      if (!cur || v.ts >= cur.ts) state.latest.set(v.datastream.pin, { value: v.value, ts: v.ts });
    }
    for (const e of events) this.bus.publish(e);
    for (const [i, v] of values.entries()) {
      const prev = previous[i];
      this.bus.publish({
        type: 'value',
        orgId: device.orgId,
        templateId: device.templateId,
        deviceId: device.id,
        pin: v.datastream.pin,
        datastreamId: v.datastream.id,
        value: v.value,
        ts: v.ts,
        source,
        ...(prev !== undefined ? { previous: prev } : {}),
      });
    }
  }

  /** Marks device activity with no values (e.g. an event logged over HTTP). */
  async touch(state: DeviceState, model: TemplateModel, source: ValueSource, extraOps: WriteOp[] = []): Promise<void> {
    await this.commit(state, model, [], source, extraOps);
  }
}
