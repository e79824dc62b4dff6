import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisWaitingRoom } from '../../src/modules/queue/waiting-room.redis.js';
import { ADMISSION_LOG_LIMIT, newTokenId } from '../../src/modules/queue/waiting-room.js';
import type { Redis } from '../../src/shared/redis.js';
import { CONTRACT_TOKEN_TTL_MS, openContractRedis } from './adapters.js';

const T0 = 1_800_000_000_000;
const policy = { maxActive: 1, admitPerSecond: 100, activeTtlMs: 60_000, waitingGraceMs: 30_000 };
/** The largest string in a 48-byte allocation: 44 bytes plus the 3-byte header and the terminator. */
const COMPACT_TICKET_BYTES = 44;

/** What a waiter costs the Redis line: the layout docs/scaling.md › "A line of a million" measures. */
describe('Redis waiting room layout', () => {
  let redis: Redis;
  let room: RedisWaitingRoom;
  beforeAll(() => {
    redis = openContractRedis();
    room = new RedisWaitingRoom(redis, { tokenTtlMs: CONTRACT_TOKEN_TTL_MS });
  });
  afterAll(() => redis.disconnect());

  const key = (eventId: string, name: string) => `q:{${eventId}}:${name}`;

  it('keeps a waiter in one hash entry of at most 44 bytes and one sorted-set entry, far into the line and its lifetime', async () => {
    const eventId = randomUUID();
    for (let i = 0; i < 3; i++) await room.join({ tokenId: newTokenId(), userId: randomUUID(), eventId, ttlMs: CONTRACT_TOKEN_TTL_MS }, T0);
    // The longest ticket a real line writes: a join number in the tens of millions, polled near the end of its lifetime.
    await redis.set(key(eventId, 'seq'), 59_999_999);
    const last = await room.join({ tokenId: newTokenId(), userId: randomUUID(), eventId, ttlMs: CONTRACT_TOKEN_TTL_MS }, T0);
    await room.touch(eventId, [last.ticket], T0 + CONTRACT_TOKEN_TTL_MS - 1, policy);
    expect(last.ticket.seq).toBe(60_000_000);
    const names = (await redis.keys(`*${key(eventId, '*')}`)).map((name) => name.slice(name.indexOf('}:') + 2)).sort();
    expect(names).toEqual(['seq', 'tickets', 'waiting']);
    expect([await redis.hlen(key(eventId, 'tickets')), await redis.zcard(key(eventId, 'waiting'))]).toEqual([4, 4]);
    const tickets = Object.values(await redis.hgetall(key(eventId, 'tickets')));
    for (const ticket of tickets) expect(Buffer.byteLength(ticket), ticket).toBeLessThanOrEqual(COMPACT_TICKET_BYTES);
  });

  it('reads a ticket in an older form as expired, and lets its holder join again', async () => {
    const eventId = randomUUID();
    const userId = randomUUID();
    const oldTokenId = randomUUID();
    await redis.hset(key(eventId, 'tickets'), userId, `${oldTokenId}|1|${T0}|${T0 + CONTRACT_TOKEN_TTL_MS}`);
    await redis.zadd(key(eventId, 'waiting'), 1, userId);
    await redis.set(key(eventId, 'seq'), 1);
    expect(await room.touch(eventId, [{ userId, tokenId: oldTokenId }], T0, policy)).toEqual([{ status: 'EXPIRED' }]);
    const again = await room.join({ tokenId: newTokenId(), userId, eventId, ttlMs: CONTRACT_TOKEN_TTL_MS }, T0);
    expect(again).toMatchObject({ created: true, ticket: { seq: 2 }, state: { status: 'WAITING', position: 1 } });
    expect(await room.touch(eventId, [again.ticket], T0, policy)).toEqual([{ status: 'WAITING', position: 1 }]);
  });

  it('keeps the admission log at its limit, the newest admissions last, through a join that goes straight in and through a step', async () => {
    const eventId = randomUUID();
    const log = key(eventId, 'admitted');
    const fill = Array.from({ length: 10_000 }, (_, i) => i + 1);
    for (let filled = 0; filled < ADMISSION_LOG_LIMIT; filled += fill.length) await redis.rpush(log, ...fill);
    const join = () => room.join({ tokenId: newTokenId(), userId: randomUUID(), eventId, ttlMs: CONTRACT_TOKEN_TTL_MS }, T0, policy);
    const first = await join();
    expect(first.state).toEqual({ status: 'ACTIVE' });
    expect(await redis.llen(log)).toBe(ADMISSION_LOG_LIMIT);
    const second = await join();
    expect(second.state).toEqual({ status: 'WAITING', position: 1 });
    await room.complete(eventId, first.ticket.userId, first.ticket.tokenId);
    expect((await room.admit(eventId, T0, policy)).admitted).toEqual([second.ticket.userId]);
    expect(await redis.llen(log)).toBe(ADMISSION_LOG_LIMIT);
    expect(await redis.lrange(log, -3, -1)).toEqual(['10000', String(first.ticket.seq), String(second.ticket.seq)]);
  });
});
