import { inject } from 'vitest';
import { MemoryWaitingRoom } from '../../src/modules/queue/waiting-room.memory.js';
import { RedisWaitingRoom } from '../../src/modules/queue/waiting-room.redis.js';
import type { WaitingRoom } from '../../src/modules/queue/waiting-room.js';
import type { SeatLocks } from '../../src/modules/reservation/seat-locks.js';
import { MemorySeatLocks } from '../../src/modules/reservation/seat-locks.memory.js';
import { RedisSeatLocks } from '../../src/modules/reservation/seat-locks.redis.js';
import { createRedis, type Redis } from '../../src/shared/redis.js';

export interface AdapterPair {
  name: string;
  open(): { room: WaitingRoom; locks: SeatLocks; close(): Promise<void> };
}

/** How long the contract tests' queue tokens live; the Redis waiting room sizes a line's expiry from it. */
export const CONTRACT_TOKEN_TTL_MS = 3_600_000;

/** Where contract tests keep their Redis keys, under the run's prefix. */
export const contractRedisPrefix = () => `${inject('redisPrefix')}contract:`;

export const openContractRedis = (): Redis => createRedis(inject('redisUrl'), contractRedisPrefix());

/** Both implementations of each port; a contract test runs the same checks against each. */
export const adapters: AdapterPair[] = [
  {
    name: 'redis',
    open() {
      const redis = openContractRedis();
      return {
        room: new RedisWaitingRoom(redis, { tokenTtlMs: CONTRACT_TOKEN_TTL_MS }),
        locks: new RedisSeatLocks(redis),
        close: async () => redis.disconnect(),
      };
    },
  },
  {
    name: 'in-process',
    open() {
      const room = new MemoryWaitingRoom();
      return { room, locks: new MemorySeatLocks(), close: () => room.close() };
    },
  },
];
