import type { StoredValue } from '../domain/datastream.ts';

/** One unit of work for the batched writer. Ops of many requests share one transaction. */
export type WriteOp =
  | {
      kind: 'value';
      deviceId: number;
      pin: string;
      value: StoredValue;
      ts: number;
      /** Save raw data: every point kept; otherwise folded into a one-minute aggregate. */
      saveRaw: boolean;
    }
  | { kind: 'seen'; deviceId: number; ts: number }
  | { kind: 'online'; deviceId: number; online: boolean }
  | { kind: 'timeline'; deviceId: number; ts: number; type: string; data: Record<string, unknown> }
  | { kind: 'property'; deviceId: number; pin: string; property: string; value: unknown; ts: number }
  | { kind: 'firmware'; deviceId: number; version: string };
