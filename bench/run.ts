/**
 * Flash-sale benchmark: `npm run bench` (or `npm run bench -- --quick`, `--help` for every option).
 *
 * Starts the service and the reference server in bench/baseline/ as child processes against a dedicated
 * PostgreSQL database and a dedicated Redis key prefix, seeds events through the API, and drives load on
 * 127.0.0.1 only, to one server at a time (they take turns, scenario slice by slice). Checks every
 * invariant after every scenario, prints a table and writes bench/results/latest.json. Exits 1 if an
 * invariant is violated. docs/performance.md explains the scenarios and the latest figures.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { stopAll } from '../tools/processes.js';
import { args, databaseUrl, only, redisPrefix, redisUrl, runId, settings } from './lib/options.js';
import { openQueuePhase } from './lib/phases.js';
import { salePhase } from './lib/sale-phase.js';
import { resultsDir } from './lib/processes.js';
import { rawFigures } from './lib/raw.js';
import { log, report } from './lib/report.js';
import { cleanRedis, closeRedis, createDatabase, dropDatabase, openRedis } from './lib/stores.js';
import { judgeNoise, judgeTargets, printSummary } from './lib/summary.js';

async function main(): Promise<number> {
  if (args.line !== undefined) {
    await import('./line/run.js');
    return 0;
  }
  const started = performance.now();
  await mkdir(resultsDir, { recursive: true });
  log(`run ${runId}: ${report.machine.cores} cores, Node ${process.version}, database ${args.database}, Redis prefix ${redisPrefix}`);
  report.machine.postgres = await createDatabase();
  report.machine.redis = await openRedis();
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: cleaning up');
    void stopAll()
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
        seconds: settings.quick ? 3 : 5,
      });
    }
  } finally {
    await stopAll();
    closeRedis();
    if (!interrupted) await cleanRedis();
    if (args['drop-db']) await dropDatabase();
  }

  judgeTargets();
  judgeNoise();
  report.finishedAt = new Date().toISOString();
  report.durationSec = Math.round((performance.now() - started) / 1000);
  await writeFile(args.out, `${JSON.stringify(report, null, 2)}\n`);
  printSummary();
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
