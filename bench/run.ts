/**
 * Flash-sale benchmark: `npm run bench` (or `npm run bench -- --quick`, `--help` for every option).
 *
 * Starts the service and the reference server in bench/baseline/ as child processes against a dedicated
 * PostgreSQL database and a dedicated Redis key prefix, seeds events through the API, and drives load on
 * 127.0.0.1 only, to one server at a time (they take turns, scenario slice by slice). Checks every
 * invariant after every scenario, prints a table and writes bench/results/latest.json. Exits 1 if an
 * invariant is violated. docs/performance.md explains the scenarios and the latest figures.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem, type as osType, release as osRelease } from 'node:os';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { RedisWaitingRoom } from '../src/modules/queue/waiting-room.redis.js';
import { createRedis, type Redis } from '../src/shared/redis.js';
import { inspectInvariants, type InvariantReport } from './invariants.js';
import { JsonClient } from './lib/http.js';
import { combineLoads, type LoadResult } from './lib/load.js';
import { meterCpu, repoRoot, resultsDir, startServer, stopAllServers, type ServerProcess } from './lib/processes.js';
import { monotonicUs, summarizeProfile, type ProfileSummary } from './lib/profile.js';
import { rawFigures, type RawFigure } from './lib/raw.js';
import { fullSale, type SaleResult } from './lib/sale.js';
import { holdStorm, queueJoin, seatMapRead, type StormResult } from './lib/scenarios.js';
import { Admin, chargeUsers, MAX_SEAT_PRICE, registerUsers, type BenchUser } from './lib/seed.js';
import { round, table } from './lib/stats.js';

// ---------------------------------------------------------------------------------------------- options

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    users: { type: 'string' },
    storm: { type: 'string' },
    buyers: { type: 'string' },
    connections: { type: 'string', default: '64' },
    duration: { type: 'string' },
    'poll-ms': { type: 'string', default: '1000' },
    'sale-max-active': { type: 'string', default: '200' },
    'sale-admit-per-second': { type: 'string', default: '1000' },
    pool: { type: 'string', default: '20' },
    only: { type: 'string' },
    'no-baseline': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'drop-db': { type: 'boolean', default: false },
    'postgres-url': { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    'redis-url': { type: 'string', default: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' },
    database: { type: 'string', default: 'ticketing_bench' },
    out: { type: 'string', default: `${resultsDir}latest.json` },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(`npm run bench -- [options]
  --quick                     small and short (about a minute): 2,000 users, 1,000-user storm x 3 rounds, 3 s reads,
                              400 buyers
  --users N                   users who join the queue in scenario 1 (default 10000)
  --storm N                   users racing for the 50 seats in scenario 3, per round (default 2000, up to 10000; 5 rounds)
  --buyers N                  buyers in the full sale, scenario 4 (default 2000)
  --connections N             load-generator connections (default 64)
  --duration S                seconds of seat-map reads (default 10)
  --poll-ms MS                how often waiting buyers poll their queue position (default 1000)
  --sale-max-active N         QUEUE_MAX_ACTIVE in the full sale (default 200)
  --sale-admit-per-second N   QUEUE_ADMIT_PER_SECOND in the full sale (default 1000)
  --pool N                    DATABASE_POOL_SIZE for both servers (default 20)
  --only LIST                 comma list of join,seats,hold,sale,raw (default all)
  --no-baseline               skip the reference server
  --profile                   run the service under --cpu-prof and summarise where its time goes per scenario
                              (figures from a profiled run are slower; do not compare them)
  --drop-db                   drop the benchmark database at the end (default: keep it for inspection)
  --postgres-url URL          admin connection used to create the database (default postgres://postgres@127.0.0.1:5432/postgres)
  --redis-url URL             (default redis://127.0.0.1:6379)
  --database NAME             benchmark database, dropped and created fresh each run (default ticketing_bench)
  --out FILE                  JSON report (default bench/results/latest.json)`);
  process.exit(0);
}

const int = (value: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER) => {
  const parsed = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) throw new Error(`expected a whole number from 1 to ${max}, got ${value}`);
  return parsed;
};
const quick = args.quick;
const settings = {
  quick,
  connections: int(args.connections, 64, 1000),
  users: int(args.users, quick ? 2_000 : 10_000, 100_000),
  storm: int(args.storm, quick ? 1_000 : 2_000, 10_000),
  buyers: int(args.buyers, quick ? 400 : 2_000, 20_000),
  readSeconds: int(args.duration, quick ? 3 : 10, 600),
  pollMs: int(args['poll-ms'], 1000, 60_000),
  saleMaxActive: int(args['sale-max-active'], 200, 1_000_000),
  saleAdmitPerSecond: int(args['sale-admit-per-second'], 1000, 1_000_000),
  pool: int(args.pool, 20, 200),
  baseline: !args['no-baseline'],
  profile: args.profile,
};
const WARMUP_USERS = 500;
/** Hold-storm rounds per server, on fresh schedules; req/s and latency are over all rounds together. */
const STORM_ROUNDS = quick ? 3 : 5;
/** Scenarios 1 and 2 alternate between the servers in this many slices (A B A B …), so a slow drift of the machine hits both alike. */
const SLICES = quick ? 2 : 4;

const only = new Set((args.only ?? 'join,seats,hold,sale,raw').split(',').map((name) => name.trim()));
for (const name of only) if (!['join', 'seats', 'hold', 'sale', 'raw'].includes(name)) throw new Error(`--only: unknown scenario ${name}`);
if (!/^[a-z_][a-z0-9_]*$/.test(args.database)) throw new Error('--database must be a plain lower-case identifier');

const adminUrl = new URL(args['postgres-url']);
const databaseUrl = new URL(adminUrl);
databaseUrl.pathname = `/${args.database}`;
const redisUrl = new URL(args['redis-url']);
for (const url of [adminUrl, redisUrl]) {
  if (url.hostname !== '127.0.0.1') throw new Error(`the benchmark runs against stores on 127.0.0.1 only, not ${url.hostname}`);
}
const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const redisPrefix = `bench:${runId}:`;
/** The baseline's own waiting room in the full sale (inside the run's prefix, so it is cleaned up too). */
const baselineSalePrefix = `${redisPrefix}baseline:`;
const adminKey = randomBytes(18).toString('base64url');

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
  HOLD_TTL_SECONDS: '1800',
  HOLD_MAX_PER_USER: '4',
  // Every benchmark user signs up from 127.0.0.1; the per-user limits on joins and holds stay as shipped.
  RATE_LIMIT_SIGNUPS_PER_MINUTE: '1000000',
};
const openQueue = { ...common, QUEUE_MAX_ACTIVE: '1000000', QUEUE_ADMIT_PER_SECOND: '1000000', QUEUE_ACTIVE_TTL_SECONDS: '3600' };
/** A realistic line for the full sale: a cap on buyers at once, so most people wait their turn. */
const saleQueue = {
  ...common,
  QUEUE_MAX_ACTIVE: String(settings.saleMaxActive),
  QUEUE_ADMIT_PER_SECOND: String(settings.saleAdmitPerSecond),
  QUEUE_ADMIT_INTERVAL_MS: '250',
  QUEUE_ACTIVE_TTL_SECONDS: '60',
  QUEUE_WAITING_GRACE_SECONDS: '60',
};

// ---------------------------------------------------------------------------------------------- results

type Side = 'ours' | 'baseline';
interface Measured<T> {
  result: T;
  /** Cores used on average by each part of the system while this ran. */
  cpu: Record<string, number>;
  /** The busiest programs outside the benchmark meanwhile. */
  others?: { process: string; cores: number }[];
  /** Where the service's time went (with --profile); `windows` cut the scenario out of the profile file. */
  profile?: ProfileSummary & { windows: { file: string; spans: { fromUs: number; toUs: number }[] } };
}
interface ScenarioReport<T> {
  ours?: Measured<T>;
  baseline?: Measured<T>;
}
const report = {
  startedAt: new Date().toISOString(),
  finishedAt: '',
  durationSec: 0,
  machine: machineInfo(),
  settings: {
    ...settings,
    stormRounds: STORM_ROUNDS,
    slices: SLICES,
    only: [...only],
    database: args.database,
    redisPrefix,
    openQueue: redact(openQueue),
    saleQueue: redact(saleQueue),
  },
  setup: {} as Record<string, unknown>,
  scenarios: {
    join: {} as ScenarioReport<LoadResult & { active: number }>,
    seats: {} as ScenarioReport<LoadResult>,
    hold: {} as ScenarioReport<StormReport>,
    sale: {} as ScenarioReport<SaleResult>,
  },
  raw: { figures: [] as RawFigure[], skipped: [] as string[] },
  invariants: [] as { after: string; violations: InvariantReport['violations']; figures: InvariantReport['figures'] }[],
  targets: [] as { target: string; measured: string; met: boolean | null }[],
  profiles: [] as string[],
  /** CPU used by anything but the servers, the stores and the load generator while measuring. */
  noise: { maxOtherCores: 0, disturbed: false, culprits: [] as { process: string; cores: number }[] },
};
/** "other" CPU above this means something outside the benchmark competed for the two cores. */
const NOISE_CORES = 0.15;
const CPU_COLUMNS = ['server', 'postgres', 'redis', 'load generator', 'kernel threads', 'interrupts', 'steal', 'other'];

function redact(env: Record<string, string>) {
  const { TOKEN_SECRET: _secret, ADMIN_API_KEY: _key, ...rest } = env;
  return rest;
}

function machineInfo() {
  const version = (name: string) => {
    try {
      return (JSON.parse(readFileSync(`${repoRoot}node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  let commit = 'unknown';
  try {
    const git = (...gitArgs: string[]) => execFileSync('git', gitArgs, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    commit = git('rev-parse', '--short', 'HEAD');
    // The service as measured is the commit plus any uncommitted change to its code.
    if (git('status', '--porcelain', '--', 'src', 'migrations', 'package-lock.json') !== '') commit += ' (with uncommitted changes)';
  } catch {
    // not a git checkout
  }
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os: `${osType()} ${osRelease()}`,
    node: process.version,
    postgres: '',
    redis: '',
    packages: Object.fromEntries(['fastify', 'pg', 'ioredis', 'autocannon', 'tsx'].map((name) => [name, version(name)])),
    commit,
  };
}

const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

// ---------------------------------------------------------------------------------------------- helpers

let redis: Redis | undefined;
let baselineRedis: Redis | undefined;

/** The admission log of an event, from whichever waiting room (the shared one, or the baseline's sale room) has it. */
async function admissionLog(eventId: string): Promise<number[]> {
  const shared = await new RedisWaitingRoom(redis!).admissionLog(eventId);
  return shared.length > 0 ? shared : new RedisWaitingRoom(baselineRedis!).admissionLog(eventId);
}

async function checkAfter(label: string): Promise<void> {
  const result = await inspectInvariants(databaseUrl.toString(), { admissionLog });
  report.invariants.push({ after: label, violations: result.violations, figures: result.figures });
  if (result.violations.length === 0) {
    log(`invariants after ${label}: all hold (${result.figures.eventsChecked} event queues, ${result.figures.admissionsChecked} admissions checked)`);
  } else {
    for (const violation of result.violations) log(`INVARIANT VIOLATED after ${label}: ${violation.invariant}: ${violation.message}`);
  }
}

let profileWindows: { scenario: string; fromUs: number; toUs: number }[] = [];

/** Runs one measured step against a server, recording the CPU split (and the profile window). */
async function measure<T>(server: ServerProcess, scenario: string, work: () => Promise<T>): Promise<Measured<T> & { ms: number }> {
  const stopMeter = await meterCpu(server.pid);
  const fromUs = monotonicUs();
  const result = await work();
  const toUs = monotonicUs();
  const { cores: cpu, others } = await stopMeter();
  if (server.name.startsWith('service') && settings.profile) profileWindows.push({ scenario, fromUs, toUs });
  return { result, cpu, others, ms: (toUs - fromUs) / 1000 };
}

/** The busiest outside programs over several steps (largest share seen per program). */
function combineOthers(steps: readonly { others?: { process: string; cores: number }[] }[]) {
  const most = new Map<string, number>();
  for (const step of steps) for (const other of step.others ?? []) most.set(other.process, Math.max(most.get(other.process) ?? 0, other.cores));
  return [...most].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([process, cores]) => ({ process, cores }));
}

/** The CPU split of several measured steps, weighted by their duration. */
function combineCpu(steps: readonly { cpu: Record<string, number>; ms: number }[]): Record<string, number> {
  const total = steps.reduce((sum, step) => sum + step.ms, 0) || 1;
  const cpu: Record<string, number> = {};
  for (const step of steps) for (const [group, cores] of Object.entries(step.cpu)) cpu[group] = (cpu[group] ?? 0) + (cores * step.ms) / total;
  for (const group of Object.keys(cpu)) cpu[group] = round(cpu[group]!, 2);
  return cpu;
}

async function startService(name: string, env: Record<string, string>): Promise<ServerProcess> {
  const nodeArgs = settings.profile ? ['--cpu-prof', `--cpu-prof-dir=${resultsDir}`, `--cpu-prof-name=${name}.cpuprofile.json`] : [];
  return startServer({ name, entry: 'src/main.ts', env, nodeArgs });
}

async function stopService(server: ServerProcess): Promise<void> {
  await server.stop();
  if (!settings.profile) return;
  const path = `${resultsDir}${server.name}.cpuprofile.json`;
  report.profiles.push(path);
  const phase = report.scenarios as unknown as Record<string, ScenarioReport<unknown>>;
  for (const scenario of new Set(profileWindows.map((window) => window.scenario))) {
    const target = phase[scenario]?.ours;
    const windows = profileWindows.filter((window) => window.scenario === scenario).map(({ fromUs, toUs }) => ({ fromUs, toUs }));
    if (target) target.profile = { ...(await summarizeProfile(path, windows)), windows: { file: path, spans: windows } };
  }
  profileWindows = [];
}

const startBaseline = (env: Record<string, string>) => startServer({ name: 'baseline', entry: 'bench/baseline/server.ts', env });

async function heldInDb(scheduleId: string): Promise<{ seats: number; pending: number }> {
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

function describeLoad(label: string, result: LoadResult) {
  const errors = Object.entries(result.outcomes).filter(([key]) => !/^2\d\d$/.test(key));
  log(
    `${label}: ${result.requests} requests in ${(result.durationMs / 1000).toFixed(2)} s = ${result.rps} req/s, ` +
      `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms${errors.length ? `, ${errors.map(([k, v]) => `${k}: ${v}`).join(', ')}` : ''}`,
  );
}

// ---------------------------------------------------------------------------------------------- phases

interface World {
  users: BenchUser[];
  joinEvents: Record<Side, string>;
  warmupEvents: Record<Side, string>;
  readSchedule: string;
  stormSchedules: Record<Side, string[]>;
  tokens: string[];
}

type StormRound = StormResult & { seatsHeldInDb: number; pendingInDb: number };
type StormReport = StormRound & { rounds: StormRound[] };
type Servers = { ours: ServerProcess; baseline?: ServerProcess | undefined };

const sideName = (side: Side) => (side === 'ours' ? 'service' : 'baseline');

/**
 * Scenarios 1-3, the service and the baseline taking turns (never both under load): queue join (which
 * also hands out the tokens the rest uses), seat map reads, and the hold storm (several rounds each on
 * fresh schedules; figures are over all rounds together, and every round must end with exactly 50 holds).
 */
async function openQueueScenarios(servers: Servers, world: World): Promise<void> {
  const { connections } = settings;
  const sides = (['ours', 'baseline'] as Side[]).filter((side) => servers[side]);
  const server = (side: Side) => servers[side]!;
  // Warm-up (JIT, pools, script cache): a few hundred joins on a throwaway event, not measured.
  for (const side of sides) {
    await queueJoin({ baseUrl: server(side).baseUrl, users: world.users.slice(-WARMUP_USERS), eventId: world.warmupEvents[side], connections });
  }

  // 1. Queue join, in slices of users; the service's slices hand out the tokens for scenarios 2 and 3.
  const joinUsers = world.users.slice(0, Math.max(settings.users, settings.storm));
  world.tokens = new Array<string>(joinUsers.length);
  const joinSteps: Record<Side, (Measured<{ load: LoadResult; active: number }> & { ms: number })[]> = { ours: [], baseline: [] };
  for (let slice = 0; slice < SLICES; slice++) {
    const from = Math.floor((slice * joinUsers.length) / SLICES);
    const users = joinUsers.slice(from, Math.floor(((slice + 1) * joinUsers.length) / SLICES));
    for (const side of sides) {
      if (side === 'baseline' && !only.has('join')) continue;
      const step = await measure(server(side), 'join', () =>
        queueJoin({ baseUrl: server(side).baseUrl, users, eventId: world.joinEvents[side], connections, keepTokens: side === 'ours' }),
      );
      if (side === 'ours') step.result.tokens.forEach((token, i) => (world.tokens[from + i] = token));
      joinSteps[side].push({ ...step, result: { load: step.result.load, active: step.result.active } });
    }
  }
  if (world.tokens.some((token) => !token) || joinSteps.ours.some((step) => step.result.load.non2xx > 0)) {
    throw new Error(`queue join failed for some users: ${JSON.stringify(joinSteps.ours.map((step) => step.result.load.outcomes))}`);
  }
  if (only.has('join')) {
    for (const side of sides) {
      const steps = joinSteps[side];
      if (steps.length === 0) continue;
      const load = combineLoads(steps.map((step) => step.result.load));
      report.scenarios.join[side] = {
        result: { ...load, active: steps.reduce((sum, step) => sum + step.result.active, 0) },
        cpu: combineCpu(steps),
        others: combineOthers(steps),
      };
      describeLoad(`1. queue join (${sideName(side)})`, load);
    }
    await checkAfter('queue join');
  }

  // 2. Seat map reads, in time slices.
  if (only.has('seats')) {
    const read = (side: Side, durationSec: number) =>
      seatMapRead({ baseUrl: server(side).baseUrl, tokens: world.tokens, scheduleId: world.readSchedule, connections, durationSec });
    for (const side of sides) await read(side, 1);
    const steps: Record<Side, (Measured<LoadResult> & { ms: number })[]> = { ours: [], baseline: [] };
    for (let slice = 0; slice < SLICES; slice++) {
      for (const side of sides) steps[side].push(await measure(server(side), 'seats', () => read(side, settings.readSeconds / SLICES)));
    }
    for (const side of sides) {
      report.scenarios.seats[side] = { result: combineLoads(steps[side].map((step) => step.result)), cpu: combineCpu(steps[side]), others: combineOthers(steps[side]) };
      describeLoad(`2. seat map read (${sideName(side)})`, report.scenarios.seats[side]!.result);
    }
    await checkAfter('seat map read');
  }

  // 3. Hold storm: the crowd starts at a different user each round, so nobody collects holds up to the per-user cap.
  if (only.has('hold')) {
    const steps: Record<Side, (Measured<StormRound> & { ms: number })[]> = { ours: [], baseline: [] };
    for (let round = 0; round < STORM_ROUNDS; round++) {
      for (const side of sides) {
        const scheduleId = world.stormSchedules[side][round]!;
        const start = (round * 2 + (side === 'ours' ? 0 : 1)) * Math.floor(settings.storm / (2 * STORM_ROUNDS));
        const order = Array.from({ length: settings.storm }, (_, i) => (start + i) % settings.storm);
        steps[side].push(
          await measure(server(side), 'hold', async () => {
            const storm = await holdStorm({
              baseUrl: server(side).baseUrl,
              users: order.map((i) => world.users[i]!),
              tokens: order.map((i) => world.tokens[i]!),
              scheduleId,
              connections,
            });
            const inDb = await heldInDb(scheduleId);
            return { ...storm, seatsHeldInDb: inDb.seats, pendingInDb: inDb.pending };
          }),
        );
      }
    }
    for (const side of sides) {
      const rounds = steps[side].map((step) => step.result);
      const all = combineLoads(rounds);
      const held = rounds.map((r) => r.timeToAllHeldMs).filter((ms): ms is number => ms !== null);
      const summary: StormReport = {
        ...all,
        users: settings.storm,
        held: Math.min(...rounds.map((r) => r.held)),
        conflicts: rounds.reduce((sum, r) => sum + r.conflicts, 0),
        timeToAllHeldMs: held.length === rounds.length ? Math.max(...held) : null,
        seatsHeldInDb: Math.min(...rounds.map((r) => r.seatsHeldInDb)),
        pendingInDb: Math.min(...rounds.map((r) => r.pendingInDb)),
        rounds,
      };
      report.scenarios.hold[side] = { result: summary, cpu: combineCpu(steps[side]), others: combineOthers(steps[side]) };
      for (const [i, r] of rounds.entries()) {
        describeLoad(`3. hold storm round ${i + 1}, ${settings.storm} users (${sideName(side)})`, r);
        log(`   held ${r.held} (in PostgreSQL: ${r.seatsHeldInDb} seats HELD, ${r.pendingInDb} PENDING), all 50 held after ${r.timeToAllHeldMs} ms`);
      }
    }
    await checkAfter('hold storm');
  }
}

async function openQueuePhase(): Promise<World | undefined> {
  const wanted = ['join', 'seats', 'hold'].filter((name) => only.has(name));
  if (wanted.length === 0 && !only.has('sale') && !only.has('raw')) return undefined;
  const service = await startService('service', openQueue);
  log(`service up at ${service.baseUrl} (pid ${service.pid})`);
  const baseline = settings.baseline && wanted.length > 0 ? await startBaseline(openQueue) : undefined;
  if (baseline) log(`baseline up at ${baseline.baseUrl} (pid ${baseline.pid}); the two take turns, only one is ever under load`);
  const client = new JsonClient(service.baseUrl, 8);
  const admin = new Admin(client, adminKey);
  const needsUsers = wanted.length > 0 || only.has('sale');
  const userCount = needsUsers ? Math.max(settings.users, settings.storm, settings.buyers + WARMUP_USERS, WARMUP_USERS) : 0;
  const world: World = {
    users: [],
    joinEvents: { ours: await admin.event('JOIN'), baseline: await admin.event('JOIN-BASE') },
    warmupEvents: { ours: await admin.event('WARMUP'), baseline: await admin.event('WARMUP-BASE') },
    readSchedule: '',
    stormSchedules: { ours: [], baseline: [] },
    tokens: [],
  };
  // Every schedule the baseline reads or holds belongs to the service's join event: the tokens are for it.
  world.readSchedule = await admin.schedule(world.joinEvents.ours);
  for (let i = 0; i < STORM_ROUNDS; i++) {
    world.stormSchedules.ours.push(await admin.schedule(world.joinEvents.ours));
    world.stormSchedules.baseline.push(await admin.schedule(world.joinEvents.ours));
  }
  client.close();
  if (userCount > 0) {
    const registration = await registerUsers(service.baseUrl, userCount, settings.connections);
    describeLoad(`registered ${userCount} users (POST /users)`, registration.load);
    report.setup.registration = registration.load;
    world.users = registration.users;
  }
  if (wanted.length > 0) await openQueueScenarios({ ours: service, baseline }, world);
  await baseline?.stop();
  await stopService(service);
  return world;
}

async function salePhase(world: World): Promise<void> {
  const buyers = world.users.slice(0, settings.buyers);
  const warmupBuyers = world.users.slice(-WARMUP_USERS).slice(0, 100);
  const dates = Math.ceil(settings.buyers / 50);
  const service = await startService('service-sale', saleQueue);
  // The baseline keeps its own waiting room here (a sub-prefix), so neither server's admission tick moves the other's line.
  const baseline = settings.baseline ? await startBaseline({ ...saleQueue, REDIS_KEY_PREFIX: baselineSalePrefix }) : undefined;
  log(`servers restarted for the full sale (QUEUE_MAX_ACTIVE=${settings.saleMaxActive}, QUEUE_ADMIT_PER_SECOND=${settings.saleAdmitPerSecond})`);
  const client = new JsonClient(service.baseUrl, 8);
  const admin = new Admin(client, adminKey);
  // Each buyer can afford three of the dearest seats: one is bought from the service, one from the baseline.
  report.setup.charges = await chargeUsers(service.baseUrl, [...buyers, ...warmupBuyers], 3 * MAX_SEAT_PRICE, settings.connections);
  const event = async (label: string, count: number) => {
    const id = await admin.event(label);
    const schedules: string[] = [];
    for (let i = 0; i < count; i++) schedules.push(await admin.schedule(id));
    return { id, schedules };
  };
  const events = {
    ours: await event('SALE', dates),
    baseline: await event('SALE-BASE', dates),
    warmOurs: await event('SALE-WARMUP', 2),
    warmBase: await event('SALE-WARMUP-BASE', 2),
  };
  client.close();
  const sale = (server: ServerProcess, target: { id: string; schedules: string[] }, users: readonly BenchUser[]) =>
    fullSale({ baseUrl: server.baseUrl, users, eventId: target.id, scheduleIds: target.schedules, connections: settings.connections, pollMs: settings.pollMs });

  await sale(service, events.warmOurs, warmupBuyers);
  if (baseline) await sale(baseline, events.warmBase, warmupBuyers);
  const ours = await measure(service, 'sale', () => sale(service, events.ours, buyers));
  report.scenarios.sale.ours = { result: ours.result, cpu: ours.cpu, others: ours.others };
  describeSale('4. full sale (service)', ours.result);
  await checkAfter('full sale (service)');
  if (baseline) {
    const base = await measure(baseline, 'sale', () => sale(baseline, events.baseline, buyers));
    report.scenarios.sale.baseline = { result: base.result, cpu: base.cpu, others: base.others };
    describeSale('4. full sale (baseline)', base.result);
    await checkAfter('full sale (baseline)');
    await baseline.stop();
  }
  await stopService(service);
}

function describeSale(label: string, result: SaleResult) {
  log(
    `${label}: ${result.purchased}/${result.buyers} bought in ${(result.durationMs / 1000).toFixed(1)} s = ${result.purchasesPerSec} purchases/s; ` +
      `end-to-end p50 ${result.endToEnd.p50} ms p99 ${result.endToEnd.p99} ms; requests p99 ${result.latency.p99} ms; ` +
      `sold out ${result.soldOut}, failed ${result.failed}, 5xx ${result.serverErrors}`,
  );
}

// ---------------------------------------------------------------------------------------------- report

const ratio = (ours: number | undefined, base: number | undefined) => (ours !== undefined && base ? round(ours / base, 2) : undefined);
const fmt = (value: number | undefined | null, suffix = '') => (value === undefined || value === null ? '-' : `${value}${suffix}`);
const errorsOf = (outcomes: Record<string, number> | undefined, ok: RegExp) =>
  outcomes
    ? Object.entries(outcomes)
        .filter(([key]) => !ok.test(key))
        .map(([key, count]) => `${key}: ${count}`)
        .join(', ') || 'none'
    : '-';

function summaryTable(): string {
  const { join, seats, hold, sale } = report.scenarios;
  const rows: (string | number)[][] = [];
  const loadRow = (name: string, s: ScenarioReport<LoadResult>) => {
    if (!s.ours) return;
    rows.push([
      name,
      s.ours.result.rps,
      fmt(s.baseline?.result.rps),
      fmt(ratio(s.ours.result.rps, s.baseline?.result.rps)),
      s.ours.result.latency.p50,
      s.ours.result.latency.p99,
      `${fmt(s.baseline?.result.latency.p50)} / ${fmt(s.baseline?.result.latency.p99)}`,
      errorsOf(s.ours.result.outcomes, /^2\d\d$/),
    ]);
  };
  loadRow('1 queue join', join);
  loadRow('2 seat map read', seats);
  loadRow(`3 hold storm (N=${settings.storm}, ${STORM_ROUNDS} rounds)`, hold);
  if (sale.ours) {
    const o = sale.ours.result;
    const b = sale.baseline?.result;
    rows.push([
      '4 full sale: purchases/s',
      o.purchasesPerSec,
      fmt(b?.purchasesPerSec),
      fmt(ratio(o.purchasesPerSec, b?.purchasesPerSec)),
      o.endToEnd.p50,
      o.endToEnd.p99,
      `${fmt(b?.endToEnd.p50)} / ${fmt(b?.endToEnd.p99)}`,
      errorsOf(o.outcomes, / 20\d$/),
    ]);
    rows.push([
      '4 full sale: requests/s',
      o.rps,
      fmt(b?.rps),
      fmt(ratio(o.rps, b?.rps)),
      o.latency.p50,
      o.latency.p99,
      `${fmt(b?.latency.p50)} / ${fmt(b?.latency.p99)}`,
      '',
    ]);
  }
  return table(['scenario', 'ours/s', 'baseline/s', 'ratio', 'p50 ms', 'p99 ms', 'baseline p50/p99', 'errors (ours)'], rows);
}

function judgeNoise(): void {
  const measured = Object.values(report.scenarios).flatMap((s) => [(s as ScenarioReport<unknown>).ours, (s as ScenarioReport<unknown>).baseline]);
  const steps = measured.filter((m): m is Measured<unknown> => m !== undefined);
  const maxOtherCores = Math.max(0, ...steps.map((m) => m.cpu.other ?? 0));
  report.noise = { maxOtherCores, disturbed: maxOtherCores > NOISE_CORES, culprits: combineOthers(steps) };
}

function judgeTargets(): void {
  const { join, seats, hold } = report.scenarios;
  const add = (target: string, measured: string, met: boolean | null) => report.targets.push({ target, measured, met });
  const ratioTarget = (name: string, s: ScenarioReport<LoadResult>, minimum: number) => {
    if (!s.ours) return;
    const r = ratio(s.ours.result.rps, s.baseline?.result.rps);
    add(`${name} >= ${minimum * 100}% of baseline req/s`, r === undefined ? 'no baseline' : `${Math.round(r * 100)}%`, r === undefined ? null : r >= minimum);
  };
  ratioTarget('queue join', join, 0.5);
  ratioTarget('seat map read', seats, 0.6);
  ratioTarget('hold', hold, 0.6);
  if (seats.ours) add('seat map read p99 <= 50 ms', `${seats.ours.result.latency.p99} ms`, seats.ours.result.latency.p99 <= 50);
  if (hold.ours) {
    const rounds = hold.ours.result.rounds;
    const ok = rounds.every(
      (r) => r.held === 50 && r.seatsHeldInDb === 50 && r.pendingInDb === 50 && r.serverErrors === 0 && r.socketErrors === 0 && r.durationMs < 10_000,
    );
    const users = hold.ours.result.users;
    add(
      `${users} users racing for 50 seats: exactly 50 held, 0 5xx, done < 10 s${users < 10_000 ? ' (the target is N=10,000: --storm 10000)' : ''}`,
      rounds
        .map((r, i) => `round ${i + 1}: ${r.held} held (${r.seatsHeldInDb} in PostgreSQL), ${r.serverErrors} 5xx, ${r.socketErrors} socket errors, ` +
          `done in ${(r.durationMs / 1000).toFixed(2)} s, all 50 held after ${fmt(r.timeToAllHeldMs, ' ms')}`)
        .join('; '),
      ok,
    );
  }
  const violations = report.invariants.reduce((sum, entry) => sum + entry.violations.length, 0);
  add('invariants hold after every scenario', `${report.invariants.length} checks, ${violations} violations`, report.invariants.length === 0 ? null : violations === 0);
}

// ---------------------------------------------------------------------------------------------- main

async function createDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${args.database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${args.database}`);
    report.machine.postgres = (await admin.query('SHOW server_version')).rows[0].server_version;
  } finally {
    await admin.end();
  }
}

async function dropDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${args.database} WITH (FORCE)`).finally(() => admin.end());
}

async function cleanRedis(): Promise<void> {
  const raw = createRedis(redisUrl.toString(), '');
  try {
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await raw.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    raw.disconnect();
  }
}

async function main(): Promise<number> {
  const started = performance.now();
  await mkdir(resultsDir, { recursive: true });
  log(`run ${runId}: ${report.machine.cores} cores, Node ${process.version}, database ${args.database}, Redis prefix ${redisPrefix}`);
  await createDatabase();
  redis = createRedis(redisUrl.toString(), redisPrefix);
  baselineRedis = createRedis(redisUrl.toString(), baselineSalePrefix);
  report.machine.redis = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: cleaning up');
    void stopAllServers()
      .then(cleanRedis)
      .finally(() => process.exit(130));
  });
  try {
    const world = await openQueuePhase();
    if (world && only.has('sale')) await salePhase(world);
    if (only.has('raw')) {
      log('raw store figures (pgbench, redis-benchmark), nothing else running');
      report.raw = await rawFigures({
        databaseUrl: databaseUrl.toString(),
        scheduleId: world?.readSchedule ?? '00000000-0000-0000-0000-000000000000',
        redisHost: redisUrl.hostname,
        redisPort: Number(redisUrl.port || 6379),
        redisPrefix,
        connections: settings.connections,
        seconds: quick ? 3 : 5,
      });
    }
  } finally {
    await stopAllServers();
    redis.disconnect();
    baselineRedis.disconnect();
    if (!interrupted) await cleanRedis();
    if (args['drop-db']) await dropDatabase();
  }

  judgeTargets();
  judgeNoise();
  report.finishedAt = new Date().toISOString();
  report.durationSec = Math.round((performance.now() - started) / 1000);
  await writeFile(args.out, `${JSON.stringify(report, null, 2)}\n`);

  console.log(`\nFlash-sale benchmark, ${report.machine.cores} cores (${report.machine.cpuModel}), ${settings.connections} connections, ` +
    `Node ${process.version}, PostgreSQL ${report.machine.postgres}, Redis ${report.machine.redis}\n`);
  console.log(summaryTable());
  const storm = report.scenarios.hold;
  if (storm.ours) {
    const describe = (r: StormReport) =>
      `${r.rounds.map((round) => `${round.held} held / ${round.conflicts} x 409 / all held after ${fmt(round.timeToAllHeldMs, ' ms')} / over in ${(round.durationMs / 1000).toFixed(2)} s`).join('; ')}`;
    console.log(`\nHold storm, ${settings.storm} users for 50 seats, ${STORM_ROUNDS} rounds per server (table: all rounds together).\n  service:  ${describe(storm.ours.result)}` +
      (storm.baseline ? `\n  baseline: ${describe(storm.baseline.result)}` : ''));
  }
  const sale = report.scenarios.sale.ours?.result;
  if (sale) {
    console.log(`Full sale: ${sale.purchased}/${sale.buyers} buyers paid; in line p50 ${sale.inLine.p50} ms / p99 ${sale.inLine.p99} ms, ` +
      `buying (admitted → paid) p50 ${sale.buying.p50} ms / p99 ${sale.buying.p99} ms.`);
  }
  const cpuRows = Object.entries(report.scenarios).flatMap(([name, s]) =>
    (['ours', 'baseline'] as Side[]).flatMap((side) => {
      const m = (s as ScenarioReport<unknown>)[side];
      return m ? [[`${name} (${side === 'ours' ? 'service' : 'baseline'})`, ...CPU_COLUMNS.map((k) => m.cpu[k] ?? 0)]] : [];
    }),
  );
  if (cpuRows.length > 0) console.log(`\nCores used during each run (of ${report.machine.cores}):\n${table(['run', 'server', 'postgres', 'redis', 'load gen', 'kernel', 'irq', 'steal', 'other'], cpuRows)}`);
  if (report.noise.disturbed) {
    console.log(
      `WARNING: other programs used up to ${report.noise.maxOtherCores} cores during a measured run ` +
        `(${report.noise.culprits.map((c) => `${c.process} ${c.cores}`).join(', ')}): the figures are disturbed; rerun on a quiet machine.`,
    );
  }
  if (report.raw.figures.length > 0) {
    console.log(`\nThe stores alone (${settings.connections} connections):\n${table(
      ['tool', 'statement', 'ops/s', 'avg ms'],
      report.raw.figures.map((f) => [f.tool, f.what, f.rps, fmt(f.latencyAvgMs)]),
    )}`);
  }
  console.log(`\nTargets:`);
  for (const t of report.targets) console.log(`  ${t.met === null ? 'n/a ' : t.met ? 'MET ' : 'MISS'}  ${t.target}: ${t.measured}`);
  for (const [scenario, s] of Object.entries(report.scenarios)) {
    const profile = (s as ScenarioReport<unknown>).ours?.profile;
    if (!profile) continue;
    console.log(`\nProfile of the service during ${scenario} (${profile.idlePct}% idle; self time of busy samples):`);
    console.log(`  self time by area: ${profile.byArea.map((a) => `${a.area} ${a.pct}%`).join(', ')}`);
    console.log(`  inclusive (callees counted): ${profile.inclusiveByArea.map((a) => `${a.area} ${a.pct}%`).join(', ')}`);
    for (const f of profile.topFunctions.slice(0, 10)) {
      console.log(`  ${String(f.pct).padStart(5)}%  ${f.fn}  ${f.where}${f.calledFrom ? `  <- ${f.calledFrom}` : ''}`);
    }
  }
  console.log(`\nJSON: ${args.out}${args['drop-db'] ? '' : `\nDatabase kept for inspection: ${databaseUrl} (re-check with npm run bench:check -- --database-url ${databaseUrl})`}`);
  const violated = report.invariants.some((entry) => entry.violations.length > 0);
  if (violated) console.log('\nINVARIANT VIOLATIONS: see above and the JSON report.');
  return violated ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error);
    await cleanRedis().catch(() => undefined);
    process.exit(2);
  },
);
