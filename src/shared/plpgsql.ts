import { bindNames } from './sql.js';

/**
 * PL/pgSQL functions written with the project's own statements. A hold or a payment is several
 * statements that must see each other's effects (a count after a row lock, a debit after the seats are
 * locked); as a function they run in one round trip, in one transaction, while each statement keeps
 * its fresh READ COMMITTED snapshot. The statements are the `statement()`s of the modules' .sql.ts
 * files, with their `:names` bound to the function's variables, so a rule's SQL is still written once.
 * `npm run db:functions` renders them into their migration; test/unit/purchase-functions.test.ts keeps
 * the migration in step with the code.
 */

/** Which variable or expression of the function stands for each `:name` of the statements it runs. */
export type Names = Readonly<Record<string, string>>;

/**
 * The body laid out by its blocks (statements spliced in from several places arrive with whatever
 * indentation they had): two spaces deeper after a line opening a block (`… THEN`, `… LOOP`, `BEGIN`,
 * `CASE …`), back before `END …` and `ELSE`.
 */
function layOut(body: string): string {
  let depth = 1;
  const lines: string[] = [];
  for (const line of body.split('\n').map((text) => text.trim()).filter((text) => text !== '')) {
    if (/^(END|ELSE|ELSIF)\b/.test(line)) depth--;
    lines.push(`${'  '.repeat(Math.max(depth, 1))}${line}`);
    if (/\b(THEN|LOOP|BEGIN)$/.test(line) || /^(ELSE|ELSIF)\b/.test(line) || (/^CASE\b/.test(line) && !line.endsWith(';'))) depth++;
  }
  return lines.join('\n');
}

/**
 * One statement of a function body, on one line. Give `into` for a statement whose row the function
 * reads: SELECT ... INTO fetches the first row only, so a statement that must lock several rows is
 * wrapped in an aggregate instead.
 */
export function step(statement: { source: string }, names: Names, into?: string): string {
  return `${bindNames(statement.source, names).replace(/\s+/g, ' ').trim()}${into ? ` INTO ${into}` : ''};`;
}

/** SQL text (a rule's fragment) with its `:names` bound. */
export const fragment = (sql: string, names: Names): string => bindNames(sql, names);

export interface FunctionDefinition {
  name: string;
  /** `[name, type]` of each argument, in call order. */
  args: readonly (readonly [string, string])[];
  /** `[name, type]` of each column of the one row returned. */
  out: readonly (readonly [string, string])[];
  /** `[name, type]` or `[name, type, initial value]` of each local variable. */
  variables: readonly (readonly [string, string, string?])[];
  body: string;
}

/** `CREATE OR REPLACE FUNCTION …`, returning one row of `out` columns. */
export function plpgsqlFunction(definition: FunctionDefinition): string {
  const args = [...definition.args.map(([name, type]) => `${name} ${type}`), ...definition.out.map(([name, type]) => `OUT ${name} ${type}`)];
  const variables = definition.variables.map(([name, type, initial]) => `  ${name} ${type}${initial === undefined ? '' : ` := ${initial}`};`);
  return [
    `CREATE OR REPLACE FUNCTION ${definition.name}(`,
    args.map((arg) => `  ${arg}`).join(',\n'),
    `) LANGUAGE plpgsql AS $function$`,
    `DECLARE`,
    ...variables,
    `BEGIN`,
    layOut(definition.body),
    `END`,
    `$function$;`,
  ].join('\n');
}
