import pg from 'pg';
import { numberParsers, type Database, type Queryable, type QueryResult } from './db.js';

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
    async query<Row>(sql: string, params: readonly unknown[] = [], name?: string) {
      return toResult<Row>(await pool.query({ text: sql, values: params as unknown[], ...(name ? { name } : {}) }));
    },
    async exec(script: string) {
      await pool.query(script);
    },
    async withTx<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      const tx: Queryable = {
        async query<Row>(sql: string, params: readonly unknown[] = [], name?: string) {
          return toResult<Row>(await client.query({ text: sql, values: params as unknown[], ...(name ? { name } : {}) }));
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
