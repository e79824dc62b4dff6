import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { inject } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { startBackgroundJobs, type BackgroundJobs } from '../../../src/background.js';
import { loadConfig } from '../../../src/config.js';
import { openInfrastructure, type OpenInfrastructure } from '../../../src/infrastructure.js';
import { createServices, type Services } from '../../../src/services.js';
import type { Clock } from '../../../src/shared/clock.js';
import { ManualClock } from '../../../src/shared/clock.manual.js';
import { systemClock } from '../../../src/shared/clock.system.js';
import { ApiClient } from '../../../tools/http/api-client.js';

export const ADMIN_KEY = 'faults-admin-key-faults-admin-key-01';
export const TOKEN_SECRET = 'faults-secret-faults-secret-faults-0123';

/** A key prefix of our own under the run's prefix (removed by the global teardown with the rest). */
export const redisPrefixFor = (scope: string) => `${inject('redisPrefix')}faults:${scope}:${randomUUID().slice(0, 8)}:`;

/** The run's database URL with host and port replaced, to go through a proxy. */
export function databaseUrlVia(port: number): string {
  const url = new URL(inject('databaseUrl'));
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString();
}

export function databaseTarget(): { host: string; port: number } {
  const url = new URL(inject('databaseUrl'));
  return { host: url.hostname, port: Number(url.port || 5432) };
}

/** Settings every fault app shares; each test overrides what it breaks. */
export function baseEnv(scope: string): Record<string, string> {
  return {
    TOKEN_SECRET,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    SEED_DEMO: 'false',
    QUEUE_MAX_ACTIVE: '10000',
    QUEUE_ACTIVE_PER_SEAT: '1000',
    QUEUE_ADMIT_PER_SECOND: '10000',
    DATABASE_POOL_SIZE: '8',
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: redisPrefixFor(scope),
    RATE_LIMIT_QUEUE_JOINS_PER_MINUTE: '100000',
    RATE_LIMIT_HOLDS_PER_MINUTE: '100000',
    RATE_LIMIT_CHARGES_PER_MINUTE: '1000000',
    RATE_LIMIT_PAYMENTS_PER_MINUTE: '1000000',
    RATE_LIMIT_CANCELS_PER_MINUTE: '1000000',
  };
}

export interface FaultApp {
  app: FastifyInstance;
  services: Services;
  infra: OpenInfrastructure;
  clock: Clock;
  baseUrl: string;
  http: ApiClient;
  close(): Promise<void>;
}

/**
 * The whole service in this process, listening on loopback. Unlike the API tests' app it can run on the
 * system clock with the background jobs (admission, hold sweeper) running, as in production.
 */
export async function startFaultApp(
  env: Record<string, string>,
  options: { clock?: Clock | 'manual'; jobs?: boolean; logger?: pino.Logger } = {},
): Promise<FaultApp & { manualClock?: ManualClock }> {
  const config = loadConfig(env);
  const manual = options.clock === 'manual' ? new ManualClock() : undefined;
  const clock: Clock = manual ?? (options.clock === 'manual' ? undefined : options.clock) ?? systemClock;
  const log = options.logger ?? pino({ level: 'silent' });
  const infra = await openInfrastructure(config, log, clock);
  const services = createServices(infra, log);
  const app = await buildApp(services, { redis: infra.redis, logger: log });
  let jobs: BackgroundJobs | undefined;
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    if (options.jobs) jobs = startBackgroundJobs(services, infra.db, clock, log);
  } catch (error) {
    await app.close().catch(() => undefined);
    await infra.close().catch(() => undefined);
    throw error;
  }
  const { port } = app.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const http = faultClient(baseUrl);
  return {
    app,
    services,
    infra,
    clock,
    ...(manual ? { manualClock: manual } : {}),
    baseUrl,
    http,
    async close() {
      await jobs?.stop().catch(() => undefined);
      // Teardown must not wait for requests a fault left hanging (or sockets clients left open).
      app.server.closeAllConnections();
      http.close();
      await app.close().catch(() => undefined);
      await infra.close().catch(() => undefined);
    },
  };
}

/** Real HTTP to a fault test's service, with the faults' admin key and a deadline on every call (15 s unless told). */
export function faultClient(baseUrl: string, timeoutMs = 15_000): ApiClient {
  return ApiClient.http(baseUrl, { adminKey: ADMIN_KEY, timeoutMs });
}

/** A direct connection to the run's database, past the service (and any proxy), to read what is true. */
export function openDatabase(): pg.Pool {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  pool.on('error', () => undefined);
  return pool;
}
