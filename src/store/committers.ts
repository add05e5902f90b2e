import { Worker } from 'node:worker_threads';
import type { Database as SqliteConnection } from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { applyOps, type FoldedBatch, foldOps } from './apply-ops.ts';
import type { DialectCapabilities } from './capabilities.ts';
import type { Database } from './schema.ts';
import { SqliteBatchStatements } from './sqlite-batch-statements.ts';
import type { WriteOp } from './write-ops.ts';

/** Commits one batch of ops in one transaction; resolves once it is durable. */
export interface Committer {
  /** How many batches may be handed over before the first is committed (order is kept). */
  readonly maxInFlight: number;
  commit(ops: WriteOp[]): Promise<void>;
  close(): Promise<void>;
}

/** Commits on the given Kysely instance (PostgreSQL: asynchronous by nature). */
export class KyselyCommitter implements Committer {
  // Concurrent transactions could reorder an online/offline pair: one at a time.
  readonly maxInFlight = 1;
  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps: DialectCapabilities,
  ) {}
  async commit(ops: WriteOp[]): Promise<void> {
    await this.db.transaction().execute((trx) => applyOps(trx, this.caps, ops));
  }
  async close(): Promise<void> {}
}

/**
 * Commits on a worker thread with its own SQLite connection (PINWHEEL_SQLITE_WRITER=thread). better-sqlite3 is synchronous:
 * on the main thread every fsync would stop the server; here requests keep arriving during
 * a commit and queue up for the next one, which is what makes group commit work.
 */
export class SqliteWorkerCommitter implements Committer {
  // The thread commits in arrival order; a second batch waiting there keeps it busy.
  readonly maxInFlight = 1;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor(file: string, synchronous: 'FULL' | 'NORMAL') {
    // The entry is plain JavaScript that registers the TypeScript loader in the thread.
    this.worker = new Worker(new URL('./sqlite-writer-worker.mjs', import.meta.url), {
      workerData: { file, synchronous },
    });
    this.worker.on('message', (m: { id: number; ok: boolean; message?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.ok) p.resolve();
      else p.reject(new Error(m.message ?? 'write failed'));
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => this.failAll(new Error(`SQLite writer thread exited with code ${code}`)));
    this.worker.unref();
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private send(msg: { batch?: FoldedBatch; close?: true }): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keep the process alive while a commit is outstanding, and only then.
      this.worker.ref();
      this.worker.postMessage({ id, ...msg });
    });
  }

  commit(ops: WriteOp[]): Promise<void> {
    return this.send({ batch: foldOps(ops) });
  }

  async close(): Promise<void> {
    await this.send({ close: true });
    await this.worker.terminate();
  }
}

/**
 * Commits on the main thread with statements prepared once (SQLite, the default). Requests
 * that arrive while the event loop is busy committing queue up in the socket buffers and go
 * in the next batch. On a 2-core machine this measured faster than the writer thread: the
 * hand-over and thread wake-ups cost more than the short fsync they avoid.
 */
export class SqliteInlineCommitter implements Committer {
  readonly maxInFlight = 1;
  private readonly statements: SqliteBatchStatements;
  constructor(connection: SqliteConnection) {
    this.statements = new SqliteBatchStatements(connection);
  }
  async commit(ops: WriteOp[]): Promise<void> {
    this.statements.write(foldOps(ops));
  }
  async close(): Promise<void> {}
}
