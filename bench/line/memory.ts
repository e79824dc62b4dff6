/** How much a waiter costs Redis, and how fast the line's steps stay, with the line this long. */
import { randomUUID } from 'node:crypto';
import { newTokenId } from '../../src/modules/queue/waiting-room.js';
import { RedisWaitingRoom } from '../../src/modules/queue/waiting-room.redis.js';
import type { Redis } from '../../src/shared/redis.js';

export interface LineMemory {
  waiters: number;
  seconds: number;
  bytesPerWaiter: number;
  joinsPerSecond: number;
  /** One admission step (admits 100) at this length, and one exact read of the last waiter's place. */
  admitStepMs: number;
  touchBackMs: number;
}

const usedMemory = async (redis: Redis) => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);

/**
 * Fills one event's line through the join script itself (no HTTP: this measures the store), `inFlight`
 * joins at a time, until `target` waiters or `budgetMs`, whichever comes first.
 */
export async function measureLineMemory(redis: Redis, target: number, budgetMs: number, log: (line: string) => void): Promise<LineMemory> {
  const room = new RedisWaitingRoom(redis, { tokenTtlMs: 3 * 3_600_000 });
  const eventId = randomUUID();
  const before = await usedMemory(redis);
  const started = performance.now();
  let joined = 0;
  let last = { userId: '', tokenId: '' };
  const inFlight = 10_000;
  while (joined < target && performance.now() - started < budgetMs) {
    const batch = Math.min(inFlight, target - joined);
    const joins = await Promise.all(
      Array.from({ length: batch }, () => room.join({ tokenId: newTokenId(), userId: randomUUID(), eventId, ttlMs: 3 * 3_600_000 }, undefined)),
    );
    joined += batch;
    last = joins.at(-1)!.ticket;
    if (joined % 100_000 < inFlight) log(`  ${joined.toLocaleString('en')} waiters in line`);
  }
  const seconds = (performance.now() - started) / 1000;
  const after = await usedMemory(redis);
  const policy = { maxActive: 100, admitPerSecond: 100, activeTtlMs: 600_000, waitingGraceMs: 3_600_000 };
  let t = performance.now();
  await room.admit(eventId, undefined, policy);
  const admitStepMs = performance.now() - t;
  t = performance.now();
  await room.touch(eventId, [last], undefined, policy);
  const touchBackMs = performance.now() - t;
  await Promise.all(['tickets', 'waiting', 'active', 'rate', 'admitted', 'admitted-total', 'seq'].map((key) => redis.unlink(`q:{${eventId}}:${key}`)));
  return {
    waiters: joined,
    seconds,
    bytesPerWaiter: Math.round((after - before) / joined),
    joinsPerSecond: Math.round(joined / seconds),
    admitStepMs,
    touchBackMs,
  };
}
