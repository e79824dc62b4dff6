import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../tools/async.js';
import type { ApiUser, Reply } from '../../tools/http/api-client.js';
import { expectInvariants, expectProblem } from '../support/expect.js';
import { PrivateRedis } from '../../tools/private-redis.js';
import { baseEnv, openDatabase, startFaultApp, type FaultApp } from './support/service.js';
import { Buyer, expectNoServerErrors, tally } from './support/storm.js';

/**
 * Redis is killed (-9, no persistence: everything in it is lost) and started again on the same port,
 * under load. The redis-server is this file's own child; the machine's shared Redis is never touched.
 */
describe('Redis restart mid-sale (private redis-server, killed and restarted)', () => {
  let redis: PrivateRedis;
  let f: FaultApp;
  let db: pg.Pool;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    f = await startFaultApp({ ...baseEnv('redis'), REDIS_URL: redis.url, HOLD_TTL_SECONDS: '120' }, { jobs: true });
    db = openDatabase();
  });
  afterAll(async () => {
    await f?.close();
    await redis?.kill();
    await db?.end();
  });

  const readiness = async () => {
    const reply = await f.http.ready();
    return { status: reply.status, checks: reply.body?.checks as Record<string, string> | undefined };
  };

  /** Kills Redis, waits until /ready says so, keeps it down for `downMs`, restarts it, waits for /ready 200. */
  async function restartRedis(downMs: number, during?: () => Promise<void>) {
    const killedAt = Date.now();
    await redis.kill();
    const down = await waitFor(
      '/ready to report Redis down',
      async () => {
        const r = await readiness();
        return r.status === 503 ? r : undefined;
      },
      5_000,
    );
    try {
      await during?.();
      await sleep(downMs);
    } finally {
      await redis.start();
    }
    const restartedAt = Date.now();
    const up = await waitFor(
      '/ready to recover',
      async () => {
        const r = await readiness();
        return r.status === 200 ? r : undefined;
      },
      10_000,
    );
    return { down, up, recoveryMs: Date.now() - restartedAt, killedAt, restartedAt };
  }

  it('while Redis is down: what needs it answers 503 problem+json at once, what does not keeps working, /ready says not ready', async () => {
    const { eventId, scheduleId } = await f.http.createEventWithSchedule();
    const buyer = new Buyer(f.http, await f.http.createUser('before-outage'), eventId);
    expect((await f.http.charge(buyer.user, 50_000)).status).toBe(200);
    const held = await buyer.hold(scheduleId, 1);
    expect(held?.status).toBe(201);
    const newcomer = await f.http.createUser('newcomer');
    const token = buyer.token!;

    const outage = await restartRedis(0, async () => {
      const probe = (name: string, call: () => Promise<Reply>) => call().then((reply) => ({ name, reply }));
      const o = { timeoutMs: 8_000 };
      const results = await Promise.all([
        probe('join the queue', () => f.http.request('POST', '/queue/tokens', { ...o, user: newcomer, body: { eventId } })),
        probe('hold a seat', () => f.http.request('POST', '/reservations', { ...o, user: buyer.user, queueToken: token, body: { scheduleId, seatNumber: 2 } })),
        probe('pay', () => f.http.request('POST', '/payments', { ...o, user: buyer.user, queueToken: token, body: { reservationId: held!.body.id } })),
        probe('seat map', () => f.http.request('GET', `/schedules/${scheduleId}/seats`, { ...o, queueToken: token })),
        probe('queue position', () => f.http.request('GET', '/queue/tokens/current', { ...o, queueToken: token })),
        probe('sign up (rate-limited route)', () => f.http.request('POST', '/users', { ...o, body: { userName: 'during-outage' } })),
        probe('charge', () => f.http.request('POST', '/users/me/balance/charges', { ...o, user: buyer.user, body: { amount: 100 } })),
        probe('events', () => f.http.request('GET', '/events', o)),
        probe('my reservations', () => f.http.request('GET', '/users/me/reservations', { ...o, user: buyer.user })),
        probe('health', () => f.http.call('GET', '/health', o)),
      ]);
      const seen = Object.fromEntries(
        results.map(({ name, reply }) => [name, `${reply.status} ${reply.body?.code ?? ''} ${reply.error ?? ''} in ${Math.round(reply.ms)} ms`.replace(/\s+/g, ' ')]),
      );
      const expected = {
        'join the queue': 503,
        'hold a seat': 503,
        pay: 503,
        'seat map': 503,
        'queue position': 503,
        'sign up (rate-limited route)': 201,
        charge: 200,
        events: 200,
        'my reservations': 200,
        health: 200,
      } as Record<string, number>;
      for (const { name, reply } of results) {
        const summary = `${name}: ${JSON.stringify(seen)}`;
        expect(reply.status, summary).toBe(expected[name]);
        if (reply.status === 503) expectProblem(reply, 503, 'SERVICE_UNAVAILABLE');
        // "At once": well inside a client's patience; /ready itself answers within its 1 s check timeout.
        expect(reply.ms, summary).toBeLessThan(3_000);
      }
    });
    expect(outage.down.checks?.redis).not.toBe('ok');
    expect(outage.down.checks?.database).toBe('ok');
    // The hold made before the outage is still there and still payable once the buyer is back in line.
    buyer.token = undefined;
    const paid = await buyer.pay({ reservationId: held!.body.id, seatNumber: 1, key: randomUUID(), replies: [] }, Date.now() + 10_000);
    expect(paid?.status, JSON.stringify(paid?.body)).toBe(201);
    await expectInvariants(eventId);
  });

  it('hold-and-pay storm through a Redis kill and restart: no seat sold twice, no payment lost, not ready while down, recovers alone', async () => {
    const { eventId, scheduleId } = await f.http.createEventWithSchedule();
    const scheduleIds = [scheduleId, await f.http.addSchedule(eventId, 1), await f.http.addSchedule(eventId, 2)];
    const budget = 60_000;
    const buyers = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const user = await f.http.createUser(`storm-${i}`);
        expect((await f.http.charge(user, budget)).status).toBe(200);
        return new Buyer(f.http, user, eventId);
      }),
    );

    let stopped = false;
    let retryUntil = Date.now() + 60_000;
    const shopping = buyers.map((buyer) =>
      buyer.shop({ scheduleIds, stop: () => stopped, retryDeadline: () => retryUntil, payShare: 0.6, cancelShare: 0.4, pauseMs: [20, 80] }),
    );
    const paidSoFar = () => buyers.reduce((n, b) => n + b.payments.filter((p) => p.final?.status === 201).length, 0);
    await waitFor('the storm to be selling', async () => (paidSoFar() >= 5 ? true : undefined), 15_000, 20);
    const before = paidSoFar();

    const outage = await restartRedis(1_500);
    await sleep(1_500);
    stopped = true;
    retryUntil = Date.now() + 10_000;
    await Promise.all(shopping);

    // Readiness followed Redis: unavailable while it was gone, ready again without a restart of the service.
    expect(outage.down.checks?.redis).not.toBe('ok');
    expect(outage.down.checks?.database).toBe('ok');
    expect(outage.recoveryMs).toBeLessThan(8_000);

    const replies = buyers.flatMap((b) => b.replies);
    const counts = tally(replies);
    expectNoServerErrors(replies);
    // The storm really crossed the outage: sales before it, requests sent while Redis was gone (answered
    // 503, or held until Redis was back), queue tokens lost after it.
    expect(before, JSON.stringify(counts)).toBeGreaterThan(0);
    const sentDuringOutage = replies.filter((r) => r.sentAt >= outage.killedAt && r.sentAt < outage.restartedAt);
    expect(sentDuringOutage.length, JSON.stringify(counts)).toBeGreaterThan(0);
    expect(counts['401 QUEUE_TOKEN_EXPIRED'] ?? 0, JSON.stringify(counts)).toBeGreaterThan(0);

    // No payment lost: every payment that was started got a definitive answer, and the client's view
    // of what was paid is exactly what PostgreSQL recorded.
    const attempts = buyers.flatMap((b) => b.payments);
    expect(attempts.filter((a) => !a.final).map((a) => a.replies.map((r) => r.status))).toEqual([]);
    const paidByClient = attempts.filter((a) => a.final!.status === 201).map((a) => a.final!.body.id as string).sort();
    const { rows: paidInDb } = await db.query<{ id: string; reservation_id: string; user_id: string; amount: number }>(
      `SELECT p.id, p.reservation_id, p.user_id, p.amount::int FROM payments p
       JOIN reservations r ON r.id = p.reservation_id JOIN schedules sc ON sc.id = r.schedule_id
       WHERE sc.event_id = $1 AND p.status = 'SUCCEEDED'`,
      [eventId],
    );
    expect(paidByClient).toEqual(paidInDb.map((p) => p.id).sort());
    expect(paidByClient.length).toBeGreaterThan(before);

    // No seat sold twice, and every balance is what the client was told it paid.
    const { rows: doubles } = await db.query(
      `SELECT seat_id FROM reservations r JOIN schedules sc ON sc.id = r.schedule_id
       WHERE sc.event_id = $1 AND r.status = 'CONFIRMED' GROUP BY seat_id HAVING count(*) > 1`,
      [eventId],
    );
    expect(doubles).toEqual([]);
    for (const buyer of buyers) {
      const spent = buyer.payments.filter((a) => a.final?.status === 201).reduce((sum, a) => sum + (a.final!.body.amount as number), 0);
      const { rows } = await db.query<{ balance: number }>('SELECT balance::int FROM wallets WHERE user_id = $1', [buyer.user.id]);
      expect(rows[0]!.balance).toBe(budget - spent);
    }
    await expectInvariants(eventId);
  });

  it('a seat held before the restart is still refused to others after it (PostgreSQL decides, not the lost lock), and its holder can still pay', async () => {
    const { eventId, scheduleId } = await f.http.createEventWithSchedule();
    const holder = new Buyer(f.http, await f.http.createUser('holder'), eventId);
    expect((await f.http.charge(holder.user, 50_000)).status).toBe(200);
    const held = await holder.hold(scheduleId, 7);
    expect(held?.status).toBe(201);

    await restartRedis(300);

    // The waiting room is gone: the old token is expired and the holder has to join again.
    const stale = await f.http.pay(holder.user, holder.token!, held!.body.id);
    expectProblem(stale, 401, 'QUEUE_TOKEN_EXPIRED');
    holder.token = undefined;

    // The fast-path seat lock is gone too, but the seat row still says HELD: a rival is refused by the database.
    const rivals = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const rival = new Buyer(f.http, await f.http.createUser(`rival-${i}`), eventId);
        expect(await rival.ensureToken()).toBe(true);
        return rival;
      }),
    );
    const attempts = await Promise.all(rivals.map((rival) => rival.hold(scheduleId, 7)));
    for (const reply of attempts) expectProblem(reply!, 409, 'SEAT_UNAVAILABLE');

    const paid = await holder.pay({ reservationId: held!.body.id, seatNumber: 7, key: randomUUID(), replies: [] }, Date.now() + 10_000);
    expect(paid?.status, JSON.stringify(paid?.body)).toBe(201);
    await expectInvariants(eventId);
  });

  it('the waiting line keeps moving after the restart: a waiting buyer is admitted when a slot frees', async () => {
    // Its own service and prefix, with one active slot, on the same private Redis.
    const small = await startFaultApp(
      { ...baseEnv('redis-line'), REDIS_URL: redis.url, QUEUE_MAX_ACTIVE: '1', QUEUE_ADMIT_INTERVAL_MS: '100' },
      { jobs: true },
    );
    try {
      const { eventId, scheduleId } = await small.http.createEventWithSchedule();
      const early: ApiUser = await small.http.createUser('early');
      expect((await small.http.join(early, eventId)).body.status).toBe('ACTIVE');

      await redis.kill();
      await sleep(300);
      await redis.start();
      await waitFor('the service to see Redis again', async () => ((await small.http.ready()).status === 200 ? true : undefined), 10_000);

      const first = await small.http.createUser('first');
      const second = await small.http.createUser('second');
      const firstToken = (await small.http.join(first, eventId)).body;
      const secondToken = (await small.http.join(second, eventId)).body;
      expect([firstToken.status, secondToken.status]).toEqual(['ACTIVE', 'WAITING']);

      expect((await small.http.charge(first, 20_000)).status).toBe(200);
      const hold = await small.http.hold(first, firstToken.token, scheduleId, 3);
      expect(hold.status).toBe(201);
      expect((await small.http.pay(first, firstToken.token, hold.body.id)).status).toBe(201);

      // Paying ended the first buyer's turn; the admission job must hand the slot to the next in line.
      const admitted = await waitFor(
        'the waiting buyer to be admitted',
        async () => {
          const reply = await small.http.request('GET', '/queue/tokens/current', { queueToken: secondToken.token });
          return reply.body?.status === 'ACTIVE' ? reply : undefined;
        },
        4_000,
      ).catch((error: Error) => error);
      // What the admission job iterates over: the events the queue store knows to have a line.
      const known = await small.services.queue.events();
      expect({ admitted: admitted instanceof Error ? admitted.message : 'ACTIVE', eventKnownToAdmission: known.includes(eventId) }).toEqual({
        admitted: 'ACTIVE',
        eventKnownToAdmission: true,
      });
    } finally {
      await small.close();
    }
  });
});
