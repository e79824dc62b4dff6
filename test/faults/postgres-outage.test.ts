import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../tools/async.js';
import type { ApiClient, Reply } from '../../tools/http/api-client.js';
import { startService, type ServiceProcess } from '../../tools/processes.js';
import { expectInvariants, expectProblem } from '../support/expect.js';
import { baseEnv, databaseTarget, databaseUrlVia, faultClient, openDatabase, startFaultApp, type FaultApp } from './support/service.js';
import { Buyer, expectNoServerErrors, tally } from './support/storm.js';
import { TcpProxy } from './support/tcp-proxy.js';

/**
 * The service reaches the run's database through a TCP proxy of this file's own, so PostgreSQL can be
 * "lost" (sockets destroyed, new ones refused), "restarted" (the same, then accepted again) or
 * "partitioned" (nothing answers) without touching the shared server.
 */
describe('PostgreSQL connection loss and restart (through a loopback TCP proxy)', () => {
  let proxy: TcpProxy;
  let f: FaultApp;
  let db: pg.Pool;

  beforeAll(async () => {
    proxy = await TcpProxy.start(databaseTarget());
    f = await startFaultApp(
      { ...baseEnv('pg'), DATABASE_URL: databaseUrlVia(proxy.port), DATABASE_STATEMENT_TIMEOUT_MS: '1000', HOLD_TTL_SECONDS: '120' },
      { jobs: true },
    );
    db = openDatabase();
  });
  afterAll(async () => {
    await f?.close();
    await proxy?.close();
    await db?.end();
  });

  const waitReady = () =>
    waitFor('/ready to answer 200', async () => ((await f.http.ready()).status === 200 ? true : undefined), 10_000);

  /** Requests of every kind, made at once, each with its own deadline. */
  async function probeAll(
    http: ApiClient,
    ctx: { user: { id: string; accessToken: string }; token: string; scheduleId: string; reservationId: string },
    timeoutMs = 10_000,
  ) {
    const o = { timeoutMs };
    const calls: Record<string, () => Promise<Reply>> = {
      'list events': () => http.request('GET', '/events', o),
      'sign up': () => http.request('POST', '/users', { ...o, body: { userName: 'during-db-outage' } }),
      charge: () => http.request('POST', '/users/me/balance/charges', { ...o, user: ctx.user, body: { amount: 500 }, headers: { 'idempotency-key': randomUUID() } }),
      balance: () => http.request('GET', '/users/me/balance', { ...o, user: ctx.user }),
      'seat map': () => http.request('GET', `/schedules/${ctx.scheduleId}/seats`, { ...o, queueToken: ctx.token }),
      hold: () => http.request('POST', '/reservations', { ...o, user: ctx.user, queueToken: ctx.token, body: { scheduleId: ctx.scheduleId, seatNumber: 30 } }),
      pay: () => http.request('POST', '/payments', { ...o, user: ctx.user, queueToken: ctx.token, body: { reservationId: ctx.reservationId }, headers: { 'idempotency-key': randomUUID() } }),
      'my payments': () => http.request('GET', '/users/me/payments', { ...o, user: ctx.user }),
    };
    const entries = await Promise.all(Object.entries(calls).map(async ([name, call]) => [name, await call()] as const));
    return Object.fromEntries(entries);
  }

  const describeReplies = (replies: Record<string, Reply>) =>
    JSON.stringify(
      Object.fromEntries(Object.entries(replies).map(([name, r]) => [name, `${r.status} ${r.body?.code ?? ''} ${r.error ?? ''} ${Math.round(r.ms)} ms`])),
    );

  async function shopper() {
    const { eventId, scheduleId } = await f.http.createEventWithSchedule();
    const user = await f.http.createUser('pg-probe');
    expect((await f.http.charge(user, 100_000)).status).toBe(200);
    const token = await f.http.admittedToken(user, eventId);
    const hold = await f.http.hold(user, token, scheduleId, 1);
    expect(hold.status).toBe(201);
    return { eventId, scheduleId, user, token, reservationId: hold.body.id as string };
  }

  it('database down: every request that needs it answers 503 problem+json at once, /ready says so, and the pool recovers by itself', async () => {
    const ctx = await shopper();
    await proxy.down();
    try {
      const ready = await f.http.ready();
      expect(ready.status).toBe(503);
      expect(ready.body.checks.database).not.toBe('ok');
      expect(ready.body.checks.redis).toBe('ok');
      expect((await f.http.call('GET', '/health')).status).toBe(200);

      const replies = await probeAll(f.http, ctx);
      for (const [name, reply] of Object.entries(replies)) {
        expect(reply.status, `${name}: ${describeReplies(replies)}`).toBe(503);
        expectProblem(reply, 503, 'SERVICE_UNAVAILABLE');
        expect(reply.ms, `${name}: ${describeReplies(replies)}`).toBeLessThan(3_000);
      }
    } finally {
      await proxy.up();
    }
    await waitReady();
    const after = await probeAll(f.http, ctx);
    expect(Object.fromEntries(Object.entries(after).map(([name, r]) => [name, r.status])), describeReplies(after)).toEqual({
      'list events': 200,
      'sign up': 201,
      charge: 200,
      balance: 200,
      'seat map': 200,
      hold: 201,
      pay: 201,
      'my payments': 200,
    });
    await expectInvariants(ctx.eventId);
  });

  it('connections cut again and again, then a restart, in the middle of a payment storm: no half-done payment, every retry settles exactly once', async () => {
    const { eventId, scheduleId } = await f.http.createEventWithSchedule();
    const budget = 50_000;
    const buyers = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const buyer = new Buyer(f.http, await f.http.createUser(`pg-storm-${i}`), eventId);
        expect((await f.http.charge(buyer.user, budget)).status).toBe(200);
        const hold = await buyer.hold(scheduleId, i + 1);
        expect(hold?.status).toBe(201);
        return { buyer, hold: hold!.body as { id: string; price: number }, withKey: i % 4 !== 0 };
      }),
    );

    // Half the buyers pay while connections are being cut, the other half arrive during the "restart";
    // a quarter of them retry without an Idempotency-Key, like a naive client.
    const deadline = Date.now() + 20_000;
    const paying = buyers.map(async ({ buyer, hold, withKey }, i) => {
      await sleep(i < 12 ? i * 3 : 400 + i * 10);
      const attempt = { reservationId: hold.id, seatNumber: i + 1, key: withKey ? randomUUID() : '', replies: [] };
      if (withKey) return buyer.pay(attempt, deadline);
      // Without a key: retry on 503 / no answer; a 409 after a 503 means the first attempt had gone through.
      while (Date.now() < deadline) {
        const reply = await f.http.pay(buyer.user, buyer.token!, hold.id);
        buyer.replies.push(reply);
        if (reply.status !== 503 && reply.status !== 0) return reply;
        await sleep(100);
      }
      return undefined;
    });
    // Cut every database connection every 15 ms for a while, then "restart": refuse for a second, then accept.
    const cuts = (async () => {
      for (let i = 0; i < 20; i++) {
        proxy.cut();
        await sleep(15);
      }
      await proxy.down();
      await sleep(1_000);
      await proxy.up();
    })();
    const finals = await Promise.all(paying);
    await cuts;
    await waitReady();

    const replies = buyers.flatMap(({ buyer }) => buyer.replies);
    const counts = tally(replies);
    expectNoServerErrors(replies);
    expect(replies.filter((r) => r.status === 0), JSON.stringify(counts)).toEqual([]);
    expect(counts['503 SERVICE_UNAVAILABLE'] ?? 0, `the faults hit requests in flight: ${JSON.stringify(counts)}`).toBeGreaterThan(0);

    for (const [i, { buyer, hold, withKey }] of buyers.entries()) {
      const final = finals[i];
      expect(final, `buyer ${i} got no definitive answer: ${JSON.stringify(tally(buyer.replies))}`).toBeDefined();
      if (withKey) expect(final!.status, JSON.stringify(final!.body)).toBe(201);
      else expect([201, 409], JSON.stringify(final!.body)).toContain(final!.status);
      // Exactly one debit, one SUCCEEDED payment, a CONFIRMED reservation and a SOLD seat.
      const { rows } = await db.query<{ balance: number; debits: number; succeeded: number; status: string }>(
        `SELECT w.balance::int,
                (SELECT count(*)::int FROM wallet_ledger l WHERE l.user_id = w.user_id AND l.kind = 'PAYMENT') AS debits,
                (SELECT count(*)::int FROM payments p WHERE p.reservation_id = $2 AND p.status = 'SUCCEEDED') AS succeeded,
                (SELECT status FROM reservations WHERE id = $2) AS status
         FROM wallets w WHERE w.user_id = $1`,
        [buyer.user.id, hold.id],
      );
      expect(rows[0], `buyer ${i}`).toEqual({ balance: budget - hold.price, debits: 1, succeeded: 1, status: 'CONFIRMED' });
    }
    await expectInvariants(eventId);
  });

  it('database that stops answering (network partition): requests give up with 503 in bounded time instead of hanging', async () => {
    const ctx = await shopper();
    // Warm the pool so that idle connections exist: those are the ones that would wait forever.
    await Promise.all(Array.from({ length: 8 }, () => f.http.request('GET', '/events')));
    proxy.blackhole();
    let replies: Record<string, Reply>;
    try {
      replies = await probeAll(f.http, ctx);
    } finally {
      proxy.heal();
    }
    // Bounded by the statement timeout (1 s here) or the 5 s connect timeout, plus a margin.
    for (const [name, reply] of Object.entries(replies)) {
      const summary = `${name}: ${describeReplies(replies)}`;
      expect(reply.status, summary).toBe(503);
      expectProblem(reply, 503, 'SERVICE_UNAVAILABLE');
      expect(reply.ms, summary).toBeLessThan(8_000);
    }
    await waitReady();
    const after = await f.http.request('GET', '/events');
    expect(after.status).toBe(200);
    await expectInvariants(ctx.eventId);
  }, 40_000);
});

describe('PostgreSQL connections dropped under the real service process', () => {
  let proxy: TcpProxy;
  let service: ServiceProcess | undefined;
  let db: pg.Pool;

  beforeAll(async () => {
    proxy = await TcpProxy.start(databaseTarget());
    db = openDatabase();
  });
  afterAll(async () => {
    await service?.child.kill('SIGKILL');
    await proxy?.close();
    await db?.end();
  });

  it('the process survives its connections dropping in the middle of open transactions (no crash), and the interrupted payment settles once on retry', async () => {
    service = await startService({ env: { ...baseEnv('pg-process'), DATABASE_URL: databaseUrlVia(proxy.port), LOG_LEVEL: 'warn', HOLD_TTL_SECONDS: '120' } });
    const http = faultClient(service.baseUrl, 8_000);
    const { eventId, scheduleId } = await http.createEventWithSchedule();
    const buyer = new Buyer(http, await http.createUser('pg-process'), eventId);
    expect((await http.charge(buyer.user, 50_000)).status).toBe(200);
    const hold = await buyer.hold(scheduleId, 5);
    expect(hold?.status).toBe(201);

    // Hold the buyer's wallet row from outside, so the service's charge and payment transactions are
    // open and waiting inside PostgreSQL when their connections are cut.
    const locker = await db.connect();
    const key = randomUUID();
    let interrupted: Reply[];
    try {
      await locker.query('BEGIN');
      const { rows: me } = await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await locker.query('SELECT balance FROM wallets WHERE user_id = $1 FOR UPDATE', [buyer.user.id]);
      const inFlight = Promise.all([http.charge(buyer.user, 700, randomUUID()), http.pay(buyer.user, buyer.token!, hold!.body.id, key)]);
      await waitFor(
        'both transactions to be waiting on the wallet row',
        async () => {
          const { rows } = await db.query<{ n: number }>(
            // Waiting on the locker, directly or behind the other waiter.
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE $1 = ANY(pg_blocking_pids(pid))
                OR EXISTS (SELECT 1 FROM unnest(pg_blocking_pids(pid)) AS b(pid) WHERE $1 = ANY(pg_blocking_pids(b.pid)))`,
            [me[0]!.pid],
          );
          return rows[0]!.n >= 2 ? true : undefined;
        },
        5_000,
        20,
      );
      proxy.cut();
      interrupted = await inFlight;
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      locker.release();
    }
    await sleep(200);

    const health = await http.call('GET', '/health', { timeoutMs: 2_000 });
    const crashed = service.child.output().includes("Unhandled 'error' event") || health.status !== 200;
    expect({ processAlive: !crashed, health: health.status }, `service output:\n${service.child.output().slice(-2_500)}`).toEqual({
      processAlive: true,
      health: 200,
    });
    for (const reply of interrupted) expectProblem(reply, 503, 'SERVICE_UNAVAILABLE');

    // The interrupted payment rolled back; retrying it with the same key pays exactly once.
    const retried = await buyer.pay({ reservationId: hold!.body.id, seatNumber: 5, key, replies: [] }, Date.now() + 10_000);
    expect(retried?.status, JSON.stringify(retried?.body)).toBe(201);
    const { rows } = await db.query<{ balance: number; debits: number }>(
      `SELECT balance::int, (SELECT count(*)::int FROM wallet_ledger WHERE user_id = $1 AND kind = 'PAYMENT') AS debits FROM wallets WHERE user_id = $1`,
      [buyer.user.id],
    );
    expect(rows[0]).toEqual({ balance: 50_000 - hold!.body.price, debits: 1 });
    await expectInvariants(eventId);
  }, 40_000);
});
