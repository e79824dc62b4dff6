import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUSE_PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { ApiClient } from '../../tools/http/api-client.js';
import { metric } from '../../tools/metrics.js';
import { expectProblem } from '../support/expect.js';
import { ADMIN_KEY, backends, startApiApp, type TestApp } from '../support/test-app.js';
import { buyer, HOLD_TTL_MS, holdOk } from './helpers.js';

const { VIP, STANDARD } = HOUSE_PRICES;
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

interface MinuteFigures {
  minute: string;
  purchases: number;
  revenue: number;
  refunds: number;
}

const minuteOf = (at: Date) => new Date(Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS).toISOString();

describe.each(backends)('sales figures (%s)', (backend) => {
  let t: TestApp;
  let client: ApiClient;
  const sales = (eventId: string, headers: Record<string, string> = { 'x-admin-key': ADMIN_KEY }) =>
    client.request('GET', `/admin/events/${eventId}/sales`, { headers });
  const figures = async (eventId: string) => {
    const reply = await sales(eventId);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return reply.body as {
      eventId: string;
      schedules: { id: string; status: string; available: number; held: number; sold: number }[];
      revenue: number;
      purchases: number;
      refunds: number;
      perMinute: MinuteFigures[];
    };
  };
  /** A date some days after the test clock's now: far enough for a buyer's refund. */
  const dateOf = async (eventId: string, daysAhead = 3) =>
    (await client.createSchedule(eventId, { startAt: new Date(t.clock.now().getTime() + daysAhead * DAY_MS) })).id;

  /** A buyer who pays for `seats` of the date with one payment. */
  async function purchase(eventId: string, scheduleId: string, seats: number[]) {
    const b = await buyer(client, eventId, 'payer');
    await client.charge(b.user, 100_000);
    const holds = [];
    for (const seat of seats) holds.push(await holdOk(client, b.user, b.token, scheduleId, seat));
    const paid = await client.payAll(b.user, b.token, holds.map((hold) => hold.id));
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    return { ...b, reservationIds: holds.map((hold) => hold.id) };
  }

  beforeAll(async () => {
    t = await startApiApp(backend, 'sales');
    client = ApiClient.inject(t.app, { adminKey: ADMIN_KEY });
  });
  afterAll(() => t?.close());

  it('lists every event, a disabled one too, with its sale times, as PATCH answers them', async () => {
    const shown = await client.createEvent({ name: 'On sale', category: 'Opera' });
    const hidden = await client.createEvent({ name: 'Withdrawn' });
    const opensAt = new Date(t.clock.now().getTime() + DAY_MS).toISOString();
    const disabled = await client.patchEvent(hidden.id, { enabled: false, salesStartAt: opensAt });
    expect(disabled.status).toBe(200);
    const reply = await client.request('GET', '/admin/events', { admin: true });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual(
      expect.arrayContaining([
        { id: shown.id, code: shown.code, name: 'On sale', description: '', category: 'Opera', enabled: true, salesStartAt: null, salesOpenedAt: null },
        disabled.body,
      ]),
    );
    expect(disabled.body).toMatchObject({ enabled: false, salesStartAt: opensAt, salesOpenedAt: null });
    expect(((await client.request('GET', '/events')).body as { id: string }[]).map((event) => event.id)).not.toContain(hidden.id);
  });

  it('counts seats per date, money and refunds, and shows them in the minute they happened', async () => {
    const event = await client.createEvent();
    const [first, second] = [await dateOf(event.id), await dateOf(event.id, 4)];
    const now = t.clock.now();
    const holder = await buyer(client, event.id, 'holder');
    await holdOk(client, holder.user, holder.token, first, 5);
    const payer = await purchase(event.id, first, [11, 12]);
    expect((await client.cancel(payer.user, payer.reservationIds[1]!)).status).toBe(200);
    await purchase(event.id, second, [1]);
    expect((await client.cancelSchedule(second)).status).toBe(200);
    // Another event's sale is not this one's.
    const other = await client.createEvent();
    await purchase(other.id, await dateOf(other.id), [1]);

    const seen = await figures(event.id);
    expect(seen.schedules).toEqual([
      expect.objectContaining({ id: first, status: 'OPEN', available: 48, held: 1, sold: 1 }),
      // A canceled date has nothing to sell; its one purchase was refunded and its seat released.
      expect.objectContaining({ id: second, status: 'CANCELED', available: 0, held: 0, sold: 0 }),
    ]);
    expect(seen).toMatchObject({ eventId: event.id, revenue: STANDARD, purchases: 3, refunds: 2 });
    expect(seen.perMinute).toHaveLength(30);
    expect(seen.perMinute.at(-1)).toEqual({ minute: minuteOf(now), purchases: 3, revenue: 2 * STANDARD + VIP - STANDARD - VIP, refunds: 2 });
    expect(seen.perMinute.slice(0, -1).every((m) => m.purchases === 0 && m.revenue === 0 && m.refunds === 0)).toBe(true);
    expect(seen.perMinute.map((m) => Date.parse(m.minute) - Date.parse(seen.perMinute[0]!.minute))).toEqual(
      Array.from({ length: 30 }, (_, i) => i * MINUTE_MS),
    );
    // The public date list agrees on what is left.
    const listed = (await client.request('GET', `/events/${event.id}/schedules`)).body as { id: string; availableSeats: number }[];
    expect(listed.map((date) => date.availableSeats)).toEqual(seen.schedules.map((date) => date.available));
  });

  it('counts a lapsed hold as available before any sweep, and moves old minutes out of the window', async () => {
    const event = await client.createEvent();
    const date = await dateOf(event.id);
    const sold = minuteOf(t.clock.now());
    const holder = await buyer(client, event.id, 'holder');
    await holdOk(client, holder.user, holder.token, date, 40);
    await purchase(event.id, date, [41]);
    expect((await figures(event.id)).schedules[0]).toMatchObject({ available: 48, held: 1, sold: 1 });

    t.clock.advance(HOLD_TTL_MS);
    const later = await figures(event.id);
    expect(later.schedules[0]).toMatchObject({ available: 49, held: 0, sold: 1 });
    expect(later.perMinute.find((m) => m.minute === sold)).toEqual({ minute: sold, purchases: 1, revenue: HOUSE_PRICES.STANDING, refunds: 0 });
    expect(later.perMinute.at(-1)!.minute).toBe(minuteOf(t.clock.now()));

    t.clock.advance(30 * MINUTE_MS);
    const past = await figures(event.id);
    expect(past.perMinute.some((m) => m.purchases > 0)).toBe(false);
    expect(past).toMatchObject({ revenue: HOUSE_PRICES.STANDING, purchases: 1, refunds: 0 });
  });

  it('answers an event without dates with empty figures', async () => {
    const event = await client.createEvent();
    const seen = await figures(event.id);
    expect(seen).toMatchObject({ eventId: event.id, schedules: [], revenue: 0, purchases: 0, refunds: 0 });
    expect(seen.perMinute.every((m) => m.purchases === 0 && m.revenue === 0 && m.refunds === 0)).toBe(true);
  });

  it('answers 404 for an unknown event and 400 for a malformed id', async () => {
    expectProblem(await sales(randomUUID()), 404, 'NOT_FOUND');
    expectProblem(await sales('not-an-id'), 400, 'VALIDATION_FAILED');
  });

  it.each([
    ['missing', {}],
    ['wrong', { 'x-admin-key': `${ADMIN_KEY}-wrong` }],
  ])('refuses a %s X-Admin-Key with 403 FORBIDDEN', async (_label, headers) => {
    const event = await client.createEvent();
    expectProblem(await sales(event.id, headers), 403, 'FORBIDDEN');
    expectProblem(await client.request('GET', '/admin/events', { headers }), 403, 'FORBIDDEN');
  });

  it('reports seats per date and each event\'s last minute of purchases and refunds on /metrics, leaving out dates that are over', async () => {
    const event = await client.createEvent();
    const date = await dateOf(event.id);
    const holder = await buyer(client, event.id, 'holder');
    await holdOk(client, holder.user, holder.token, date, 2);
    const payer = await purchase(event.id, date, [3, 4]);
    expect((await client.cancel(payer.user, payer.reservationIds[1]!)).status).toBe(200);
    const quiet = await client.createEvent();
    const quietDate = await dateOf(quiet.id);
    const past = await client.createEvent();
    const over = (await client.createSchedule(past.id, { startAt: new Date(t.clock.now().getTime() - 3 * 3_600_000) })).id;

    const scrape = async () => (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const page = await scrape();
    const seats = (eventId: string, scheduleId: string, status: string) =>
      metric(page, 'ticketing_schedule_seats', { event_id: eventId, schedule_id: scheduleId, status });
    expect(['available', 'held', 'sold'].map((status) => seats(event.id, date, status))).toEqual([48, 1, 1]);
    expect(['available', 'held', 'sold'].map((status) => seats(quiet.id, quietDate, status))).toEqual([50, 0, 0]);
    expect(metric(page, 'ticketing_schedule_seats', { schedule_id: over })).toBeNaN();
    const lastMinute = (text: string, eventId: string) =>
      ['purchases', 'refunds', 'revenue'].map((figure) => metric(text, `ticketing_event_${figure}_per_minute`, { event_id: eventId }));
    expect(lastMinute(page, event.id)).toEqual([2, 1, VIP]);
    // A quiet event with a date on sale reports zeros; an event whose dates are all over, nothing.
    expect(lastMinute(page, quiet.id)).toEqual([0, 0, 0]);
    expect(lastMinute(page, past.id)).toEqual([NaN, NaN, NaN]);

    // A minute later (by the database's clock) the sale is out of the window; the figures are read afresh each second.
    t.clock.advance(MINUTE_MS);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(lastMinute(await scrape(), event.id)).toEqual([0, 0, 0]);
  });

  it('reports the settings of every line on /metrics, and every metric the Grafana dashboard reads', async () => {
    const event = await client.createEvent();
    await dateOf(event.id);
    const untouched = await client.createEvent();
    await dateOf(untouched.id);
    const quiet = await client.createEvent();
    await dateOf(quiet.id);
    // A line each for the first two: settings are reported for the sales that have one.
    for (const eventId of [event.id, untouched.id]) expect((await client.join(await client.createUser(), eventId)).status).toBe(201);
    expect((await client.patchQueue(event.id, { paused: true, maxActive: 7, admitPerSecond: 3 })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const page = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const setting = (name: string, eventId: string) => metric(page, name, { event_id: eventId });
    expect(['paused', 'max_active', 'admit_per_second'].map((name) => setting(`ticketing_queue_${name}`, event.id))).toEqual([1, 7, 3]);
    // Without settings of its own an event runs on QUEUE_MAX_ACTIVE and QUEUE_ADMIT_PER_SECOND (1000 in tests).
    expect(['paused', 'max_active', 'admit_per_second'].map((name) => setting(`ticketing_queue_${name}`, untouched.id))).toEqual([0, 1000, 1000]);
    expect(setting('ticketing_queue_paused', quiet.id)).toBeNaN();

    const dashboard = readFileSync(new URL('../../deploy/grafana/ticketing-dashboard.json', import.meta.url), 'utf8');
    const read = new Set(dashboard.match(/\b(ticketing|http|nodejs_eventloop)_[a-z_]+/g));
    const exposed = new Set([...page.matchAll(/^# TYPE (\S+) (\w+)/gm)].flatMap(([, name, type]) => (type === 'histogram' ? [`${name}_bucket`, `${name}_count`] : [name!])));
    expect([...read].filter((name) => !exposed.has(name))).toEqual([]);
    expect(read.size).toBeGreaterThan(10);
  });
});
