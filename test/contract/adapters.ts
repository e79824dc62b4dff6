import { afterAll, beforeAll, inject } from 'vitest';
import type { SeatMapVersions } from '../../src/modules/catalog/seat-map-versions.js';
import { seatMapVersionKey } from '../../src/modules/catalog/seat-map-versions.js';
import { MemorySeatMapVersions } from '../../src/modules/catalog/seat-map-versions.memory.js';
import { RedisSeatMapVersions } from '../../src/modules/catalog/seat-map-versions.redis.js';
import type { QueueEvents } from '../../src/modules/queue/queue-events.js';
import { MemoryQueueEvents } from '../../src/modules/queue/queue-events.memory.js';
import { RedisQueueEvents } from '../../src/modules/queue/queue-events.redis.js';
import type { WaitingRoom } from '../../src/modules/queue/waiting-room.js';
import { MemoryWaitingRoom } from '../../src/modules/queue/waiting-room.memory.js';
import { RedisWaitingRoom } from '../../src/modules/queue/waiting-room.redis.js';
import type { SeatLocks } from '../../src/modules/reservation/seat-locks.js';
import { MemorySeatLocks } from '../../src/modules/reservation/seat-locks.memory.js';
import { RedisSeatLocks } from '../../src/modules/reservation/seat-locks.redis.js';
import type { Database } from '../../src/shared/db.js';
import { createPostgresDatabase } from '../../src/shared/db.pg.js';
import { createPgliteDatabase } from '../../src/shared/db.pglite.js';
import { createRedis, type Redis, type RedisClient } from '../../src/shared/redis.js';
import { openRunRedis, redisBackends, type RedisBackend } from '../support/redis-backends.js';

/** One implementation of a port, as a contract test opens it; `close` frees whatever `open` took. */
export interface Adapter<Port> {
  name: string;
  open(): Promise<{ port: Port; close(): Promise<void> }>;
}

/** Opens the adapter before the suite's tests, hands its port to `use`, and closes it after them. */
export function openForSuite<Port>(adapter: Adapter<Port>, use: (port: Port) => void): void {
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const opened = await adapter.open();
    close = opened.close;
    use(opened.port);
  });
  afterAll(() => close?.());
}

/** How long the contract tests' queue tokens live; the Redis waiting room sizes a line's expiry from it. */
export const CONTRACT_TOKEN_TTL_MS = 3_600_000;

/** Where contract tests keep their Redis keys, under the run's prefix. */
export const contractRedisPrefix = () => `${inject('redisPrefix')}contract:`;

export const openContractRedis = (): Redis => createRedis(inject('redisUrl'), contractRedisPrefix());

/** A port's Redis adapter on a client of its own (standalone or cluster), disconnected on close. */
const onContractRedis = async <Port>(build: (redis: RedisClient) => Port, backend: RedisBackend = 'postgres+redis') => {
  const redis = openRunRedis(backend, contractRedisPrefix());
  return { port: build(redis), close: async () => redis.disconnect() };
};

/** Every Redis adapter runs on standalone Redis, and on Redis Cluster when it is up. */
const onEachRedis = <Port>(build: (redis: RedisClient) => Port): Adapter<Port>[] =>
  redisBackends.map((backend) => ({
    name: backend === 'postgres+cluster' ? 'redis cluster' : 'redis',
    open: () => onContractRedis(build, backend),
  }));

export const databases: Adapter<Database>[] = [
  {
    name: 'postgres',
    async open() {
      const db = createPostgresDatabase({ connectionString: inject('databaseUrl'), maxConnections: 2, statementTimeoutMs: 10_000 });
      return { port: db, close: () => db.close() };
    },
  },
  {
    name: 'pglite (in memory)',
    async open() {
      const db = await createPgliteDatabase();
      return { port: db, close: () => db.close() };
    },
  },
];

export const waitingRooms: Adapter<WaitingRoom>[] = [
  ...onEachRedis((redis) => new RedisWaitingRoom(redis, { tokenTtlMs: CONTRACT_TOKEN_TTL_MS })),
  {
    name: 'in-process',
    async open() {
      const room = new MemoryWaitingRoom();
      return { port: room, close: () => room.close() };
    },
  },
];

export const seatLocks: Adapter<SeatLocks>[] = [
  ...onEachRedis((redis) => new RedisSeatLocks(redis)),
  { name: 'in-process', open: async () => ({ port: new MemorySeatLocks(), close: async () => undefined }) },
];

/**
 * Queue events are checked across instances: `instanceOn(namespace)` starts one more instance of a
 * deployment whose Redis key prefix is `namespace`. Only an adapter that `spansInstances` carries an
 * event from one instance to another.
 */
export interface QueueEventsAdapter extends Adapter<{ instanceOn(namespace: string): QueueEvents }> {
  spansInstances: boolean;
}

export const queueEventsAdapters: QueueEventsAdapter[] = [
  ...redisBackends.map(
    (backend): QueueEventsAdapter => ({
      name: backend === 'postgres+cluster' ? 'redis cluster' : 'redis',
      spansInstances: true,
      async open() {
        const started: { events: QueueEvents; redis: RedisClient }[] = [];
        const instanceOn = (namespace: string) => {
          const redis = openRunRedis(backend, `${contractRedisPrefix()}${namespace}:`);
          const events = new RedisQueueEvents(redis);
          started.push({ events, redis });
          return events;
        };
        const close = async () => {
          for (const { events, redis } of started) {
            await events.close();
            redis.disconnect();
          }
        };
        return { port: { instanceOn }, close };
      },
    }),
  ),
  {
    name: 'in-process',
    spansInstances: false,
    async open() {
      const started: QueueEvents[] = [];
      const instanceOn = () => {
        const events = new MemoryQueueEvents();
        started.push(events);
        return events;
      };
      const close = async () => {
        await Promise.all(started.map((events) => events.close()));
      };
      return { port: { instanceOn }, close };
    },
  },
];

/**
 * Seat-map versions are checked across instances too: `instanceOn(namespace)` starts one more instance
 * of a deployment whose Redis key prefix is `namespace`. `forget` (Redis only) deletes a date's record
 * behind the adapter's back, as a restart without persistence or an expiry would.
 */
export interface SeatMapVersionsAdapter
  extends Adapter<{ instanceOn(namespace: string): SeatMapVersions; forget?(namespace: string, scheduleId: string): Promise<void> }> {
  spansInstances: boolean;
}

export const seatMapVersionsAdapters: SeatMapVersionsAdapter[] = [
  ...redisBackends.map(
    (backend): SeatMapVersionsAdapter => ({
      name: backend === 'postgres+cluster' ? 'redis cluster' : 'redis',
      spansInstances: true,
      async open() {
        const started: { versions: SeatMapVersions; redis: RedisClient }[] = [];
        const raw = openRunRedis(backend);
        const prefixOf = (namespace: string) => `${contractRedisPrefix()}${namespace}:`;
        const instanceOn = (namespace: string) => {
          const redis = openRunRedis(backend, prefixOf(namespace));
          const versions = new RedisSeatMapVersions(redis);
          started.push({ versions, redis });
          return versions;
        };
        const forget = async (namespace: string, scheduleId: string) => {
          await raw.del(`${prefixOf(namespace)}${seatMapVersionKey(scheduleId)}`);
        };
        const close = async () => {
          for (const { versions, redis } of started) {
            await versions.close();
            redis.disconnect();
          }
          raw.disconnect();
        };
        return { port: { instanceOn, forget }, close };
      },
    }),
  ),
  {
    name: 'in-process',
    spansInstances: false,
    async open() {
      const started: SeatMapVersions[] = [];
      const instanceOn = () => {
        const versions = new MemorySeatMapVersions();
        started.push(versions);
        return versions;
      };
      return { port: { instanceOn }, close: async () => void (await Promise.all(started.map((versions) => versions.close()))) };
    },
  },
];
