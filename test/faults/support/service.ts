import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { expect, inject } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { startBackgroundJobs, type BackgroundJobs } from '../../../src/background.js';
import { loadConfig } from '../../../src/config.js';
import { openInfrastructure, type OpenInfrastructure } from '../../../src/infrastructure.js';
import { createServices, type Services } from '../../../src/services.js';
import { ManualClock, systemClock, type Clock } from '../../../src/shared/clock.js';
import { checkInvariants, type Violation } from '../../../tools/invariants.js';

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
  http: Http;
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
  return {
    app,
    services,
    infra,
    clock,
    ...(manual ? { manualClock: manual } : {}),
    baseUrl,
    http: new Http(baseUrl),
    async close() {
      await jobs?.stop().catch(() => undefined);
      // Teardown must not wait for requests a fault left hanging (or sockets clients left open).
      app.server.closeAllConnections();
      await app.close().catch(() => undefined);
      await infra.close().catch(() => undefined);
    },
  };
}

export interface User {
  id: string;
  accessToken: string;
}

export interface Reply<T = any> {
  /** 0 when no HTTP answer came back (refused, reset, timed out). */
  status: number;
  headers: Record<string, string>;
  body: T;
  /** How long the call took, in ms, and when it was sent (epoch ms). */
  ms: number;
  sentAt: number;
  /** The transport error when status is 0. */
  error?: string;
}

export const SEAT_PRICES = { VIP: 15_000, STANDARD: 8_000, STANDING: 4_500 };

/** Real HTTP with a deadline on every call: a fault test must never wait forever for an answer. */
export class Http {
  constructor(
    public baseUrl: string,
    readonly timeoutMs = 15_000,
  ) {}

  async call(
    method: string,
    path: string,
    options: { user?: User; queueToken?: string; headers?: Record<string, string>; body?: unknown; rawBody?: string; timeoutMs?: number } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.user) headers.authorization = `Bearer ${options.user.accessToken}`;
    if (options.queueToken) headers['x-queue-token'] = options.queueToken;
    Object.assign(headers, options.headers);
    const started = performance.now();
    const sentAt = Date.now();
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
        signal: AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs),
      });
      const text = await response.text();
      const type = response.headers.get('content-type') ?? '';
      let body: unknown = text;
      if (/json/.test(type) && text) body = JSON.parse(text);
      return { status: response.status, headers: Object.fromEntries(response.headers), body, ms: performance.now() - started, sentAt };
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return {
        status: 0,
        headers: {},
        body: undefined,
        ms: performance.now() - started,
        sentAt,
        error: `${(error as Error).name}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      };
    }
  }

  api(method: string, path: string, options: Parameters<Http['call']>[2] = {}) {
    return this.call(method, `/api/v1${path}`, options);
  }

  async createUser(userName = 'buyer'): Promise<User> {
    const reply = await this.api('POST', '/users', { body: { userName } });
    if (reply.status !== 201) throw new Error(`createUser: ${reply.status} ${JSON.stringify(reply.body)} ${reply.error ?? ''}`);
    return { id: reply.body.id, accessToken: reply.body.accessToken };
  }

  async createEventWithSchedule(prices = SEAT_PRICES): Promise<{ eventId: string; scheduleId: string }> {
    const headers = { 'x-admin-key': ADMIN_KEY };
    const event = await this.api('POST', '/admin/events', { headers, body: { code: `F-${randomUUID()}`, name: 'Fault test' } });
    if (event.status !== 201) throw new Error(`createEvent: ${event.status} ${JSON.stringify(event.body)}`);
    const startAt = new Date(Date.now() + 86_400_000);
    const schedule = await this.api('POST', `/admin/events/${event.body.id}/schedules`, {
      headers,
      body: { startAt: startAt.toISOString(), endAt: new Date(startAt.getTime() + 7_200_000).toISOString(), prices },
    });
    if (schedule.status !== 201) throw new Error(`createSchedule: ${schedule.status} ${JSON.stringify(schedule.body)}`);
    return { eventId: event.body.id, scheduleId: schedule.body.id };
  }

  join(user: User, eventId: string) {
    return this.api('POST', '/queue/tokens', { user, body: { eventId } });
  }

  async admittedToken(user: User, eventId: string): Promise<string> {
    const reply = await this.join(user, eventId);
    if (reply.status !== 201 || reply.body.status !== 'ACTIVE') throw new Error(`not admitted: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body.token;
  }

  charge(user: User, amount: number, idempotencyKey?: string) {
    return this.api('POST', '/users/me/balance/charges', {
      user,
      body: { amount },
      headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    });
  }

  hold(user: User, queueToken: string, scheduleId: string, seatNumber: number) {
    return this.api('POST', '/reservations', { user, queueToken, body: { scheduleId, seatNumber } });
  }

  pay(user: User, queueToken: string, reservationId: string, idempotencyKey?: string) {
    return this.api('POST', '/payments', {
      user,
      queueToken,
      body: { reservationId },
      headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    });
  }

  seats(queueToken: string, scheduleId: string) {
    return this.api('GET', `/schedules/${scheduleId}/seats`, { queueToken });
  }

  ready() {
    return this.call('GET', '/ready', { timeoutMs: 5_000 });
  }
}

/** An RFC 9457 problem with the given status (and code), and nothing a client should not see. */
export function expectProblem(reply: Reply, status: number, code?: string): void {
  const summary = JSON.stringify({ status: reply.status, body: reply.body, error: reply.error });
  expect(reply.status, summary).toBe(status);
  expect(reply.headers['content-type'], summary).toMatch(/^application\/problem\+json/);
  expect(reply.body, summary).toEqual({
    type: expect.stringMatching(/^urn:ticketing:problem:/),
    title: expect.any(String),
    status,
    code: code ?? expect.any(String),
    detail: expect.any(String),
    instance: expect.stringMatching(/^\//),
  });
  expect(JSON.stringify(reply.body), summary).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
}

/**
 * Runs the shared invariant checker (tools/invariants.ts) on one event in a consistent snapshot, and
 * fails with its report on any violation.
 */
export async function expectInvariants(eventId: string): Promise<void> {
  const violations: Violation[] = await checkInvariants(inject('databaseUrl'), { eventId });
  expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
}

/** A direct connection to the run's database, past the service (and any proxy), to read what is true. */
export function openDatabase(): pg.Pool {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  pool.on('error', () => undefined);
  return pool;
}

/** Adds another fifty-seat schedule to an event. */
export async function addSchedule(http: Http, eventId: string, dayOffset: number, prices = SEAT_PRICES): Promise<string> {
  const startAt = new Date(Date.now() + (1 + dayOffset) * 86_400_000);
  const reply = await http.api('POST', `/admin/events/${eventId}/schedules`, {
    headers: { 'x-admin-key': ADMIN_KEY },
    body: { startAt: startAt.toISOString(), endAt: new Date(startAt.getTime() + 7_200_000).toISOString(), prices },
  });
  if (reply.status !== 201) throw new Error(`addSchedule: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.id;
}
