/**
 * Invariant checker, standalone: reads PostgreSQL (and the waiting room's admission log in Redis) and
 * exits 1 on any violation.
 *
 *   npx tsx bench/check.ts --database-url postgres://postgres@127.0.0.1:5432/ticketing_bench \
 *     [--redis-url redis://127.0.0.1:6379 --redis-prefix tix:] [--event <uuid>] [--json]
 *
 * DATABASE_URL / REDIS_URL / REDIS_KEY_PREFIX are used when the flags are left out. Without a Redis
 * URL the FIFO check is skipped.
 */
import { parseArgs } from 'node:util';
import { createRedis } from '../src/shared/redis.js';
import { inspectInvariants, invariantDescriptions, type InvariantName } from '../tools/invariants.js';

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    'redis-url': { type: 'string' },
    'redis-prefix': { type: 'string' },
    event: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('usage: tsx bench/check.ts --database-url <postgres url> [--redis-url <url> --redis-prefix <prefix>] [--event <id>]');
  process.exit(2);
}
const redisUrl = values['redis-url'] ?? process.env.REDIS_URL;
const redis = redisUrl ? createRedis(redisUrl, values['redis-prefix'] ?? process.env.REDIS_KEY_PREFIX ?? 'tix:') : undefined;
try {
  const report = await inspectInvariants(databaseUrl, { ...(values.event ? { eventId: values.event } : {}), ...(redis ? { redis } : {}) });
  if (values.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    const failed = new Set(report.violations.map((violation) => violation.invariant));
    for (const [name, description] of Object.entries(invariantDescriptions)) {
      const skipped = name === 'fifo-admission' && !redis;
      console.log(`${skipped ? 'skip' : failed.has(name as InvariantName) ? 'FAIL' : 'ok  '}  ${name}: ${description}`);
    }
    for (const violation of report.violations) {
      console.log(`\n${violation.invariant}: ${violation.message}`);
      for (const row of violation.sample ?? []) console.log(`  ${JSON.stringify(row)}`);
    }
    console.log(`\n${JSON.stringify(report.figures)}`);
  }
  process.exitCode = report.violations.length > 0 ? 1 : 0;
} finally {
  redis?.disconnect();
}
