import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { listSeats } from '../../src/modules/catalog/catalog.sql.js';

const run = promisify(execFile);

export interface RawFigure {
  tool: string;
  what: string;
  rps: number;
  latencyAvgMs?: number;
  p50Ms?: number;
  p99Ms?: number;
}

/**
 * The data stores alone, with their own load tools and the same connection count: the ceiling no
 * server in front of them can pass. `pgbench` runs the seat-map SELECT (prepared) and `SELECT 1`;
 * `redis-benchmark` runs PING and a one-key read-only Lua script (the shape of the queue guard).
 * Missing tools are skipped.
 */
export async function rawFigures(options: {
  databaseUrl: string;
  scheduleId: string;
  redisHost: string;
  redisPort: number;
  redisPrefix: string;
  connections: number;
  seconds: number;
}): Promise<{ figures: RawFigure[]; skipped: string[] }> {
  const figures: RawFigure[] = [];
  const skipped: string[] = [];

  const seatMapScript = join(tmpdir(), `bench-seatmap-${process.pid}.sql`);
  const selectOneScript = join(tmpdir(), `bench-select1-${process.pid}.sql`);
  await writeFile(seatMapScript, `${listSeats.source.replaceAll(':scheduleId', ':schedule').replaceAll(':now', 'now()').replace(/\s+/g, ' ').trim()};\n`);
  await writeFile(selectOneScript, 'SELECT 1;\n');
  for (const [what, script] of [
    ['seat-map SELECT', seatMapScript],
    ['SELECT 1', selectOneScript],
  ] as const) {
    try {
      const { stdout } = await run(
        'pgbench',
        ['-n', '-M', 'prepared', '-c', String(options.connections), '-j', '2', '-T', String(options.seconds), '-D', `schedule=${options.scheduleId}`, '-f', script, options.databaseUrl],
        { timeout: (options.seconds + 30) * 1000 },
      );
      const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1];
      const latency = /latency average = ([\d.]+) ms/.exec(stdout)?.[1];
      if (tps) figures.push({ tool: 'pgbench', what, rps: Math.round(Number(tps)), ...(latency ? { latencyAvgMs: Number(latency) } : {}) });
    } catch (error) {
      skipped.push(`pgbench ${what}: ${(error as Error).message.split('\n')[0]}`);
    }
  }

  const requests = String(Math.max(20_000, options.seconds * 40_000));
  for (const [what, command] of [
    ['PING', ['-t', 'ping']],
    ['one-key read-only Lua (EVAL)', ['EVAL', "return redis.call('ZSCORE', KEYS[1], ARGV[1])", '1', `${options.redisPrefix}raw-probe`, 'u']],
  ] as const) {
    try {
      const { stdout } = await run(
        'redis-benchmark',
        ['-h', options.redisHost, '-p', String(options.redisPort), '-c', String(options.connections), '-n', requests, '--csv', ...command],
        { timeout: 120_000 },
      );
      const rows = stdout.trim().split('\n').slice(1).map((line) => [...line.matchAll(/"([^"]*)"/g)].map((match) => match[1]!));
      const row = rows[rows.length - 1];
      if (row) figures.push({ tool: 'redis-benchmark', what, rps: Math.round(Number(row[1])), latencyAvgMs: Number(row[2]), p50Ms: Number(row[4]), p99Ms: Number(row[6]) });
    } catch (error) {
      skipped.push(`redis-benchmark ${what}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return { figures, skipped };
}
