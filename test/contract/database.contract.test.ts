import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Database, Queryable } from '../../src/shared/db.js';
import { createPostgresDatabase } from '../../src/shared/db.pg.js';
import { createPgliteDatabase } from '../../src/shared/db.pglite.js';

/**
 * The database port promises `pg`'s meaning of rowCount on both adapters: rows returned by a SELECT
 * or a RETURNING clause, rows changed by an INSERT/UPDATE/DELETE without one, 0 for anything else.
 * Callers decide on it ("already migrated?", "enough money?"), so the adapters must never disagree.
 */
const databases: { name: string; open(): Promise<Database> }[] = [
  {
    name: 'postgres',
    open: async () => createPostgresDatabase({ connectionString: inject('databaseUrl'), maxConnections: 2, statementTimeoutMs: 10_000 }),
  },
  { name: 'pglite (in memory)', open: () => createPgliteDatabase() },
];

interface Step {
  what: string;
  sql: string;
  params?: unknown[];
  rowCount: number;
}

/** Run in order against a table of five rows, n = 1..5, all with flag false. */
const steps = (table: string): Step[] => [
  { what: 'SELECT of every row', sql: `SELECT n FROM ${table}`, rowCount: 5 },
  { what: 'SELECT of one row', sql: `SELECT 1 FROM ${table} WHERE n = $1`, params: [3], rowCount: 1 },
  { what: 'SELECT of no row', sql: `SELECT 1 FROM ${table} WHERE n = $1`, params: [99], rowCount: 0 },
  { what: 'SELECT of an aggregate', sql: `SELECT count(*) FROM ${table}`, rowCount: 1 },
  { what: 'INSERT without RETURNING', sql: `INSERT INTO ${table} (n) VALUES (6), (7)`, rowCount: 2 },
  { what: 'INSERT … ON CONFLICT DO NOTHING that inserts nothing', sql: `INSERT INTO ${table} (n) VALUES (1) ON CONFLICT DO NOTHING`, rowCount: 0 },
  { what: 'INSERT … RETURNING', sql: `INSERT INTO ${table} (n) VALUES (8) RETURNING n`, rowCount: 1 },
  { what: 'UPDATE without RETURNING', sql: `UPDATE ${table} SET flag = true WHERE n <= $1`, params: [3], rowCount: 3 },
  { what: 'UPDATE that matches nothing', sql: `UPDATE ${table} SET flag = true WHERE n > $1`, params: [100], rowCount: 0 },
  { what: 'UPDATE … RETURNING', sql: `UPDATE ${table} SET flag = false WHERE n IN (1, 2) RETURNING n`, rowCount: 2 },
  { what: 'DELETE without RETURNING', sql: `DELETE FROM ${table} WHERE n >= $1`, params: [7], rowCount: 2 },
  { what: 'DELETE … RETURNING', sql: `DELETE FROM ${table} WHERE n = 6 RETURNING n`, rowCount: 1 },
  { what: 'SELECT … FOR UPDATE', sql: `SELECT n FROM ${table} WHERE n <= 2 FOR UPDATE`, rowCount: 2 },
  { what: 'a SELECT of a function', sql: 'SELECT pg_advisory_xact_lock($1)', params: [727_999], rowCount: 1 },
];

describe.each(databases)('database port: rowCount ($name)', ({ open }) => {
  let db: Database;
  // A table of our own: the run's PostgreSQL database is shared with every other test file.
  const table = `rowcount_contract_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await open();
    await db.exec(`CREATE TABLE ${table} (n int PRIMARY KEY, flag boolean NOT NULL DEFAULT false)`);
  });
  afterAll(async () => {
    await db?.exec(`DROP TABLE IF EXISTS ${table}`);
    await db?.close();
  });

  const reset = async (on: Queryable) => {
    await on.query(`DELETE FROM ${table}`);
    await on.query(`INSERT INTO ${table} (n) SELECT generate_series(1, 5)`);
  };
  const observe = async (on: Queryable) => {
    const observed: { what: string; rowCount: number; rows: number }[] = [];
    for (const step of steps(table)) {
      const result = await on.query(step.sql, step.params);
      observed.push({ what: step.what, rowCount: result.rowCount, rows: result.rows.length });
    }
    return observed;
  };
  const expected = steps(table).map((step) => ({
    what: step.what,
    rowCount: step.rowCount,
    // Only SELECT and RETURNING hand rows back.
    rows: /^SELECT|RETURNING/.test(step.sql) ? step.rowCount : 0,
  }));

  it('matches pg for SELECT, INSERT, UPDATE, UPDATE … RETURNING and DELETE outside a transaction', async () => {
    await reset(db);
    expect(await observe(db)).toEqual(expected);
  });

  it('matches pg inside a transaction (the migration runner and the services query there)', async () => {
    await reset(db);
    expect(await db.withTx((tx) => observe(tx))).toEqual(expected);
  });

  it('reports 0 for a statement that has no row count (DDL)', async () => {
    const { rowCount } = await db.query(`CREATE TABLE IF NOT EXISTS ${table} (n int PRIMARY KEY)`);
    expect(rowCount).toBe(0);
  });
});
