import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SeatLocks } from '../../src/modules/reservation/seat-locks.js';
import { openForSuite, seatLocks } from './adapters.js';

const T0 = 1_800_000_000_000;

describe.each(seatLocks)('seat lock contract: $name', (adapter) => {
  let locks: SeatLocks;
  openForSuite(adapter, (port) => (locks = port));

  it('lets one owner in until its deadline on the service clock', async () => {
    const key = `seat:{${randomUUID()}}:1`;
    expect(await locks.acquire(key, 'r1', T0, 5_000)).toBe(true);
    expect(await locks.acquire(key, 'r2', T0 + 4_999, 5_000)).toBe(false);
    expect(await locks.acquire(key, 'r2', T0 + 5_000, 5_000)).toBe(true);
  });

  it('releases only for its owner', async () => {
    const key = `seat:{${randomUUID()}}:2`;
    await locks.acquire(key, 'r1', T0, 5_000);
    await locks.release(key, 'someone-else');
    expect(await locks.acquire(key, 'r2', T0, 5_000)).toBe(false);
    await locks.release(key, 'r1');
    expect(await locks.acquire(key, 'r2', T0, 5_000)).toBe(true);
  });

  it('keeps a sold seat refused until the date ends, past the hold deadline and through releases', async () => {
    const key = `seat:{${randomUUID()}}:4`;
    const dateEnd = T0 + 86_400_000;
    await locks.acquire(key, 'r1', T0, 5_000);
    expect(await locks.markSold(key, 'r1', dateEnd, T0 + 1_000)).toBe(true);
    expect(await locks.acquire(key, 'r2', T0 + 5_000, 5_000)).toBe(false);
    await locks.release(key, 'r1');
    expect(await locks.acquire(key, 'r2', dateEnd - 1, 5_000)).toBe(false);
    expect(await locks.acquire(key, 'r2', dateEnd, 5_000)).toBe(true);
  });

  it('lets only the holder of a live lock mark it sold; a lapsed or missing lock is nobody\'s', async () => {
    const [held, lapsed, missing] = [5, 6, 7].map((seat) => `seat:{${randomUUID()}}:${seat}`);
    const dateEnd = T0 + 86_400_000;
    await locks.acquire(held!, 'r1', T0, 5_000);
    expect(await locks.markSold(held!, 'r2', dateEnd, T0 + 1_000)).toBe(false);
    expect(await locks.acquire(held!, 'r3', T0 + 5_000, 5_000)).toBe(true);
    await locks.acquire(lapsed!, 'r1', T0, 5_000);
    expect(await locks.markSold(lapsed!, 'r2', dateEnd, T0 + 5_000)).toBe(true);
    expect(await locks.markSold(missing!, 'r1', dateEnd, T0)).toBe(true);
    expect(await locks.acquire(lapsed!, 'r3', T0 + 10_000, 5_000)).toBe(false);
    expect(await locks.acquire(missing!, 'r3', T0 + 10_000, 5_000)).toBe(false);
  });

  it('says a seat is taken exactly when an acquire would be refused, and takes nothing itself', async () => {
    const [held, sold, free] = [8, 9, 10].map((seat) => `seat:{${randomUUID()}}:${seat}`);
    const dateEnd = T0 + 86_400_000;
    await locks.acquire(held!, 'r1', T0, 5_000);
    expect(await locks.isTaken(held!, T0 + 4_999)).toBe(true);
    expect(await locks.isTaken(held!, T0 + 5_000)).toBe(false);
    await locks.acquire(sold!, 'r1', T0, 5_000);
    await locks.markSold(sold!, 'r1', dateEnd, T0);
    expect(await locks.isTaken(sold!, dateEnd - 1)).toBe(true);
    expect(await locks.isTaken(sold!, dateEnd)).toBe(false);
    expect(await locks.isTaken(free!, T0)).toBe(false);
    expect(await locks.acquire(free!, 'r2', T0, 5_000)).toBe(true);
  });

  it('grants exactly one of many simultaneous attempts', async () => {
    const key = `seat:{${randomUUID()}}:3`;
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => locks.acquire(key, `r${i}`, T0, 5_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
