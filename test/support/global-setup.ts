import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createPostgresDatabase } from '../../src/shared/db.pg.js';
import { migrate } from '../../src/shared/migrate.js';
import { createRedis } from '../../src/shared/redis.js';
import { deleteKeysWithPrefix } from '../../tools/redis-keys.js';

/**
 * One fresh PostgreSQL database and one Redis key prefix per test run, so runs never see each other's
 * data; both are removed at the end. Point TEST_POSTGRES_URL / TEST_REDIS_URL elsewhere if needed.
 */
const adminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    redisPrefix: string;
  }
}

export default async function setup(project: TestProject) {
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databaseName = `ticketing_test_${runId}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${databaseName}`);
  await admin.end();

  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${databaseName}`;
  const db = createPostgresDatabase({ connectionString: databaseUrl.toString(), maxConnections: 2, statementTimeoutMs: 30_000 });
  await migrate(db);
  await db.close();

  const redisPrefix = `test:${runId}:`;
  project.provide('databaseUrl', databaseUrl.toString());
  project.provide('redisUrl', redisUrl);
  project.provide('redisPrefix', redisPrefix);

  return async () => {
    const redis = createRedis(redisUrl, '');
    await deleteKeysWithPrefix(redis, redisPrefix);
    redis.disconnect();
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await cleanup.end();
  };
}
