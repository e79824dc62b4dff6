import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../../src/shared/db.pg.js';
import type { Database } from '../../src/shared/db.js';
import { migrate, migrationsDir } from '../../src/shared/migrate.js';
import { ownDatabase, type OwnDatabase } from '../support/test-app.js';

const INSTANCES = 8;

describe('schema migration when several instances start at once (PostgreSQL)', () => {
  let database: OwnDatabase;
  const pools: Database[] = [];

  beforeAll(async () => {
    database = await ownDatabase('migrate_race');
    for (let i = 0; i < INSTANCES; i++) {
      pools.push(createPostgresDatabase({ connectionString: database.url, maxConnections: 2, statementTimeoutMs: 10_000 }));
    }
  });
  afterAll(async () => {
    await Promise.all(pools.map((db) => db.close()));
    await database.drop();
  });

  it(`${INSTANCES} concurrent migrations on an empty database all succeed and apply each file exactly once`, async () => {
    const results = await Promise.allSettled(pools.map((db) => migrate(db)));
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);

    const files = (await readdir(migrationsDir)).filter((name) => /^\d+_.+\.sql$/.test(name)).sort();
    const appliedByEach = results.map((result) => (result as PromiseFulfilledResult<string[]>).value);
    expect(appliedByEach.flat().sort()).toEqual(files);
    const rows = await pools[0]!.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    expect(rows.rows.map((row) => row.name)).toEqual(files);
  });
});
