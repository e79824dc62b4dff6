import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../../tools/http/api-client.js';
import { redisBackends } from '../support/redis-backends.js';
import { ADMIN_KEY, startApiApp, startTestApp, type TestApp } from '../support/test-app.js';
import { buyer, countDatabaseCalls, holdOk } from './helpers.js';

const MAX_AGE_MS = 10_000;
const ENV = { SEAT_MAP_CACHE_MAX_AGE_MS: String(MAX_AGE_MS) };

type Seat = { seatNumber: number; status: string };
const statusOf = (seats: Seat[], seatNumber: number) => seats.find((seat) => seat.seatNumber === seatNumber)!.status;

/** Two instances of one deployment: one database, one Redis key prefix, each with its own cache. */
describe.each(redisBackends)('seat map on two instances (%s)', (backend) => {
  let a: TestApp;
  let b: TestApp;
  let viaA: ApiClient;
  let viaB: ApiClient;

  beforeAll(async () => {
    a = await startApiApp(backend, 'seatmap2', ENV);
    b = await startTestApp(backend, { ...ENV, DATABASE_URL: a.infra.config.DATABASE_URL!, REDIS_KEY_PREFIX: a.infra.config.REDIS_KEY_PREFIX });
    viaA = ApiClient.inject(a.app, { adminKey: ADMIN_KEY });
    viaB = ApiClient.inject(b.app, { adminKey: ADMIN_KEY });
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  /** A date, a holder and a viewer, with the map cached on both instances. */
  async function warmDate() {
    const { eventId, scheduleId } = await viaA.createEventWithSchedule();
    const holder = await buyer(viaA, eventId, 'holder');
    const viewer = await buyer(viaA, eventId, 'viewer');
    const seat = async (via: ApiClient, seatNumber: number) => statusOf((await via.seats(viewer.token, scheduleId)).body, seatNumber);
    expect([await seat(viaA, 1), await seat(viaB, 1)]).toEqual(['AVAILABLE', 'AVAILABLE']);
    return { eventId, scheduleId, holder, viewer, seat };
  }

  it('shows a change made through one instance on the other at once', async () => {
    const { scheduleId, holder, seat } = await warmDate();
    const held = await holdOk(viaA, holder.user, holder.token, scheduleId, 1);
    expect(await seat(viaB, 1)).toBe('HELD');
    expect((await viaB.cancel(holder.user, held.id)).status).toBe(200);
    expect(await seat(viaA, 1)).toBe('AVAILABLE');
  });

  it("takes its own change into its copy only when no other instance's change came between", async () => {
    const { eventId, scheduleId, holder, viewer, seat } = await warmDate();
    const other = await buyer(viaA, eventId, 'other');
    const reads = (app: TestApp, via: ApiClient) => countDatabaseCalls(app, () => via.seats(viewer.token, scheduleId));
    await holdOk(viaA, holder.user, holder.token, scheduleId, 1);
    // A's copy was one version behind its own hold: taken in. B's copy is behind A's hold: read again.
    expect((await reads(a, viaA)).calls).toBe(0);
    expect((await reads(b, viaB)).calls).toBeGreaterThan(0);
    // B's hold comes between A's copy and A's next change: A reads again and shows both.
    await holdOk(viaB, other.user, other.token, scheduleId, 2);
    await holdOk(viaA, holder.user, holder.token, scheduleId, 3);
    const afterBoth = await reads(a, viaA);
    expect(afterBoth.calls).toBeGreaterThan(0);
    expect([1, 2, 3].map((n) => statusOf(afterBoth.result.body, n))).toEqual(['HELD', 'HELD', 'HELD']);
    expect(await seat(viaB, 3)).toBe('HELD');
  });

  it('shares a version read only with readers that arrived before it was issued', async () => {
    const { scheduleId, holder, viewer, seat } = await warmDate();
    const versions = b.infra.seatMapVersions;
    const current = versions.current.bind(versions);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // B's first version read is issued now, before the hold, and held back until the reader after the hold is done.
    vi.spyOn(versions, 'current').mockImplementationOnce(async (id) => {
      const version = await current(id);
      await gate;
      return version;
    });
    const early = b.services.seatMaps.read(scheduleId);
    await holdOk(viaA, holder.user, holder.token, scheduleId, 1);
    // Arrived after the hold's answer: the early read would give it B's copy from before the hold.
    const late = viaB.seats(viewer.token, scheduleId);
    setTimeout(release, 1_000);
    expect(statusOf((await late).body, 1)).toBe('HELD');
    release();
    await early;
    expect(await seat(viaB, 1)).toBe('HELD');
  });

  it('reads the map from PostgreSQL while the version store fails, and stays right', async () => {
    const { scheduleId, holder, seat } = await warmDate();
    vi.spyOn(b.infra.seatMapVersions, 'current').mockRejectedValue(new Error('version store down'));
    await holdOk(viaA, holder.user, holder.token, scheduleId, 1);
    const read = await countDatabaseCalls(b, () => seat(viaB, 1));
    expect(read).toEqual({ result: 'HELD', calls: 1 });
  });

  it('a write whose bump fails still succeeds; its own instance reads that date from PostgreSQL until a retried bump lands', async () => {
    const { scheduleId, holder, seat } = await warmDate();
    const bump = vi.spyOn(a.infra.seatMapVersions, 'bump').mockRejectedValue(new Error('version store down'));
    await holdOk(viaA, holder.user, holder.token, scheduleId, 1);
    expect(a.services.seatMaps.owed).toBe(1);
    expect(await countDatabaseCalls(a, () => seat(viaA, 1))).toEqual({ result: 'HELD', calls: 1 });
    // The other instance never heard of the change: its copy is the old one, within its age limit.
    expect(await seat(viaB, 1)).toBe('AVAILABLE');
    expect(await a.services.seatMaps.retryOwedBumps()).toBe(1);
    bump.mockRestore();
    expect(await a.services.seatMaps.retryOwedBumps()).toBe(0);
    expect(await seat(viaB, 1)).toBe('HELD');
    expect(await countDatabaseCalls(a, () => seat(viaA, 1))).toEqual({ result: 'HELD', calls: 1 });
    expect(await countDatabaseCalls(a, () => seat(viaA, 1))).toEqual({ result: 'HELD', calls: 0 });
  });

  it('keeps no read of PostgreSQL that was in flight when a bump failed, so no later change is taken into a copy without the failed one', async () => {
    const { eventId, scheduleId, holder, viewer } = await warmDate();
    const other = await buyer(viaA, eventId, 'other');
    await a.infra.seatMapVersions.bump(scheduleId);
    // A's next read of the map reads PostgreSQL before the hold, and comes back only after the hold's bump failed.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const db = a.infra.db;
    const query = db.query.bind(db);
    const spy = vi.spyOn(db, 'query').mockImplementation((async (text: string, ...rest: unknown[]) => {
      const result = await (query as (...args: unknown[]) => Promise<unknown>)(text, ...rest);
      if (text.includes('FROM seats s')) await gate;
      return result;
    }) as typeof db.query);
    const before = viaA.seats(viewer.token, scheduleId);
    // Only the map's own query is held back; the spy stays until that query has been sent.
    await vi.waitFor(() => expect(spy.mock.calls.some(([text]) => String(text).includes('FROM seats s'))).toBe(true));
    spy.mockRestore();
    const bump = vi.spyOn(a.infra.seatMapVersions, 'bump').mockRejectedValueOnce(new Error('version store down'));
    await holdOk(viaA, holder.user, holder.token, scheduleId, 1);
    expect(bump).toHaveBeenCalled();
    release();
    expect(statusOf((await before).body, 1)).toBe('AVAILABLE');
    // The next change's bump lands; A's copy must not be the read from before the hold with this change set in it.
    await holdOk(viaA, other.user, other.token, scheduleId, 2);
    const seats = (await viaA.seats(viewer.token, scheduleId)).body;
    expect([statusOf(seats, 1), statusOf(seats, 2)]).toEqual(['HELD', 'HELD']);
  });

  it('an instance that missed a bump serves its copy for at most SEAT_MAP_CACHE_MAX_AGE_MS', async () => {
    const { scheduleId, holder, seat } = await warmDate();
    vi.spyOn(a.infra.seatMapVersions, 'bump').mockRejectedValue(new Error('version store down'));
    await holdOk(viaA, holder.user, holder.token, scheduleId, 1);
    b.clock.advance(MAX_AGE_MS - 1);
    expect(await seat(viaB, 1)).toBe('AVAILABLE');
    b.clock.advance(1);
    expect(await seat(viaB, 1)).toBe('HELD');
  });
});
