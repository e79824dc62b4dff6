import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../../src/shared/db.js';
import { databases, openForSuite } from './adapters.js';

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

describe.each(databases)('database port ($name)', (adapter) => {
  let db: Database;
  openForSuite(adapter, (port) => (db = port));
  // Tables of our own: the run's PostgreSQL database is shared with every other test file.
  const suffix = randomBytes(4).toString('hex');
  const rowCountTable = `rowcount_contract_${suffix}`;
  const txTable = `tx_contract_${suffix}`;

  beforeAll(async () => {
    await db.exec(`CREATE TABLE ${rowCountTable} (n int PRIMARY KEY, flag boolean NOT NULL DEFAULT false)`);
    await db.exec(`CREATE TABLE ${txTable} (n int PRIMARY KEY)`);
  });
  // afterAll hooks run in reverse order (vitest's default), so the tables go before the adapter closes.
  afterAll(async () => {
    await db?.exec(`DROP TABLE IF EXISTS ${rowCountTable}, ${txTable}`);
  });

  /**
   * The port promises `pg`'s meaning of rowCount on both adapters: rows returned by a SELECT or a
   * RETURNING clause, rows changed by an INSERT/UPDATE/DELETE without one, 0 for anything else.
   * Callers decide on it ("already migrated?", "enough money?"), so the adapters must never disagree.
   */
  describe('rowCount', () => {
    const reset = async (on: Queryable) => {
      await on.query(`DELETE FROM ${rowCountTable}`);
      await on.query(`INSERT INTO ${rowCountTable} (n) SELECT generate_series(1, 5)`);
    };
    const observe = async (on: Queryable) => {
      const observed: { what: string; rowCount: number; rows: number }[] = [];
      for (const step of steps(rowCountTable)) {
        const result = await on.query(step.sql, step.params);
        observed.push({ what: step.what, rowCount: result.rowCount, rows: result.rows.length });
      }
      return observed;
    };
    const expected = steps(rowCountTable).map((step) => ({
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
      const { rowCount } = await db.query(`CREATE TABLE IF NOT EXISTS ${rowCountTable} (n int PRIMARY KEY)`);
      expect(rowCount).toBe(0);
    });
  });

  describe('transactions', () => {
    const stored = async () => (await db.query<{ n: number }>(`SELECT n FROM ${txTable} ORDER BY n`)).rows.map((row) => row.n);

    it('commits when the function resolves, and returns what it returned', async () => {
      await db.query(`DELETE FROM ${txTable}`);
      const result = await db.withTx(async (tx) => {
        await tx.query(`INSERT INTO ${txTable} (n) VALUES ($1), ($2)`, [1, 2]);
        return 'done';
      });
      expect(result).toBe('done');
      expect(await stored()).toEqual([1, 2]);
    });

    it('rolls back every statement when the function throws, and rethrows its error', async () => {
      await db.query(`DELETE FROM ${txTable}`);
      const failure = new Error('changed my mind');
      const attempt = db.withTx(async (tx) => {
        await tx.query(`INSERT INTO ${txTable} (n) VALUES (1)`);
        await tx.query(`UPDATE ${txTable} SET n = 2 WHERE n = 1`);
        throw failure;
      });
      await expect(attempt).rejects.toBe(failure);
      expect(await stored()).toEqual([]);
    });

    it('rolls back the statements before one the database refuses', async () => {
      await db.query(`DELETE FROM ${txTable}`);
      await db.query(`INSERT INTO ${txTable} (n) VALUES (1)`);
      const attempt = db.withTx(async (tx) => {
        await tx.query(`INSERT INTO ${txTable} (n) VALUES (10)`);
        await tx.query(`INSERT INTO ${txTable} (n) VALUES (1)`);
      });
      await expect(attempt).rejects.toThrow(/duplicate key/);
      expect(await stored()).toEqual([1]);
    });
  });

  it('reads bigint and numeric as plain numbers, in and outside a transaction', async () => {
    const sql = 'SELECT 9007199254740991::int8 AS big, 12.5::numeric AS amount, count(*) AS counted FROM (VALUES (1), (2)) AS v(x)';
    const expected = [{ big: 9_007_199_254_740_991, amount: 12.5, counted: 2 }];
    expect((await db.query(sql)).rows).toEqual(expected);
    expect((await db.withTx((tx) => tx.query(sql))).rows).toEqual(expected);
  });
});
