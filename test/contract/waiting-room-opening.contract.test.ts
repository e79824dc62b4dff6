import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AdmissionPolicy, WaitingRoom } from '../../src/modules/queue/waiting-room.js';
import { CONTRACT_TOKEN_TTL_MS, openForSuite, waitingRooms } from './adapters.js';

const policy: AdmissionPolicy = { maxActive: 100, admitPerSecond: 100, activeTtlMs: 60_000, waitingGraceMs: 30_000 };
const T0 = 1_800_000_000_000;
const OPENS = T0 + 10_000;

/** The parts of the line that operating a sale adds: the pre-queue and its draw, pause, and the sold-out close. */
describe.each(waitingRooms)('waiting room contract, operating a sale: $name', (adapter) => {
  let room: WaitingRoom;
  openForSuite(adapter, (port) => (room = port));

  const join = (eventId: string, userId: string, now: number, opensAt: number | null = OPENS) =>
    room.join({ tokenId: randomUUID(), userId, eventId, ttlMs: CONTRACT_TOKEN_TTL_MS, opensAt }, now);
  const states = async (eventId: string, tickets: { userId: string; tokenId: string }[], now: number) =>
    room.touch(eventId, tickets, now, policy);

  it('keeps joins before the opening in a pre-queue with no position, and admits nobody until the draw is placed', async () => {
    const eventId = randomUUID();
    const early = [];
    for (const user of ['a', 'b', 'c', 'd']) early.push((await join(eventId, user, T0 + 1_000)).ticket);
    expect(await states(eventId, early, T0 + 2_000)).toEqual(early.map(() => ({ status: 'WAITING', position: null })));
    expect(await room.stats(eventId)).toMatchObject({ waiting: 4, active: 0 });
    expect(await room.admit(eventId, T0 + 2_000, { ...policy, opensAt: OPENS })).toMatchObject({ admitted: [], openingDue: false });
    // Before the opening by the store's clock, there is no pre-queue to draw from.
    expect(await room.prequeue(eventId, OPENS, T0 + 9_999)).toBeUndefined();

    const late = (await join(eventId, 'late', OPENS + 1)).ticket;
    expect(await states(eventId, [late], OPENS + 1)).toEqual([{ status: 'WAITING', position: 1 }]);
    // The opening has come but the draw is not placed: nobody is admitted, not even the late joiner.
    expect(await room.admit(eventId, OPENS + 2, { ...policy, opensAt: OPENS })).toMatchObject({ admitted: [], openingDue: true });

    const prequeue = await room.prequeue(eventId, OPENS, OPENS + 2);
    expect(prequeue?.map(({ userId, seq }) => [userId, seq])).toEqual([['a', 1], ['b', 2], ['c', 3], ['d', 4]]);
    expect(await room.open(eventId, [3, 1, 4, 2])).toBe(true);
    expect(await room.open(eventId, [1, 2, 3, 4])).toBe(false);
    expect(await states(eventId, [...early, late], OPENS + 3)).toEqual([
      { status: 'WAITING', position: 2 },
      { status: 'WAITING', position: 4 },
      { status: 'WAITING', position: 1 },
      { status: 'WAITING', position: 3 },
      { status: 'WAITING', position: 5 },
    ]);
    const step = await room.admit(eventId, OPENS + 3, { ...policy, maxActive: 3, opensAt: OPENS });
    expect(step).toMatchObject({ admitted: ['c', 'a', 'd'], openingDue: false });
    expect(await room.admissionLog(eventId)).toEqual([3, 1, 4]);
  });

  it('places pre-queue entries the draw missed after the drawn ones, and skips drawn ones that left', async () => {
    const eventId = randomUUID();
    const tickets = [];
    for (const user of ['a', 'b', 'c']) tickets.push((await join(eventId, user, T0)).ticket);
    await room.complete(eventId, 'b', tickets[1]!.tokenId);
    expect(await room.open(eventId, [2, 3])).toBe(true);
    expect(await states(eventId, [tickets[0]!, tickets[2]!], OPENS)).toEqual([
      { status: 'WAITING', position: 2 },
      { status: 'WAITING', position: 1 },
    ]);
  });

  it('keeps silent pre-queue joiners in the draw; after the opening they leave at the head', async () => {
    const eventId = randomUUID();
    const gone = (await join(eventId, 'gone', T0 - 40_000)).ticket;
    const stays = (await join(eventId, 'stays', T0 - 40_000)).ticket;
    await states(eventId, [stays], T0 - 20_000);
    expect((await room.admit(eventId, T0, { ...policy, opensAt: OPENS })).dropped).toBe(0);
    expect((await room.prequeue(eventId, OPENS, OPENS))?.map(({ userId }) => userId)).toEqual(['gone', 'stays']);
    expect(await room.open(eventId, [gone.seq, stays.seq])).toBe(true);
    await states(eventId, [stays], OPENS);
    expect(await room.admit(eventId, OPENS, { ...policy, opensAt: OPENS })).toMatchObject({ admitted: ['stays'], dropped: 1 });
  });

  it('admits nobody while paused and keeps the order', async () => {
    const eventId = randomUUID();
    for (const user of ['a', 'b']) await join(eventId, user, T0, null);
    expect((await room.admit(eventId, T0, { ...policy, paused: true })).admitted).toEqual([]);
    expect((await room.admit(eventId, T0, { ...policy, paused: false })).admitted).toEqual(['a', 'b']);
  });

  it('closes a sold-out line at once: waiters read SOLD_OUT, joins are refused, actives keep their turn; reopening lets joins in', async () => {
    const eventId = randomUUID();
    const active = (await join(eventId, 'active', T0, null)).ticket;
    await room.admit(eventId, T0, { ...policy, maxActive: 1 });
    const waiters = [];
    for (let i = 0; i < 50; i++) waiters.push((await join(eventId, `w${i}`, T0, null)).ticket);
    expect(await room.closeSoldOut(eventId, 60_000)).toBe(true);
    expect(await room.closeSoldOut(eventId, 60_000)).toBe(false);
    expect(await states(eventId, [active, waiters[0]!, waiters[49]!], T0)).toEqual([{ status: 'ACTIVE' }, { status: 'SOLD_OUT' }, { status: 'SOLD_OUT' }]);
    await expect(join(eventId, 'newcomer', T0, null)).rejects.toMatchObject({ code: 'EVENT_SOLD_OUT' });
    expect(await room.stats(eventId)).toMatchObject({ waiting: 0, active: 1 });
    expect((await room.admit(eventId, T0, policy)).admitted).toEqual([]);

    expect(await room.reopen(eventId)).toBe(true);
    expect(await room.reopen(eventId)).toBe(false);
    const newcomer = (await join(eventId, 'newcomer', T0 + 1, null)).ticket;
    expect(await states(eventId, [newcomer, waiters[0]!], T0 + 1)).toEqual([{ status: 'WAITING', position: 1 }, { status: 'EXPIRED' }]);
  });

  it('lets the sold-out mark lapse when nobody renews it', async () => {
    const eventId = randomUUID();
    // Long enough for the join right after it on a loaded machine, short enough to wait out.
    await room.closeSoldOut(eventId, 400);
    await expect(join(eventId, 'early', T0, null)).rejects.toMatchObject({ code: 'EVENT_SOLD_OUT' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await join(eventId, 'later', T0, null)).created).toBe(true);
  });
});
