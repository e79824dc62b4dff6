import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUSE_PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { ApiClient } from '../../tools/http/api-client.js';
import { metric } from '../../tools/metrics.js';
import { expectProblem } from '../support/expect.js';
import { ADMIN_KEY, backends, startApiApp, type TestApp } from '../support/test-app.js';
import { buyer, countDatabaseCalls, holdOk, tamper } from './helpers.js';

const DAY_MS = 86_400_000;
const HOLD_TTL_MS = 30_000;
const MAX_AGE_MS = 60_000;
// Holds lapse before the cache's age limit, so a lapse is seen to end an entry on its own.
const ENV = { HOLD_TTL_SECONDS: String(HOLD_TTL_MS / 1000), SEAT_MAP_CACHE_MAX_AGE_MS: String(MAX_AGE_MS) };

type Seat = { seatNumber: number; status: string };
/** The seats that are not AVAILABLE, as {seatNumber: status}. */
const taken = (seats: Seat[]) => Object.fromEntries(seats.filter((s) => s.status !== 'AVAILABLE').map((s) => [s.seatNumber, s.status]));

describe.each(backends)('seat map cache and ETag (%s)', (backend) => {
  let t: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    t = await startApiApp(backend, 'seatmap', ENV);
    client = ApiClient.inject(t.app, { adminKey: ADMIN_KEY });
  });
  afterAll(() => t?.close());

  const seatsIfNoneMatch = (token: string, scheduleId: string, ifNoneMatch: string) =>
    client.request('GET', `/schedules/${scheduleId}/seats`, { queueToken: token, headers: { 'if-none-match': ifNoneMatch } });

  /** A date three days ahead (refunds stay open) and a viewer admitted to its event. */
  async function date() {
    const event = await client.createEvent();
    const scheduleId = (await client.createSchedule(event.id, { startAt: new Date(t.clock.now().getTime() + 3 * DAY_MS) })).id;
    const viewer = await buyer(client, event.id, 'viewer');
    return { eventId: event.id, scheduleId, viewer };
  }

  it('answers with an ETag, and a matching If-None-Match with 304 and no body', async () => {
    const { scheduleId, viewer } = await date();
    const full = await client.seats(viewer.token, scheduleId);
    expect(full.status).toBe(200);
    expect(full.headers['content-type']).toMatch(/^application\/json/);
    expect(full.headers['cache-control']).toBe('private, no-cache');
    const etag = full.headers.etag!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(full.body).toHaveLength(50);
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const unchanged = await seatsIfNoneMatch(viewer.token, scheduleId, header);
      expect(unchanged.status, header).toBe(304);
      expect(unchanged.body, header).toBeUndefined();
      expect(unchanged.headers.etag).toBe(etag);
      expect(unchanged.headers['content-length']).toBeUndefined();
    }
    const other = await seatsIfNoneMatch(viewer.token, scheduleId, '"something-else"');
    expect(other.status).toBe(200);
    expect(other.body).toEqual(full.body);
  });

  it('gives a changed map a new ETag, so the old one is answered in full', async () => {
    const { eventId, scheduleId, viewer } = await date();
    const before = await client.seats(viewer.token, scheduleId);
    const holder = await buyer(client, eventId, 'holder');
    await holdOk(client, holder.user, holder.token, scheduleId, 7);
    const after = await seatsIfNoneMatch(viewer.token, scheduleId, before.headers.etag!);
    expect(after.status).toBe(200);
    expect(taken(after.body)).toEqual({ 7: 'HELD' });
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect((await seatsIfNoneMatch(viewer.token, scheduleId, after.headers.etag!)).status).toBe(304);
  });

  it('checks the queue token before the ETag: no 304 without an admitted token of the event', async () => {
    const { eventId, scheduleId, viewer } = await date();
    const etag = (await client.seats(viewer.token, scheduleId)).headers.etag!;
    const noToken = await client.request('GET', `/schedules/${scheduleId}/seats`, { headers: { 'if-none-match': etag } });
    expectProblem(noToken, 401, 'QUEUE_TOKEN_INVALID');
    expectProblem(await seatsIfNoneMatch(tamper(viewer.token, 'signature'), scheduleId, etag), 401, 'QUEUE_TOKEN_INVALID');
    const elsewhere = await date();
    expectProblem(await seatsIfNoneMatch(elsewhere.viewer.token, scheduleId, etag), 403, 'QUEUE_TOKEN_INVALID');
    // A purchase ends the buyer's turn: their token no longer reads the map, even unchanged.
    const shopper = await buyer(client, eventId, 'shopper');
    const shopperEtag = (await client.seats(shopper.token, scheduleId)).headers.etag!;
    await client.charge(shopper.user, HOUSE_PRICES.VIP);
    expect((await client.pay(shopper.user, shopper.token, (await holdOk(client, shopper.user, shopper.token, scheduleId, 1)).id)).status).toBe(201);
    expectProblem(await seatsIfNoneMatch(shopper.token, scheduleId, shopperEtag), 401, 'QUEUE_TOKEN_EXPIRED');
  });

  it('answers an unchanged map, in full or with 304, without asking the database', async () => {
    const { scheduleId, viewer } = await date();
    const etag = (await client.seats(viewer.token, scheduleId)).headers.etag!;
    const { result, calls } = await countDatabaseCalls(t, async () => [
      await client.seats(viewer.token, scheduleId),
      await seatsIfNoneMatch(viewer.token, scheduleId, etag),
      await client.seats(viewer.token, scheduleId),
    ]);
    expect(result.map((reply) => reply.status)).toEqual([200, 304, 200]);
    expect(calls).toBe(0);
  });

  it('shows every change at once after a cached read: hold, release, sale, failed payment, refund, canceled date', async () => {
    const { eventId, scheduleId, viewer } = await date();
    const map = async () => taken((await client.seats(viewer.token, scheduleId)).body);
    const [a, b, c] = [await buyer(client, eventId, 'a'), await buyer(client, eventId, 'b'), await buyer(client, eventId, 'c')];
    expect(await map()).toEqual({});

    const aHold = await holdOk(client, a.user, a.token, scheduleId, 1);
    expect(await map()).toEqual({ 1: 'HELD' });
    expect((await client.cancel(a.user, aHold.id)).status).toBe(200);
    expect(await map()).toEqual({});

    await client.charge(b.user, HOUSE_PRICES.VIP);
    const bHold = await holdOk(client, b.user, b.token, scheduleId, 2);
    expect(await map()).toEqual({ 2: 'HELD' });
    expect((await client.pay(b.user, b.token, bHold.id)).status).toBe(201);
    expect(await map()).toEqual({ 2: 'SOLD' });

    const cHold = await holdOk(client, c.user, c.token, scheduleId, 3);
    expect(await map()).toEqual({ 2: 'SOLD', 3: 'HELD' });
    expectProblem(await client.pay(c.user, c.token, cHold.id), 402, 'INSUFFICIENT_BALANCE');
    expect(await map()).toEqual({ 2: 'SOLD' });

    expect((await client.cancel(b.user, bHold.id)).status).toBe(200);
    expect(await map()).toEqual({});

    const d = await buyer(client, eventId, 'd');
    await holdOk(client, d.user, d.token, scheduleId, 4);
    await holdOk(client, a.user, a.token, scheduleId, 5);
    expect(await map()).toEqual({ 4: 'HELD', 5: 'HELD' });
    expect((await client.cancelSchedule(scheduleId)).body).toMatchObject({ released: 2 });
    expect(await map()).toEqual({});
  });

  it('serves a map with a hold from the cache until the hold lapses, and reads it again then', async () => {
    const { eventId, scheduleId, viewer } = await date();
    const holder = await buyer(client, eventId, 'holder');
    await holdOk(client, holder.user, holder.token, scheduleId, 9);
    const held = await client.seats(viewer.token, scheduleId);
    expect(taken(held.body)).toEqual({ 9: 'HELD' });
    t.clock.advance(HOLD_TTL_MS - 1);
    const before = await countDatabaseCalls(t, () => client.seats(viewer.token, scheduleId));
    expect([taken(before.result.body), before.calls]).toEqual([{ 9: 'HELD' }, 0]);
    t.clock.advance(1);
    const after = await countDatabaseCalls(t, () => client.seats(viewer.token, scheduleId));
    expect(taken(after.result.body)).toEqual({});
    expect(after.calls).toBeGreaterThan(0);
    expect(after.result.headers.etag).not.toBe(held.headers.etag);
  });

  it('reads a map again once it is SEAT_MAP_CACHE_MAX_AGE_MS old, even unchanged', async () => {
    const { scheduleId, viewer } = await date();
    await client.seats(viewer.token, scheduleId);
    t.clock.advance(MAX_AGE_MS - 1);
    expect((await countDatabaseCalls(t, () => client.seats(viewer.token, scheduleId))).calls).toBe(0);
    t.clock.advance(1);
    expect((await countDatabaseCalls(t, () => client.seats(viewer.token, scheduleId))).calls).toBeGreaterThan(0);
  });

  it("moves the date's version when the sweeper releases its lapsed holds", async () => {
    const { eventId, scheduleId } = await date();
    const holder = await buyer(client, eventId, 'holder');
    await holdOk(client, holder.user, holder.token, scheduleId, 11);
    const before = await t.infra.seatMapVersions.current(scheduleId);
    t.clock.advance(HOLD_TTL_MS);
    expect(await t.services.reservations.sweepLapsedHolds()).toBeGreaterThanOrEqual(1);
    expect(await t.infra.seatMapVersions.current(scheduleId)).not.toBe(before);
  });

  it("takes this instance's own holds and payments into its cached map without reading it again", async () => {
    const { eventId, scheduleId, viewer } = await date();
    const read = (token = viewer.token) => countDatabaseCalls(t, () => client.seats(token, scheduleId));
    const first = await client.seats(viewer.token, scheduleId);
    const [paying, broke] = [await buyer(client, eventId, 'paying'), await buyer(client, eventId, 'broke')];
    await client.charge(paying.user, HOUSE_PRICES.VIP);

    const readsBy = async (source: string) =>
      metric((await t.app.inject({ method: 'GET', url: '/metrics' })).body, 'ticketing_seat_map_reads_total', { source });
    const [fromCache, fromDatabase] = [await readsBy('cache'), await readsBy('database')];

    const hold = await holdOk(client, paying.user, paying.token, scheduleId, 12);
    const held = await read();
    expect([taken(held.result.body), held.calls]).toEqual([{ 12: 'HELD' }, 0]);
    expect(held.result.headers.etag).not.toBe(first.headers.etag);
    expect((await client.pay(paying.user, paying.token, hold.id)).status).toBe(201);
    const sold = await read();
    expect([taken(sold.result.body), sold.calls]).toEqual([{ 12: 'SOLD' }, 0]);

    // A payment refused for want of money releases its hold: the seat goes back to AVAILABLE.
    const unpaid = await holdOk(client, broke.user, broke.token, scheduleId, 13);
    expectProblem(await client.pay(broke.user, broke.token, unpaid.id), 402, 'INSUFFICIENT_BALANCE');
    const released = await read();
    expect([taken(released.result.body), released.calls]).toEqual([{ 12: 'SOLD' }, 0]);
    // The same bytes a read of the database gives, with the same ETag.
    t.clock.advance(MAX_AGE_MS);
    const fresh = await read();
    expect(fresh.calls).toBeGreaterThan(0);
    expect([fresh.result.body, fresh.result.headers.etag]).toEqual([released.result.body, released.result.headers.etag]);
    expect([(await readsBy('cache')) - fromCache, (await readsBy('database')) - fromDatabase]).toEqual([3, 1]);
  });

  it('ends a cached map at the lapse of a hold it took in, and reads it again then', async () => {
    const { eventId, scheduleId, viewer } = await date();
    await client.seats(viewer.token, scheduleId);
    const holder = await buyer(client, eventId, 'holder');
    await holdOk(client, holder.user, holder.token, scheduleId, 14);
    t.clock.advance(HOLD_TTL_MS - 1);
    const before = await countDatabaseCalls(t, () => client.seats(viewer.token, scheduleId));
    expect([taken(before.result.body), before.calls]).toEqual([{ 14: 'HELD' }, 0]);
    t.clock.advance(1);
    const after = await countDatabaseCalls(t, () => client.seats(viewer.token, scheduleId));
    expect([taken(after.result.body), after.calls > 0]).toEqual([{}, true]);
  });

  it('drops its cached map instead of taking in a change it cannot apply', async () => {
    const { scheduleId, viewer } = await date();
    await client.seats(viewer.token, scheduleId);
    // An AVAILABLE seat cannot have become SOLD in one step, and seat 99 is not in the map.
    for (const seat of [{ seatNumber: 3, status: 'SOLD' as const }, { seatNumber: 99, status: 'HELD' as const, lapsesAt: Infinity }]) {
      await t.services.seatMaps.seatsChanged([{ scheduleId, ...seat }]);
      const next = await countDatabaseCalls(t, () => client.seats(viewer.token, scheduleId));
      expect([taken(next.result.body), next.calls > 0]).toEqual([{}, true]);
    }
  });
});
