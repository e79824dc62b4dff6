import type { Queryable } from './db.js';

/** `:name` placeholders; `::type` casts are left alone. */
const PLACEHOLDER = /(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * One SQL statement with named parameters, compiled once to PostgreSQL's `$1, $2…`. The statement's
 * parameter object is typed, so a call site names every value it passes: no positional array to
 * misorder. Rows are typed too; select with `AS "camelCase"` aliases so no snake_case leaves the file.
 */
export interface Statement<Params, Row> {
  /** As written, with `:name` placeholders (pgbench reads the same syntax as its variables). */
  readonly source: string;
  /** As sent, with `$n` placeholders. */
  readonly text: string;
  /** All rows. */
  rows(db: Queryable, params: Params): Promise<Row[]>;
  /** The first row, or undefined. */
  first(db: Queryable, params: Params): Promise<Row | undefined>;
  /** Rows returned or changed, as the database reports it. */
  count(db: Queryable, params: Params): Promise<number>;
}

export interface StatementOptions {
  /**
   * Prepared once per connection under this name: for the statements every purchase runs, so that
   * PostgreSQL does not parse and plan them again on each call (what pgbench's floor does with -M prepared).
   * Unique across the service.
   */
  prepared?: string;
}

const preparedNames = new Set<string>();

export function statement<Params extends object = Record<never, never>, Row = Record<string, unknown>>(
  source: string,
  options: StatementOptions = {},
): Statement<Params, Row> {
  const { prepared } = options;
  if (prepared !== undefined) {
    if (preparedNames.has(prepared)) throw new Error(`two statements are prepared as ${prepared}`);
    preparedNames.add(prepared);
  }
  const names: string[] = [];
  const text = source.replace(PLACEHOLDER, (_match, name: string) => {
    let index = names.indexOf(name);
    if (index === -1) index = names.push(name) - 1;
    return `$${index + 1}`;
  });
  const valuesOf = (params: Params) =>
    names.map((name) => {
      const value = (params as Record<string, unknown>)[name];
      // Undefined would be sent as NULL and silently match nothing; a missing parameter is a bug.
      if (value === undefined) throw new Error(`SQL parameter :${name} is missing`);
      return value;
    });
  const run = (db: Queryable, params: Params) => db.query<Row>(text, valuesOf(params), prepared);
  return {
    source,
    text,
    rows: async (db, params) => (await run(db, params)).rows,
    first: async (db, params) => (await run(db, params)).rows[0],
    count: async (db, params) => (await run(db, params)).rowCount,
  };
}

/**
 * Rule: time in SQL is PostgreSQL's. The decision time inside SQL: the time a test clock pinned, else the database's own `now()` (the
 * transaction's start, so every statement of one transaction agrees). Never an instance's wall clock.
 * Statements that use it take `now: Date | null`.
 */
export const NOW = 'coalesce(:now::timestamptz, now())';

/** A duration in milliseconds as an interval, for `NOW + …`. */
export const millis = (name: string) => `(:${name}::float8 * interval '1 millisecond')`;

/**
 * SQL text with each `:name` replaced by `values[name]` (a PL/pgSQL variable, a literal): how a function
 * body runs the very statements and rules the services are written with. A name without a value is a bug.
 */
export function bindNames(source: string, values: Readonly<Record<string, string>>): string {
  return source.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`SQL parameter :${name} has no value here`);
    return value;
  });
}

/** A timestamptz as the API writes it (`2026-12-01T10:00:00.123Z`, milliseconds cut like a JS Date's), for JSON built in SQL. */
export const isoSql = (expression: string) => `to_char(${expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
