import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Database, Queryable } from './db.js';

export const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Any fixed number: every instance takes the same lock, so concurrent start-ups migrate one at a time. */
const MIGRATION_LOCK_KEY = 727_001;

/** Applies migrations/NNN_name.sql in order, each once, each in its own transaction. */
export async function migrate(db: Database, dir = migrationsDir): Promise<string[]> {
  const files = (await readdir(dir)).filter((name) => /^\d+_.+\.sql$/.test(name)).sort();
  const applied: string[] = [];
  /** A transaction under the migration lock, which every step takes: its own table's creation too. */
  const underLock = (work: (tx: Queryable) => Promise<unknown>) =>
    db.withTx(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await work(tx);
    });
  // Two concurrent CREATE TABLE IF NOT EXISTS can both miss the table, and one then fails on PostgreSQL's
  // catalog (a duplicate pg_type row) instead of finding it there.
  await underLock((tx) =>
    tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`),
  );
  for (const name of files) {
    const sql = await readFile(`${dir}${name}`, 'utf8');
    await underLock(async (tx) => {
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE name = $1', [name]);
      if (done.rowCount > 0) return;
      await tx.exec(sql);
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
      applied.push(name);
    });
  }
  return applied;
}
