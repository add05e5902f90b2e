import type { BusEvent, BusListener, EventBus } from './events.ts';

/** In-process bus: listeners are called synchronously; a throwing listener harms no other. */
export class MemoryBus implements EventBus {
  private readonly listeners = new Set<BusListener>();
  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  publish(event: BusEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  broadcast(): void {
    // a single instance has no one else to tell
  }

  subscribe(listener: BusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
