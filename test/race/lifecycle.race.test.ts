import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUSE_PRICES } from '../../src/modules/catalog/catalog.rules.js';
import type { ApiClient } from '../../tools/http/api-client.js';
import { expectInvariants } from '../support/expect.js';
import type { TestApp } from '../support/test-app.js';
import { admittedUsers, countBy, startIsolatedRaceApp } from './support.js';

const DAY_MS = 86_400_000;
const HOLD_TTL_MS = 300_000;

describe('refunds, canceled dates and multi-seat purchases under concurrency (PostgreSQL + Redis)', () => {
  let t: TestApp;
  let api: ApiClient;
  beforeAll(async () => {
    // Its own database: it moves the clock to the holds' deadline and sweeps.
    ({ t, api } = await startIsolatedRaceApp('lifecycle'));
  });
  afterAll(() => t.close());

  /** A date three days ahead of the test clock (inside the refund window). */
  async function eventWithDate() {
    const event = await api.createEvent();
    const scheduleId = (await api.createSchedule(event.id, { startAt: new Date(t.clock.now().getTime() + 3 * DAY_MS) })).id;
    return { eventId: event.id, scheduleId };
  }

  const refundRows = async (userId: string) =>
    (await t.infra.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM wallet_ledger WHERE user_id = $1 AND kind = 'REFUND'`, [userId])).rows[0]!.n;

  it('20 concurrent refunds of one purchase: one 200, nineteen 409, one credit', async () => {
    const { eventId, scheduleId } = await eventWithDate();
    const [user] = await admittedUsers(api, eventId, 1);
    await api.charge(user!, 50_000);
    const hold = await api.hold(user!, user!.queueToken, scheduleId, 1);
    expect((await api.pay(user!, user!.queueToken, hold.body.id)).status).toBe(201);
    const replies = await Promise.all(Array.from({ length: 20 }, () => api.cancel(user!, hold.body.id)));
    expect(countBy(replies, (reply) => reply.status)).toEqual({ 200: 1, 409: 19 });
    expect(await refundRows(user!.id)).toBe(1);
    expect((await api.balance(user!)).body.balance).toBe(50_000);
    await expectInvariants(eventId, t.infra.config.DATABASE_URL);
  });

  it('refund, sweeper and payment racing on one reservation: one outcome, money conserved', async () => {
    const { eventId, scheduleId } = await eventWithDate();
    const users = await admittedUsers(api, eventId, 12);
    await Promise.all(users.map((user) => api.charge(user, 50_000)));
    // Half the holds are at their deadline when the race starts: pay, cancel and the sweeper all want them.
    const holds = await Promise.all(users.map((user, i) => api.hold(user, user.queueToken, scheduleId, i + 1)));
    const paidFirst = users.slice(0, 6);
    await Promise.all(paidFirst.map((user, i) => api.pay(user, user.queueToken, holds[i]!.body.id)));
    t.clock.advance(HOLD_TTL_MS - 1);
    const race = users.flatMap((user, i) => [
      api.pay(user, user.queueToken, holds[i]!.body.id),
      api.cancel(user, holds[i]!.body.id),
      api.cancel(user, holds[i]!.body.id),
      t.services.reservations.sweepLapsedHolds().then(() => ({ status: 0 })),
    ]);
    t.clock.advance(1);
    const replies = await Promise.all(race);
    expect(replies.every((reply) => reply.status < 500), JSON.stringify(replies.map((reply) => reply.status))).toBe(true);
    for (const [i, user] of users.entries()) {
      const status = (await api.reservation(user, holds[i]!.body.id)).body.status;
      expect(['CONFIRMED', 'CANCELED', 'EXPIRED']).toContain(status);
      // Paid before the race: the pay attempts are refused and one refund wins, so it ends CANCELED with one credit.
      if (i < 6) expect([status, await refundRows(user.id)]).toEqual(['CANCELED', 1]);
    }
    await expectInvariants(eventId, t.infra.config.DATABASE_URL);
  });

  it('concurrent multi-seat payments sharing seats: exactly one pays, one debit, no deadlock', async () => {
    const { eventId, scheduleId } = await eventWithDate();
    const users = await admittedUsers(api, eventId, 8);
    await Promise.all(users.map((user) => api.charge(user, 100_000)));
    const outcomes = await Promise.all(
      users.map(async (user, u) => {
        const seats = [u * 3 + 11, u * 3 + 12, u * 3 + 13];
        const ids = [];
        for (const seat of seats) ids.push((await api.hold(user, user.queueToken, scheduleId, seat)).body.id as string);
        const [a, b, c] = ids as [string, string, string];
        // Every pair shares a seat with every other, in a different order: only one can pay.
        const replies = await Promise.all([
          api.payAll(user, user.queueToken, [a, b]),
          api.payAll(user, user.queueToken, [b, c]),
          api.payAll(user, user.queueToken, [c, a]),
        ]);
        return countBy(replies, (reply) => reply.status);
      }),
    );
    for (const outcome of outcomes) expect(outcome).toEqual({ 201: 1, 409: 2 });
    const debits = await t.infra.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM wallet_ledger WHERE kind = 'PAYMENT' AND user_id = ANY($1::uuid[])`,
      [users.map((user) => user.id)],
    );
    expect(debits.rows[0]!.n).toBe(users.length);
    for (const user of users) expect((await api.balance(user)).body.balance).toBe(100_000 - 2 * HOUSE_PRICES.STANDARD);
    await expectInvariants(eventId, t.infra.config.DATABASE_URL);
  });

  it('a date canceled while buyers pay and refund: every purchase refunded once, no live reservation left', async () => {
    const { eventId, scheduleId } = await eventWithDate();
    const users = await admittedUsers(api, eventId, 10);
    await Promise.all(users.map((user) => api.charge(user, 50_000)));
    const holds = await Promise.all(users.map((user, i) => api.hold(user, user.queueToken, scheduleId, i + 1)));
    await Promise.all(users.slice(0, 5).map((user, i) => api.pay(user, user.queueToken, holds[i]!.body.id)));
    const [cancel] = await Promise.all([
      api.cancelSchedule(scheduleId),
      ...users.map((user, i) => (i < 5 ? api.cancel(user, holds[i]!.body.id) : api.pay(user, user.queueToken, holds[i]!.body.id))),
    ]);
    expect(cancel.status).toBe(200);
    await t.services.refunds.resumeCanceledSchedules();
    for (const user of users) expect((await api.balance(user)).body.balance).toBe(50_000);
    await expectInvariants(eventId, t.infra.config.DATABASE_URL);
  });
});
