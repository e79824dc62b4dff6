import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisSeatLocks, SOLD_MARKER_MARGIN_MS, SOLD_MARKER_MAX_TTL_MS } from '../../src/modules/reservation/seat-locks.redis.js';
import type { Redis } from '../../src/shared/redis.js';
import { openContractRedis } from './adapters.js';

const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;

/** Nothing the Redis adapters write may stay forever: every key carries a PX that matches its meaning. */
describe('Redis key expiry', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = openContractRedis();
  });
  afterAll(() => redis.disconnect());

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
});
