import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUSE_PRICES as SEAT_PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { ApiClient } from '../../tools/http/api-client.js';
import { expectProblem } from '../support/expect.js';
import { ADMIN_KEY, backends, startApiApp, type TestApp } from '../support/test-app.js';
import {
  buyer,
  cancelReservation,
  countDatabaseCalls,
  currentQueue,
  dbRow,
  getReservation,
  HOLD_TTL_MS,
  holdOk,
  ledger,
  myPayments,
  seatStatus,
} from './helpers.js';

const VIP = SEAT_PRICES.VIP;

describe.each(backends)('payments (%s)', (backend) => {
  let t: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    t = await startApiApp(backend, 'payments');
    client = ApiClient.inject(t.app, { adminKey: ADMIN_KEY });
  });
  afterAll(() => t?.close());

  /** A buyer holding VIP seat 1 with `funds` in the wallet, and an onlooker admitted to the same event. */
  async function holding(funds: number) {
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    const a = await buyer(client, eventId, 'a');
    const viewer = await buyer(client, eventId, 'viewer');
    if (funds > 0) await client.charge(a.user, funds);
    const held = await holdOk(client, a.user, a.token, scheduleId, 1);
    return { eventId, scheduleId, ...a, viewer, reservationId: held.id };
  }

  it('pays a hold: SUCCEEDED, reservation CONFIRMED, seat SOLD, balance debited, ledger and history rows', async () => {
    const s = await holding(VIP + 1_000);
    const now = t.clock.now().toISOString();
    const reply = await client.pay(s.user, s.token, s.reservationId);
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      reservationId: s.reservationId,
      amount: VIP,
      status: 'SUCCEEDED',
      failureCode: null,
      canceledAt: null,
      paidAt: now,
      createdAt: expect.any(String),
    });
    expect(reply.headers['idempotent-replayed']).toBeUndefined();
    expect((await getReservation(client, s.user, s.reservationId)).body).toMatchObject({ status: 'CONFIRMED', confirmedAt: now });
    expect(await seatStatus(client, s.viewer.token, s.scheduleId, 1)).toBe('SOLD');
    expect((await client.balance(s.user)).body).toEqual({ balance: 1_000 });
    expect((await ledger(client, s.user)).body[0]).toMatchObject({ amount: -VIP, kind: 'PAYMENT', reference: reply.body.id });
    expect((await myPayments(client, s.user)).body).toEqual([reply.body]);
    // A sold seat stays sold, even after its hold would have lapsed.
    t.clock.advance(HOLD_TTL_MS);
    expect(await seatStatus(client, s.viewer.token, s.scheduleId, 1)).toBe('SOLD');
    expectProblem(await client.hold(s.viewer.user, s.viewer.token, s.scheduleId, 1), 409, 'SEAT_UNAVAILABLE');
  });

  it('refuses a hold on a sold seat from the lock store, past the hold deadline, without a database call', async () => {
    const s = await holding(VIP);
    expect((await client.pay(s.user, s.token, s.reservationId)).status).toBe(201);
    t.clock.advance(HOLD_TTL_MS + 1);
    const attempt = await countDatabaseCalls(t, () => client.hold(s.viewer.user, s.viewer.token, s.scheduleId, 1));
    expectProblem(attempt.result, 409, 'SEAT_UNAVAILABLE');
    expect(attempt.calls).toBe(0);
  });

  it('sells the seat when the lock store fails after the commit; the database still refuses the seat', async () => {
    const s = await holding(VIP);
    const locks = t.infra.seatLocks;
    const markSold = locks.markSold;
    locks.markSold = async () => {
      throw new Error('lock store down');
    };
    try {
      expect((await client.pay(s.user, s.token, s.reservationId)).status).toBe(201);
    } finally {
      locks.markSold = markSold;
    }
    expect((await getReservation(client, s.user, s.reservationId)).body.status).toBe('CONFIRMED');
    t.clock.advance(HOLD_TTL_MS + 1);
    expectProblem(await client.hold(s.viewer.user, s.viewer.token, s.scheduleId, 1), 409, 'SEAT_UNAVAILABLE');
  });

  it('ends the queue token after payment (401 QUEUE_TOKEN_EXPIRED)', async () => {
    const s = await holding(VIP);
    expect((await client.pay(s.user, s.token, s.reservationId)).status).toBe(201);
    expectProblem(await currentQueue(client, s.token), 401, 'QUEUE_TOKEN_EXPIRED');
    expectProblem(await client.seats(s.token, s.scheduleId), 401, 'QUEUE_TOKEN_EXPIRED');
    expectProblem(await client.hold(s.user, s.token, s.scheduleId, 2), 401, 'QUEUE_TOKEN_EXPIRED');
  });

  it('refuses a payment the balance does not cover: 402, a FAILED payment recorded, the hold released', async () => {
    const s = await holding(VIP - 1);
    const reply = await client.pay(s.user, s.token, s.reservationId);
    expectProblem(reply, 402, 'INSUFFICIENT_BALANCE');
    expect((await client.balance(s.user)).body).toEqual({ balance: VIP - 1 });
    expect((await ledger(client, s.user)).body.map((row: { kind: string }) => row.kind)).toEqual(['CHARGE']);
    expect((await myPayments(client, s.user)).body).toEqual([
      expect.objectContaining({ reservationId: s.reservationId, amount: VIP, status: 'FAILED', failureCode: 'INSUFFICIENT_BALANCE', paidAt: null }),
    ]);
    expect((await getReservation(client, s.user, s.reservationId)).body.status).toBe('CANCELED');
    expect(await seatStatus(client, s.viewer.token, s.scheduleId, 1)).toBe('AVAILABLE');
    await holdOk(client, s.viewer.user, s.viewer.token, s.scheduleId, 1);
    // A failed payment does not end the turn: the buyer can still pick another seat.
    expect((await client.seats(s.token, s.scheduleId)).status).toBe(200);
  });

  it('pays a hold in its last millisecond', async () => {
    const s = await holding(VIP);
    t.clock.advance(HOLD_TTL_MS - 1);
    expect((await client.pay(s.user, s.token, s.reservationId)).status).toBe(201);
    expect((await getReservation(client, s.user, s.reservationId)).body.status).toBe('CONFIRMED');
  });

  it('refuses to pay a lapsed hold with 410 RESERVATION_EXPIRED and marks it EXPIRED', async () => {
    const s = await holding(VIP);
    t.clock.advance(HOLD_TTL_MS);
    expectProblem(await client.pay(s.user, s.token, s.reservationId), 410, 'RESERVATION_EXPIRED');
    expect((await dbRow<{ status: string }>(t, 'SELECT status FROM reservations WHERE id = $1', [s.reservationId])).status).toBe('EXPIRED');
    expect((await getReservation(client, s.user, s.reservationId)).body.status).toBe('EXPIRED');
    expect(await seatStatus(client, s.viewer.token, s.scheduleId, 1)).toBe('AVAILABLE');
    expect((await client.balance(s.user)).body).toEqual({ balance: VIP });
    expect((await myPayments(client, s.user)).body).toEqual([]);
  });

  it("refuses to pay a lapsed hold someone else has since taken (410), leaving the new holder's hold alone", async () => {
    const s = await holding(VIP);
    t.clock.advance(HOLD_TTL_MS);
    const taken = await holdOk(client, s.viewer.user, s.viewer.token, s.scheduleId, 1);
    expectProblem(await client.pay(s.user, s.token, s.reservationId), 410, 'RESERVATION_EXPIRED');
    expect((await getReservation(client, s.viewer.user, taken.id)).body.status).toBe('PENDING');
    expect(await seatStatus(client, s.viewer.token, s.scheduleId, 1)).toBe('HELD');
    expect((await client.balance(s.user)).body).toEqual({ balance: VIP });
  });

  it('refuses to pay twice with 409 RESERVATION_NOT_PAYABLE and debits once', async () => {
    const s = await holding(2 * VIP);
    expect((await client.pay(s.user, s.token, s.reservationId)).status).toBe(201);
    const token = await client.admittedToken(s.user, s.eventId);
    expect(token).not.toBe(s.token);
    expectProblem(await client.pay(s.user, token, s.reservationId), 409, 'RESERVATION_NOT_PAYABLE');
    expect((await client.balance(s.user)).body).toEqual({ balance: VIP });
    expect((await myPayments(client, s.user)).body).toHaveLength(1);
  });

  it('refuses to pay a canceled reservation with 409 RESERVATION_NOT_PAYABLE', async () => {
    const s = await holding(VIP);
    expect((await cancelReservation(client, s.user, s.reservationId)).status).toBe(200);
    expectProblem(await client.pay(s.user, s.token, s.reservationId), 409, 'RESERVATION_NOT_PAYABLE');
    expect((await client.balance(s.user)).body).toEqual({ balance: VIP });
    expect((await getReservation(client, s.user, s.reservationId)).body.status).toBe('CANCELED');
  });

  it("refuses to pay someone else's reservation with 403 FORBIDDEN", async () => {
    const s = await holding(VIP);
    await client.charge(s.viewer.user, VIP);
    expectProblem(await client.pay(s.viewer.user, s.viewer.token, s.reservationId), 403, 'FORBIDDEN');
    expect((await client.balance(s.viewer.user)).body).toEqual({ balance: VIP });
    expect((await getReservation(client, s.user, s.reservationId)).body.status).toBe('PENDING');
  });

  it('answers 404 for an unknown reservation, 400 for a malformed id, 401 without a bearer', async () => {
    const s = await holding(VIP);
    expectProblem(await client.pay(s.user, s.token, randomUUID()), 404, 'NOT_FOUND');
    expectProblem(await client.pay(s.user, s.token, 'r-1'), 400, 'VALIDATION_FAILED');
    expectProblem(await client.request('POST', '/payments', { queueToken: s.token, body: { reservationId: s.reservationId } }), 401, 'UNAUTHORIZED');
    expect((await getReservation(client, s.user, s.reservationId)).body.status).toBe('PENDING');
  });

  describe('Idempotency-Key', () => {
    it('replays a retry after success with the same payment, though the queue token has ended, and debits once', async () => {
      const s = await holding(3 * VIP);
      const key = randomUUID();
      const first = await client.pay(s.user, s.token, s.reservationId, key);
      expect(first.status).toBe(201);
      const retry = await client.pay(s.user, s.token, s.reservationId, key);
      expect(retry.status).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect((await client.balance(s.user)).body).toEqual({ balance: 2 * VIP });
      expect((await ledger(client, s.user)).body.filter((row: { kind: string }) => row.kind === 'PAYMENT')).toHaveLength(1);
      expect((await myPayments(client, s.user)).body).toHaveLength(1);
    });

    it('refuses the same key for a different reservation with 409 IDEMPOTENCY_CONFLICT', async () => {
      const s = await holding(3 * VIP);
      const key = randomUUID();
      expect((await client.pay(s.user, s.token, s.reservationId, key)).status).toBe(201);
      const token = await client.admittedToken(s.user, s.eventId);
      const second = await holdOk(client, s.user, token, s.scheduleId, 2);
      expectProblem(await client.pay(s.user, token, second.id, key), 409, 'IDEMPOTENCY_CONFLICT');
      expect((await getReservation(client, s.user, second.id)).body.status).toBe('PENDING');
      expect((await client.balance(s.user)).body).toEqual({ balance: 2 * VIP });
    });

    it('replays a failure as the same failure without recording a second payment', async () => {
      const s = await holding(100);
      const key = randomUUID();
      expectProblem(await client.pay(s.user, s.token, s.reservationId, key), 402, 'INSUFFICIENT_BALANCE');
      await client.charge(s.user, VIP);
      expectProblem(await client.pay(s.user, s.token, s.reservationId, key), 402, 'INSUFFICIENT_BALANCE');
      expect((await myPayments(client, s.user)).body).toHaveLength(1);
      expect((await client.balance(s.user)).body).toEqual({ balance: VIP + 100 });
    });
  });
});
