import pg from 'pg';

export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** Anything that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Runs a multi-statement script without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/**
 * The database port. SQL is written once and runs on both adapters: `pg` (a pool, the production path)
 * and PGlite (in-process Postgres, the embedded default).
 */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one transaction (READ COMMITTED); commits when it resolves, rolls back when it throws. */
  withTx<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** Money and counts are bigint in SQL but always far below 2^53, so they are read as plain numbers. */
export const numberParsers: Record<number, (value: string) => number> = {
  [INT8_OID]: (value) => Number(value),
  [NUMERIC_OID]: (value) => Number(value),
};

export interface PostgresOptions {
  connectionString: string;
  maxConnections: number;
  statementTimeoutMs: number;
}

export function createPostgresDatabase(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections,
    connectionTimeoutMillis: 3_000,
    statement_timeout: options.statementTimeoutMs,
    // The server enforces statement_timeout only while it can be reached; a partitioned network needs a
    // client-side deadline too, and keepalive notices a dead peer on idle connections.
    query_timeout: options.statementTimeoutMs + 1_000,
    keepAlive: true,
    idle_in_transaction_session_timeout: options.statementTimeoutMs * 2,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        numberParsers[oid] ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its server emits here; without a listener the process would crash.
  pool.on('error', () => undefined);

  const toResult = <Row>(result: pg.QueryResult): QueryResult<Row> => ({
    rows: result.rows as Row[],
    rowCount: result.rowCount ?? 0,
  });

  return {
    kind: 'postgres',
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      return toResult<Row>(await pool.query(sql, params as unknown[]));
    },
    async exec(script: string) {
      await pool.query(script);
    },
    async withTx<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      const tx: Queryable = {
        async query<Row>(sql: string, params: readonly unknown[] = []) {
          return toResult<Row>(await client.query(sql, params as unknown[]));
        },
        async exec(script: string) {
          await client.query(script);
        },
      };
      let broken: Error | undefined;
      // A checked-out client has no pool listener: without this, a connection dropping mid-transaction
      // would be an unhandled 'error' event and take the process down.
      const onError = (error: Error) => {
        broken = error;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        client.off('error', onError);
        // A client whose connection failed or whose rollback failed is destroyed, never reused.
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
