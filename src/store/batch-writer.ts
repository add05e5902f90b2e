import type { Committer } from './committers.ts';
import type { WriteOp } from './write-ops.ts';

/** A batch could not be committed: nothing in it was written. */
export class StorageError extends Error {
  override name = 'StorageError';
}

interface Pending {
  ops: WriteOp[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit. Writes that arrive while a transaction is being committed wait and go
 * together in the next one, so a burst of N requests costs a handful of commits, not N.
 * `write()` resolves only after the transaction holding its ops has committed (on SQLite
 * with synchronous=FULL: after fsync), so a caller that answers after awaiting it never
 * acknowledges a value that could be lost.
 */
export class BatchWriter {
  private queue: Pending[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private scheduled = false;
  private closed = false;
  /** Commits made so far (observable for tests and the benchmark). */
  commits = 0;

  constructor(
    private readonly committer: Committer,
    private readonly maxOpsPerCommit = 20_000,
  ) {}

  write(ops: WriteOp[]): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('writer is closed'));
    if (ops.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      this.schedule();
    });
  }

  /** Waits for the end of this turn of the event loop, so that requests arriving together commit together. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Hands queued writes to the committer while it has room; each hand-over is one transaction. */
  private pump(): void {
    while (this.queue.length > 0 && this.inFlight.size < this.committer.maxInFlight) {
      const batch: Pending[] = [];
      let size = 0;
      while (
        this.queue.length > 0 &&
        (batch.length === 0 || size + this.queue[0]!.ops.length <= this.maxOpsPerCommit)
      ) {
        const p = this.queue.shift()!;
        batch.push(p);
        size += p.ops.length;
      }
      const done: Promise<void> = this.commit(batch).finally(() => {
        this.inFlight.delete(done);
        this.pump();
      });
      this.inFlight.add(done);
    }
  }

  /** Commits everything queued so far; resolves when nothing is queued or in flight. */
  async flush(): Promise<void> {
    this.pump();
    while (this.inFlight.size > 0 || this.queue.length > 0) {
      if (this.inFlight.size > 0) await Promise.race(this.inFlight);
      this.pump();
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    const ops = batch.length === 1 ? batch[0]!.ops : batch.flatMap((p) => p.ops);
    try {
      await this.committer.commit(ops);
      this.commits += 1;
      for (const p of batch) p.resolve();
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(new StorageError(err instanceof Error ? err.message : String(err), { cause: err }));
        return;
      }
      // One request's ops must not sink its neighbours: retry each on its own.
      for (const p of batch) await this.commit([p]);
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.committer.close();
  }
}
