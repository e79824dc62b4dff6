/**
 * A line of a million: `npm run bench -- --line 1000000` (or `npm run bench:line -- --help`).
 *
 * 1. Redis memory per waiter: one event's line filled with `--line` waiters through the join script
 *    itself, Redis's used_memory read before and after; an admission step and an exact read of the
 *    last place timed at that length. Bounded by `--line-seconds`.
 * 2. Streams: two service instances on PostgreSQL + Redis, `--streams` waiters joined over HTTP, each
 *    with its stream open (half on each instance). Each of `--moves` moves is one active buyer leaving,
 *    so the next waiter is admitted and everyone moves up one place: the time until each stream shows
 *    its new place (p50, p99 and the last one), and Redis calls per move per instance (INFO
 *    commandstats during the moves, less the same span idle).
 * Prints the figures and writes bench/results/line-latest.json. docs/scaling.md has the latest run.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createRedis } from '../../src/shared/redis.js';
import { ApiClient, type ApiUser } from '../../tools/http/api-client.js';
import { startService, stopAll, type ServiceProcess } from '../../tools/processes.js';
import { PrivateRedis } from '../../tools/private-redis.js';
import { deleteKeysWithPrefix } from '../../tools/redis-keys.js';
import { resultsDir } from '../lib/processes.js';
import { measureLineMemory } from './memory.js';
import { redisCalls, StreamHolders, type StreamState } from './streams.js';

const { values } = parseArgs({
  options: {
    line: { type: 'string', default: '1000000' },
    'line-seconds': { type: 'string', default: '180' },
    streams: { type: 'string', default: '20000' },
    moves: { type: 'string', default: '10' },
    'move-interval-ms': { type: 'string', default: '6000' },
    'postgres-url': { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    // Default: a private redis-server of its own.
    'redis-url': { type: 'string' },
    database: { type: 'string', default: 'ticketing_bench_line' },
    help: { type: 'boolean', default: false },
  },
  // `npm run bench -- --line N` hands over here with the scenario options beside these.
  strict: false,
});
const args = values as { [K in 'line' | 'line-seconds' | 'streams' | 'moves' | 'move-interval-ms' | 'postgres-url' | 'database']: string } & {
  'redis-url'?: string;
  help?: boolean;
};
if (args.help) {
  console.log('npm run bench:line -- [--line N (0 skips)] [--line-seconds S] [--streams N (0 skips)] [--moves N] [--move-interval-ms MS] [--postgres-url URL] [--redis-url URL] [--database NAME]');
  process.exit(0);
}

const ADMIN_KEY = randomBytes(24).toString('hex');
const CAPACITY = 10;
/** A process may hold 20,000 descriptors here; each holder keeps well under. */
const STREAMS_PER_HOLDER = 10_000;
const prefix = `bench-line:${randomBytes(4).toString('hex')}:`;
const log = (line: string) => console.log(`[line] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;

/** Runs `task` over `items`, `limit` at a time. */
async function pooled<T, R>(items: T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  }));
  return results;
}

async function streamsPhase(count: number, moves: number, intervalMs: number) {
  const databaseUrl = new URL(args['postgres-url']);
  const admin = new pg.Client({ connectionString: databaseUrl.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${args.database} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${args.database}`);
  databaseUrl.pathname = `/${args.database}`;
  const env = {
    DATABASE_URL: databaseUrl.toString(),
    DATABASE_POOL_SIZE: '10',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    TOKEN_SECRET: randomBytes(24).toString('hex'),
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    QUEUE_MAX_ACTIVE: String(CAPACITY),
    QUEUE_ADMIT_PER_SECOND: '1000',
    QUEUE_ACTIVE_PER_SEAT: '1000',
    QUEUE_WAITING_GRACE_SECONDS: '3600',
    // The heartbeat reads every stream (its keep-alive) and each tick runs an admission step: at their
    // longest, 60 s, each fires once per instance in the idle window and once in the moves' window (both
    // 60 s by default), so they cancel out of the difference instead of swamping the moves' own calls.
    // A move needs no tick: the leave that makes it runs the admission step itself.
    QUEUE_STREAM_HEARTBEAT_MS: '60000',
    QUEUE_ADMIT_INTERVAL_MS: '60000',
    RATE_LIMIT_SIGNUPS_PER_MINUTE: '1000000',
    RATE_LIMIT_STREAMS_PER_MINUTE: '1000000',
  };
  const instances: ServiceProcess[] = [];
  const redis = createRedis(redisUrl, '');
  const sockets: { close(): void }[] = [];
  try {
    for (let i = 0; i < 2; i++) instances.push(await startService({ name: `line-${i}`, env, readyPath: '/ready' }));
    const apis = instances.map((instance) => ApiClient.http(instance.baseUrl, { adminKey: ADMIN_KEY, timeoutMs: 30_000 }));
    const { eventId } = await apis[0]!.createEventWithSchedule();
    log(`joining ${count.toLocaleString('en')} waiters and ${CAPACITY} active buyers over HTTP`);
    const started = performance.now();
    const people = await pooled(Array.from({ length: count + CAPACITY }, (_, i) => i), 32, async (i) => {
      const api = apis[i % 2]!;
      const user = await api.createUser(`w${i}`);
      const joined = await api.join(user, eventId);
      if (joined.status !== 201) throw new Error(`join ${i}: ${joined.status} ${JSON.stringify(joined.body)}`);
      return { user, token: joined.body.token as string, status: joined.body.status as string, i };
    });
    log(`  joined in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const movers = people.filter((p) => p.status === 'ACTIVE');
    const waiters = people.filter((p) => p.status === 'WAITING');
    log(`opening ${waiters.length.toLocaleString('en')} streams over 2 instances`);
    const urls = waiters.map((waiter, k) => `${instances[k % 2]!.baseUrl}/api/v1/queue/tokens/current/stream?token=${encodeURIComponent(waiter.token)}`);
    const holders = await StreamHolders.open(urls, STREAMS_PER_HOLDER);
    sockets.push(holders);
    let states: StreamState[] = await holders.snapshot();
    const refresh = async () => (states = await holders.snapshot());
    await waitUntil(async () => (await refresh()).every((s) => s.position !== null), 60_000);
    const info = () => redis.info('commandstats');

    log(`idle for ${((moves * intervalMs) / 1000).toFixed(0)} s to measure the calls nobody's move causes`);
    let before = await redisCalls(info);
    await sleep(moves * intervalMs);
    const idle = await redisCalls(info);
    const idleCalls = { commands: idle.commands - before.commands, scripts: idle.scripts - before.scripts };

    log(`${moves} moves, one every ${intervalMs} ms`);
    const lastMs: number[] = [];
    const everyMs: number[] = [];
    before = await redisCalls(info);
    for (let m = 0; m < moves; m++) {
      const mover = movers[m % movers.length]!;
      const expected = (await refresh()).map((s) => (s.status === 'WAITING' && s.position !== null ? s.position - 1 : s.position));
      const t0 = performance.timeOrigin + performance.now();
      await leave(apis[m % 2]!, mover.user, mover.token);
      const arrived = await waitUntil(
        async () => (await refresh()).every((s, k) => s.position === expected[k] || (expected[k] === 0 && s.status === 'ACTIVE')),
        10_000,
      );
      const took = states.map((s) => Math.max(0, s.changedAt - t0));
      lastMs.push(Math.max(...took));
      everyMs.push(...took);
      if (!arrived) {
        const wrong = states.flatMap((s, k) => (s.position === expected[k] ? [] : [`${s.status} ${s.position} (expected ${expected[k]})`]));
        log(`  move ${m + 1}: ${wrong.length} streams without their new place after 10 s, e.g. ${wrong.slice(0, 5).join(', ')}`);
      }
      movers.push({ ...waiters[m]!, status: 'ACTIVE' }); // the admitted waiter leaves in a later move
      await sleep(Math.max(0, intervalMs - (performance.timeOrigin + performance.now() - t0)));
    }
    const after = await redisCalls(info);
    const perMove = (key: 'commands' | 'scripts') => Math.round((after[key] - before[key] - idleCalls[key]) / moves / instances.length);
    return {
      streams: waiters.length,
      moves,
      updateP50Ms: quantile(everyMs, 0.5),
      updateP99Ms: quantile(everyMs, 0.99),
      lastStreamP50Ms: quantile(lastMs, 0.5),
      lastStreamP99Ms: quantile(lastMs, 0.99),
      scriptCallsPerMovePerInstance: perMove('scripts'),
      redisCommandsPerMovePerInstance: perMove('commands'),
      idleScriptCallsPerSecond: Math.round(idleCalls.scripts / ((moves * intervalMs) / 1000)),
    };
  } finally {
    for (const socket of sockets) socket.close();
    await stopAll(instances);
    await deleteKeysWithPrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${args.database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

async function leave(api: ApiClient, user: ApiUser, token: string) {
  const reply = await api.request('DELETE', '/queue/tokens/current', { user, queueToken: token });
  if (reply.status !== 204) throw new Error(`leave: ${reply.status} ${JSON.stringify(reply.body)}`);
}

async function waitUntil(test: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!(await test())) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

// A private Redis unless told otherwise: its command counts are then this benchmark's alone.
const privateRedis = args['redis-url'] ? undefined : await PrivateRedis.start();
const redisUrl = args['redis-url'] ?? privateRedis!.url;
const report: Record<string, unknown> = { at: new Date().toISOString(), redis: args['redis-url'] ? redisUrl : 'private redis-server' };
const target = Number(args.line);
if (target > 0) {
  log(`filling one line with ${target.toLocaleString('en')} waiters (at most ${args['line-seconds']} s)`);
  const redis = createRedis(redisUrl, prefix);
  try {
    report.memory = await measureLineMemory(redis, target, Number(args['line-seconds']) * 1000, log);
  } finally {
    redis.disconnect();
  }
  console.table(report.memory);
}
if (Number(args.streams) > 0) {
  report.streams = await streamsPhase(Number(args.streams), Number(args.moves), Number(args['move-interval-ms']));
  console.table(report.streams);
}
await mkdir(resultsDir, { recursive: true });
await writeFile(`${resultsDir}line-latest.json`, `${JSON.stringify(report, null, 2)}\n`);
log(`written to ${resultsDir}line-latest.json`);
await privateRedis?.kill();
