export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** Anything that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  /**
   * `name` prepares the statement once per connection under that name (PostgreSQL parses and plans it
   * once, not on every call); one name must always carry the same text. Adapters without named
   * statements ignore it.
   */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[], name?: string): Promise<QueryResult<Row>>;
  /** Runs a multi-statement script without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/**
 * The database port. SQL is written once and runs on both adapters: `pg` (db.pg.ts, a pool, the
 * production path) and PGlite (db.pglite.ts, in-process Postgres, the embedded default).
 */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one transaction (READ COMMITTED); commits when it resolves, rolls back when it throws. */
  withTx<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * Money and counts are bigint in SQL but always far below 2^53, so the port reads them as plain numbers;
 * both adapters install these parsers, so a row looks the same whichever one ran the query.
 */
export const numberParsers: Record<number, (value: string) => number> = {
  [INT8_OID]: (value) => Number(value),
  [NUMERIC_OID]: (value) => Number(value),
};
