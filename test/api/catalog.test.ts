import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUSE_PRICES as SEAT_PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { ApiClient } from '../../tools/http/api-client.js';
import { expectProblem } from '../support/expect.js';
import { ADMIN_KEY, backends, startApiApp, type TestApp } from '../support/test-app.js';
import { buyer, HOLD_TTL_MS, holdOk } from './helpers.js';

const admin = { 'x-admin-key': ADMIN_KEY };
const day = 86_400_000;

describe.each(backends)('catalog (%s)', (backend) => {
  let t: TestApp;
  let client: ApiClient;
  const schedules = (eventId: string) => client.request('GET', `/events/${eventId}/schedules`);
  const createEvent = (body: unknown, headers: Record<string, string> = admin) => client.request('POST', '/admin/events', { headers, body });
  const createSchedule = (eventId: string, body: unknown, headers: Record<string, string> = admin) =>
    client.request('POST', `/admin/events/${eventId}/schedules`, { headers, body });
  const scheduleBody = (startMs = Date.now() + day, lengthMs = 7_200_000, prices: Record<string, number> = SEAT_PRICES) => ({
    startAt: new Date(startMs).toISOString(),
    endAt: new Date(startMs + lengthMs).toISOString(),
    prices,
  });

  beforeAll(async () => {
    t = await startApiApp(backend, 'catalog');
    client = ApiClient.inject(t.app, { adminKey: ADMIN_KEY });
  });
  afterAll(() => t?.close());

  describe('events and schedules', () => {
    it('lists a created event, with its category, and its schedules in date order', async () => {
      const code = `CAT-${randomUUID()}`;
      const created = await createEvent({ code, name: 'Night show', description: 'Late', category: 'Concert' });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: expect.any(String), code, name: 'Night show', description: 'Late', category: 'Concert' });
      const events = await client.request('GET', '/events');
      expect(events.status).toBe(200);
      expect(events.body).toContainEqual(created.body);

      const later = await createSchedule(created.body.id, scheduleBody(Date.now() + 2 * day));
      const earlier = await createSchedule(created.body.id, scheduleBody(Date.now() + day));
      expect([later.status, earlier.status]).toEqual([201, 201]);
      expect(earlier.body).toMatchObject({ eventId: created.body.id, totalSeats: 50, availableSeats: 50 });
      const listed = await schedules(created.body.id);
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual([earlier.body, later.body]);
    });

    it('counts live holds as unavailable and lapsed ones as available, before any sweep', async () => {
      const { eventId, scheduleId } = await client.createEventWithSchedule();
      const { user, token } = await buyer(client, eventId);
      await holdOk(client, user, token, scheduleId, 7);
      expect((await schedules(eventId)).body).toEqual([expect.objectContaining({ id: scheduleId, totalSeats: 50, availableSeats: 49 })]);
      t.clock.advance(HOLD_TTL_MS - 1);
      expect((await schedules(eventId)).body[0].availableSeats).toBe(49);
      t.clock.advance(1);
      expect((await schedules(eventId)).body[0].availableSeats).toBe(50);
    });

    it('answers 404 for an unknown event and 400 for a malformed id', async () => {
      expectProblem(await schedules(randomUUID()), 404, 'NOT_FOUND');
      expectProblem(await schedules('123'), 400, 'VALIDATION_FAILED');
    });
  });

  describe('seat map', () => {
    it('has fifty seats: 1–10 VIP, 11–40 STANDARD, 41–50 STANDING, priced by type', async () => {
      const { eventId, scheduleId } = await client.createEventWithSchedule();
      const { token } = await buyer(client, eventId);
      const reply = await client.seats(token, scheduleId);
      expect(reply.status).toBe(200);
      const type = (n: number) => (n <= 10 ? 'VIP' : n <= 40 ? 'STANDARD' : 'STANDING');
      expect(reply.body).toEqual(
        Array.from({ length: 50 }, (_, i) => ({ seatNumber: i + 1, seatType: type(i + 1), price: SEAT_PRICES[type(i + 1)], status: 'AVAILABLE' })),
      );
    });

    it('shows a held seat HELD, a sold seat SOLD and a lapsed hold AVAILABLE', async () => {
      const { eventId, scheduleId } = await client.createEventWithSchedule();
      const holder = await buyer(client, eventId, 'holder');
      const payer = await buyer(client, eventId, 'payer');
      const viewer = await buyer(client, eventId, 'viewer');
      await holdOk(client, holder.user, holder.token, scheduleId, 12);
      const sold = await holdOk(client, payer.user, payer.token, scheduleId, 45);
      await client.charge(payer.user, SEAT_PRICES.STANDING);
      expect((await client.pay(payer.user, payer.token, sold.id)).status).toBe(201);

      const statuses = async () => {
        const seats = (await client.seats(viewer.token, scheduleId)).body as { seatNumber: number; status: string }[];
        return Object.fromEntries(seats.filter((seat) => seat.status !== 'AVAILABLE').map((seat) => [seat.seatNumber, seat.status]));
      };
      expect(await statuses()).toEqual({ 12: 'HELD', 45: 'SOLD' });
      t.clock.advance(HOLD_TTL_MS);
      expect(await statuses()).toEqual({ 45: 'SOLD' });
      expect((await schedules(eventId)).body[0].availableSeats).toBe(49);
    });

    it('answers 404 for an unknown schedule and 400 for a malformed id', async () => {
      const { eventId } = await client.createEventWithSchedule();
      const { token } = await buyer(client, eventId);
      expectProblem(await client.seats(token, randomUUID()), 404, 'NOT_FOUND');
      expectProblem(await client.seats(token, 'nope'), 400, 'VALIDATION_FAILED');
    });
  });

  describe('admin', () => {
    it.each([
      ['missing', {}],
      ['wrong', { 'x-admin-key': `${ADMIN_KEY}-wrong` }],
    ])('refuses a %s X-Admin-Key with 403 FORBIDDEN and creates nothing', async (_label, headers) => {
      const code = `NOKEY-${randomUUID()}`;
      expectProblem(await createEvent({ code, name: 'x' }, headers), 403, 'FORBIDDEN');
      expect(((await client.request('GET', '/events')).body as { code: string }[]).some((event) => event.code === code)).toBe(false);
      const { eventId } = await client.createEventWithSchedule();
      expectProblem(await createSchedule(eventId, scheduleBody(), headers), 403, 'FORBIDDEN');
      expect((await schedules(eventId)).body).toHaveLength(1);
    });

    it('refuses a duplicate event code with 409 EVENT_CODE_TAKEN', async () => {
      const code = `DUP-${randomUUID()}`;
      expect((await createEvent({ code, name: 'first' })).status).toBe(201);
      expectProblem(await createEvent({ code, name: 'second' }), 409, 'EVENT_CODE_TAKEN');
      expect(((await client.request('GET', '/events')).body as { code: string; name: string }[]).filter((e) => e.code === code)).toEqual([
        expect.objectContaining({ name: 'first' }),
      ]);
    });

    it.each([
      ['an empty name', { code: 'OK-1', name: '' }],
      ['a code with spaces', { code: 'has space', name: 'x' }],
      ['an extra property', { code: 'OK-2', name: 'x', enabled: false }],
    ])('refuses an event with %s (400)', async (_label, body) => {
      expectProblem(await createEvent(body), 400, 'VALIDATION_FAILED');
    });

    it.each([
      ['endAt before startAt', scheduleBody(Date.now() + day, -60_000)],
      ['endAt equal to startAt', scheduleBody(Date.now() + day, 0)],
      ['a negative price', scheduleBody(Date.now() + day, 3_600_000, { ...SEAT_PRICES, VIP: -1 })],
      ['a fractional price', scheduleBody(Date.now() + day, 3_600_000, { ...SEAT_PRICES, STANDARD: 10.5 })],
      ['a missing seat type price', scheduleBody(Date.now() + day, 3_600_000, { VIP: 1, STANDARD: 1 })],
      ['an invalid date', { ...scheduleBody(), startAt: 'tomorrow' }],
    ])('refuses a schedule with %s (400) and creates nothing', async (_label, body) => {
      const { eventId } = await client.createEventWithSchedule();
      expectProblem(await createSchedule(eventId, body), 400, 'VALIDATION_FAILED');
      expect((await schedules(eventId)).body).toHaveLength(1);
    });

    it('refuses a schedule for an unknown event with 404', async () => {
      expectProblem(await createSchedule(randomUUID(), scheduleBody()), 404, 'NOT_FOUND');
    });

    // The schema lets a NUL character through; PostgreSQL text cannot store it, and that is mapped to 400.
    it('refuses an event name containing a NUL character with 400, not 500', async () => {
      expectProblem(await createEvent({ code: `NUL-${randomUUID()}`, name: 'a\u0000b' }), 400, 'VALIDATION_FAILED');
    });
  });
});
