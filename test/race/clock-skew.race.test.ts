import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sleep } from '../../tools/async.js';
import { ApiClient, type ApiUser } from '../../tools/http/api-client.js';
import { startService, stopAll, type ServiceProcess } from '../../tools/processes.js';
import { ADMIN_KEY } from '../support/test-app.js';

/**
 * Instances whose wall clocks disagree, on one PostgreSQL and one Redis: each time decision must be made
 * by the stores' clocks (Redis TIME in the scripts, PostgreSQL now() in SQL), so a host running minutes
 * ahead changes nothing. The skew is real: libfaketime shifts the instance's wall clock (Date.now()),
 * leaving its monotonic clock (timers) alone, as a host with a wrong clock would.
 */
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
// Skip only on a developer machine without libfaketime; in CI (`.ci/run` installs it) its absence fails.
const skip = !existsSync(LIBFAKETIME) && !process.env.CI;

const skewed = (offset: string) => ({ LD_PRELOAD: LIBFAKETIME, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1' });

const base = () => ({
  DATABASE_URL: inject('databaseUrl'),
  DATABASE_POOL_SIZE: '4',
  REDIS_URL: inject('redisUrl'),
  TOKEN_SECRET: 'clock-skew-secret-clock-skew-secret-0123',
  ADMIN_API_KEY: ADMIN_KEY,
  LOG_LEVEL: 'warn',
  SEED_DEMO: 'false',
  QUEUE_ADMIT_INTERVAL_MS: '50',
  HOLD_SWEEP_INTERVAL_MS: '200',
  RATE_LIMIT_SIGNUPS_PER_MINUTE: '1000000',
  RATE_LIMIT_QUEUE_JOINS_PER_MINUTE: '1000000',
  RATE_LIMIT_HOLDS_PER_MINUTE: '1000000',
  RATE_LIMIT_PAYMENTS_PER_MINUTE: '1000000',
  RATE_LIMIT_CHARGES_PER_MINUTE: '1000000',
});

const clientsOf = (services: ServiceProcess[]) => services.map((service) => ApiClient.http(service.baseUrl, { adminKey: ADMIN_KEY, timeoutMs: 10_000 }));

async function signUp(api: ApiClient, count: number): Promise<ApiUser[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => api.createUser(`skew-${i}`)));
}

describe.skipIf(skip)('instances with skewed clocks (libfaketime) agree on time', () => {
  const prefix = `${inject('redisPrefix')}skew:`;
  const started: ServiceProcess[] = [];
  const clients: ApiClient[] = [];
  let redis: Redis;

  afterAll(async () => {
    for (const client of clients) client.close();
    await stopAll(started);
    redis?.disconnect();
  });

  describe('the admission rate, with one instance 1.5 s ahead', () => {
    const RATE = 5;
    let normal: ApiClient;
    let ahead: ApiClient;

    beforeAll(async () => {
      const env = { ...base(), REDIS_KEY_PREFIX: `${prefix}rate:`, QUEUE_ADMIT_PER_SECOND: String(RATE), QUEUE_MAX_ACTIVE: '1000', QUEUE_ACTIVE_PER_SEAT: '1000' };
      const services = await Promise.all([
        startService({ name: 'on-time', env, readyPath: '/ready' }),
        startService({ name: '1.5s-ahead', env: { ...env, ...skewed('+1.5s') }, readyPath: '/ready' }),
      ]);
      started.push(...services);
      [normal, ahead] = clientsOf(services) as [ApiClient, ApiClient];
      clients.push(normal, ahead);
      redis = new Redis(inject('redisUrl'), { keyPrefix: `${prefix}rate:` });
    });

    it(`admits at most ${RATE} a second whichever instances run the admission step`, async () => {
      const { eventId } = await normal.createEventWithSchedule();
      const users = await signUp(normal, 200);
      const admittedTotal = async () => Number((await redis.get(`q:{${eventId}}:admitted-total`)) ?? 0);
      const startedAt = Date.now();
      // Everyone joins at once, half through each instance; each join runs an admission step too.
      const joins = await Promise.all(users.map((user, i) => (i % 2 ? ahead : normal).join(user, eventId)));
      expect(joins.every((reply) => reply.status === 201)).toBe(true);
      await sleep(3_000 - (Date.now() - startedAt));
      const seconds = (Date.now() - startedAt) / 1000;
      const admitted = await admittedTotal();
      // An interval of T seconds touches at most ceil(T) + 1 one-second windows of the shared clock.
      expect(admitted).toBeLessThanOrEqual(RATE * (Math.ceil(seconds) + 1));
      expect(admitted).toBeGreaterThanOrEqual(RATE * 2);
    });
  });

  describe('waiters, holds and payments, with one instance 130 s ahead', () => {
    const HOLD_TTL_SECONDS = 4;
    let normal: ApiClient;
    let ahead: ApiClient;

    beforeAll(async () => {
      const env = {
        ...base(),
        REDIS_KEY_PREFIX: `${prefix}line:`,
        QUEUE_ADMIT_PER_SECOND: '50',
        QUEUE_MAX_ACTIVE: '2',
        QUEUE_WAITING_GRACE_SECONDS: '5',
        HOLD_TTL_SECONDS: String(HOLD_TTL_SECONDS),
      };
      const services = await Promise.all([
        startService({ name: 'on-time', env, readyPath: '/ready' }),
        startService({ name: '130s-ahead', env: { ...env, ...skewed('+130s') }, readyPath: '/ready' }),
      ]);
      started.push(...services);
      [normal, ahead] = clientsOf(services) as [ApiClient, ApiClient];
      clients.push(normal, ahead);
    });

    it('keeps every waiter who polls the on-time instance, while the instance ahead runs admission', async () => {
      const { eventId } = await normal.createEventWithSchedule();
      const users = await signUp(normal, 8);
      const tokens: string[] = [];
      for (const user of users) tokens.push((await normal.join(user, eventId)).body.token);
      // Two are admitted (capacity 2) and idle; six wait, polling every second for longer than the grace period.
      for (let round = 0; round < 8; round++) {
        const replies = await Promise.all(tokens.map((token) => normal.queueStatus(token)));
        expect(replies.map((reply) => reply.status), JSON.stringify(replies.map((reply) => reply.body))).toEqual(replies.map(() => 200));
        expect(replies.filter((reply) => reply.body.status === 'WAITING').map((reply) => reply.body.position)).toEqual([1, 2, 3, 4, 5, 6]);
        await sleep(1_000);
      }
    });

    it('never lets the instance ahead take over a live hold, and the holder pays it', async () => {
      const { eventId, scheduleId } = await normal.createEventWithSchedule();
      const [holder, rival] = await signUp(normal, 2);
      const holderToken = await normal.admittedToken(holder!, eventId);
      const rivalToken = await ahead.admittedToken(rival!, eventId);
      await normal.charge(holder!, 50_000);
      const hold = await normal.hold(holder!, holderToken, scheduleId, 1);
      expect(hold.status).toBe(201);
      const takeover = await ahead.hold(rival!, rivalToken, scheduleId, 1);
      expect(takeover.status, JSON.stringify(takeover.body)).toBe(409);
      expect((await normal.pay(holder!, holderToken, hold.body.id)).status).toBe(201);
    });

    it('lets a hold be paid until the expiresAt it was given, and not after, on either instance', async () => {
      const { eventId, scheduleId } = await normal.createEventWithSchedule();
      const [early, late] = await signUp(normal, 2);
      for (const user of [early!, late!]) await normal.charge(user, 50_000);
      const earlyToken = await ahead.admittedToken(early!, eventId);
      const lateToken = await normal.admittedToken(late!, eventId);
      const earlyHold = await ahead.hold(early!, earlyToken, scheduleId, 2);
      const lateHold = await normal.hold(late!, lateToken, scheduleId, 3);
      expect([earlyHold.status, lateHold.status]).toEqual([201, 201]);
      // The deadline came from PostgreSQL, so it is on the clock this test runs by too.
      const earlyDeadline = Date.parse(earlyHold.body.expiresAt);
      expect(Math.abs(earlyDeadline - (Date.now() + HOLD_TTL_SECONDS * 1000))).toBeLessThan(2_000);
      await sleep(earlyDeadline - 1_500 - Date.now());
      expect((await normal.pay(early!, earlyToken, earlyHold.body.id)).status).toBe(201);
      await sleep(Date.parse(lateHold.body.expiresAt) + 1_000 - Date.now());
      const tooLate = await ahead.pay(late!, lateToken, lateHold.body.id);
      expect(tooLate.status, JSON.stringify(tooLate.body)).toBe(410);
    });
  });
});
