/**
 * Redis memory per waiting user: joins `waiters` users straight through the Redis waiting-room adapter
 * under a throwaway key prefix, compares INFO used_memory and MEMORY USAGE of the event's keys, times
 * the scripts at that size, and deletes the keys.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { AdmissionPolicy } from '../../src/modules/queue/waiting-room.js';
import { RedisWaitingRoom } from '../../src/modules/queue/waiting-room.redis.js';
import { createRedis } from '../../src/shared/redis.js';
import { sleep } from '../../tools/async.js';
import { deleteKeysWithPrefix } from '../../tools/redis-keys.js';
import { HOUR, mib, ms, redisCpuSeconds } from './measure-support.js';

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

export async function measureRedis(redisUrl: string, waiters: number) {
  const prefix = `measure:${randomBytes(4).toString('hex')}:`;
  const plain = new Redis(redisUrl);
  const redis = createRedis(redisUrl, prefix);
  const room = new RedisWaitingRoom(redis, { tokenTtlMs: 3 * HOUR });
  const eventId = randomUUID();
  const base = `${prefix}q:{${eventId}}`;
  const policy: AdmissionPolicy = { maxActive: 100, admitPerSecond: 100, activeTtlMs: 600_000, waitingGraceMs: 120_000 };
  try {
    const before = await usedMemory(plain);
    const joinCpuBefore = await redisCpuSeconds(plain);
    const started = performance.now();
    const now = Date.now();
    const users: string[] = [];
    for (let offset = 0; offset < waiters; offset += 1000) {
      const batch = Array.from({ length: Math.min(1000, waiters - offset) }, () => randomUUID());
      users.push(...batch);
      await Promise.all(
        batch.map((userId) => room.join({ tokenId: randomUUID(), userId, eventId, ttlMs: 3 * HOUR }, now)),
      );
    }
    const joinSeconds = (performance.now() - started) / 1000;
    const joinRedisCpu = (await redisCpuSeconds(plain)) - joinCpuBefore;
    await sleep(200);
    const after = await usedMemory(plain);

    const keys = ['tickets', 'waiting', 'seq'];
    const usage: Record<string, { bytes: number; encoding: string }> = {};
    for (const key of keys) {
      usage[key] = {
        bytes: Number(await plain.call('MEMORY', 'USAGE', `${base}:${key}`, 'SAMPLES', '0')),
        encoding: String(await plain.object('ENCODING', `${base}:${key}`)),
      };
    }
    const keyBytes = Object.values(usage).reduce((sum, k) => sum + k.bytes, 0);

    // Script cost at this size: a poll at the back of the line (ZRANK), one admission of 100, and a drop
    // step when everyone stopped polling (the script drops at most 1,000 per step).
    const last = users.at(-1)!;
    const ticket = (await plain.hget(`${base}:tickets`, last))!.split('|')[0]!;
    const touchStart = performance.now();
    for (let i = 0; i < 1000; i++) await room.touch(eventId, [{ userId: last, tokenId: ticket }], now + 1, policy);
    const touchMs = (performance.now() - touchStart) / 1000;
    // What one stream refresh costs Redis: 10,000 polls of random waiters in batches of 500, as the hub does them.
    const sample = Array.from({ length: 10_000 }, () => users[Math.floor(Math.random() * users.length)]!);
    const sampleTickets = await plain.hmget(`${base}:tickets`, ...sample);
    const bulkCpuBefore = await redisCpuSeconds(plain);
    const bulkStart = performance.now();
    for (let i = 0; i < sample.length; i += 500) {
      const batch = sample.slice(i, i + 500).map((userId, j) => ({ userId, tokenId: sampleTickets[i + j]!.split('|')[0]! }));
      await room.touch(eventId, batch, now + 1, policy);
    }
    const bulkSeconds = (performance.now() - bulkStart) / 1000;
    const bulkRedisCpu = (await redisCpuSeconds(plain)) - bulkCpuBefore;
    const admitStart = performance.now();
    const admitted = await room.admit(eventId, now + 2, policy);
    const admitMs = performance.now() - admitStart;
    const dropStart = performance.now();
    const dropped = await room.admit(eventId, now + 10 * HOUR, { ...policy, maxActive: 0 });
    const dropMs = performance.now() - dropStart;

    return {
      waiters,
      joinSeconds,
      joinsPerSecond: waiters / joinSeconds,
      redisCpuMicrosPerJoin: (joinRedisCpu / waiters) * 1e6,
      touches: sample.length,
      touchesPerSecond: sample.length / bulkSeconds,
      redisCpuMicrosPerTouch: (bulkRedisCpu / sample.length) * 1e6,
      usedMemoryDelta: after - before,
      usedMemoryPerWaiter: (after - before) / waiters,
      keyBytes,
      keyBytesPerWaiter: keyBytes / waiters,
      usage,
      touchMsAtBack: touchMs,
      admit100Ms: admitMs,
      admitted: admitted.admitted.length,
      dropStepMs: dropMs,
      droppedInOneStep: dropped.dropped,
    };
  } finally {
    await deleteKeysWithPrefix(plain, prefix);
    redis.disconnect();
    plain.disconnect();
  }
}

export function reportRedis(r: Awaited<ReturnType<typeof measureRedis>>): void {
  console.log(`
Redis waiting room, ${r.waiters.toLocaleString()} waiters in one event (throwaway prefix, deleted)
  joins through RedisWaitingRoom.join: ${r.joinSeconds.toFixed(1)} s, ${Math.round(r.joinsPerSecond).toLocaleString()}/s (auto-pipelined, 1,000 in flight)
  INFO used_memory delta: ${mib(r.usedMemoryDelta)} = ${Math.round(r.usedMemoryPerWaiter)} B per waiter (whole server; other clients add noise)
  MEMORY USAGE of the event's keys: ${mib(r.keyBytes)} = ${Math.round(r.keyBytesPerWaiter)} B per waiter
${Object.entries(r.usage)
  .map(([key, u]) => `    ${key.padEnd(8)} ${mib(u.bytes).padStart(10)}  ${u.encoding}`)
  .join('\n')}
  Redis CPU per join: ${r.redisCpuMicrosPerJoin.toFixed(1)} µs
  poll at the back of the line (touch: HGET + ZSCORE + ZRANK): ${ms(r.touchMsAtBack)} per call, sequential round trips
  ${r.touches.toLocaleString()} polls of random waiters, batches of 500 (what a stream refresh pass does): ${Math.round(r.touchesPerSecond).toLocaleString()}/s, Redis CPU ${r.redisCpuMicrosPerTouch.toFixed(1)} µs each
  one admission step admitting ${r.admitted}: ${ms(r.admit100Ms)}
  one step when everyone stopped polling: dropped ${r.droppedInOneStep} in ${ms(r.dropStepMs)}`);
  console.log(JSON.stringify({ redis: r }));
}
