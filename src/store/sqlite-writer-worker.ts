import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { applyOps } from './apply-ops.ts';
import { sqliteCapabilities } from './capabilities.ts';
import type { Database } from './schema.ts';
import type { WriteOp } from './write-ops.ts';

/**
 * The SQLite write-behind thread: applies batches of ops in transactions on its own
 * connection, so the main thread keeps serving requests while a commit is being fsynced.
 */
const { file, synchronous } = workerData as { file: string; synchronous: 'FULL' | 'NORMAL' };
const sqlite = new SqliteDatabase(file);
sqlite.pragma('journal_mode = WAL');
sqlite.pragma(`synchronous = ${synchronous}`);
sqlite.pragma('busy_timeout = 5000');
const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });

let chain: Promise<void> = Promise.resolve();
parentPort!.on('message', (msg: { id: number; ops?: WriteOp[]; close?: true }) => {
  chain = chain.then(async () => {
    if (msg.close) {
      await db.destroy();
      parentPort!.postMessage({ id: msg.id, ok: true });
      return;
    }
    try {
      await db.transaction().execute((trx) => applyOps(trx, sqliteCapabilities, msg.ops ?? []));
      parentPort!.postMessage({ id: msg.id, ok: true });
    } catch (err) {
      parentPort!.postMessage({ id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) });
    }
  });
});
