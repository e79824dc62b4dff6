/** The run's report (bench/results/latest.json) as it fills up, and the log lines printed meanwhile. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem, type as osType, release as osRelease } from 'node:os';
import type { InvariantReport } from '../../tools/invariants.js';
import type { FloorResult } from './floor.js';
import { repoRoot } from '../../tools/processes.js';
import type { LoadResult } from './load.js';
import { args, only, openQueue, redisPrefix, saleQueue, settings, SLICES, STORM_ROUNDS } from './options.js';
import type { ProfileSummary } from './profile.js';
import type { StepCost } from './sale-steps.js';
import type { RawFigure } from './raw.js';
import type { SaleResult } from './sale.js';
import type { StormResult } from './scenarios.js';

export type Side = 'ours' | 'baseline';
/** What the log and the summary call each side: the service, and the baseline or (--self-check) the service's copy. */
export const sideName = (side: Side) => (side === 'ours' ? 'service' : settings.selfCheck ? 'copy' : 'baseline');
export interface Measured<T> {
  result: T;
  /** Cores used on average by each part of the system while this ran. */
  cpu: Record<string, number>;
  /** The busiest programs outside the benchmark meanwhile. */
  others?: { process: string; cores: number }[];
  /** The share of the time the service's event loop was busy (its one thread: 1 means saturated); the service only. */
  loopBusy?: number;
  /** Of that, the share it was ready to run but waited for a core (/proc schedstat); the service only. */
  loopWait?: number;
  /** Where the service's time went (with --profile); `windows` cut the scenario out of the profile file. */
  profile?: ProfileSummary & { windows: { file: string; spans: { fromUs: number; toUs: number }[] } };
}
export interface ScenarioReport<T> {
  ours?: Measured<T>;
  baseline?: Measured<T>;
  /**
   * The service's rate over the baseline's in each pair of slices (or storm rounds) run back to back. The
   * scenario's ratio is over all slices together; these show how far the machine's moments moved it.
   */
  pairedRatios?: number[];
}
export type StormRound = StormResult & { seatsHeldInDb: number; pendingInDb: number };
export type StormReport = StormRound & { rounds: StormRound[] };

export const report = {
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
    seatsPoll: {} as ScenarioReport<LoadResult>,
    hold: {} as ScenarioReport<StormReport>,
    sale: {} as ScenarioReport<SaleResult> & { floor?: FloorResult; steps?: StepCost[]; seatMapReads?: Record<string, number> },
  },
  raw: { figures: [] as RawFigure[], skipped: [] as string[] },
  invariants: [] as { after: string; violations: InvariantReport['violations']; figures: InvariantReport['figures'] }[],
  targets: [] as { target: string; measured: string; met: boolean | null }[],
  profiles: [] as string[],
  /**
   * Every measured step's span on CLOCK_MONOTONIC, in µs (the clock of process.hrtime, V8's profiles and
   * `perf record -k CLOCK_MONOTONIC`): what cuts a scenario out of a profile taken from outside.
   */
  windows: [] as { scenario: string; server: string; fromUs: number; toUs: number }[],
  /** CPU used by anything but the servers, the stores and the load generator while measuring. */
  noise: { maxOtherCores: 0, disturbed: false, culprits: [] as { process: string; cores: number }[] },
};

function redact(env: Record<string, string>) {
  const { TOKEN_SECRET: _secret, ADMIN_API_KEY: _key, ...rest } = env;
  return rest;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
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
    /** Whether the kernel shares CPU time out by session first (each server runs in a session of its own). */
    autogroup: readText('/proc/sys/kernel/sched_autogroup_enabled') === '1',
    node: process.version,
    postgres: '',
    redis: '',
    packages: Object.fromEntries(['fastify', 'pg', 'ioredis', 'autocannon', 'tsx'].map((name) => [name, version(name)])),
    commit,
  };
}

export const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
