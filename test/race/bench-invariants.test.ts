import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HOUSE_PRICES as SEAT_PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { createRedis } from '../../src/shared/redis.js';
import { ApiClient, type ApiUser } from '../../tools/http/api-client.js';
import { checkInvariants, inspectInvariants, type InvariantName } from '../../tools/invariants.js';
import { stormSeats } from '../../tools/random.js';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The benchmark's invariant checker, small: a hold storm over real HTTP and a few payments, after which
 * every invariant must hold; then the data is broken on purpose, inside a transaction that is rolled
 * back, to prove the checker notices each kind of damage.
 */
const STORM_USERS = 300;
const PAYERS = 30;
const BROKE_PAYERS = 5;

describe('bench invariant checker after a short hold storm (PostgreSQL + Redis)', () => {
  let t: TestApp;
  let api: ApiClient;
  let eventId: string;
  let scheduleId: string;
  let racers: (ApiUser & { queueToken: string })[];
  const winners: { user: ApiUser & { queueToken: string }; reservationId: string }[] = [];
  const log = (id: string) => t.infra.waitingRoom.admissionLog(id);

  beforeAll(async () => {
    t = await startTestApp('postgres+redis');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    api = ApiClient.http(`http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`, { adminKey: ADMIN_KEY });
    ({ eventId, scheduleId } = await api.createEventWithSchedule());
    racers = await Promise.all(
      Array.from({ length: STORM_USERS }, async (_, i) => {
        const user = await api.createUser(`storm-${i}`);
        return { ...user, queueToken: await api.admittedToken(user, eventId) };
      }),
    );
  });

  afterAll(async () => {
    await t?.close();
  });

  it(`${STORM_USERS} users racing for 50 seats: exactly 50 held, the rest 409, then payments; every invariant holds`, async () => {
    const seats = stormSeats(STORM_USERS);
    const replies = await Promise.all(racers.map((racer, i) => api.hold(racer, racer.queueToken, scheduleId, seats[i]!)));

    expect(replies.filter((reply) => reply.status >= 500)).toEqual([]);
    const held = replies.flatMap((reply, i) => (reply.status === 201 ? [{ user: racers[i]!, reservationId: reply.body.id as string }] : []));
    expect(held).toHaveLength(50);
    expect(new Set(held.map((h) => h.reservationId)).size).toBe(50);
    const refused = replies.filter((reply) => reply.status !== 201);
    expect(refused).toHaveLength(STORM_USERS - 50);
    expect(new Set(refused.map((reply) => `${reply.status} ${reply.body.code}`))).toEqual(new Set(['409 SEAT_UNAVAILABLE']));
    winners.push(...held);

    // Some winners pay (with money), a few try without money (402: FAILED payment, hold released), the rest keep their hold.
    const payers = winners.slice(0, PAYERS);
    await Promise.all(payers.map(({ user }) => api.charge(user, SEAT_PRICES.VIP)));
    const paid = await Promise.all(payers.map(({ user, reservationId }) => api.pay(user, user.queueToken, reservationId)));
    expect(paid.map((reply) => reply.status)).toEqual(payers.map(() => 201));
    const broke = winners.slice(PAYERS, PAYERS + BROKE_PAYERS);
    const refusedPayments = await Promise.all(broke.map(({ user, reservationId }) => api.pay(user, user.queueToken, reservationId)));
    expect(refusedPayments.map((reply) => `${reply.status} ${reply.body.code}`)).toEqual(broke.map(() => '402 INSUFFICIENT_BALANCE'));

    const report = await inspectInvariants(inject('databaseUrl'), { eventId, admissionLog: log });
    expect(report.violations).toEqual([]);
    expect(report.figures).toMatchObject({
      seatsSold: PAYERS,
      reservationsConfirmed: PAYERS,
      paymentsSucceeded: PAYERS,
      paymentsFailed: BROKE_PAYERS,
      seatsHeld: 50 - PAYERS - BROKE_PAYERS,
      reservationsPending: 50 - PAYERS - BROKE_PAYERS,
      eventsChecked: 1,
      admissionsChecked: STORM_USERS,
    });
    // The whole database too: other suites' data must satisfy the same rules.
    expect(await checkInvariants(inject('databaseUrl'))).toEqual([]);
  });

  it('reports each kind of damage, on data changed inside a transaction that is rolled back', async () => {
    expect(winners).toHaveLength(50);
    const paidWinner = winners[0]!;
    const holder = winners[49]!;
    const client = new pg.Client({ connectionString: inject('databaseUrl') });
    await client.connect();
    const found = async (statements: [string, unknown[]][]): Promise<InvariantName[]> => {
      await client.query('SAVEPOINT damage');
      try {
        for (const [sql, params] of statements) await client.query(sql, params);
        return (await checkInvariants(client, { eventId })).map((violation) => violation.invariant);
      } finally {
        await client.query('ROLLBACK TO SAVEPOINT damage');
      }
    };
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = '5s'`);
      expect(await found([])).toEqual([]);

      // A second live reservation for a held seat (the unique index would refuse it, so it goes first).
      expect(
        await found([
          ['DROP INDEX reservations_one_live_per_seat', []],
          [
            `INSERT INTO reservations (user_id, seat_id, schedule_id, price, status, reserved_at, expires_at)
             SELECT $2, seat_id, schedule_id, price, 'PENDING', reserved_at, expires_at FROM reservations WHERE id = $1`,
            [holder.reservationId, racers.find((racer) => !winners.some((w) => w.user.id === racer.id))!.id],
          ],
        ]),
      ).toContain('one-live-reservation-per-seat');

      // A held seat freed behind its reservation's back.
      expect(
        await found([
          [
            `UPDATE seats SET status = 'AVAILABLE', held_by = NULL, hold_expires_at = NULL
             WHERE id = (SELECT seat_id FROM reservations WHERE id = $1)`,
            [holder.reservationId],
          ],
        ]),
      ).toContain('seat-matches-reservation');

      // A sold seat whose payment did not go through.
      expect(
        await found([[`UPDATE payments SET status = 'FAILED', failure_code = 'DAMAGED', paid_at = NULL WHERE reservation_id = $1`, [paidWinner.reservationId]]]),
      ).toEqual(expect.arrayContaining(['sold-confirmed-paid', 'payment-has-ledger-entry', 'money-conservation']));

      // A sold seat with no reservation at all.
      expect(
        await found([
          [
            `UPDATE seats SET status = 'SOLD', hold_expires_at = NULL
             WHERE id = (SELECT seat_id FROM reservations WHERE id = $1)`,
            [holder.reservationId],
          ],
          [`UPDATE reservations SET status = 'CANCELED' WHERE id = $1`, [holder.reservationId]],
        ]),
      ).toContain('sold-confirmed-paid');

      // Money from nowhere: a balance that is not the sum of its ledger.
      expect(await found([['UPDATE wallets SET balance = balance + 1 WHERE user_id = $1', [paidWinner.user.id]]])).toEqual(
        expect.arrayContaining(['balance-equals-ledger', 'money-conservation']),
      );
    } finally {
      await client.query('ROLLBACK');
      await client.end();
    }
    // Nothing of the damage survived.
    expect(await checkInvariants(inject('databaseUrl'), { eventId, admissionLog: log })).toEqual([]);
  });

  it('reads the admission log from Redis and reports admissions out of queue order', async () => {
    const redis = createRedis(inject('redisUrl'), inject('redisPrefix'));
    const elsewhere = randomUUID();
    try {
      expect(await checkInvariants(inject('databaseUrl'), { eventId, redis })).toEqual([]);
      await redis.rpush(`q:{${elsewhere}}:admitted`, '1', '2', '5', '4', '6');
      const violations = await checkInvariants(inject('databaseUrl'), { eventId: elsewhere, redis });
      expect(violations).toEqual([expect.objectContaining({ invariant: 'fifo-admission', sample: [{ index: 3, previous: 5, next: 4 }] })]);
    } finally {
      await redis.del(`q:{${elsewhere}}:admitted`);
      redis.disconnect();
    }
  });
});
