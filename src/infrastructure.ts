import type { Logger } from 'pino';
import { redisTargetOf, type Config } from './config.js';
import type { ReadinessChecks } from './http/health.routes.js';
import type { Clock } from './shared/clock.js';
import { SharedClock, systemClock } from './shared/clock.system.js';
import type { Database } from './shared/db.js';
import { createPostgresDatabase } from './shared/db.pg.js';
import { createPgliteDatabase } from './shared/db.pglite.js';
import { migrate } from './shared/migrate.js';
import { openRedis, whenReady, type RedisClient } from './shared/redis.js';
import type { QueueEvents } from './modules/queue/queue-events.js';
import { MemoryQueueEvents } from './modules/queue/queue-events.memory.js';
import { RedisQueueEvents } from './modules/queue/queue-events.redis.js';
import type { WaitingRoom } from './modules/queue/waiting-room.js';
import { MemoryWaitingRoom } from './modules/queue/waiting-room.memory.js';
import { RedisWaitingRoom } from './modules/queue/waiting-room.redis.js';
import type { SeatMapVersions } from './modules/catalog/seat-map-versions.js';
import { MemorySeatMapVersions } from './modules/catalog/seat-map-versions.memory.js';
import { RedisSeatMapVersions } from './modules/catalog/seat-map-versions.redis.js';
import type { SeatLocks } from './modules/reservation/seat-locks.js';
import { MemorySeatLocks } from './modules/reservation/seat-locks.memory.js';
import { RedisSeatLocks } from './modules/reservation/seat-locks.redis.js';

/** The adapters a running service is built from; main.ts picks production or embedded ones. */
export interface Infrastructure {
  config: Config;
  db: Database;
  waitingRoom: WaitingRoom;
  queueEvents: QueueEvents;
  seatLocks: SeatLocks;
  seatMapVersions: SeatMapVersions;
  clock: Clock;
  /** Reports whether each external dependency answers, for /ready. */
  checks: ReadinessChecks;
}

export interface OpenInfrastructure extends Infrastructure {
  /** The Redis client when REDIS_URL or REDIS_CLUSTER_NODES is set, for stores outside the domain ports (rate limits). */
  redis: RedisClient | undefined;
  close(): Promise<void>;
}

/**
 * Production adapters when DATABASE_URL / REDIS_URL (or REDIS_CLUSTER_NODES) are set, embedded ones (PGlite,
 * in-process) when not. Either way the schema is migrated before anything else touches it. Without a clock
 * given (tests give one), several instances read time from the shared store: Redis's clock when there is
 * Redis, else PostgreSQL's, else (embedded, one process) the host's.
 */
export async function openInfrastructure(config: Config, log: Logger, givenClock?: Clock): Promise<OpenInfrastructure> {
  const db = config.DATABASE_URL
    ? createPostgresDatabase({
        connectionString: config.DATABASE_URL,
        maxConnections: config.DATABASE_POOL_SIZE,
        statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      })
    : await createPgliteDatabase(config.PGLITE_DATA_DIR);
  await migrate(db);

  const checks: ReadinessChecks = {
    database: async () => {
      await db.query('SELECT 1');
    },
  };
  const redisTarget = redisTargetOf(config);
  const redis = redisTarget
    ? openRedis(redisTarget, config.REDIS_KEY_PREFIX, (error) => log.warn({ err: error.message }, 'redis connection error'))
    : undefined;
  if (redis) {
    if (!(await whenReady(redis, 5_000))) log.warn('Redis is not reachable yet; queue requests answer 503 until it is');
    checks.redis = async () => {
      await redis.ping();
    };
  }
  const waitingRoom = redis ? new RedisWaitingRoom(redis, { tokenTtlMs: config.QUEUE_TOKEN_TTL_SECONDS * 1000 }) : new MemoryWaitingRoom();
  const seatLocks = redis ? new RedisSeatLocks(redis) : new MemorySeatLocks();
  const queueEvents = redis ? new RedisQueueEvents(redis) : new MemoryQueueEvents();
  const seatMapVersions = redis ? new RedisSeatMapVersions(redis) : new MemorySeatMapVersions();
  const clock = givenClock ?? (await sharedClockFor(redis, db, log));

  return {
    config,
    db,
    clock,
    waitingRoom,
    queueEvents,
    seatLocks,
    seatMapVersions,
    checks,
    redis,
    async close() {
      if (clock instanceof SharedClock) clock.stop();
      await queueEvents.close();
      await seatMapVersions.close();
      await waitingRoom.close();
      redis?.disconnect();
      await db.close();
    },
  };
}

/** The store every instance reads its time from, or the host's clock when this process is the whole fleet. */
async function sharedClockFor(redis: RedisClient | undefined, db: Database, log: Logger): Promise<Clock> {
  const onError = (error: unknown) => log.warn({ err: error }, 'could not read the shared clock; keeping the last offset');
  let clock: SharedClock;
  if (redis) {
    clock = new SharedClock(async () => {
      const [seconds, micros] = await redis.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    }, onError);
  } else if (db.kind === 'postgres') {
    clock = new SharedClock(async () => {
      const { rows } = await db.query<{ ms: number }>('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms');
      return rows[0]!.ms;
    }, onError);
  } else {
    return systemClock;
  }
  await clock.start();
  if (Math.abs(clock.offsetMs) > 1_000) log.warn({ offsetMs: Math.round(clock.offsetMs) }, "this host's clock is off the shared clock; using the shared one");
  return clock;
}
