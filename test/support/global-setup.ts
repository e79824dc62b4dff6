import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { parseHostPorts } from '../../src/config.js';
import { createPostgresDatabase } from '../../src/shared/db.pg.js';
import { migrate } from '../../src/shared/migrate.js';
import { createRedis, createRedisCluster, whenReady, type HostPort } from '../../src/shared/redis.js';
import { deleteKeysWithPrefix } from '../../tools/redis-keys.js';

/**
 * One fresh PostgreSQL database and one Redis key prefix per test run, so runs never see each other's
 * data; both are removed at the end. Point TEST_POSTGRES_URL / TEST_REDIS_URL / TEST_REDIS_CLUSTER_NODES
 * elsewhere if needed.
 */
const adminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The cluster `.ci/run` starts (`bash .ci/run redis-cluster` starts only that). */
const redisClusterNodes =
  process.env.TEST_REDIS_CLUSTER_NODES ?? [7001, 7002, 7003, 7004, 7005, 7006].map((port) => `127.0.0.1:${port}`).join(',');

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    redisPrefix: string;
    redisClusterNodes: string;
    /** Whether the tests also run on the Redis Cluster (the `postgres+cluster` backend). */
    redisClusterUp: boolean;
  }
}

/** True once the cluster answers and says every slot is served. */
async function clusterAnswers(nodes: HostPort[]): Promise<boolean> {
  const cluster = createRedisCluster(nodes, '');
  try {
    if (!(await whenReady(cluster, 3_000))) return false;
    const info = String(await cluster.cluster('INFO'));
    return /cluster_state:ok/.test(info);
  } catch {
    return false;
  } finally {
    cluster.disconnect();
  }
}

export default async function setup(project: TestProject) {
  const nodes = parseHostPorts(redisClusterNodes);
  if (typeof nodes === 'string') throw new Error(`TEST_REDIS_CLUSTER_NODES: ${nodes}`);
  const clusterUp = await clusterAnswers(nodes);
  if (!clusterUp) {
    const message = `Redis Cluster at ${redisClusterNodes} does not answer; start it with \`bash .ci/run redis-cluster\``;
    // In CI a missing cluster is a broken set-up, not a reason to test less.
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`${message} (CI is set: the cluster backend may not be skipped)`);
    console.warn(`\n*** ${message}. The postgres+cluster backend is SKIPPED in this run. ***\n`);
  }

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
  project.provide('redisClusterNodes', redisClusterNodes);
  project.provide('redisClusterUp', clusterUp);

  return async () => {
    const redis = createRedis(redisUrl, '');
    await deleteKeysWithPrefix(redis, redisPrefix);
    redis.disconnect();
    if (clusterUp) {
      const cluster = createRedisCluster(nodes, '');
      await whenReady(cluster, 5_000);
      await deleteKeysWithPrefix(cluster, redisPrefix).catch((error: Error) => console.warn(`could not clean the cluster: ${error.message}`));
      cluster.disconnect();
    }
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await cleanup.end();
  };
}
