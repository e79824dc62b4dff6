import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../tools/http/api-client.js';
import type { TestApp } from '../support/test-app.js';
import { admittedUsers, countBy, startRaceApp } from './support.js';

describe('one debit per payment, exact sums (PostgreSQL + Redis)', () => {
  let t: TestApp;
  let api: ApiClient;
  beforeAll(async () => {
    ({ t, api } = await startRaceApp());
  });
  afterAll(() => t.close());

  const ledger = async (userId: string) =>
    (await t.infra.db.query<{ kind: string; amount: number }>('SELECT kind, amount FROM wallet_ledger WHERE user_id = $1', [userId])).rows;

  const expectBalanceEqualsLedger = async (userId: string) => {
    const { rows } = await t.infra.db.query<{ balance: number; total: number }>(
      `SELECT w.balance, coalesce(sum(l.amount), 0) AS total FROM wallets w
       LEFT JOIN wallet_ledger l ON l.user_id = w.user_id WHERE w.user_id = $1 GROUP BY w.balance`,
      [userId],
    );
    expect(rows[0]!.balance).toBe(rows[0]!.total);
    return rows[0]!.balance;
  };

  it('25 concurrent payments of one reservation: one 201, one debit, one SUCCEEDED payment', async () => {
    const { eventId, scheduleId } = await api.createEventWithSchedule();
    const [user] = await admittedUsers(api, eventId, 1);
    await api.charge(user!, 100_000);
    const hold = await api.hold(user!, user!.queueToken, scheduleId, 1);
    const replies = await Promise.all(Array.from({ length: 25 }, () => api.pay(user!, user!.queueToken, hold.body.id)));
    const statuses = countBy(replies, (reply) => reply.status);
    expect(statuses[201]).toBe(1);
    // The losers either found the reservation already paid, or the winner had already ended their queue token.
    expect(replies.filter((r) => r.status !== 201).every((r) => ['RESERVATION_NOT_PAYABLE', 'QUEUE_TOKEN_EXPIRED'].includes(r.body.code))).toBe(true);
    expect((await ledger(user!.id)).filter((row) => row.kind === 'PAYMENT')).toEqual([{ kind: 'PAYMENT', amount: -15_000 }]);
    expect(await expectBalanceEqualsLedger(user!.id)).toBe(85_000);
    const payments = await t.infra.db.query('SELECT status FROM payments WHERE reservation_id = $1', [hold.body.id]);
    expect(payments.rows).toEqual([{ status: 'SUCCEEDED' }]);
  });

  it('25 concurrent retries with one Idempotency-Key: one debit, and every 201 names the same payment', async () => {
    const { eventId, scheduleId } = await api.createEventWithSchedule();
    const [user] = await admittedUsers(api, eventId, 1);
    await api.charge(user!, 100_000);
    const hold = await api.hold(user!, user!.queueToken, scheduleId, 12);
    const key = randomUUID();
    const replies = await Promise.all(Array.from({ length: 25 }, () => api.pay(user!, user!.queueToken, hold.body.id, key)));
    const paid = replies.filter((reply) => reply.status === 201);
    expect(paid.length).toBeGreaterThanOrEqual(1);
    expect(new Set(paid.map((reply) => reply.body.id)).size).toBe(1);
    expect(replies.every((reply) => reply.status === 201 || reply.body.code === 'QUEUE_TOKEN_EXPIRED')).toBe(true);
    expect(await expectBalanceEqualsLedger(user!.id)).toBe(100_000 - 8_000);
  });

  it('paying two holds with money for one, at once: exactly one succeeds and the balance never goes negative', async () => {
    const { eventId, scheduleId } = await api.createEventWithSchedule();
    const [user] = await admittedUsers(api, eventId, 1);
    await api.charge(user!, 20_000);
    const holds = await Promise.all([1, 2].map((seat) => api.hold(user!, user!.queueToken, scheduleId, seat)));
    const replies = await Promise.all(holds.map((hold) => api.pay(user!, user!.queueToken, hold.body.id)));
    expect(replies.map((reply) => reply.status).sort()).toEqual([201, 402]);
    expect(await expectBalanceEqualsLedger(user!.id)).toBe(5_000);
  });

  it('50 concurrent charges add up exactly', async () => {
    const user = await api.createUser();
    const amounts = Array.from({ length: 50 }, (_, i) => 100 + i * 37);
    const replies = await Promise.all(amounts.map((amount) => api.charge(user, amount)));
    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    const total = amounts.reduce((sum, amount) => sum + amount, 0);
    expect(await expectBalanceEqualsLedger(user.id)).toBe(total);
    expect(Math.max(...replies.map((reply) => reply.body.balance))).toBe(total);
    expect(await ledger(user.id)).toHaveLength(50);
  });

  it('30 concurrent charges with one Idempotency-Key credit once', async () => {
    const user = await api.createUser();
    const key = randomUUID();
    const replies = await Promise.all(Array.from({ length: 30 }, () => api.charge(user, 5_000, key)));
    expect(countBy(replies, (reply) => `${reply.status}:${reply.body.balance}`)).toEqual({ '200:5000': 30 });
    expect(await expectBalanceEqualsLedger(user.id)).toBe(5_000);
  });

  it('paying after the hold lapsed is refused with 410 and frees the seat', async () => {
    const { eventId, scheduleId } = await api.createEventWithSchedule();
    const [user, other] = await admittedUsers(api, eventId, 2);
    await api.charge(user!, 100_000);
    const hold = await api.hold(user!, user!.queueToken, scheduleId, 20);
    t.clock.advance(t.services.config.HOLD_TTL_SECONDS * 1000 + 1);
    const replies = await Promise.all(Array.from({ length: 10 }, () => api.pay(user!, user!.queueToken, hold.body.id)));
    expect(replies.every((reply) => reply.status === 410 && reply.body.code === 'RESERVATION_EXPIRED')).toBe(true);
    expect(await expectBalanceEqualsLedger(user!.id)).toBe(100_000);
    expect((await api.hold(other!, other!.queueToken, scheduleId, 20)).status).toBe(201);
  });
});
