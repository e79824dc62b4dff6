import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AdmissionPolicy, WaitingRoom } from '../../src/modules/queue/waiting-room.js';
import { CONTRACT_TOKEN_TTL_MS, openForSuite, waitingRooms } from './adapters.js';

const policy: AdmissionPolicy = { maxActive: 2, admitPerSecond: 100, activeTtlMs: 60_000, waitingGraceMs: 30_000 };
const T0 = 1_800_000_000_000;

describe.each(waitingRooms)('waiting room contract: $name', (adapter) => {
  let room: WaitingRoom;
  openForSuite(adapter, (port) => (room = port));

  const touchOne = async (eventId: string, userId: string, tokenId: string, now: number, p: AdmissionPolicy) =>
    (await room.touch(eventId, [{ userId, tokenId }], now, p))[0];

  const join = (eventId: string, userId: string, now = T0) =>
    room.join({ tokenId: randomUUID(), userId, eventId, ttlMs: CONTRACT_TOKEN_TTL_MS }, now);

  it('gives one live ticket per user and event, numbered in join order', async () => {
    const eventId = randomUUID();
    const first = await join(eventId, 'u1');
    const again = await join(eventId, 'u1');
    const second = await join(eventId, 'u2');
    expect(first.created).toBe(true);
    expect(again).toEqual({ ticket: first.ticket, created: false, state: { status: 'WAITING', position: 1 } });
    expect([first.ticket.seq, second.ticket.seq]).toEqual([1, 2]);
  });

  it('answers many entries in one call, in the order asked', async () => {
    const eventId = randomUUID();
    const a = (await join(eventId, 'a')).ticket;
    const b = (await join(eventId, 'b')).ticket;
    const c = (await join(eventId, 'c')).ticket;
    await room.admit(eventId, T0, { ...policy, maxActive: 1 });
    const states = await room.touch(
      eventId,
      [{ userId: 'c', tokenId: c.tokenId }, { userId: 'a', tokenId: a.tokenId }, { userId: 'b', tokenId: 'stale' }, { userId: 'b', tokenId: b.tokenId }],
      T0,
      policy,
    );
    expect(states).toEqual([{ status: 'WAITING', position: 2 }, { status: 'ACTIVE' }, { status: 'EXPIRED' }, { status: 'WAITING', position: 1 }]);
    expect(await room.touch(eventId, [], T0, policy)).toEqual([]);
  });

  it('admits the head of the line up to capacity, then keeps exact positions', async () => {
    const eventId = randomUUID();
    const tickets = [];
    for (const user of ['a', 'b', 'c', 'd']) tickets.push((await join(eventId, user)).ticket);
    expect(await room.admit(eventId, T0, policy)).toEqual({ admitted: ['a', 'b'], dropped: 0, admittedTotal: 2, openingDue: false });
    expect(await room.admit(eventId, T0, policy)).toEqual({ admitted: [], dropped: 0, admittedTotal: 2, openingDue: false });
    expect(await touchOne(eventId, 'a', tickets[0]!.tokenId, T0, policy)).toEqual({ status: 'ACTIVE' });
    expect(await touchOne(eventId, 'c', tickets[2]!.tokenId, T0, policy)).toEqual({ status: 'WAITING', position: 1 });
    expect(await touchOne(eventId, 'd', tickets[3]!.tokenId, T0, policy)).toEqual({ status: 'WAITING', position: 2 });
    expect(await room.stats(eventId)).toEqual({ waiting: 2, active: 2, admittedTotal: 2 });
  });

  it('frees a slot on completion and admits the next in line', async () => {
    const eventId = randomUUID();
    const a = (await join(eventId, 'a')).ticket;
    await join(eventId, 'b');
    await join(eventId, 'c');
    await room.admit(eventId, T0, policy);
    await room.complete(eventId, 'a', a.tokenId);
    expect(await touchOne(eventId, 'a', a.tokenId, T0, policy)).toEqual({ status: 'EXPIRED' });
    expect(await room.admit(eventId, T0, policy)).toEqual({ admitted: ['c'], dropped: 0, admittedTotal: 3, openingDue: false });
    expect(await room.admissionLog(eventId)).toEqual([1, 2, 3]);
  });

  it('ends a turn and admits the next in line in one call, and leaves a stale token\'s entry as it is', async () => {
    const eventId = randomUUID();
    const a = (await join(eventId, 'a')).ticket;
    const b = (await join(eventId, 'b')).ticket;
    await join(eventId, 'c');
    await join(eventId, 'd');
    await room.admit(eventId, T0, policy);
    expect(await room.completeAndAdmit(eventId, { userId: 'a', tokenId: a.tokenId }, T0, policy)).toEqual({
      admitted: ['c'],
      dropped: 0,
      admittedTotal: 3,
      openingDue: false,
    });
    expect(await touchOne(eventId, 'a', a.tokenId, T0, policy)).toEqual({ status: 'EXPIRED' });
    // A token that is not b's live one ends nothing, and the line stays full.
    expect(await room.completeAndAdmit(eventId, { userId: 'b', tokenId: 'stale' }, T0, policy)).toEqual({
      admitted: [],
      dropped: 0,
      admittedTotal: 3,
      openingDue: false,
    });
    expect(await touchOne(eventId, 'b', b.tokenId, T0, policy)).toEqual({ status: 'ACTIVE' });
    expect(await room.completeAndAdmit(eventId, { userId: 'b', tokenId: b.tokenId }, T0, { ...policy, paused: true })).toMatchObject({ admitted: [] });
    expect(await room.admissionLog(eventId)).toEqual([1, 2, 3]);
  });

  it('expires an active user idle past the active TTL, and a touch keeps one alive', async () => {
    const eventId = randomUUID();
    const a = (await join(eventId, 'a')).ticket;
    const b = (await join(eventId, 'b')).ticket;
    await room.admit(eventId, T0, policy);
    expect(await touchOne(eventId, 'b', b.tokenId, T0 + 50_000, policy)).toEqual({ status: 'ACTIVE' });
    const later = T0 + 60_000;
    expect(await touchOne(eventId, 'a', a.tokenId, later, policy)).toEqual({ status: 'EXPIRED' });
    expect(await touchOne(eventId, 'b', b.tokenId, later, policy)).toEqual({ status: 'ACTIVE' });
  });

  it('drops waiters who stop polling, so the people behind them move up', async () => {
    const eventId = randomUUID();
    const full = { ...policy, maxActive: 0 };
    await join(eventId, 'gone');
    const stays = (await join(eventId, 'stays')).ticket;
    expect(await touchOne(eventId, 'stays', stays.tokenId, T0 + 20_000, full)).toEqual({ status: 'WAITING', position: 2 });
    expect(await room.admit(eventId, T0 + 31_000, full)).toEqual({ admitted: [], dropped: 1, admittedTotal: 0, openingDue: false });
    expect(await touchOne(eventId, 'stays', stays.tokenId, T0 + 31_000, full)).toEqual({ status: 'WAITING', position: 1 });
  });

  it('keeps a silent waiter\'s place until it reaches the head, then drops them there and admits past them', async () => {
    const eventId = randomUUID();
    const full = { ...policy, maxActive: 0 };
    const [first, silent, third] = [(await join(eventId, 'first')).ticket, (await join(eventId, 'silent')).ticket, (await join(eventId, 'third')).ticket];
    const polls = (at: number) => room.touch(eventId, [first, third].map(({ userId, tokenId }) => ({ userId, tokenId })), at, full);
    for (const at of [T0 + 20_000, T0 + 40_000]) await polls(at);
    // Silent for 40 s, past the 30 s grace, but not at the head: everyone keeps their place.
    expect(await room.admit(eventId, T0 + 40_000, full)).toEqual({ admitted: [], dropped: 0, admittedTotal: 0, openingDue: false });
    expect(await touchOne(eventId, 'third', third.tokenId, T0 + 40_000, full)).toEqual({ status: 'WAITING', position: 3 });
    expect(await touchOne(eventId, 'silent', silent.tokenId, T0 + 40_000, full)).toEqual({ status: 'WAITING', position: 2 });
    // Their poll counts again; then silence once more, while the others keep polling, until the head reaches them.
    await polls(T0 + 60_000);
    expect(await room.admit(eventId, T0 + 71_000, { ...policy, maxActive: 2 })).toEqual({ admitted: ['first', 'third'], dropped: 1, admittedTotal: 2, openingDue: false });
    expect(await touchOne(eventId, 'silent', silent.tokenId, T0 + 71_000, full)).toEqual({ status: 'EXPIRED' });
    expect(await room.admissionLog(eventId)).toEqual([first.seq, third.seq]);
  });

  it('never admits more than the per-second rate', async () => {
    const eventId = randomUUID();
    const slow = { ...policy, maxActive: 100, admitPerSecond: 3 };
    for (let i = 0; i < 10; i++) await join(eventId, `u${i}`);
    expect((await room.admit(eventId, T0, slow)).admitted).toHaveLength(3);
    expect((await room.admit(eventId, T0 + 500, slow)).admitted).toHaveLength(0);
    expect((await room.admit(eventId, T0 + 1_000, slow)).admitted).toHaveLength(3);
    expect((await room.stats(eventId)).admittedTotal).toBe(6);
  });

  it('lists the events joined since a time and forgets the older ones', async () => {
    const [old, recent] = [randomUUID(), randomUUID()];
    await join(old, 'u', T0);
    await join(recent, 'u', T0 + 10_000);
    const since = T0 + 5_000;
    const listed = await room.events(since);
    expect(listed).toContain(recent);
    expect(listed).not.toContain(old);
    expect(await room.events(T0 - 1)).not.toContain(old);
  });

  it('treats an old token of a user who rejoined as expired', async () => {
    const eventId = randomUUID();
    const first = (await join(eventId, 'a')).ticket;
    await room.admit(eventId, T0, policy);
    await room.complete(eventId, 'a', first.tokenId);
    const second = (await join(eventId, 'a')).ticket;
    expect(second.tokenId).not.toBe(first.tokenId);
    expect(await touchOne(eventId, 'a', first.tokenId, T0, policy)).toEqual({ status: 'EXPIRED' });
  });

  it('skips every silent waiter and no live one when many admission steps walk the head at once', async () => {
    const eventId = randomUUID();
    const wide = { ...policy, maxActive: 1_000, admitPerSecond: 1_000 };
    const tickets = [];
    for (let i = 0; i < 120; i++) tickets.push((await join(eventId, `u${i}`)).ticket);
    // Every third waiter stops polling; the others poll just before the grace period is over.
    const live = tickets.filter((_, i) => i % 3 !== 0);
    await room.touch(eventId, live.map(({ userId, tokenId }) => ({ userId, tokenId })), T0 + 20_000, wide);
    const batches = await Promise.all(Array.from({ length: 20 }, () => room.admit(eventId, T0 + 31_000, { ...wide, maxActive: 60 })));
    expect(batches.flatMap((step) => step.admitted).sort()).toEqual(live.slice(0, 60).map((t) => t.userId).sort());
    // The 60th admitted was u89; u90 behind them is silent and at the head now, so it leaves too: 31 dropped.
    expect(batches.reduce((sum, step) => sum + step.dropped, 0)).toBe(31);
    expect(await room.admissionLog(eventId)).toEqual(live.slice(0, 60).map((t) => t.seq));
    expect(await room.stats(eventId)).toEqual({ waiting: 120 - 60 - 31, active: 60, admittedTotal: 60 });
  });

  it('keeps FIFO and capacity when many admission steps run at once', async () => {
    const eventId = randomUUID();
    const wide = { ...policy, maxActive: 37, admitPerSecond: 1_000 };
    await Promise.all(Array.from({ length: 200 }, (_, i) => join(eventId, `u${i}`)));
    const batches = await Promise.all(Array.from({ length: 20 }, () => room.admit(eventId, T0, wide)));
    expect(batches.flatMap((step) => step.admitted)).toHaveLength(37);
    const log = await room.admissionLog(eventId);
    expect(log).toEqual([...log].sort((x, y) => x - y));
    expect(log).toEqual(Array.from({ length: 37 }, (_, i) => i + 1));
    expect((await room.stats(eventId)).active).toBe(37);
  });

  it('runs the admission step a new entry triggers in the same call, and answers the joiner\'s place', async () => {
    const eventId = randomUUID();
    const first = await room.join({ tokenId: randomUUID(), userId: 'a', eventId, ttlMs: CONTRACT_TOKEN_TTL_MS }, T0, policy);
    expect(first).toMatchObject({ created: true, state: { status: 'ACTIVE' }, step: { admitted: ['a'], dropped: 0, admittedTotal: 1 } });
    await room.join({ tokenId: randomUUID(), userId: 'b', eventId, ttlMs: CONTRACT_TOKEN_TTL_MS }, T0, policy);
    const third = await room.join({ tokenId: randomUUID(), userId: 'c', eventId, ttlMs: CONTRACT_TOKEN_TTL_MS }, T0, policy);
    expect(third).toMatchObject({ created: true, state: { status: 'WAITING', position: 1 }, step: { admitted: [] } });
    const again = await room.join({ tokenId: randomUUID(), userId: 'c', eventId, ttlMs: CONTRACT_TOKEN_TTL_MS }, T0, policy);
    expect(again).toEqual({ ticket: third.ticket, created: false, state: { status: 'WAITING', position: 1 } });
  });

  it('lets a joiner with nobody ahead in at once only within the rate, the capacity and an unpaused line', async () => {
    const eventId = randomUUID();
    const enter = (userId: string, now: number, p: AdmissionPolicy) =>
      room.join({ tokenId: randomUUID(), userId, eventId, ttlMs: CONTRACT_TOKEN_TTL_MS }, now, p);
    const onePerSecond = { ...policy, admitPerSecond: 1 };
    expect(await enter('a', T0, onePerSecond)).toMatchObject({ state: { status: 'ACTIVE' }, step: { admitted: ['a'], admittedTotal: 1 } });
    // This second's admission is used: the next joiner waits at the head.
    expect(await enter('b', T0 + 500, onePerSecond)).toMatchObject({ state: { status: 'WAITING', position: 1 }, step: { admitted: [] } });
    // The next second lets in the one ahead, not the joiner.
    expect(await enter('c', T0 + 1_000, onePerSecond)).toMatchObject({ state: { status: 'WAITING', position: 1 }, step: { admitted: ['b'], admittedTotal: 2 } });
    // The only place taken by an active who went idle: the join clears them and takes the place.
    const next = randomUUID();
    const sweeps = (userId: string, now: number, p: AdmissionPolicy) =>
      room.join({ tokenId: randomUUID(), userId, eventId: next, ttlMs: CONTRACT_TOKEN_TTL_MS }, now, p);
    const single = { ...policy, maxActive: 1 };
    await sweeps('x', T0, single);
    expect(await sweeps('y', T0 + policy.activeTtlMs + 1, single)).toMatchObject({ state: { status: 'ACTIVE' }, step: { admitted: ['y'], dropped: 1 } });
    // A paused line lets nobody in, even with room and nobody ahead.
    const paused = await room.join({ tokenId: randomUUID(), userId: 'p', eventId: randomUUID(), ttlMs: CONTRACT_TOKEN_TTL_MS }, T0, { ...policy, paused: true });
    expect(paused).toMatchObject({ state: { status: 'WAITING', position: 1 }, step: { admitted: [] } });
  });

  it('counts joins of a line per user and refuses past the limit, with the wait', async () => {
    const eventId = randomUUID();
    const limit = { max: 3, windowMs: 60_000 };
    const attempt = (userId: string) => room.join({ tokenId: randomUUID(), userId, eventId, ttlMs: CONTRACT_TOKEN_TTL_MS, limit }, T0);
    for (let i = 0; i < 3; i++) await attempt('eager');
    await expect(attempt('eager')).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    expect((await attempt('calm')).created).toBe(true);
  });
});
