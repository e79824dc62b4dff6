import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LINE_EXPIRY_MARGIN_MS, RedisWaitingRoom } from '../../src/modules/queue/waiting-room.redis.js';
import type { AdmissionPolicy } from '../../src/modules/queue/waiting-room.js';
import { SEAT_MAP_VERSION_TTL_MS, seatMapVersionKey } from '../../src/modules/catalog/seat-map-versions.js';
import { RedisSeatMapVersions } from '../../src/modules/catalog/seat-map-versions.redis.js';
import { RedisSeatLocks, SOLD_MARKER_MARGIN_MS, SOLD_MARKER_MAX_TTL_MS } from '../../src/modules/reservation/seat-locks.redis.js';
import { createRedis, type Redis } from '../../src/shared/redis.js';
import { CONTRACT_TOKEN_TTL_MS, contractRedisPrefix, openContractRedis } from './adapters.js';

const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;
const policy: AdmissionPolicy = { maxActive: 1, admitPerSecond: 100, activeTtlMs: 60_000, waitingGraceMs: 30_000 };
const LINE_KEY_NAMES = ['active', 'admitted', 'admitted-total', 'rate', 'seq', 'tickets', 'waiting'];

/** Nothing the Redis adapters write may stay forever: every key carries a PX that matches its meaning. */
describe('Redis key expiry', () => {
  let redis: Redis;
  // Unprefixed, to list a line's keys by pattern and read their TTLs by full name.
  let inspector: Redis;
  beforeAll(() => {
    redis = openContractRedis();
    inspector = createRedis(inject('redisUrl'), '');
  });
  afterAll(() => {
    redis.disconnect();
    inspector.disconnect();
  });

  /** Each of the event's keys with its remaining TTL in ms (-1: none). */
  async function lineTtls(eventId: string): Promise<Record<string, number>> {
    const base = `${contractRedisPrefix()}q:{${eventId}}:`;
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await inspector.scan(cursor, 'MATCH', `${base}*`, 'COUNT', 1_000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    const ttls = await Promise.all(keys.map((key) => inspector.pttl(key)));
    return Object.fromEntries(keys.map((key, i) => [key.slice(base.length), ttls[i]!]));
  }

  const expectAllWithin = (ttls: Record<string, number>, names: string[], bound: number) => {
    expect(Object.keys(ttls).sort()).toEqual(names);
    for (const [name, ttl] of Object.entries(ttls)) {
      expect(ttl, name).toBeGreaterThan(0);
      expect(ttl, name).toBeLessThanOrEqual(bound);
    }
  };

  it('gives every key of a line an expiry of at most the token lifetime plus a margin, from the first join on', async () => {
    const room = new RedisWaitingRoom(redis, { tokenTtlMs: CONTRACT_TOKEN_TTL_MS });
    const eventId = randomUUID();
    const bound = CONTRACT_TOKEN_TTL_MS + LINE_EXPIRY_MARGIN_MS;
    const join = (userId: string) =>
      room.join({ tokenId: randomUUID(), userId, eventId, ttlMs: CONTRACT_TOKEN_TTL_MS }, T0);
    await join('a');
    expectAllWithin(await lineTtls(eventId), ['seq', 'tickets', 'waiting'], bound);
    await join('b');
    expect((await room.admit(eventId, T0, policy)).admitted).toEqual(['a']);
    expectAllWithin(await lineTtls(eventId), LINE_KEY_NAMES, bound);
  });

  it('renews a line on a join, but neither on activity nor on an admission step that admits no one', async () => {
    const room = new RedisWaitingRoom(redis, { tokenTtlMs: CONTRACT_TOKEN_TTL_MS });
    const eventId = randomUUID();
    const ticket = async (userId: string) =>
      (await room.join({ tokenId: randomUUID(), userId, eventId, ttlMs: CONTRACT_TOKEN_TTL_MS }, T0)).ticket;
    const [a, b] = [await ticket('a'), await ticket('b')];
    await room.admit(eventId, T0, policy);
    const shorten = async () => {
      for (const name of LINE_KEY_NAMES) await inspector.pexpire(`${contractRedisPrefix()}q:{${eventId}}:${name}`, 5_000);
    };
    await shorten();
    expect((await room.admit(eventId, T0, policy)).admitted).toEqual([]);
    expectAllWithin(await lineTtls(eventId), LINE_KEY_NAMES, 5_000);
    // A holder's activity cannot make their token live longer, and the line outlives every token its
    // joins issued, so a poll or a buyer's request leaves the expiry as the last join set it.
    expect(await room.touch(eventId, [{ userId: a.userId, tokenId: a.tokenId }, { userId: b.userId, tokenId: b.tokenId }], T0, policy)).toEqual([
      { status: 'ACTIVE' },
      { status: 'WAITING', position: 1 },
    ]);
    expectAllWithin(await lineTtls(eventId), LINE_KEY_NAMES, 5_000);
    await ticket('c');
    expect(Math.min(...Object.values(await lineTtls(eventId)))).toBeGreaterThan(5_000);
    expectAllWithin(await lineTtls(eventId), LINE_KEY_NAMES, CONTRACT_TOKEN_TTL_MS + LINE_EXPIRY_MARGIN_MS);
  });

  it("keeps a sold seat's marker until the date ends plus a margin, and caps it for dates far away", async () => {
    const locks = new RedisSeatLocks(redis);
    const [tonight, distant] = [randomUUID(), randomUUID()].map((scheduleId) => `seat:{${scheduleId}}:1`);
    expect(await locks.markSold(tonight!, 'r1', T0 + 2 * HOUR, T0)).toBe(true);
    expect(await locks.markSold(distant!, 'r2', T0 + 10 * 365 * 24 * HOUR, T0)).toBe(true);
    const tonightTtl = await redis.pttl(tonight!);
    expect(tonightTtl).toBeGreaterThan(2 * HOUR);
    expect(tonightTtl).toBeLessThanOrEqual(2 * HOUR + SOLD_MARKER_MARGIN_MS);
    const distantTtl = await redis.pttl(distant!);
    expect(distantTtl).toBeGreaterThan(SOLD_MARKER_MAX_TTL_MS - HOUR);
    expect(distantTtl).toBeLessThanOrEqual(SOLD_MARKER_MAX_TTL_MS);
  });

  it("gives a date's seat-map version an expiry from its first read, renewed by every bump", async () => {
    const versions = new RedisSeatMapVersions(redis);
    const scheduleId = randomUUID();
    const key = seatMapVersionKey(scheduleId);
    await versions.current(scheduleId);
    expect(await redis.pttl(key)).toBeGreaterThan(SEAT_MAP_VERSION_TTL_MS - HOUR);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(SEAT_MAP_VERSION_TTL_MS);
    await redis.pexpire(key, 5_000);
    await versions.current(scheduleId);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(5_000);
    await versions.bump(scheduleId);
    expect(await redis.pttl(key)).toBeGreaterThan(SEAT_MAP_VERSION_TTL_MS - HOUR);
    // A bump of a date never read creates the record with its expiry too.
    const unread = randomUUID();
    await versions.bump(unread);
    expect(await redis.pttl(seatMapVersionKey(unread))).toBeGreaterThan(SEAT_MAP_VERSION_TTL_MS - HOUR);
  });
});
