import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.manual.js';
import { IDEMPOTENCY_KEY_TTL_MS, purgeExpiredKeys } from '../../src/shared/idempotency.js';
import { sleep, waitFor } from '../../tools/async.js';
import type { ApiUser, Reply } from '../../tools/http/api-client.js';
import { expectInvariants, expectProblem } from '../support/expect.js';
import { baseEnv, faultClient, openDatabase, startFaultApp, type FaultApp } from './support/service.js';
import { TcpProxy } from './support/tcp-proxy.js';

const HOUR = 3_600_000;

describe('Idempotency-Key: conflicts, retries after a timeout or a lost answer (PostgreSQL + Redis)', () => {
  let f: FaultApp;
  let db: pg.Pool;

  beforeAll(async () => {
    f = await startFaultApp(baseEnv('idempotency'));
    db = openDatabase();
  });
  afterAll(async () => {
    await f?.close();
    await db?.end();
  });

  const ledgerOf = async (userId: string) =>
    (await db.query<{ kind: string; amount: number }>('SELECT kind, amount::int FROM wallet_ledger WHERE user_id = $1 ORDER BY id', [userId])).rows;
  const balanceOf = async (userId: string) =>
    (await db.query<{ balance: number }>('SELECT balance::int FROM wallets WHERE user_id = $1', [userId])).rows[0]!.balance;

  /** A buyer admitted to a fresh event, with money and `seats` held. */
  async function buyerWithHolds(seats: number[], money = 100_000) {
    const { eventId, scheduleId } = await f.http.createEventWithSchedule();
    const user = await f.http.createUser('idem');
    if (money > 0) expect((await f.http.charge(user, money)).status).toBe(200);
    const token = await f.http.admittedToken(user, eventId);
    const holds = [];
    for (const seat of seats) {
      const hold = await f.http.hold(user, token, scheduleId, seat);
      expect(hold.status).toBe(201);
      holds.push(hold.body as { id: string; price: number });
    }
    return { eventId, scheduleId, user, token, holds };
  }

  /**
   * Keeps the user's wallet row locked from outside while `during` runs: charges and payments of that
   * user stay open inside PostgreSQL, so a client gives up on them while the server is still working.
   */
  async function withWalletLocked<T>(userId: string, during: (waitingBehindLock: () => Promise<void>) => Promise<T>): Promise<T> {
    const locker = await db.connect();
    try {
      await locker.query('BEGIN');
      const { rows } = await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await locker.query('SELECT 1 FROM wallets WHERE user_id = $1 FOR UPDATE', [userId]);
      const waitingBehindLock = async () => {
        await waitFor(
          'a request to be waiting inside PostgreSQL behind the wallet lock',
          async () => {
            const blocked = await db.query('SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [rows[0]!.pid]);
            return blocked.rows.length > 0 ? true : undefined;
          },
          5_000,
          20,
        );
      };
      return await during(waitingBehindLock);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      locker.release();
    }
  }

  it('the same key with a different body is refused with 409 IDEMPOTENCY_CONFLICT (charges and payments); the same body replays', async () => {
    const { user, token, holds } = await buyerWithHolds([1, 2], 0);
    const key = randomUUID();
    const first = await f.http.charge(user, 40_000, key);
    expect(first.status).toBe(200);
    const replay = await f.http.charge(user, 40_000, key);
    expect({ status: replay.status, body: replay.body, replayed: replay.headers['idempotent-replayed'] }).toEqual({
      status: 200,
      body: first.body,
      replayed: 'true',
    });
    expectProblem(await f.http.charge(user, 50_000, key), 409, 'IDEMPOTENCY_CONFLICT');
    expect(await ledgerOf(user.id)).toEqual([{ kind: 'CHARGE', amount: 40_000 }]);

    const payKey = randomUUID();
    const paid = await f.http.pay(user, token, holds[0]!.id, payKey);
    expect(paid.status).toBe(201);
    // Another reservation under the key of a completed payment: refused, and the second hold is untouched.
    expectProblem(await f.http.pay(user, token, holds[1]!.id, payKey), 409, 'IDEMPOTENCY_CONFLICT');
    const again = await f.http.pay(user, token, holds[0]!.id, payKey);
    expect({ status: again.status, id: again.body.id, replayed: again.headers['idempotent-replayed'] }).toEqual({
      status: 201,
      id: paid.body.id,
      replayed: 'true',
    });
    const second = await f.http.request('GET', `/reservations/${holds[1]!.id}`, { user });
    expect(second.body.status).toBe('PENDING');
    expect((await ledgerOf(user.id)).filter((row) => row.kind === 'PAYMENT')).toEqual([{ kind: 'PAYMENT', amount: -holds[0]!.price }]);

    // Keys are per user and per kind of request: the same string elsewhere is a different key.
    expect((await f.http.charge(user, 1_000, payKey)).status).toBe(200);
    const other = await f.http.createUser('other');
    expect((await f.http.charge(other, 5, key)).body).toEqual({ balance: 5 });
  });

  it('a charge the client gave up on (timeout) and retried with the same key is credited once', async () => {
    const user = await f.http.createUser('charge-timeout');
    const key = randomUUID();
    const charge = (timeoutMs: number) =>
      f.http.request('POST', '/users/me/balance/charges', { user, body: { amount: 2_500 }, headers: { 'idempotency-key': key }, timeoutMs });
    let retry!: Promise<Reply>;
    await withWalletLocked(user.id, async (waitingBehindLock) => {
      const first = charge(400);
      await waitingBehindLock();
      expect((await first).status, 'the client gave up before the answer').toBe(0);
      // The first attempt is still open inside PostgreSQL; the retry queues behind it on the key.
      retry = charge(10_000);
      await sleep(300);
    });
    const settled = await retry;
    expect({ status: settled.status, body: settled.body, replayed: settled.headers['idempotent-replayed'] }).toEqual({
      status: 200,
      body: { balance: 2_500 },
      replayed: 'true',
    });
    expect(await ledgerOf(user.id)).toEqual([{ kind: 'CHARGE', amount: 2_500 }]);
  });

  it('a payment the client gave up on (timeout) and retried with the same key — while the first is still running, and after — debits once', async () => {
    const { eventId, user, token, holds } = await buyerWithHolds([3]);
    const key = randomUUID();
    const pay = (timeoutMs: number) =>
      f.http.request('POST', '/payments', { user, queueToken: token, body: { reservationId: holds[0]!.id }, headers: { 'idempotency-key': key }, timeoutMs });

    let retry!: Promise<Reply>;
    await withWalletLocked(user.id, async (waitingBehindLock) => {
      const first = pay(400);
      await waitingBehindLock();
      expect((await first).status, 'the client gave up before the answer').toBe(0);
      retry = pay(10_000);
      await sleep(300);
    });
    const settled = await retry;
    expect({ status: settled.status, replayed: settled.headers['idempotent-replayed'] }, JSON.stringify(settled.body)).toEqual({
      status: 201,
      replayed: 'true',
    });
    const later = await f.http.pay(user, token, holds[0]!.id, key);
    expect({ status: later.status, id: later.body.id }).toEqual({ status: 201, id: settled.body.id });
    // A retry without the key cannot pay twice either.
    const naive = await f.http.pay(user, token, holds[0]!.id);
    expect([409, 401]).toContain(naive.status);

    expect((await ledgerOf(user.id)).filter((row) => row.kind === 'PAYMENT')).toEqual([{ kind: 'PAYMENT', amount: -holds[0]!.price }]);
    expect(await balanceOf(user.id)).toBe(100_000 - holds[0]!.price);
    await expectInvariants(eventId);
  });

  it('an answer lost on the wire after the server committed (connection reset) is replayed on retry, not repeated', async () => {
    const lossy = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(f.baseUrl).port) });
    try {
      lossy.dropResponses = true;
      const overLossyLink = faultClient(`http://127.0.0.1:${lossy.port}`, 5_000);
      const { eventId, user, token, holds } = await buyerWithHolds([4]);

      const chargeKey = randomUUID();
      const lostCharge = await overLossyLink.charge(user, 3_000, chargeKey);
      expect(lostCharge.status).toBe(0);
      const chargeRetry = await f.http.charge(user, 3_000, chargeKey);
      expect({ status: chargeRetry.status, body: chargeRetry.body, replayed: chargeRetry.headers['idempotent-replayed'] }).toEqual({
        status: 200,
        body: { balance: 103_000 },
        replayed: 'true',
      });

      const payKey = randomUUID();
      const lostPayment = await overLossyLink.pay(user, token, holds[0]!.id, payKey);
      expect(lostPayment.status).toBe(0);
      // The payment went through and ended the queue token; the retry is still answered with the first result.
      const payRetry = await f.http.pay(user, token, holds[0]!.id, payKey);
      expect({ status: payRetry.status, replayed: payRetry.headers['idempotent-replayed'], status2: payRetry.body.status }).toEqual({
        status: 201,
        replayed: 'true',
        status2: 'SUCCEEDED',
      });
      expect(await ledgerOf(user.id)).toEqual([
        { kind: 'CHARGE', amount: 100_000 },
        { kind: 'CHARGE', amount: 3_000 },
        { kind: 'PAYMENT', amount: -holds[0]!.price },
      ]);
      await expectInvariants(eventId);
    } finally {
      await lossy.close();
    }
  });
});

describe('Idempotency-Key lifetime: remembered for 24 hours, then forgotten and purged (manual clock)', () => {
  let f: FaultApp;
  let clock: ManualClock;
  let db: pg.Pool;

  beforeAll(async () => {
    // The clock starts two days in the past, so keys made here have really expired once it reaches now.
    clock = new ManualClock(Date.now() - 48 * HOUR);
    f = await startFaultApp({ ...baseEnv('idempotency-ttl'), ACCESS_TOKEN_TTL_SECONDS: String(7 * 86_400) }, { clock });
    db = openDatabase();
  });
  afterAll(async () => {
    await f?.close();
    await db?.end();
  });

  it('IDEMPOTENCY_KEY_TTL_MS is 24 hours', () => {
    expect(IDEMPOTENCY_KEY_TTL_MS).toBe(24 * HOUR);
  });

  it('the background sweep deletes keys once they have expired', async () => {
    const user = await f.http.createUser('purge');
    const key = randomUUID();
    expect((await f.http.charge(user, 10, key)).status).toBe(200);
    const count = async () =>
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM idempotency_keys WHERE user_id = $1', [user.id])).rows[0]!.n;
    expect(await count()).toBe(1);
    // The statement the hold sweeper runs (src/background.ts), at the real time: this key expired a day ago.
    await purgeExpiredKeys.count(f.infra.db, { now: new Date(), limit: 1_000 });
    expect(await count()).toBe(0);
  });

  it('a retry within 24 h replays; after 24 h the same key is a new request (a charge credits again, a paid reservation stays paid once)', async () => {
    const user: ApiUser = await f.http.createUser('ttl');
    const key = randomUUID();
    expect((await f.http.charge(user, 20_000, key)).body).toEqual({ balance: 20_000 });

    clock.advance(IDEMPOTENCY_KEY_TTL_MS - 1_000);
    const within = await f.http.charge(user, 20_000, key);
    expect({ body: within.body, replayed: within.headers['idempotent-replayed'] }).toEqual({ body: { balance: 20_000 }, replayed: 'true' });
    expectProblem(await f.http.charge(user, 1, key), 409, 'IDEMPOTENCY_CONFLICT');

    clock.advance(2_000);
    const after = await f.http.charge(user, 20_000, key);
    expect({ body: after.body, replayed: after.headers['idempotent-replayed'] }).toEqual({ body: { balance: 40_000 }, replayed: undefined });

    // A payment key that expired cannot cause a second debit: the reservation is already CONFIRMED.
    const { eventId, scheduleId } = await f.http.createEventWithSchedule();
    const token = await f.http.admittedToken(user, eventId);
    const hold = await f.http.hold(user, token, scheduleId, 9);
    const payKey = randomUUID();
    expect((await f.http.pay(user, token, hold.body.id, payKey)).status).toBe(201);
    clock.advance(IDEMPOTENCY_KEY_TTL_MS + 1_000);
    const fresh = await f.http.admittedToken(user, eventId);
    expectProblem(await f.http.pay(user, fresh, hold.body.id, payKey), 409, 'RESERVATION_NOT_PAYABLE');
    const { rows } = await db.query<{ debits: number }>(
      `SELECT count(*)::int AS debits FROM wallet_ledger WHERE user_id = $1 AND kind = 'PAYMENT'`,
      [user.id],
    );
    expect(rows[0]!.debits).toBe(1);
  });
});
