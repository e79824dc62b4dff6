import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUSE_PRICES as SEAT_PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { ApiClient } from '../../tools/http/api-client.js';
import { expectProblem } from '../support/expect.js';
import { ADMIN_KEY, backends, startApiApp, type TestApp } from '../support/test-app.js';
import { seatLockKey } from '../../src/modules/reservation/seat-locks.js';
import { buyer, cancelReservation, countDatabaseCalls, dbRow, getReservation, HOLD_TTL_MS, holdOk, myReservations, seatStatus } from './helpers.js';

const MAX_HOLDS = 2;

describe.each(backends)('reservations (%s)', (backend) => {
  let t: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    t = await startApiApp(backend, 'reservations', { HOLD_MAX_PER_USER: String(MAX_HOLDS) });
    client = ApiClient.inject(t.app, { adminKey: ADMIN_KEY });
  });
  afterAll(() => t?.close());

  async function setup() {
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    return { eventId, scheduleId, a: await buyer(client, eventId, 'a'), b: await buyer(client, eventId, 'b') };
  }

  describe('POST /reservations', () => {
    it('holds a free seat for HOLD_TTL_SECONDS', async () => {
      const { scheduleId, a, b } = await setup();
      const now = t.clock.now().getTime();
      const reply = await client.hold(a.user, a.token, scheduleId, 5);
      expect(reply.status).toBe(201);
      expect(reply.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        scheduleId,
        seatNumber: 5,
        seatType: 'VIP',
        status: 'PENDING',
        price: SEAT_PRICES.VIP,
        reservedAt: new Date(now).toISOString(),
        expiresAt: new Date(now + HOLD_TTL_MS).toISOString(),
        confirmedAt: null,
        canceledAt: null,
      });
      expect(await seatStatus(client, b.token, scheduleId, 5)).toBe('HELD');
      expect((await getReservation(client, a.user, reply.body.id)).body).toEqual(reply.body);
    });

    it('refuses a seat that is already held with 409 SEAT_UNAVAILABLE', async () => {
      const { scheduleId, a, b } = await setup();
      const held = await holdOk(client, a.user, a.token, scheduleId, 20);
      expectProblem(await client.hold(b.user, b.token, scheduleId, 20), 409, 'SEAT_UNAVAILABLE');
      expectProblem(await client.hold(a.user, a.token, scheduleId, 20), 409, 'SEAT_UNAVAILABLE');
      expect((await getReservation(client, a.user, held.id)).body.status).toBe('PENDING');
      expect((await myReservations(client, b.user)).body).toEqual([]);
    });

    it.each([
      ['seat 0', { seatNumber: 0 }],
      ['seat 51', { seatNumber: 51 }],
      ['seat -1', { seatNumber: -1 }],
      ['seat 1.5', { seatNumber: 1.5 }],
      ['seat "abc"', { seatNumber: 'abc' }],
      ['no seat number', { seatNumber: undefined }],
      ['no scheduleId', { scheduleId: undefined }],
      ['a malformed scheduleId', { scheduleId: 'schedule-1' }],
      ['an extra property', { note: 'window please' }],
    ])('refuses %s with 400 VALIDATION_FAILED and holds nothing', async (_label, patch) => {
      const { scheduleId, a } = await setup();
      const body = JSON.parse(JSON.stringify({ scheduleId, seatNumber: 3, ...patch }));
      expectProblem(await client.request('POST', '/reservations', { user: a.user, queueToken: a.token, body }), 400, 'VALIDATION_FAILED');
      expect((await myReservations(client, a.user)).body).toEqual([]);
    });

    it('refuses a numeric string seat number (400) and holds nothing', async () => {
      const { scheduleId, a, b } = await setup();
      const reply = await client.request('POST', '/reservations', { user: a.user, queueToken: a.token, body: { scheduleId, seatNumber: '3' } });
      expectProblem(reply, 400, 'VALIDATION_FAILED');
      expect(await seatStatus(client, b.token, scheduleId, 3)).toBe('AVAILABLE');
    });

    it('answers 404 for an unknown schedule', async () => {
      const { a } = await setup();
      expectProblem(await client.hold(a.user, a.token, randomUUID(), 1), 404, 'NOT_FOUND');
    });

    it('refuses a request without a bearer token with 401 UNAUTHORIZED', async () => {
      const { scheduleId, a } = await setup();
      expectProblem(await client.request('POST', '/reservations', { queueToken: a.token, body: { scheduleId, seatNumber: 1 } }), 401, 'UNAUTHORIZED');
    });

    it('caps simultaneous holds at HOLD_MAX_PER_USER (409 HOLD_LIMIT_REACHED); lapsed and canceled holds do not count', async () => {
      const { scheduleId, a, b } = await setup();
      const first = await holdOk(client, a.user, a.token, scheduleId, 1);
      await holdOk(client, a.user, a.token, scheduleId, 2);
      expectProblem(await client.hold(a.user, a.token, scheduleId, 3), 409, 'HOLD_LIMIT_REACHED');
      expect(await seatStatus(client, b.token, scheduleId, 3)).toBe('AVAILABLE');
      expect((await cancelReservation(client, a.user, first.id)).status).toBe(200);
      await holdOk(client, a.user, a.token, scheduleId, 3);
      expectProblem(await client.hold(a.user, a.token, scheduleId, 4), 409, 'HOLD_LIMIT_REACHED');
      t.clock.advance(HOLD_TTL_MS);
      await holdOk(client, a.user, a.token, scheduleId, 4);
    });
  });

  describe('the fast refusal of a taken seat', () => {
    it('refuses a taken seat from the lock store alone, before the queue-token check: no database call; a free seat still needs the admitted token', async () => {
      const { scheduleId, a, b } = await setup();
      await holdOk(client, a.user, a.token, scheduleId, 30);
      const withoutQueueToken = (seatNumber: number) => client.request('POST', '/reservations', { user: b.user, body: { scheduleId, seatNumber } });
      const refused = await countDatabaseCalls(t, () => withoutQueueToken(30));
      expectProblem(refused.result, 409, 'SEAT_UNAVAILABLE');
      expect(refused.calls).toBe(0);
      expectProblem(await withoutQueueToken(31), 401, 'QUEUE_TOKEN_INVALID');
      // No answer about seats without a valid bearer token, nor for a body its schema refuses.
      expectProblem(await client.request('POST', '/reservations', { queueToken: b.token, body: { scheduleId, seatNumber: 30 } }), 401, 'UNAUTHORIZED');
      expectProblem(await client.request('POST', '/reservations', { user: b.user, body: { scheduleId, seatNumber: 30, note: 'x' } }), 400, 'VALIDATION_FAILED');
    });

    it("puts back a sold seat's marker the lock store lost: one attempt reaches PostgreSQL, the ones after it do not", async () => {
      const { scheduleId, a, b } = await setup();
      await client.charge(a.user, SEAT_PRICES.STANDARD);
      const held = await holdOk(client, a.user, a.token, scheduleId, 40);
      expect((await client.pay(a.user, a.token, held.id)).status).toBe(201);
      await t.infra.seatLocks.reopen(seatLockKey(scheduleId, 40), held.id);
      const first = await countDatabaseCalls(t, () => client.hold(b.user, b.token, scheduleId, 40));
      expectProblem(first.result, 409, 'SEAT_UNAVAILABLE');
      expect(first.calls).toBeGreaterThan(0);
      t.clock.advance(HOLD_TTL_MS + 1);
      const next = await countDatabaseCalls(t, () => client.hold(b.user, b.token, scheduleId, 40));
      expectProblem(next.result, 409, 'SEAT_UNAVAILABLE');
      expect(next.calls).toBe(0);
      expect(await seatStatus(client, b.token, scheduleId, 40)).toBe('SOLD');
    });
  });

  describe('reading reservations', () => {
    it("returns your own (200), refuses another user's (403 FORBIDDEN), 404 for unknown, 400 for malformed ids", async () => {
      const { scheduleId, a, b } = await setup();
      const held = await holdOk(client, a.user, a.token, scheduleId, 8);
      expect((await getReservation(client, a.user, held.id)).status).toBe(200);
      expectProblem(await getReservation(client, b.user, held.id), 403, 'FORBIDDEN');
      expectProblem(await getReservation(client, a.user, randomUUID()), 404, 'NOT_FOUND');
      expectProblem(await getReservation(client, a.user, 'not-a-uuid'), 400, 'VALIDATION_FAILED');
      expectProblem(await client.request('GET', `/reservations/${held.id}`), 401, 'UNAUTHORIZED');
    });

    it('lists your reservations newest first, and only yours', async () => {
      const { scheduleId, a, b } = await setup();
      const older = await holdOk(client, a.user, a.token, scheduleId, 30);
      t.clock.advance(1_000);
      const newer = await holdOk(client, a.user, a.token, scheduleId, 31);
      await holdOk(client, b.user, b.token, scheduleId, 32);
      const reply = await myReservations(client, a.user);
      expect(reply.status).toBe(200);
      expect(reply.body.map((r: { id: string; seatNumber: number }) => [r.id, r.seatNumber])).toEqual([
        [newer.id, 31],
        [older.id, 30],
      ]);
      expectProblem(await client.request('GET', '/users/me/reservations'), 401, 'UNAUTHORIZED');
    });
  });

  describe('DELETE /reservations/{id}', () => {
    it('cancels a pending hold: the seat is free at once and someone else can hold it', async () => {
      const { scheduleId, a, b } = await setup();
      const held = await holdOk(client, a.user, a.token, scheduleId, 11);
      expectProblem(await cancelReservation(client, b.user, held.id), 403, 'FORBIDDEN');
      const canceled = await cancelReservation(client, a.user, held.id);
      expect(canceled.status).toBe(200);
      expect(canceled.body).toMatchObject({ id: held.id, status: 'CANCELED', canceledAt: t.clock.now().toISOString() });
      expect(await seatStatus(client, b.token, scheduleId, 11)).toBe('AVAILABLE');
      await holdOk(client, b.user, b.token, scheduleId, 11);
      expect((await getReservation(client, a.user, held.id)).body.status).toBe('CANCELED');
    });

    // A paid reservation is refunded by the same call: test/api/refunds.test.ts.
    it('refuses to cancel twice (409) and an unknown one (404)', async () => {
      const { scheduleId, a } = await setup();
      const held = await holdOk(client, a.user, a.token, scheduleId, 12);
      expect((await cancelReservation(client, a.user, held.id)).status).toBe(200);
      expectProblem(await cancelReservation(client, a.user, held.id), 409, 'RESERVATION_NOT_CANCELABLE');
      expectProblem(await cancelReservation(client, a.user, randomUUID()), 404, 'NOT_FOUND');
    });

    it('refuses to cancel a hold that has expired with 410 RESERVATION_EXPIRED', async () => {
      const { scheduleId, a } = await setup();
      const held = await holdOk(client, a.user, a.token, scheduleId, 14);
      t.clock.advance(HOLD_TTL_MS);
      expectProblem(await cancelReservation(client, a.user, held.id), 410, 'RESERVATION_EXPIRED');
      expect((await getReservation(client, a.user, held.id)).body).toMatchObject({ status: 'EXPIRED', canceledAt: null });
    });
  });

  describe('expiry', () => {
    it('lets someone else hold a seat whose hold lapsed, and closes the old reservation as EXPIRED', async () => {
      const { scheduleId, a, b } = await setup();
      const old = await holdOk(client, a.user, a.token, scheduleId, 40);
      t.clock.advance(HOLD_TTL_MS - 1);
      expectProblem(await client.hold(b.user, b.token, scheduleId, 40), 409, 'SEAT_UNAVAILABLE');
      t.clock.advance(1);
      const fresh = await holdOk(client, b.user, b.token, scheduleId, 40);
      expect((await getReservation(client, a.user, old.id)).body.status).toBe('EXPIRED');
      expect((await dbRow<{ status: string }>(t, 'SELECT status FROM reservations WHERE id = $1', [old.id])).status).toBe('EXPIRED');
      expect((await getReservation(client, b.user, fresh.id)).body.status).toBe('PENDING');
      // The first holder can no longer cancel it, and trying does not disturb the new hold.
      expectProblem(await cancelReservation(client, a.user, old.id), 410, 'RESERVATION_EXPIRED');
      expect(await seatStatus(client, b.token, scheduleId, 40)).toBe('HELD');
      expect((await getReservation(client, b.user, fresh.id)).body.status).toBe('PENDING');
    });

    it('the sweeper releases lapsed holds and marks their reservations EXPIRED, leaving live holds alone', async () => {
      const { eventId, scheduleId, a, b } = await setup();
      const lapsed = await holdOk(client, a.user, a.token, scheduleId, 41);
      t.clock.advance(HOLD_TTL_MS);
      const live = await holdOk(client, b.user, b.token, scheduleId, 42);
      const stored = (id: string) =>
        dbRow<{ reservation: string; seat: string }>(
          t,
          'SELECT r.status AS reservation, s.status AS seat FROM reservations r JOIN seats s ON s.id = r.seat_id WHERE r.id = $1',
          [id],
        );
      expect(await stored(lapsed.id)).toEqual({ reservation: 'PENDING', seat: 'HELD' });

      expect(await t.services.reservations.sweepLapsedHolds()).toBeGreaterThanOrEqual(1);
      expect(await stored(lapsed.id)).toEqual({ reservation: 'EXPIRED', seat: 'AVAILABLE' });
      expect(await stored(live.id)).toEqual({ reservation: 'PENDING', seat: 'HELD' });
      expect((await getReservation(client, a.user, lapsed.id)).body.status).toBe('EXPIRED');
      expect(await seatStatus(client, b.token, scheduleId, 41)).toBe('AVAILABLE');
      expect((await client.request('GET', `/events/${eventId}/schedules`)).body[0].availableSeats).toBe(49);
      await holdOk(client, a.user, a.token, scheduleId, 41);
    });
  });
});
