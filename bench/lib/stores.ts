/** The run's own PostgreSQL database and Redis key prefix: set up, inspected after every scenario, removed. */
import pg from 'pg';
import { RedisWaitingRoom } from '../../src/modules/queue/waiting-room.redis.js';
import { createRedis, type Redis } from '../../src/shared/redis.js';
import { inspectInvariants } from '../../tools/invariants.js';
import { deleteKeysWithPrefix } from '../../tools/redis-keys.js';
import { adminUrl, args, databaseUrl, redisPrefix, redisUrl } from './options.js';
import { log, report } from './report.js';

/** Drops and creates the benchmark database; returns the server version. */
export async function createDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${args.database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${args.database}`);
    return (await admin.query('SHOW server_version')).rows[0].server_version;
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${args.database} WITH (FORCE)`).finally(() => admin.end());
}

/**
 * Vacuums the benchmark database, as pgbench does before its own runs: every purchase leaves dead row
 * versions behind (a seat, a reservation, a wallet), and a run that came after more of them read slower,
 * whichever of the two was measured. So each measured sale and floor starts from a vacuumed database.
 */
export async function vacuumDatabase(): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl.toString() });
  await client.connect();
  await client.query('VACUUM (ANALYZE)').finally(() => client.end());
}

export async function cleanRedis(): Promise<void> {
  const raw = createRedis(redisUrl.toString(), '');
  try {
    await deleteKeysWithPrefix(raw, redisPrefix);
  } finally {
    raw.disconnect();
  }
}

let redis: Redis | undefined;

/** Connects to the shared waiting room (read by the invariant checks); returns the Redis version. */
export async function openRedis(): Promise<string> {
  redis = createRedis(redisUrl.toString(), redisPrefix);
  return /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
}

export function closeRedis(): void {
  redis?.disconnect();
}

// Reading the admission log writes nothing, so the line lifetime a room renews to never applies.
const READ_ONLY = { tokenTtlMs: 0 };

/** The admission log of an event in the service's waiting room (the baseline keeps no log to check). */
const admissionLog = (eventId: string): Promise<number[]> => new RedisWaitingRoom(redis!, READ_ONLY).admissionLog(eventId);

export async function checkAfter(label: string): Promise<void> {
  const result = await inspectInvariants(databaseUrl.toString(), { admissionLog });
  report.invariants.push({ after: label, violations: result.violations, figures: result.figures });
  if (result.violations.length === 0) {
    log(`invariants after ${label}: all hold (${result.figures.eventsChecked} event queues, ${result.figures.admissionsChecked} admissions checked)`);
  } else {
    for (const violation of result.violations) log(`INVARIANT VIOLATED after ${label}: ${violation.invariant}: ${violation.message}`);
  }
}

export async function heldInDb(scheduleId: string): Promise<{ seats: number; pending: number }> {
  const client = new pg.Client({ connectionString: databaseUrl.toString() });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT (SELECT count(*) FROM seats WHERE schedule_id = $1 AND status = 'HELD')::int AS seats,
              (SELECT count(*) FROM reservations WHERE schedule_id = $1 AND status = 'PENDING')::int AS pending`,
      [scheduleId],
    );
    return rows[0];
  } finally {
    await client.end();
  }
}
