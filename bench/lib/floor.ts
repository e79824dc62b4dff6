/**
 * The full sale's reference: the PostgreSQL floor of the same purchases. pgbench runs
 * bench/floor/purchase.pgbench.sql (the hold function, then the payment function, as the service calls
 * them) with as many clients as the service has pool connections, each transaction buying a different
 * seat for a different buyer, and nothing else at work. Its purchases per second are what PostgreSQL
 * alone does with these transactions on this machine: the most any server in front of it could reach.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { SEATS_PER_SCHEDULE } from '../../src/modules/catalog/catalog.rules.js';
import { combineCpu } from './measure.js';
import { meterCpu } from './processes.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../floor/purchase.pgbench.sql', import.meta.url));

export interface FloorResult {
  clients: number;
  transactions: number;
  /** Purchases that ended CONFIRMED, counted in PostgreSQL afterwards: every transaction must have bought. */
  purchased: number;
  purchasesPerSec: number;
  latencyAvgMs: number;
  durationMs: number;
  /** Cores used while pgbench ran, split as the scenarios' are (pgbench counts as the load generator). */
  cpu?: Record<string, number>;
}

export async function purchaseFloor(options: {
  databaseUrl: string;
  eventId: string;
  scheduleIds: readonly string[];
  userIds: readonly string[];
  clients: number;
  holdTtlMs: number;
  maxHolds: number;
  /** A service left running meanwhile, idle: its CPU is counted as the server's. */
  servicePid?: number;
}): Promise<FloorResult> {
  const { clients } = options;
  const perClient = Math.floor(Math.min(options.userIds.length, options.scheduleIds.length * SEATS_PER_SCHEDULE) / clients);
  const transactions = perClient * clients;
  if (perClient < 1) throw new Error(`the floor needs at least ${clients} buyers and seats`);
  const db = new pg.Client({ connectionString: options.databaseUrl });
  await db.connect();
  try {
    await db.query('DROP TABLE IF EXISTS bench_floor');
    await db.query(`CREATE TABLE bench_floor (
      n integer PRIMARY KEY, user_id uuid NOT NULL, event_id uuid NOT NULL, schedule_id uuid NOT NULL,
      seat_number integer NOT NULL, reservation_id uuid NOT NULL)`);
    await db.query(
      `INSERT INTO bench_floor
       SELECT n, ($1::uuid[])[n + 1], $2, ($3::uuid[])[n / ${SEATS_PER_SCHEDULE} + 1], n % ${SEATS_PER_SCHEDULE} + 1, gen_random_uuid()
       FROM generate_series(0, $4 - 1) AS n`,
      [options.userIds, options.eventId, options.scheduleIds, transactions],
    );
    await db.query('ANALYZE bench_floor');
    const stopMeter = await meterCpu(options.servicePid ?? -1);
    const started = performance.now();
    const { stdout } = await run(
      'pgbench',
      [
        '-n', '-M', 'prepared', '-c', String(clients), '-j', '2', '-t', String(perClient),
        '-D', `clients=${clients}`, '-D', 'k=0', '-D', `hold_ms=${options.holdTtlMs}`, '-D', `max_holds=${options.maxHolds}`,
        '-f', script, options.databaseUrl,
      ],
      { timeout: 600_000 },
    );
    const durationMs = performance.now() - started;
    const { cores: cpu } = await stopMeter();
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1]);
    const latency = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1]);
    const { rows } = await db.query<{ purchased: number }>(
      `SELECT count(*)::int AS purchased FROM bench_floor f JOIN reservations r ON r.id = f.reservation_id WHERE r.status = 'CONFIRMED'`,
    );
    return { clients, transactions, purchased: rows[0]!.purchased, purchasesPerSec: Math.round(tps * 10) / 10, latencyAvgMs: latency, durationMs: Math.round(durationMs), cpu };
  } finally {
    await db.query('DROP TABLE IF EXISTS bench_floor').catch(() => undefined);
    await db.end();
  }
}

/** Several floor runs as one: purchases over pgbench's time in all of them (its tps leaves out connecting). */
export function combineFloors(results: readonly FloorResult[]): FloorResult {
  const transactions = results.reduce((sum, result) => sum + result.transactions, 0);
  const seconds = results.reduce((sum, result) => sum + (result.purchasesPerSec > 0 ? result.transactions / result.purchasesPerSec : 0), 0);
  const latency = results.reduce((sum, result) => sum + result.latencyAvgMs * result.transactions, 0) / (transactions || 1);
  const metered = results.filter((result) => result.cpu);
  return {
    clients: results[0]?.clients ?? 0,
    transactions,
    purchased: results.reduce((sum, result) => sum + result.purchased, 0),
    purchasesPerSec: seconds > 0 ? Math.round((transactions / seconds) * 10) / 10 : 0,
    latencyAvgMs: Math.round(latency * 1000) / 1000,
    durationMs: results.reduce((sum, result) => sum + result.durationMs, 0),
    ...(metered.length > 0 ? { cpu: combineCpu(metered.map((result) => ({ cpu: result.cpu!, ms: result.durationMs }))) } : {}),
  };
}
