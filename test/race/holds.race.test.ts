import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../tools/http/api-client.js';
import type { TestApp } from '../support/test-app.js';
import { admittedUsers, countBy, startIsolatedRaceApp } from './support.js';

describe('one buyer per seat, under concurrency (PostgreSQL + Redis)', () => {
  let t: TestApp;
  let api: ApiClient;
  beforeAll(async () => {
    // Its own database: it moves the clock past the holds' deadline and sweeps.
    ({ t, api } = await startIsolatedRaceApp('holds'));
  });
  afterAll(() => t.close());

  const liveReservationsPerSeat = async (scheduleId: string) =>
    (
      await t.infra.db.query<{ seat_number: number; live: number }>(
        `SELECT s.seat_number, count(r.id) AS live FROM seats s
         LEFT JOIN reservations r ON r.seat_id = s.id AND r.status IN ('PENDING', 'CONFIRMED')
         WHERE s.schedule_id = $1 GROUP BY s.seat_number`,
        [scheduleId],
      )
    ).rows;

  it('150 users holding the same seat at once: exactly one 201, every other answer 409', async () => {
    const { eventId, scheduleId } = await api.createEventWithSchedule();
    const users = await admittedUsers(api, eventId, 150);
    const replies = await Promise.all(users.map((user) => api.hold(user, user.queueToken, scheduleId, 7)));
    expect(countBy(replies, (reply) => reply.status)).toEqual({ 201: 1, 409: 149 });
    expect(replies.filter((reply) => reply.status === 409).every((reply) => reply.body.code === 'SEAT_UNAVAILABLE')).toBe(true);
    const seat7 = (await liveReservationsPerSeat(scheduleId)).find((row) => row.seat_number === 7);
    expect(seat7?.live).toBe(1);
  });

  it('the same race decided by PostgreSQL alone when the Redis locks are gone', async () => {
    const { eventId, scheduleId } = await api.createEventWithSchedule();
    const users = await admittedUsers(api, eventId, 100);
    // Every lock acquisition succeeds, as if Redis had lost every key: the database must still pick one winner.
    const locks = t.infra.seatLocks;
    const acquire = locks.acquire;
    locks.acquire = async () => true;
    try {
      const replies = await Promise.all(users.map((user) => api.hold(user, user.queueToken, scheduleId, 9)));
      expect(countBy(replies, (reply) => reply.status)).toEqual({ 201: 1, 409: 99 });
    } finally {
      locks.acquire = acquire;
    }
  });

  it('300 users grabbing random seats: every seat has at most one holder and every 201 is a distinct seat', async () => {
    const { eventId, scheduleId } = await api.createEventWithSchedule();
    const users = await admittedUsers(api, eventId, 300);
    const attempts = users.map((user) => ({ user, seat: 1 + Math.floor(Math.random() * 50) }));
    const replies = await Promise.all(attempts.map(({ user, seat }) => api.hold(user, user.queueToken, scheduleId, seat)));
    const won = attempts.filter((_, i) => replies[i]!.status === 201).map(({ seat }) => seat);
    expect(new Set(won).size).toBe(won.length);
    expect(won.length).toBe(new Set(attempts.map(({ seat }) => seat)).size);
    expect(replies.every((reply) => reply.status === 201 || reply.status === 409)).toBe(true);
    const rows = await liveReservationsPerSeat(scheduleId);
    expect(rows.every((row) => row.live <= 1)).toBe(true);
    const seats = (await api.seats(users[0]!.queueToken, scheduleId)).body as { seatNumber: number; status: string }[];
    expect(seats.filter((seat) => seat.status === 'HELD').map((seat) => seat.seatNumber).sort((a, b) => a - b)).toEqual(
      [...won].sort((a, b) => a - b),
    );
  });

  it('a lapsed hold is released and re-held by exactly one of many, while sweepers run', async () => {
    const { eventId, scheduleId } = await api.createEventWithSchedule();
    const [first, ...others] = await admittedUsers(api, eventId, 81);
    const held = await api.hold(first!, first!.queueToken, scheduleId, 3);
    expect(held.status).toBe(201);
    t.clock.advance(t.services.config.HOLD_TTL_SECONDS * 1000);
    const [replies] = await Promise.all([
      Promise.all(others.map((user) => api.hold(user, user.queueToken, scheduleId, 3))),
      Promise.all(Array.from({ length: 4 }, () => t.services.reservations.sweepLapsedHolds())),
    ]);
    expect(countBy(replies, (reply) => reply.status)).toEqual({ 201: 1, 409: 79 });
    const old = await t.infra.db.query<{ status: string }>('SELECT status FROM reservations WHERE id = $1', [held.body.id]);
    expect(old.rows[0]!.status).toBe('EXPIRED');
    expect((await liveReservationsPerSeat(scheduleId)).find((row) => row.seat_number === 3)?.live).toBe(1);
  });

  it('the hold function keeps the per-user cap: 100 concurrent holds by one user on distinct seats of two dates, three times over', async () => {
    const { eventId } = await api.createEventWithSchedule();
    const cap = t.services.config.HOLD_MAX_PER_USER;
    for (let round = 0; round < 3; round++) {
      const schedules = [await api.addSchedule(eventId, 2 * round + 1), await api.addSchedule(eventId, 2 * round + 2)];
      const user = await api.createUser(`capped-${round}`);
      const buyer = { userId: user.id, eventId, tokenId: randomUUID() };
      // Past HTTP and its rate limit, straight at the service: every attempt reaches the function, on all 20 pool connections.
      const attempts = await Promise.allSettled(
        Array.from({ length: 100 }, (_, i) => t.services.reservations.hold(buyer, schedules[i % 2]!, 1 + Math.floor(i / 2))),
      );
      const refusals = attempts.flatMap((attempt) => (attempt.status === 'rejected' ? [(attempt.reason as { code?: string }).code] : []));
      expect(attempts.length - refusals.length, `round ${round}`).toBe(cap);
      expect(new Set(refusals)).toEqual(new Set(['HOLD_LIMIT_REACHED']));
      const { rows } = await t.infra.db.query<{ holds: number }>(
        `SELECT count(*)::int AS holds FROM reservations WHERE user_id = $1 AND status = 'PENDING'`,
        [user.id],
      );
      expect(rows[0]!.holds).toBe(cap);
    }
  });

  it('a user cannot race past the per-user hold cap', async () => {
    const { eventId, scheduleId } = await api.createEventWithSchedule();
    const [user] = await admittedUsers(api, eventId, 1);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api.hold(user!, user!.queueToken, scheduleId, i + 1)),
    );
    const cap = t.services.config.HOLD_MAX_PER_USER;
    expect(countBy(replies, (reply) => reply.status)).toEqual({ 201: cap, 409: 20 - cap });
  });
});
