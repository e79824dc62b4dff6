/**
 * One-off measurements behind docs/scaling.md, on loopback only, bounded in time:
 *
 *   npx tsx scripts/multi-instance/measure-queue.ts [--waiters 50000] [--streams 10000] [--only redis|sse]
 *
 * 1. Redis memory per waiting user (measure-redis.ts).
 * 2. Event streams on one instance (measure-streams.ts).
 * The client side needs one file descriptor per stream: `ulimit -n` must exceed --streams (+ a few hundred).
 */
import os from 'node:os';
import { measureRedis, reportRedis } from './measure-redis.js';
import { measureStreams, reportStreams } from './measure-streams.js';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`npx tsx scripts/multi-instance/measure-queue.ts [options]
  --waiters N         users joined straight into the Redis waiting room for the memory figures (default 50000)
  --streams N         concurrent SSE connections on one instance (default 10000; ulimit -n must exceed it by a few hundred)
  --rounds N          "line moved" fan-outs timed over the open streams (default 3)
  --only redis|sse    run one of the two measurements (default: both)
Environment: REDIS_URL (default redis://127.0.0.1:6379); MULTI_ADMIN_URL, the PostgreSQL server on which the
throwaway database ticketing_measure is created and dropped (default postgres://postgres@127.0.0.1:5432/postgres).`);
  process.exit(0);
}
const option = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] ? args[at + 1]! : fallback;
};
const WAITERS = Number(option('waiters', '50000'));
const STREAMS = Number(option('streams', '10000'));
const ONLY = option('only', 'all');
const ROUNDS = Number(option('rounds', '3'));
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const adminUrl = process.env.MULTI_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const overall = setTimeout(() => {
  console.error('measurement took longer than 10 minutes; giving up');
  process.exit(2);
}, 600_000);
overall.unref();

console.log(`${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, Node ${process.version}`);

if (ONLY === 'all' || ONLY === 'redis') reportRedis(await measureRedis(redisUrl, WAITERS));
if (ONLY === 'all' || ONLY === 'sse') reportStreams(await measureStreams({ redisUrl, adminUrl, streams: STREAMS, rounds: ROUNDS }));
process.exit(0);
