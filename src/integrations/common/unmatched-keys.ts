/** Payload keys that fit no datastream, counted per integration: why nothing updates. */
export interface UnmatchedKey {
  key: string;
  count: number;
  lastValue: unknown;
  lastSeenAt: number;
  [context: string]: unknown;
}

export class UnmatchedKeys {
  private readonly keys = new Map<string, UnmatchedKey>();
  constructor(private readonly max = 200) {}

  /** `context` says where it was last seen (device id, event name...). */
  record(key: string, value: unknown, now: number, context: Record<string, unknown>): void {
    const cur = this.keys.get(key);
    if (cur) {
      Object.assign(cur, context, { count: cur.count + 1, lastValue: value, lastSeenAt: now });
    } else if (this.keys.size < this.max) {
      this.keys.set(key, { key, count: 1, lastValue: value, lastSeenAt: now, ...context });
    }
  }

  list(): UnmatchedKey[] {
    return [...this.keys.values()].sort((a, b) => b.count - a.count);
  }
}
