import { PGlite, type Transaction } from '@electric-sql/pglite';
import { numberParsers, type Database, type Queryable, type QueryResult } from './db.js';

/**
 * The embedded adapter. PGlite is a single connection: its own `transaction()` runs one transaction at a
 * time and makes plain queries wait for it, which is exactly the serialization the port promises.
 * `dataDir` unset keeps everything in memory.
 */
export async function createPgliteDatabase(dataDir?: string): Promise<Database> {
  const db = await PGlite.create({
    dataDir,
    parsers: numberParsers,
    // On Node, PGlite's data directory is the host file system itself (no in-memory copy to sync, so
    // `relaxedDurability` and `syncToFs` change nothing here): what survives a kill -9 is what PostgreSQL
    // has written before it reports COMMIT. With synchronous_commit off the WAL would linger in memory,
    // and single-user PGlite has no WAL writer to flush it, so an idle process killed would lose its last
    // commits; pinned on, not inherited. PGlite starts with fsync off (-F): an OS crash or power loss may
    // still lose recent commits, which is why durable deployments set DATABASE_URL.
    startParams: [...PGlite.defaultStartParams, '-c', 'synchronous_commit=on'],
  });

  const run = async <Row>(target: PGlite | Transaction, sql: string, params: readonly unknown[]) => {
    const result = await target.query<Row>(sql, params as unknown[]);
    // `rowCount` is the number in the command tag, exactly what `pg` reports: rows returned for SELECT
    // and RETURNING, rows changed otherwise. `affectedRows` would not do: it counts only INSERT, UPDATE
    // and DELETE, so every SELECT would look empty ("no migration applied yet", "demo not seeded").
    // A tag without a number (DDL) leaves it unset, where `pg` says null; the port says 0.
    return { rows: result.rows, rowCount: result.rowCount ?? 0 } satisfies QueryResult<Row>;
  };

  return {
    kind: 'pglite',
    query: (sql, params = []) => run(db, sql, params),
    exec: async (script) => {
      await db.exec(script);
    },
    withTx: (fn) =>
      db.transaction((transaction) => {
        const tx: Queryable = {
          query: (sql, params = []) => run(transaction, sql, params),
          exec: async (script) => {
            await transaction.exec(script);
          },
        };
        return fn(tx);
      }),
    close: () => db.close(),
  };
}
