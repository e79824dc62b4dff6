import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openInfrastructure, type OpenInfrastructure } from '../../src/infrastructure.js';
import { createServices, type Services } from '../../src/services.js';
import { ManualClock } from '../../src/shared/clock.manual.js';
import { redisBackends, redisEnv, type RedisBackend } from './redis-backends.js';

export type Backend = RedisBackend | 'embedded';
/** Every API test file runs on each: PostgreSQL with standalone Redis, with Redis Cluster (when up), and embedded. */
export const backends: Backend[] = [...redisBackends, 'embedded'];

export const ADMIN_KEY = 'test-admin-key-test-admin-key-0123';
const silentLogger = pino({ level: 'silent' });

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  infra: OpenInfrastructure;
  clock: ManualClock;
  close(): Promise<void>;
}

/**
 * The whole service on the chosen backend, with a manual clock so expiry is tested by moving time,
 * not by sleeping. No background jobs run: tests call the sweeper and admission explicitly.
 */
export async function startTestApp(
  backend: Backend,
  env: Record<string, string> = {},
  options: { logger?: Logger } = {},
): Promise<TestApp> {
  const config = loadConfig({
    TOKEN_SECRET: 'test-secret-test-secret-test-secret-0123',
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    SEED_DEMO: 'false',
    QUEUE_MAX_ACTIVE: '1000',
    // Race tests admit hundreds of buyers to one 50-seat date; the per-seat cap is tested on its own.
    QUEUE_ACTIVE_PER_SEAT: '1000',
    QUEUE_ADMIT_PER_SECOND: '1000',
    DATABASE_POOL_SIZE: '20',
    // Every test user signs up from 127.0.0.1; the per-IP sign-up limit is tested on its own.
    RATE_LIMIT_SIGNUPS_PER_MINUTE: '1000000',
    // Race tests fire dozens of charges, payments and cancels from one user; the limits are tested on their own.
    RATE_LIMIT_CHARGES_PER_MINUTE: '1000000',
    RATE_LIMIT_PAYMENTS_PER_MINUTE: '1000000',
    RATE_LIMIT_CANCELS_PER_MINUTE: '1000000',
    ...(backend === 'embedded' ? {} : { DATABASE_URL: inject('databaseUrl'), ...redisEnv(backend), REDIS_KEY_PREFIX: inject('redisPrefix') }),
    ...env,
  });
  const clock = new ManualClock();
  const infra = await openInfrastructure(config, silentLogger, clock);
  const services = createServices(infra, silentLogger);
  const app = await buildApp(services, { redis: infra.redis, logger: options.logger });
  await app.ready();
  return {
    app,
    services,
    infra,
    clock,
    async close() {
      await app.close();
      await infra.close();
    },
  };
}

/** A database of its own for one test file, on the run's PostgreSQL; `drop` removes it. */
export interface OwnDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * An empty database beside the run's, for a test file whose services must not share one: other files
 * move their clocks and run the hold sweeper, which acts on every row of a shared database, and every
 * instance draws the due openings it finds there, from the pre-queue of its own key prefix. The services
 * migrate it as they start.
 */
export async function ownDatabase(scope: string): Promise<OwnDatabase> {
  const runUrl = new URL(inject('databaseUrl'));
  const name = `${runUrl.pathname.slice(1)}_${scope.slice(0, 16)}_${randomBytes(3).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: runUrl.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(runUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * The test app for one API test file. On PostgreSQL + Redis (either topology) it gets a database of its
 * own (ownDatabase) and a key prefix of its own under the run's prefix (removed by the global teardown):
 * admission steps act on every event of a shared prefix.
 */
export async function startApiApp(backend: Backend, scope: string, env: Record<string, string> = {}): Promise<TestApp> {
  if (backend === 'embedded') return startTestApp(backend, env);
  const database = await ownDatabase(`api_${scope.slice(0, 12)}`);
  const t = await startTestApp(backend, {
    DATABASE_URL: database.url,
    REDIS_KEY_PREFIX: `${inject('redisPrefix')}api:${scope}:${randomUUID().slice(0, 8)}:`,
    ...env,
  });
  const close = t.close.bind(t);
  t.close = async () => {
    await close();
    await database.drop();
  };
  return t;
}
