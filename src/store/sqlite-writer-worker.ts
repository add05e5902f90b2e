import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import type { FoldedBatch } from './apply-ops.ts';
import { SqliteBatchStatements } from './sqlite-batch-statements.ts';

/**
 * The SQLite write-behind thread: commits folded batches, one transaction each, in the
 * order they arrive, on its own connection, so the main thread keeps serving requests while
 * a commit is being fsynced. Each batch is answered only after its own commit.
 */
const { file, synchronous } = workerData as { file: string; synchronous: 'FULL' | 'NORMAL' };
const sqlite = new SqliteDatabase(file);
sqlite.pragma('journal_mode = WAL');
sqlite.pragma(`synchronous = ${synchronous}`);
sqlite.pragma('busy_timeout = 5000');
const statements = new SqliteBatchStatements(sqlite);

parentPort!.on('message', (msg: { id: number; batch?: FoldedBatch; close?: true }) => {
  if (msg.close) {
    sqlite.close();
    parentPort!.postMessage({ id: msg.id, ok: true });
    return;
  }
  try {
    statements.write(msg.batch!);
    parentPort!.postMessage({ id: msg.id, ok: true });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) });
  }
});
