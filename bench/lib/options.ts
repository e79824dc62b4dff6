/** The benchmark's command line (`npm run bench -- --help`) and the settings both servers run with. */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { resultsDir } from './processes.js';

export const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    users: { type: 'string' },
    storm: { type: 'string' },
    buyers: { type: 'string' },
    connections: { type: 'string', default: '64' },
    duration: { type: 'string' },
    'poll-ms': { type: 'string', default: '1000' },
    'sale-max-active': { type: 'string', default: '1000' },
    'sale-admit-per-second': { type: 'string', default: '1000' },
    'sale-rounds': { type: 'string' },
    pool: { type: 'string', default: '20' },
    only: { type: 'string' },
    'no-baseline': { type: 'boolean', default: false },
    'self-check': { type: 'boolean', default: false },
    against: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'service-node-flags': { type: 'string' },
    'drop-db': { type: 'boolean', default: false },
    'postgres-url': { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    'redis-url': { type: 'string', default: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' },
    database: { type: 'string', default: 'ticketing_bench' },
    out: { type: 'string', default: `${resultsDir}latest.json` },
    help: { type: 'boolean', default: false },
    // The line of a million (bench/line/run.ts reads these itself).
    line: { type: 'string' },
    'line-seconds': { type: 'string' },
    streams: { type: 'string' },
    moves: { type: 'string' },
    'move-interval-ms': { type: 'string' },
  },
});

if (args.help) {
  console.log(`npm run bench -- [options]
  --quick                     small and short (about a minute): 2,000 users, 1,000-user storm x 3 rounds, 3 s reads,
                              400 buyers, 2 sale rounds
  --users N                   users who join the queue in scenario 1 (default 10000)
  --storm N                   users racing for the 50 seats in scenario 3, per round (default 2000, up to 10000; 5 rounds)
  --buyers N                  buyers in the full sale, scenario 4 (default 2000)
  --connections N             load-generator connections (default 64)
  --duration S                seconds of seat-map reads, for each of 2 (plain GETs) and 2b (If-None-Match) (default 10)
  --poll-ms MS                how often waiting buyers poll their queue position (default 1000)
  --sale-max-active N         QUEUE_MAX_ACTIVE in the full sale (default 1000: a wide line)
  --sale-admit-per-second N   QUEUE_ADMIT_PER_SECOND in the full sale (default 1000)
  --sale-rounds N             rounds of the full sale, each followed by the PostgreSQL floor (default 3; 2 with --quick)
  --pool N                    DATABASE_POOL_SIZE for both servers, and the PostgreSQL floor's pgbench clients (default 20)
  --only LIST                 comma list of join,seats,hold,sale,raw (default all); seats runs 2 and 2b
  --no-baseline               skip the reference server (the full sale is always measured against the PostgreSQL floor)
  --self-check                a second copy of the service takes the reference server's place in scenarios 1-3: every
                              ratio should read 1, and how far it strays is the bench's own error on this machine
  --against REV               as --self-check, but the copy runs git revision REV (checked out in a temporary
                              worktree): each ratio is this code over REV's, measured in the same run
  --profile                   run the service under --cpu-prof and summarise where its time goes per scenario
                              (figures from a profiled run are slower; do not compare them)
  --service-node-flags=F      Node flags for the service alone, never for the baseline or the copy, with the = (they
                              start with --) and quoted when several: with --self-check each ratio is what they do
                              (--service-node-flags=--single-threaded-gc); without it the targets are not judged, as
                              the service does not run as shipped
  --drop-db                   drop the benchmark database at the end (default: keep it for inspection)
  --postgres-url URL          admin connection used to create the database (default postgres://postgres@127.0.0.1:5432/postgres)
  --redis-url URL             (default redis://127.0.0.1:6379)
  --database NAME             benchmark database, dropped and created fresh each run (default ticketing_bench)
  --out FILE                  JSON report (default bench/results/latest.json)
  --line N                    instead of the scenarios: the line benchmark (bench/line/run.ts): Redis memory per waiter
                              with N waiters, then --streams (default 20000) open streams over two instances and
                              --moves moves of the line; also --line-seconds, --move-interval-ms`);
  process.exit(0);
}

const int = (value: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER) => {
  const parsed = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) throw new Error(`expected a whole number from 1 to ${max}, got ${value}`);
  return parsed;
};
function nodeFlags(value: string | undefined): string[] {
  const flags = value?.trim().split(/\s+/).filter(Boolean) ?? [];
  for (const flag of flags) if (!flag.startsWith('--')) throw new Error(`--service-node-flags: ${flag} is not a flag (each starts with --)`);
  return flags;
}
const quick = args.quick;
export const settings = {
  quick,
  connections: int(args.connections, 64, 1000),
  users: int(args.users, quick ? 2_000 : 10_000, 100_000),
  storm: int(args.storm, quick ? 1_000 : 2_000, 10_000),
  buyers: int(args.buyers, quick ? 400 : 2_000, 20_000),
  readSeconds: int(args.duration, quick ? 3 : 10, 600),
  pollMs: int(args['poll-ms'], 1000, 60_000),
  saleMaxActive: int(args['sale-max-active'], 1000, 1_000_000),
  saleAdmitPerSecond: int(args['sale-admit-per-second'], 1000, 1_000_000),
  saleRounds: int(args['sale-rounds'], quick ? 2 : 3, 20),
  pool: int(args.pool, 20, 200),
  baseline: !args['no-baseline'],
  /** The reference server's place goes to a copy of the service (the bench measuring itself)... */
  selfCheck: args['self-check'] || args.against !== undefined,
  /** ...running this git revision instead of this checkout's code. */
  against: args.against,
  profile: args.profile,
  /** Node flags the service runs with, and no other server: what they do is the ratio to a copy without them. */
  serviceNodeFlags: nodeFlags(args['service-node-flags']),
};
if (settings.selfCheck && !settings.baseline) throw new Error('--self-check and --against put a copy of the service in the baseline\'s place; they cannot go with --no-baseline');
export const WARMUP_USERS = 500;
/** Hold-storm rounds per server, on fresh schedules; req/s and latency are over all rounds together. */
export const STORM_ROUNDS = quick ? 3 : 5;
/** Scenarios 1 and 2 alternate between the servers in this many slices (A B A B …), so a slow drift of the machine hits both alike. */
export const SLICES = quick ? 2 : 4;
/**
 * Throwaway events the WARMUP_USERS join, one after the other, before the join is measured. With five,
 * the baseline's first slice still took about twice the CPU per join of its later ones (the service's
 * first slice about half again its later ones), which flattered the service's first pair of slices
 * (0.73-0.77 against 0.5-0.6).
 */
export const JOIN_WARMUPS = quick ? 1 : 20;
/** Warm-up sales of WARMUP_USERS buyers before the measured one, on the freshly started service. */
export const SALE_WARMUPS = quick ? 1 : 3;

export const only = new Set((args.only ?? 'join,seats,hold,sale,raw').split(',').map((name) => name.trim()));
for (const name of only) if (!['join', 'seats', 'hold', 'sale', 'raw'].includes(name)) throw new Error(`--only: unknown scenario ${name}`);
if (!/^[a-z_][a-z0-9_]*$/.test(args.database)) throw new Error('--database must be a plain lower-case identifier');

export const adminUrl = new URL(args['postgres-url']);
export const databaseUrl = new URL(adminUrl);
databaseUrl.pathname = `/${args.database}`;
export const redisUrl = new URL(args['redis-url']);
for (const url of [adminUrl, redisUrl]) {
  if (url.hostname !== '127.0.0.1') throw new Error(`the benchmark runs against stores on 127.0.0.1 only, not ${url.hostname}`);
}
export const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
export const redisPrefix = `bench:${runId}:`;
export const adminKey = randomBytes(32).toString('base64url');

/** Holds last long enough to outlive any scenario; the per-user cap is the shipped one. */
export const BENCH_HOLD = { ttlSeconds: 1800, maxPerUser: 4 };

/** Settings both servers share; the queue is wide open in scenarios 1-3 so everyone is admitted at once. */
const common: Record<string, string> = {
  DATABASE_URL: databaseUrl.toString(),
  DATABASE_POOL_SIZE: String(settings.pool),
  REDIS_URL: redisUrl.toString(),
  REDIS_KEY_PREFIX: redisPrefix,
  TOKEN_SECRET: randomBytes(36).toString('base64url'),
  ADMIN_API_KEY: adminKey,
  LOG_LEVEL: 'warn',
  SEED_DEMO: 'false',
  HOLD_TTL_SECONDS: String(BENCH_HOLD.ttlSeconds),
  HOLD_MAX_PER_USER: String(BENCH_HOLD.maxPerUser),
  // Every benchmark user signs up from 127.0.0.1; the per-user limits on joins and holds stay as shipped.
  RATE_LIMIT_SIGNUPS_PER_MINUTE: '1000000',
  // The scenarios admit thousands to one 50-seat date on purpose; the per-seat cap would stop them at 100.
  QUEUE_ACTIVE_PER_SEAT: '1000',
};
export const openQueue = { ...common, QUEUE_MAX_ACTIVE: '1000000', QUEUE_ADMIT_PER_SECOND: '1000000', QUEUE_ACTIVE_TTL_SECONDS: '3600' };
/** A realistic line for the full sale: a cap on buyers at once, so most people wait their turn. */
export const saleQueue = {
  ...common,
  QUEUE_MAX_ACTIVE: String(settings.saleMaxActive),
  QUEUE_ADMIT_PER_SECOND: String(settings.saleAdmitPerSecond),
  QUEUE_ADMIT_INTERVAL_MS: '250',
  QUEUE_ACTIVE_TTL_SECONDS: '60',
  QUEUE_WAITING_GRACE_SECONDS: '60',
};
